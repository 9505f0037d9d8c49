"""Size limits on the bytes an import reads, so a decompression bomb or a file with no line
breaks stops with a clear error instead of running for hours or ending in ``MemoryError``.

Two guards share one ``ReadLimits``:

- ``check_size`` runs before any row is read: a plain file is measured by its size on disk; a
  compressed one (.gz, .bz2, .xz) is decompressed once into nothing, counting bytes and the
  longest line, and refused as soon as it passes a limit. Decompression is far faster than an
  import (gzip and xz: hundreds of MB/s; bz2: tens), so a 2 GiB gzip bomb is refused in seconds
  rather than after minutes of parsing rows.
- ``BoundedReader`` wraps every stream the readers open (``encoding.open_binary``) and counts
  the decompressed bytes and the current line as they are read, so the limits hold whatever
  the file does after it was measured.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from annotator.core.errors import InputFileError

#: Default of ``import_max_bytes``: decompressed bytes of one file (2 GiB, some 10 million rows of
#: typical text; one import is one transaction).
DEFAULT_MAX_BYTES = 2 * 2**30
#: Default of ``import_max_line_bytes``: one line of a CSV, TSV or JSONL file (64 MiB, far above
#: a row of ``max_text_chars`` characters and a few metadata cells).
DEFAULT_MAX_LINE_BYTES = 64 * 2**20
#: Default of ``import_max_columns``.
DEFAULT_MAX_COLUMNS = 2_000
#: Default of ``import_max_rows``: data rows of one file.
DEFAULT_MAX_ROWS = 10_000_000
#: Default of ``import_max_depth``: nesting levels of one JSON record ({"m": [1]} is 2 levels).
DEFAULT_MAX_DEPTH = 64
#: The deepest ``import_max_depth`` may be: Python's JSON reader stops near 1,000 levels.
MAX_DEPTH_CEILING = 500

#: Openers of the compressed suffixes (by the last suffix); pandas infers the same ones.
COMPRESSED: dict[str, Callable[..., IO[bytes]]] = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}

_BLOCK = 1 << 20  # bytes decompressed per step of ``check_size``


@dataclass(frozen=True)
class ReadLimits:
    """The byte and shape limits of one import.

    Attributes:
        max_bytes: the most bytes read from one file, counted after decompression.
        max_line_bytes: the longest physical line in bytes (a line ends at ``\\n`` or ``\\r``);
            None = no line limit (a JSON file is one value, often on one line).
        max_columns: the most columns a file may have.
        max_depth: the deepest nesting of one JSON record (a flat record is 1 level).
    """

    max_bytes: int = DEFAULT_MAX_BYTES
    max_line_bytes: int | None = DEFAULT_MAX_LINE_BYTES
    max_columns: int = DEFAULT_MAX_COLUMNS
    max_depth: int = DEFAULT_MAX_DEPTH

    def without_lines(self) -> ReadLimits:
        """These limits with no line limit (for whole-value formats such as JSON)."""
        return ReadLimits(self.max_bytes, None, self.max_columns, self.max_depth)


def human_bytes(n: int) -> str:
    """``n`` bytes in the largest binary unit that keeps it >= 1, e.g. "2 GiB", "1.5 MiB", "512 bytes"."""
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n:,} bytes"


def too_large(name: str, max_bytes: int, *, compressed_bytes: int | None = None) -> InputFileError:
    """The error for a file with more than ``max_bytes`` bytes (decompressed when ``compressed_bytes`` is given)."""
    if compressed_bytes is None:
        got = f"more than {human_bytes(max_bytes)} ({max_bytes:,} bytes)"
        where = ""
    else:
        got = (f"more than {human_bytes(max_bytes)} once decompressed, from a file of {human_bytes(compressed_bytes)} "
               "on disk")
        where = " once decompressed"
    return InputFileError(
        f"{name} holds more than {human_bytes(max_bytes)}{where}; an import reads at most {human_bytes(max_bytes)} "
        "from one file.", expected=f"at most {max_bytes:,} bytes of data (import_max_bytes)", got=got,
        fix="split the file into smaller files and import them one after another, or raise "
            "ANNOTATOR_IMPORT_MAX_BYTES (in bytes) if the file is genuine")


def line_too_long(name: str, line: int, max_line_bytes: int) -> InputFileError:
    """The error for physical line ``line`` (1-based) of ``name`` being longer than ``max_line_bytes``."""
    return InputFileError(
        f"Line {line:,} of {name} is longer than {human_bytes(max_line_bytes)}.",
        expected=f"lines of at most {max_line_bytes:,} bytes (import_max_line_bytes)",
        got=f"line {line:,} runs past {human_bytes(max_line_bytes)} without a line break",
        fix="check the file has line breaks between rows (a file of one endless line is broken or hostile), "
            "or raise ANNOTATOR_IMPORT_MAX_LINE_BYTES (in bytes) for rows that really are this long")


class _Counter:
    """Counts bytes and line lengths over consecutive blocks of one stream.

    ``total`` is the bytes seen, ``lines`` the line breaks seen, ``run`` the bytes since the last
    line break. A block is scanned with ``rfind``/``count`` only (C speed, no per-line work).
    """

    def __init__(self, name: str, limits: ReadLimits, compressed_bytes: int | None) -> None:
        self.name, self.limits, self.compressed_bytes = name, limits, compressed_bytes
        self.total = self.lines = self.run = 0

    def add(self, block: bytes) -> None:
        """Count ``block``; raise ``InputFileError`` once a limit is passed."""
        self.total += len(block)
        if self.total > self.limits.max_bytes:
            raise too_large(self.name, self.limits.max_bytes, compressed_bytes=self.compressed_bytes)
        cap = self.limits.max_line_bytes
        if cap is None:
            return
        # Lines end at \n (Unix, Windows); only a block without one is searched for a lone \r
        # (old Mac files), so the common case costs one short rfind, one find and one count.
        newline = b"\n"
        last = block.rfind(newline)
        if last < 0:
            newline = b"\r"
            last = block.rfind(newline)
        if last < 0:
            self.run += len(block)
            if self.run > cap:
                raise line_too_long(self.name, self.lines + 1, cap)
            return
        first = block.find(newline)
        if self.run + first > cap:  # the line that this block ends
            raise line_too_long(self.name, self.lines + 1, cap)
        if len(block) > cap:  # a block larger than the cap can hold a whole long line inside it
            self._check_inner(block[first + 1 : last], newline)
        self.lines += block.count(newline)
        self.run = len(block) - last - 1  # the line this block starts and the next ones go on
        if self.run > cap:
            raise line_too_long(self.name, self.lines + 1, cap)

    def _check_inner(self, middle: bytes, newline: bytes) -> None:
        """Refuse a line over the cap among the whole lines ``middle`` holds (after the block's first break)."""
        cap = self.limits.max_line_bytes
        assert cap is not None
        for k, part in enumerate(middle.split(newline)):
            if len(part) > cap:
                raise line_too_long(self.name, self.lines + 2 + k, cap)


class BoundedReader(io.RawIOBase):
    """A read-only byte stream over ``inner`` that raises ``InputFileError`` (see ``too_large``
    and ``line_too_long``) as soon as more than ``limits`` allow has been read from it.

    Args:
        inner: the (decompressed) stream; closed with this reader.
        name: the file name the errors give.
        limits: the byte and line limits.
        compressed_bytes: the file's size on disk when ``inner`` decompresses it (for the message).
    """

    def __init__(self, inner: IO[bytes], name: str, limits: ReadLimits, *,
                 compressed_bytes: int | None = None) -> None:
        super().__init__()
        self._inner = inner
        self._counter = _Counter(name, limits, compressed_bytes)

    @property
    def bytes_read(self) -> int:
        """Bytes read through this reader so far."""
        return self._counter.total

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        n = self._inner.readinto(buffer)  # type: ignore[attr-defined]
        if n:
            self._counter.add(bytes(memoryview(buffer)[:n]))
        return n or 0

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            super().close()


def open_bounded(path: Path, limits: ReadLimits | None = None) -> IO[bytes]:
    """The file's bytes (decompressed for .gz/.bz2/.xz), buffered; counted against ``limits`` when given."""
    opener = COMPRESSED.get(path.suffix.lower())
    inner: IO[bytes] = opener(path, "rb") if opener else open(path, "rb")  # noqa: SIM115 - the caller closes it
    if limits is None:
        return inner
    compressed = path.stat().st_size if opener else None
    return io.BufferedReader(BoundedReader(inner, path.name, limits, compressed_bytes=compressed))


def check_size(path: Path, limits: ReadLimits) -> int:
    """Refuse ``path`` before its rows are read when it holds more than ``limits`` allow.

    A plain file is judged by its size on disk (its lines by the readers, as they stream). A
    compressed file is decompressed once, in 1 MiB blocks into nothing, so memory stays flat and
    a bomb stops at ``limits.max_bytes``.

    Returns:
        the file's size in bytes after decompression.

    Raises:
        InputFileError: more than ``max_bytes`` bytes, or (compressed files) a line longer than
            ``max_line_bytes``. A corrupt archive raises the decompressor's own error, which the
            caller's ``failures.reading`` translates.
    """
    size = path.stat().st_size
    opener = COMPRESSED.get(path.suffix.lower())
    if opener is None:
        if size > limits.max_bytes:
            raise too_large(path.name, limits.max_bytes)
        return size
    counter = _Counter(path.name, limits, size)
    with opener(path, "rb") as f:
        while block := f.read(_BLOCK):
            counter.add(block)
    return counter.total
