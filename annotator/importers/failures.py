"""What a reader library raises on a hostile or broken file, said as one clear ``InputFileError``.

The readers (json, csv via pandas, gzip/bz2/lzma, pyarrow) fail in their own words: a
``RecursionError`` for deeply nested JSON, a ``ValueError`` for an integer of thousands of digits,
``zlib.error`` / ``EOFError`` / ``LZMAError`` for a corrupt or truncated archive (click prints the
last one as a bare "Aborted."), a ``KeyError`` for a Parquet file with two columns of one name,
a ``RuntimeError`` for a symlink loop, a ``MemoryError`` for one line of gigabytes. ``reading``
translates them at the one place files are read, naming the file and what to do; nothing was
imported when any of them happens (the import is one transaction).
"""

from __future__ import annotations

import csv
import errno
import logging
import lzma
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from annotator.core.errors import AnnotatorError, InputFileError

log = logging.getLogger(__name__)

#: Exception types a reader may raise on bad bytes (ArrowException is added when pyarrow is present).
READER_ERRORS: tuple[type[BaseException], ...] = (RecursionError, MemoryError, EOFError, OSError, zlib.error,
                                                  lzma.LZMAError, KeyError, RuntimeError, ValueError, UnicodeError,
                                                  csv.Error)


def describe(name: str, error: BaseException) -> InputFileError:
    """The clear error for ``error`` raised while reading file ``name``."""
    text = str(error)
    kind = "zlib.error" if isinstance(error, zlib.error) else type(error).__name__
    got = f"{kind}: {text[:200]}"
    if isinstance(error, RecursionError):
        return InputFileError(f"{name} holds JSON nested too deeply to read.",
                              expected="records nested at most a few hundred levels deep", got="nesting deeper than "
                              "Python's JSON reader follows (about 1,000 levels)",
                              fix="flatten the nested values, or store them as strings")
    if isinstance(error, ValueError) and "digits" in text and "integer" in text:
        return InputFileError(f"{name} holds an integer with thousands of digits.",
                              expected="numbers of at most 4,300 digits", got=text[:160],
                              fix="quote such values so they are read as text")
    if isinstance(error, MemoryError):
        return InputFileError(f"{name} has a line or a cell too large to hold in memory.",
                              expected="lines of at most a few hundred MB", got="MemoryError",
                              fix="split the file into rows of normal size")
    if isinstance(error, KeyError) and "exists" in text and "times" in text:
        return InputFileError(f"{name} has two columns with the same name.", expected="unique column names",
                              got=text.strip("'\""), fix="rename the columns so each name is used once")
    if (isinstance(error, RuntimeError) and "Symlink loop" in text) or getattr(error, "errno", None) == errno.ELOOP:
        return InputFileError(f"{name} is a symbolic link that points back to itself.",
                              expected="a link that ends at a real file", got=text[:160],
                              fix="point the link at the data file, or pass the file itself")
    if isinstance(error, (EOFError, zlib.error, lzma.LZMAError)) or (
            isinstance(error, OSError) and any(w in text for w in ("gzipped", "Invalid data stream", "Compressed",
                                                                     "compressed", "end-of-stream"))):
        return InputFileError(f"{name} is a compressed file that is corrupt or cut short.",
                              expected="a complete .gz, .bz2 or .xz archive", got=got,
                              fix="download or compress it again (gzip -t / bzip2 -t / xz -t checks a file)")
    if isinstance(error, UnicodeError):
        return InputFileError(f"{name} cannot be decoded with the encoding given.", expected="text in that encoding",
                              got=got, fix="check --encoding (a UTF-16 file without a BOM: utf-16-le or utf-16-be), "
                              "or leave it out for UTF-8")
    if type(error).__module__.startswith("pyarrow"):
        return InputFileError(f"{name} cannot be read as Parquet.", expected="a complete Parquet file", got=got,
                              fix="check the file is complete, or write it again")
    return InputFileError(f"{name} could not be read.", expected="a well-formed file of its format", got=got,
                          fix="check the file (open it in another tool), or export it again")


def _reader_errors() -> tuple[type[BaseException], ...]:
    try:
        import pyarrow

        return (*READER_ERRORS, pyarrow.ArrowException)
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        return READER_ERRORS


@contextmanager
def reading(name: str) -> Iterator[None]:
    """Translate reader failures inside the block into ``InputFileError`` (ours pass unchanged)."""
    try:
        yield
    except AnnotatorError:
        raise
    except _reader_errors() as e:
        log.debug("reading %s failed", name, exc_info=True)
        raise describe(name, e) from e


def guarded(name: str, items: Iterator) -> Iterator:
    """``items`` (a reader's generator) with its failures translated as ``reading`` does."""
    while True:
        with reading(name):
            try:
                item = next(items)
            except StopIteration:
                return
        yield item
