"""Text encodings: opening (possibly compressed) files, and a clear error when the bytes are not
what we were told, naming the first bad byte and the encoding charset_normalizer detects."""

from __future__ import annotations

import codecs
import io
from pathlib import Path
from typing import IO

from annotator.core.errors import InputFileError
from annotator.importers.bounds import COMPRESSED, ReadLimits, open_bounded

#: Encodings that real-world label files come in. Detection on a small sample is a guess among
#: hundreds of code pages; looking among these first avoids suggesting e.g. cp1006 (Urdu) for a
#: French file with a single "é".
_COMMON = ("utf_8", "utf_16", "cp1252", "latin_1", "iso8859_15", "cp1250", "cp1251", "shift_jis", "cp932",
           "euc_jp", "gb18030", "big5", "euc_kr", "koi8_r", "mac_roman", "cp437")

_SAMPLE_BYTES = 64 * 1024
#: Text codecs that are not file encodings.
_NOT_FOR_FILES = frozenset({"idna", "punycode"})


def codec_for(encoding: str | None) -> str:
    """The Python codec to read with: ``utf-8-sig`` by default, so an Excel BOM is dropped.

    Raises:
        InputFileError: when ``encoding`` is not a codec Python knows.
    """
    if encoding is None:
        return "utf-8-sig"
    try:
        info = codecs.lookup(encoding)
    except LookupError as e:
        raise InputFileError(
            f"Unknown text encoding {encoding!r}.",
            expected="a Python codec name such as utf-8, cp1252, latin-1 or utf-16",
            got=repr(encoding), fix="fix the spelling of --encoding, or leave it out for UTF-8",
        ) from e
    # rot13, base64, hex … transform bytes rather than decode text; idna and punycode encode host
    # names. None of them reads a data file.
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_FOR_FILES:
        raise InputFileError(
            f"{encoding!r} is not a text encoding for files.",
            expected="a character encoding such as utf-8, cp1252, latin-1, utf-16 (with a BOM), utf-16-le",
            got=f"the {info.name} codec", fix="pass the encoding the file was saved in, or leave --encoding out")
    return encoding


def is_compressed(path: Path) -> bool:
    return path.suffix.lower() in COMPRESSED


def open_binary(path: Path, limits: ReadLimits | None = None) -> IO[bytes]:
    """The file's bytes, decompressed when its name ends in .gz, .bz2 or .xz.

    With ``limits``, reading past ``limits.max_bytes`` decompressed bytes or a line longer than
    ``limits.max_line_bytes`` raises ``InputFileError`` (``bounds.BoundedReader``).
    """
    return open_bounded(path, limits)


def open_text(path: Path, encoding: str | None, limits: ReadLimits | None = None) -> IO[str]:
    """The file as text lines (universal newlines), decoded strictly with ``codec_for(encoding)``;
    ``limits`` as for ``open_binary``."""
    return io.TextIOWrapper(open_binary(path, limits), encoding=codec_for(encoding), errors="strict")


def first_bad_byte(path: Path, encoding: str | None) -> tuple[int, int, bytes] | None:
    """(byte offset, 1-based line, the offending bytes) of the first undecodable byte, or None.

    Streams the file in 1 MiB blocks, so it costs one pass and constant memory; only called after
    a decode failed, to tell the user exactly where.
    """
    decoder = codecs.getincrementaldecoder(codec_for(encoding))(errors="strict")
    consumed = 0  # bytes of the file handed to the decoder so far
    lines_before = 0  # newlines in those bytes
    with open_binary(path) as f:
        while True:
            block = f.read(1 << 20)
            pending = decoder.getstate()[0]  # bytes of a split character carried from the last block
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as e:
                data = pending + block
                offset = consumed - len(pending) + e.start
                line = lines_before - pending.count(b"\n") + data[: e.start].count(b"\n") + 1
                return offset, line, bytes(data[e.start : e.end])
            if not block:
                return None
            consumed += len(block)
            lines_before += block.count(b"\n")


def detect_encoding(sample: bytes) -> str | None:
    """charset_normalizer's best guess for ``sample``, preferring common encodings; None if unsure."""
    from charset_normalizer import from_bytes

    for isolation in (list(_COMMON), None):
        matches = from_bytes(sample, cp_isolation=isolation)
        best = matches.best()
        if best is None:
            continue
        # Several code pages often fit a sample equally well (ties in chaos and coherence, or
        # identical decodings); name the most widely used of them, e.g. cp1252 over cp1250.
        tied = [m for m in matches
                if abs(m.chaos - best.chaos) < 1e-9 and abs(m.coherence - best.coherence) < 1e-9]
        equivalent = {name for m in tied for name in (m.encoding, *m.could_be_from_charset)}
        for name in _COMMON:
            if name in equivalent:
                return name
        return best.encoding
    return None


def _sample_around(path: Path, offset: int) -> bytes:
    """The file's first 64 KiB plus 64 KiB around ``offset``: enough text for a stable guess."""
    with open_binary(path) as f:
        head = f.read(_SAMPLE_BYTES)
        if offset < _SAMPLE_BYTES:
            return head
        f.seek(max(offset - _SAMPLE_BYTES // 2, _SAMPLE_BYTES))
        return head + f.read(_SAMPLE_BYTES)


def encoding_error(path: Path, name: str, encoding: str | None) -> InputFileError:
    """The error for a file whose bytes do not decode with ``encoding`` (None = UTF-8).

    Names the first bad byte (line and offset), the encoding charset_normalizer detects, and the
    ``--encoding`` value to pass.
    """
    wanted = "UTF-8" if encoding is None else encoding
    where = first_bad_byte(path, encoding)
    detected = detect_encoding(_sample_around(path, where[0] if where else 0))
    # A UTF-8 guess for bytes that failed UTF-8 is no help: fall back to the usual suspects.
    useful = detected if detected and detected.replace("-", "_").lower() not in ("utf_8", "ascii") else None
    got = []
    if where:
        offset, line, bad = where
        got.append(f"byte {' '.join(f'0x{b:02X}' for b in bad[:4])} at line {line} (byte offset {offset:,}) "
                   f"is not valid {wanted}")
    if useful:
        got.append(f"the bytes look like {useful} (detected by charset_normalizer)")
    if useful:
        fix = (f"read it with encoding {useful!r} (--encoding {useful} on the command line), "
               "or re-save the file as UTF-8")
    else:
        fix = ("pass the file's encoding, e.g. --encoding cp1252 (Windows, Western Europe) or --encoding latin-1, "
               "or re-save the file as UTF-8")
    return InputFileError(
        f"{name} is not {wanted} text." if encoding is None else f"{name} cannot be decoded as {wanted}.",
        expected=f"a {wanted} text file", got="; ".join(got) or None, fix=fix,
    )
