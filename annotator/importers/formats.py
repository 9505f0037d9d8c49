"""Format detection and the file readers (CSV, TSV, JSON, JSONL, Parquet).

Each reader is ``open_<format>(path, *, encoding, chunk_rows, split) -> RawSource``; the readers
of plain files also take ``limits`` (``bounds.ReadLimits``: bytes, line length, columns, JSON
depth), which their streams enforce. The readers for ``datasets`` folders and hub ids live in
``hf.py``. ``OPENERS`` maps a format to its reader.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from annotator.core.errors import InputFileError
from annotator.importers import hf
from annotator.importers.bounds import ReadLimits
from annotator.importers.encoding import codec_for, encoding_error, is_compressed, open_binary, open_text
from annotator.importers.limits import check_header_width, check_last_line
from annotator.importers.nesting import (
    deep_point,
    depth_of,
    is_digits_error,
    long_integer_line,
    may_be_deeper,
    too_deep,
    too_many_digits,
)
from annotator.importers.raw import RawBatch, RawSource, rebatch
from annotator.importers.validate import no_rows_error
from annotator.importers.values import MISSING

FORMATS: tuple[str, ...] = ("csv", "tsv", "json", "jsonl", "parquet", "hf-disk", "hf-hub")

_SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
             ".parquet": "parquet", ".pq": "parquet"}
_SPREADSHEETS = {".xlsx", ".xls", ".xlsm", ".ods", ".numbers"}
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_HUB_PREFIX = "hf://datasets/"
_SUPPORTED = ("a CSV, TSV, JSON, JSONL or Parquet file (optionally .gz), a datasets.save_to_disk folder, "
              "or a Hugging Face hub dataset id 'owner/name'")

Opener = Callable[..., RawSource]


# ---------------------------------------------------------------------------------------- detect
def detect_format(source: str | Path) -> str:
    """The format of ``source``: one of ``FORMATS``.

    A local file is known by its extension (``.csv``, ``.tsv``/``.tab``, ``.json``, ``.jsonl``/
    ``.ndjson``, ``.parquet``/``.pq``, each optionally ``.gz``/``.bz2``/``.xz``), else by its first
    bytes. A folder is ``hf-disk`` when ``datasets.save_to_disk`` wrote it. A string ``owner/name``
    (or ``hf://datasets/owner/name``) that is not a local path is ``hf-hub``.

    Raises:
        InputFileError: no such file (with near-miss names from the same folder), an unreadable
            folder, or a spreadsheet.
    """
    if isinstance(source, str) and source.startswith(_HUB_PREFIX):
        return "hf-hub"
    path = Path(source).expanduser()
    if path.is_dir():
        if hf.is_saved_dataset(path):
            return "hf-disk"
        raise InputFileError(
            f"{path} is a folder, not a file the annotator can read.",
            expected=_SUPPORTED + " (a save_to_disk folder holds dataset_info.json and state.json, "
                     "or dataset_dict.json)",
            got="a folder holding " + (", ".join(sorted(p.name for p in path.iterdir())[:10]) or "nothing"),
            fix="pick one data file inside the folder, or save the dataset with Dataset.save_to_disk",
        )
    if path.is_file():
        return _format_of_file(path)
    if path.exists():  # a FIFO, a device such as /dev/zero, a socket: reading it may never end
        raise InputFileError(f"{path} is not a regular file.", expected=_SUPPORTED,
                             got="a device, FIFO or socket", fix="save the data to a file first and import that")
    if isinstance(source, str) and _looks_like_hub_id(source):
        return "hf-hub"
    raise _missing_file_error(path)


def _format_of_file(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and is_compressed(path):
        suffixes = suffixes[:-1]
    suffix = suffixes[-1] if suffixes else ""
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    if suffix in _SPREADSHEETS:
        raise InputFileError(
            f"{path.name} is a spreadsheet; the annotator reads text formats and Parquet.",
            expected=_SUPPORTED, got=f"a {suffix} file",
            fix="save the sheet as CSV (in Excel: File → Save As → 'CSV UTF-8'), then import that file",
        )
    return _sniff(path)


def _sniff(path: Path) -> str:
    """Guess an unknown extension (.txt, .dat, none) from the first bytes."""
    with open_binary(path) as f:
        head = f.read(64 * 1024)
    if head.startswith(b"PAR1"):
        return "parquet"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"["):
        return "json"
    if text.startswith(b"{"):
        first_line = text.split(b"\n", 1)[0]
        try:
            return "jsonl" if isinstance(json.loads(first_line), dict) else "json"
        except (ValueError, RecursionError):  # not JSON on one line, or too deep / too long to tell
            return "json"  # a pretty-printed {"data": [...]}
    first_line = text.split(b"\n", 1)[0]
    return "tsv" if first_line.count(b"\t") > first_line.count(b",") else "csv"


def _looks_like_hub_id(source: str) -> bool:
    """``owner/name`` with no file extension: ``data/reviews.csv`` is a missing file, not a hub id."""
    last = source.rsplit("/", 1)[-1].lower()
    has_suffix = any(last.endswith(s) for s in (*_SUFFIXES, ".gz", ".bz2", ".xz", ".txt", *_SPREADSHEETS))
    return bool(_HUB_ID.match(source)) and not has_suffix and not source.startswith(".")


def _missing_file_error(path: Path) -> InputFileError:
    parent = path.parent
    try:
        nearby = sorted(p.name for p in parent.iterdir()) if parent.is_dir() else []
    except OSError:  # an unreadable folder: no suggestions, the error stays about the file
        nearby = []
    guess = difflib.get_close_matches(path.name, nearby, n=3, cutoff=0.6)
    fix = "check the path and the file name"
    if guess:
        fix = "did you mean " + " or ".join(repr(str(parent / g)) for g in guess) + "?"
    elif not parent.is_dir():
        fix = f"the folder {parent} does not exist either; check the path"
    return InputFileError(f"File not found: {path}", expected=_SUPPORTED,
                          got=f"nothing at {path.resolve()}", fix=fix)


# ---------------------------------------------------------------------------------------- CSV / TSV
def _sniff_separator(path: Path, codec: str, default: str) -> str:
    """',' unless the header has none and has ';' (Excel in much of Europe), a tab or '|'."""
    with open_binary(path) as f:
        first = f.readline(1 << 16).decode(codec, errors="replace")
    if default == "," and "," not in first:
        for candidate in (";", "\t", "|"):
            if candidate in first:
                return candidate
    return default


def _csv_error(name: str, sep: str, kind: str, error: Exception) -> InputFileError:
    message = str(error).strip().replace("Error tokenizing data. C error: ", "")
    return InputFileError(
        f"{name} is not a well-formed {kind} file: {message}",
        expected=f"the same number of {sep!r}-separated fields on every line, with any cell that holds "
                 "the separator, a quote or a line break wrapped in double quotes",
        got=message,
        fix="fix the line named above (often an unquoted separator or a stray quote), "
            "or export the file again with quoting",
    )


def open_csv(path: Path, *, encoding: str | None, chunk_rows: int, split: str | None = None,
             sep: str = ",", limits: ReadLimits | None = None) -> RawSource:
    """A CSV (or, with ``sep="\\t"``, TSV) file, streamed with pandas ``read_csv(chunksize=)``.

    Every cell is read as a string (``dtype=str``) and nothing is read as NaN (``na_filter=False``),
    so a label "NA" or a text "null" survives; empty cells become None. Rows are numbered as a
    spreadsheet shows them: the header is row 1, the first data row is row 2 (this is also the
    line number unless the file has blank lines, which are skipped, or cells spanning lines).
    pandas reads through a ``bounds.BoundedReader``, so ``limits`` hold while it streams.
    """
    del split  # plain files have no splits
    limits = limits or ReadLimits()
    name = path.name
    if path.stat().st_size == 0:
        raise no_rows_error(name, detail="the file is empty (0 bytes)")
    codec = codec_for(encoding)
    sep = _sniff_separator(path, codec, sep)
    check_header_width(path, encoding=encoding, sep=sep, max_columns=limits.max_columns)
    kind = "TSV" if sep == "\t" else "CSV"
    # The stream is decompressed by open_binary (counted on the way), so pandas must not again.
    options: dict[str, Any] = {"sep": sep, "dtype": str, "na_filter": False, "encoding": codec, "compression": None}
    try:
        with open_binary(path, limits) as handle:
            header = pd.read_csv(handle, nrows=0, **options)
    except UnicodeDecodeError as e:
        raise encoding_error(path, name, encoding) from e
    except pd.errors.EmptyDataError as e:
        raise no_rows_error(name, detail="the file holds no header and no data") from e
    except pd.errors.ParserError as e:
        raise _csv_error(name, sep, kind, e) from e
    columns = [str(c) for c in header.columns]
    check_last_line(path, encoding=encoding, sep=sep, n_columns=len(columns))

    def iter_batches(usecols: list[str] | None) -> Iterator[RawBatch]:
        first_row = 2  # the header is row 1, as in a spreadsheet
        try:
            with open_binary(path, limits) as handle, \
                    pd.read_csv(handle, chunksize=chunk_rows, usecols=usecols, **options) as reader:
                for frame in reader:
                    rows = list(range(first_row, first_row + len(frame)))
                    first_row += len(frame)
                    # CSV cannot tell an empty string from a missing value: both become None.
                    cols = {str(c): [v if v.__class__ is str and v else None for v in frame[c].tolist()]
                            for c in frame.columns}
                    yield RawBatch(rows, cols)
        except UnicodeDecodeError as e:
            raise encoding_error(path, name, encoding) from e
        except pd.errors.ParserError as e:
            raise _csv_error(name, sep, kind, e) from e

    return RawSource(name=name, fmt="tsv" if sep == "\t" else "csv", columns=columns, iter_batches=iter_batches)


def open_tsv(path: Path, *, encoding: str | None, chunk_rows: int, split: str | None = None,
             limits: ReadLimits | None = None) -> RawSource:
    return open_csv(path, encoding=encoding, chunk_rows=chunk_rows, split=split, sep="\t", limits=limits)


# ---------------------------------------------------------------------------------------- JSON / JSONL
def _records_batch(records: list[tuple[int, dict[str, Any]]], keep: list[str] | None = None) -> RawBatch:
    """(row, record) pairs → a column batch; a key a record lacks is MISSING, not None."""
    keys = keep if keep is not None else list(dict.fromkeys(k for _, rec in records for k in rec))
    return RawBatch(rows=[row for row, _ in records],
                    columns={k: [rec.get(k, MISSING) for _, rec in records] for k in keys})


def _not_an_object(name: str, where: str, value: Any, fix: str) -> InputFileError:
    return InputFileError(
        f"{where} of {name} is not a JSON object.",
        expected='one object per record, e.g. {"text": "…", "label": "…"}',
        got=f"{type(value).__name__}: {json.dumps(value, ensure_ascii=False, default=str)[:80]}", fix=fix,
    )


def _jsonl_records(path: Path, name: str, encoding: str | None,
                   limits: ReadLimits) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) for each non-blank line, parsed one line at a time so a bad line is
    reported by its number and memory stays flat. A record nested deeper than
    ``limits.max_depth`` or an integer of thousands of digits is refused with its line."""
    try:
        with open_text(path, encoding, limits) as f:
            for lineno, line in enumerate(f, start=1):
                text = line.strip()
                if not text:
                    continue
                try:
                    record = json.loads(text)
                except json.JSONDecodeError as e:
                    raise InputFileError(
                        f"Line {lineno:,} of {name} is not valid JSON: {e.msg} (column {e.colno}).",
                        expected='one JSON object per line, e.g. {"text": "…", "label": "…"}',
                        got=repr(text[:120]) + (" …" if len(text) > 120 else ""),
                        fix=f"fix or delete line {lineno:,}, then import again",
                    ) from e
                except RecursionError as e:  # deeper than Python's reader goes: far past the limit
                    raise too_deep(name, f"Line {lineno:,}", limits.max_depth) from e
                except ValueError as e:
                    if is_digits_error(e):
                        raise too_many_digits(name, f"Line {lineno:,}") from e
                    raise
                if may_be_deeper(text, limits.max_depth) and depth_of(record) > limits.max_depth:
                    raise too_deep(name, f"Line {lineno:,}", limits.max_depth)
                if not isinstance(record, dict):
                    raise _not_an_object(name, f"Line {lineno:,}", record, f"make line {lineno:,} an object")
                yield lineno, record
    except UnicodeDecodeError as e:
        raise encoding_error(path, name, encoding) from e


def _batched(records: Iterator[tuple[int, dict[str, Any]]], size: int) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    batch: list[tuple[int, dict[str, Any]]] = []
    for item in records:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def open_jsonl(path: Path, *, encoding: str | None, chunk_rows: int, split: str | None = None,
               limits: ReadLimits | None = None) -> RawSource:
    """A JSON Lines file, one object per line, blank lines skipped; ``row`` is the line number.

    The first batch is read on opening, so the columns (the keys of its records) are known.
    """
    del split
    name = path.name
    if path.stat().st_size == 0:
        raise no_rows_error(name, detail="the file is empty (0 bytes)")
    batches = _batched(_jsonl_records(path, name, encoding, limits or ReadLimits()), chunk_rows)
    first = next(batches, None)
    if first is None:
        raise no_rows_error(name, detail="only blank lines")
    columns = list(_records_batch(first).columns)

    def iter_batches(keep: list[str] | None) -> Iterator[RawBatch]:
        yield _records_batch(first, keep)
        for batch in batches:
            yield _records_batch(batch, keep)

    return RawSource(name=name, fmt="jsonl", columns=columns, iter_batches=iter_batches)


def open_json(path: Path, *, encoding: str | None, chunk_rows: int, split: str | None = None,
              limits: ReadLimits | None = None) -> RawSource:
    """A JSON file holding an array of records, or ``{"data": [...]}``. Read whole (JSON cannot be
    streamed with the standard library): use JSONL for files that do not fit in memory.

    A ``.json`` file that is really JSON Lines is read as JSONL. ``row`` is the record's 1-based
    position in the array. ``limits.max_bytes`` bounds the text read (lines are not limited: a
    JSON file is often one line); a record nested deeper than ``limits.max_depth`` or an integer
    of thousands of digits is refused with its record or line.
    """
    limits = limits or ReadLimits()
    name = path.name
    if path.stat().st_size == 0:
        raise no_rows_error(name, detail="the file is empty (0 bytes)")
    text = ""
    try:
        with open_text(path, encoding, limits.without_lines()) as f:
            text = f.read()
        data = json.loads(text)
    except UnicodeDecodeError as e:
        raise encoding_error(path, name, encoding) from e
    except RecursionError as e:
        raise _json_too_deep(name, text, limits.max_depth) from e
    except json.JSONDecodeError as e:
        if e.msg == "Extra data" and _sniff(path) == "jsonl":
            return open_jsonl(path, encoding=encoding, chunk_rows=chunk_rows, split=split, limits=limits)
        raise InputFileError(
            f"{name} is not valid JSON: {e.msg} at line {e.lineno:,}, column {e.colno}.",
            expected='a JSON array of records, or {"data": [...]}', got=f"{e.msg} at line {e.lineno:,}",
            fix="fix the JSON at that spot (a missing comma or quote is usual), or save the data as JSON Lines",
        ) from e
    except ValueError as e:
        if not is_digits_error(e):
            raise
        line = long_integer_line(text)
        raise too_many_digits(name, None if line is None else f"Line {line:,}") from e
    del text  # the parsed records are all that is kept
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        data = data["data"]
    if not isinstance(data, list):
        got = (f"an object with keys {', '.join(repr(k) for k in list(data)[:10])}" if isinstance(data, dict)
               else type(data).__name__)
        raise InputFileError(
            f"{name} does not hold a list of records.",
            expected='a top-level array of records [{"text": …}, …], or {"data": [...]}', got=got,
            fix='wrap the records in an array (or under "data"), or save them as JSON Lines (.jsonl)',
        )
    if not data:
        raise no_rows_error(name, detail="an empty array")
    for i, record in enumerate(data):
        if not isinstance(record, dict):
            raise _not_an_object(name, f"Record {i + 1:,}", record, "make every element of the array an object")
        if any(isinstance(v, (dict, list)) for v in record.values()) and depth_of(record) > limits.max_depth:
            raise too_deep(name, f"Record {i + 1:,}", limits.max_depth)
    columns = list(dict.fromkeys(k for record in data for k in record))

    def iter_batches(keep: list[str] | None) -> Iterator[RawBatch]:
        for start in range(0, len(data), chunk_rows):
            part = data[start : start + chunk_rows]
            yield _records_batch(list(zip(range(start + 1, start + len(part) + 1), part)), keep)

    return RawSource(name=name, fmt="json", columns=columns, iter_batches=iter_batches)


def _json_too_deep(name: str, text: str, max_depth: int) -> InputFileError:
    """The error for JSON text too deep for Python's reader, naming the record and line it starts at."""
    # Records sit one level inside the top-level array, or two inside {"data": [...]}.
    is_array = text.lstrip()[:1] == "["
    found = deep_point(text, max_depth + (1 if is_array else 2))
    if found is None:  # cannot happen for text the reader found too deep; name the file then
        return too_deep(name, "A record", max_depth)
    line, record = found
    return too_deep(name, f"Record {record:,} (line {line:,})" if record else f"Line {line:,}", max_depth)


# ---------------------------------------------------------------------------------------- Parquet
def open_parquet(path: Path, *, encoding: str | None, chunk_rows: int, split: str | None = None) -> RawSource:
    """A Parquet file, streamed with pyarrow ``iter_batches`` (only the needed columns are read).

    pandas' saved index columns (``__index_level_0__``) are left out.
    """
    del encoding, split  # Parquet stores UTF-8 and has no splits
    import pyarrow as pa
    import pyarrow.parquet as pq

    name = path.name
    try:
        handle = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as e:
        raise InputFileError(
            f"{name} is not a readable Parquet file.", expected="a Parquet file (it starts with the bytes PAR1)",
            got=f"{type(e).__name__}: {e}", fix="check the file is complete, or export it again",
        ) from e
    columns = [c for c in handle.schema_arrow.names if not c.startswith("__index_level_")]
    if handle.metadata.num_rows == 0:
        raise no_rows_error(name, columns)

    def iter_batches(keep: list[str] | None) -> Iterator[RawBatch]:
        wanted = keep if keep is not None else columns

        def batches() -> Iterator[RawBatch]:
            first_row = 1
            for batch in handle.iter_batches(batch_size=chunk_rows, columns=wanted):
                n = batch.num_rows
                # to_pylist keeps ints as ints and nulls as None (pandas would turn both into floats).
                cols = {c: batch.column(c).to_pylist() for c in wanted}
                yield RawBatch(list(range(first_row, first_row + n)), cols)
                first_row += n

        # Batches stop at row-group boundaries; re-cut them so every chunk has chunk_rows rows.
        yield from rebatch(batches(), chunk_rows)

    return RawSource(name=name, fmt="parquet", columns=columns, iter_batches=iter_batches)


#: Format → reader. ``hf-disk`` and ``hf-hub`` take the raw ``source`` (a path or a hub id).
OPENERS: dict[str, Opener] = {
    "csv": open_csv, "tsv": open_tsv, "json": open_json, "jsonl": open_jsonl, "parquet": open_parquet,
    "hf-disk": hf.open_saved_dataset, "hf-hub": hf.open_hub_dataset,
}


#: Formats read through ``open_binary``, whose readers take ``limits``.
BOUNDED_FORMATS: frozenset[str] = frozenset({"csv", "tsv", "json", "jsonl"})


def open_source(source: str | Path, fmt: str, *, encoding: str | None, chunk_rows: int,
                split: str | None = None, limits: ReadLimits | None = None) -> RawSource:
    """Open ``source`` with the reader for ``fmt``: columns known, rows not yet read. ``limits``
    (None = the defaults) bound what the CSV, TSV, JSON and JSONL readers read."""
    target: str | Path = source if fmt == "hf-hub" else Path(source).expanduser()
    extra: dict[str, Any] = {"limits": limits or ReadLimits()} if fmt in BOUNDED_FORMATS else {}
    return OPENERS[fmt](target, encoding=encoding, chunk_rows=chunk_rows, split=split, **extra)
