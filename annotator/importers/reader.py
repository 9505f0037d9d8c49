"""The two entry points: ``read_chunks`` (validated, normalised chunks) and ``preview`` (raw rows)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from annotator.importers.bounds import check_size
from annotator.importers.failures import guarded, reading
from annotator.importers.formats import BOUNDED_FORMATS, detect_format, open_source
from annotator.importers.limits import too_many_columns, too_many_rows
from annotator.importers.normalize import Normalizer
from annotator.importers.raw import RawSource
from annotator.importers.spec import ImportSpec
from annotator.importers.validate import no_rows_error, resolve_columns
from annotator.importers.values import MISSING


def read_chunks(source: str | Path, spec: ImportSpec) -> Iterator[pd.DataFrame]:
    """Stream ``source`` as validated chunks of at most ``spec.chunk_rows`` rows.

    Each chunk has exactly the columns ``CHUNK_COLUMNS``:

    - ``row`` (int): CSV/TSV the spreadsheet row (header = 1, first data row = 2); JSONL the line
      number; JSON, Parquet and datasets the 1-based record number.
    - ``external_id`` (str | None), ``text`` (str, stripped of surrounding whitespace),
    - ``labels`` (list[str] | None; an empty cell, NaN or ``[]`` is None),
    - ``metadata`` (dict of JSON-safe values), ``split`` (str | None).

    No row is skipped silently (blank lines aside): an empty text, a text over
    ``spec.max_text_chars`` or an id seen before in the file raises ``ValidationError`` naming up
    to 5 rows and advising to drop or fix them, and the caller (one transaction) keeps nothing. Memory holds one chunk plus the set of ids seen; JSON files (not
    JSONL) are the exception and are read whole. Label values are not checked against a project
    here: see ``check_labels``.

    The source is opened and its columns checked when ``read_chunks`` is called (so a missing
    file or column fails before the caller opens a transaction); rows are read and checked as
    the returned iterator is consumed. The spec's limits hold throughout: a CSV, TSV, JSON or
    JSONL file (or Parquet, by its size on disk) over ``spec.max_bytes`` is refused on opening,
    a compressed one after one quick decompression pass that stops at the limit; lines, JSON
    depth and the row count are checked as rows stream.

    Raises:
        InputFileError: missing, empty, unreadable or malformed source; wrong encoding; a column
            the spec names that the file lacks (listing the columns and the closest match); more
            bytes, a longer line, more rows or deeper JSON than the spec's limits.
        ValidationError: as above.
    """
    name = Path(str(source)).name
    with reading(name):
        fmt = detect_format(source)
        if fmt in BOUNDED_FORMATS or fmt == "parquet":
            # A JSON file is one value (often one line); Parquet is binary: only their size counts.
            check_size(Path(source).expanduser(),
                       spec.limits.without_lines() if fmt in ("json", "parquet") else spec.limits)
        raw = open_source(source, fmt, encoding=spec.encoding, chunk_rows=spec.chunk_rows, split=spec.split,
                          limits=spec.limits)
    if len(raw.columns) > spec.max_columns:
        raise too_many_columns(raw.name, f"{len(raw.columns):,}", spec.max_columns)
    keep = resolve_columns(raw.columns, spec, raw.name)
    # With explicit metadata only the needed columns are read (CSV usecols, Parquet projection,
    # datasets select_columns); by default every column is needed anyway.
    subset = keep if spec.metadata_columns is not None else None
    return _chunks(raw, Normalizer(spec, raw), subset, spec.max_rows)


def _chunks(raw: RawSource, normalize: Normalizer, subset: list[str] | None,
            max_rows: int) -> Iterator[pd.DataFrame]:
    total = 0
    for batch in guarded(raw.name, raw.iter_batches(subset)):
        if not len(batch):
            continue
        if total + len(batch) > max_rows:  # before the batch is handed on: the caller stores none of it
            raise too_many_rows(raw.name, batch.rows[max_rows - total], max_rows)
        total += len(batch)
        yield normalize(batch)
    if total == 0:
        raise no_rows_error(raw.name, raw.columns)


def preview(source: str | Path, n: int = 5, encoding: str | None = None, *,
            split: str | None = None) -> tuple[list[str], pd.DataFrame]:
    """The source's columns and its first ``n`` rows as they are in the file (unvalidated), for
    the set-up page. Missing cells are None (CSV: empty cells too).

    Raises:
        InputFileError: as ``read_chunks`` for a missing, empty, malformed or badly encoded source.
    """
    with reading(Path(str(source)).name):
        fmt = detect_format(source)
        raw = open_source(source, fmt, encoding=encoding, chunk_rows=max(n, 1), split=split)
        batches = raw.iter_batches(None)
        try:
            batch = next((b for b in batches if len(b)), None)
        finally:
            batches.close()  # releases the file handle without reading further
    if batch is None:
        raise no_rows_error(raw.name, raw.columns)
    frame = pd.DataFrame(
        {c: pd.Series([None if v is MISSING else v for v in batch.columns.get(c, [MISSING] * len(batch))][:n],
                      dtype=object) for c in raw.columns},
        columns=raw.columns,
    )
    return list(raw.columns), frame
