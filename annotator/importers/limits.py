"""Shape limits an import enforces before it reads rows, so a hostile file fails in a second with a
clear error instead of minutes and gigabytes later.

A CSV header of a million columns takes pandas minutes and several GB just to parse; its width is
checked on the raw first line (the ``csv`` module, a few MB at most) against ``max_columns``.
Other formats are checked once their columns are known. The number of data rows is counted as
they stream (``too_many_rows``); byte and line limits live in ``bounds``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from annotator.core.errors import InputFileError
from annotator.importers.bounds import DEFAULT_MAX_COLUMNS
from annotator.importers.encoding import codec_for, open_binary

__all__ = ["DEFAULT_MAX_COLUMNS", "MAX_HEADER_BYTES", "check_header_width", "too_many_columns", "too_many_rows"]
#: Longest header line read to count columns (bytes, decompressed).
MAX_HEADER_BYTES = 16 * 1024 * 1024


def too_many_columns(name: str, n_columns: int | str, max_columns: int) -> InputFileError:
    return InputFileError(f"{name} has {n_columns} columns; an import takes at most {max_columns:,}.",
                          expected=f"at most {max_columns:,} columns", got=f"{n_columns} columns",
                          fix="keep only the columns you need (text, id, label, a few metadata columns), or raise "
                          "ANNOTATOR_IMPORT_MAX_COLUMNS")


def too_many_rows(name: str, row: int, max_rows: int) -> InputFileError:
    """The error for a file with more than ``max_rows`` data rows; ``row`` is the first row past the limit."""
    return InputFileError(f"{name} has more than {max_rows:,} rows; an import takes at most {max_rows:,}.",
                          expected=f"at most {max_rows:,} data rows (import_max_rows)",
                          got=f"row {row:,} is past the limit; nothing was imported",
                          fix=f"split the file into parts of at most {max_rows:,} rows and import them one after "
                          "another (each is one transaction), or raise ANNOTATOR_IMPORT_MAX_ROWS")


def check_header_width(path: Path, *, encoding: str | None, sep: str, max_columns: int) -> None:
    """Refuse a delimited file whose first line has more than ``max_columns`` fields.

    Raises:
        InputFileError: too many columns, or a first line longer than ``MAX_HEADER_BYTES``.
    """
    with open_binary(path) as raw:
        line = raw.readline(MAX_HEADER_BYTES + 1)
    if len(line) > MAX_HEADER_BYTES:
        raise too_many_columns(path.name, f"a header line of more than {MAX_HEADER_BYTES // 2**20} MB of", max_columns)
    text = line.decode(codec_for(encoding), errors="replace")
    try:
        width = len(next(csv.reader(io.StringIO(text), delimiter=sep), []))
    except csv.Error:  # a stray carriage return or quote: count separators instead (an upper bound)
        width = text.count(sep) + 1
    if width > max_columns:
        raise too_many_columns(path.name, f"{width:,}", max_columns)


#: Bytes read from the end of a file to find its last line (``check_last_line``).
TAIL_BYTES = 1 << 16


def check_last_line(path: Path, *, encoding: str | None, sep: str, n_columns: int) -> None:
    """Refuse a plain delimited file whose last line looks cut off: no line break at the end and
    fewer fields than the header. A copy or download that stopped mid-row leaves exactly that, and
    the reader would otherwise import the partial row with its missing cells empty.

    Skipped (nothing can be told cheaply) for compressed files, UTF-16/32 text and a last line
    holding a quote (it may close a cell that spans lines).

    Raises:
        InputFileError: the last line ends without a line break and has fewer fields than the header.
    """
    codec = codec_for(encoding)
    if path.suffix.lower() in (".gz", ".bz2", ".xz") or codec.replace("-", "").lower().startswith(("utf16", "utf32")):
        return
    size = path.stat().st_size
    with path.open("rb") as f:
        f.seek(max(0, size - TAIL_BYTES))
        tail = f.read()
    if not tail or tail.endswith((b"\n", b"\r")):
        return
    last = tail.rsplit(b"\n", 1)[-1].rsplit(b"\r", 1)[-1]
    if b'"' in last or (len(last) == len(tail) and size > TAIL_BYTES):
        return
    fields = last.decode(codec, errors="replace").count(sep) + 1
    if fields < n_columns:
        text = last.decode(codec, errors="replace")
        raise InputFileError(
            f"The last line of {path.name} looks cut off: it ends without a line break and has {fields} of the "
            f"header's {n_columns} fields.", expected=f"{n_columns} {sep!r}-separated fields on every line",
            got=repr(text[:80]), fix="the file was probably truncated while being copied or downloaded: export or "
            "download it again; if that row really is complete, add its missing separators or a line break at the end")
