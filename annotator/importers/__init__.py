"""Read the user's files into a stream of validated, normalised chunks.

No database here: the service stores the chunks inside one transaction, so a bad row anywhere
in the file changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from annotator.importers import formats
from annotator.importers.formats import ROW, detect_format
from annotator.importers.normalize import ImportSpec, Normalizer, check_labels, json_safe, parse_labels

__all__ = ["ImportSpec", "check_labels", "detect_format", "json_safe", "parse_labels", "preview", "read_chunks"]


def _raw_chunks(source: str | Path, chunk_rows: int, encoding: str | None, split: str | None = None
                ) -> Iterator[pd.DataFrame]:
    fmt = detect_format(source)
    path = Path(source)
    if fmt == "csv":
        return formats.read_delimited(path, ",", chunk_rows, encoding)
    if fmt == "tsv":
        return formats.read_delimited(path, "\t", chunk_rows, encoding)
    if fmt == "jsonl":
        return formats.read_jsonl(path, chunk_rows, encoding)
    if fmt == "json":
        return formats.read_json(path, chunk_rows, encoding)
    if fmt == "parquet":
        return formats.read_parquet(path, chunk_rows)
    if fmt == "hf-disk":
        return formats.read_hf_disk(path, chunk_rows, split)
    return formats.read_hf_hub(str(source), chunk_rows, split)


def read_chunks(source: str | Path, spec: ImportSpec) -> Iterator[pd.DataFrame]:
    """Validated chunks of at most ``spec.chunk_rows`` rows (columns: row, external_id, text,
    labels, metadata, split). Errors name the row or line and say how to fix it."""
    name = Path(str(source)).name
    return Normalizer(spec, name)(_raw_chunks(source, spec.chunk_rows, spec.encoding))


def preview(source: str | Path, n: int = 5, encoding: str | None = None) -> tuple[list[str], pd.DataFrame]:
    """The file's columns and its first ``n`` rows, unvalidated (for the set-up page)."""
    for chunk in _raw_chunks(source, max(n, 1), encoding):
        frame = chunk.drop(columns=[ROW], errors="ignore").head(n)
        return [str(c) for c in frame.columns], frame
    raise formats.InputFileError(f"{Path(str(source)).name} has no rows.", expected="at least one row")
