"""The shape every format reader produces: raw column batches with their row numbers.

A reader opens its source eagerly (so a missing file, bad header or unknown split fails before
anything is yielded) and streams ``RawBatch``es lazily when ``iter_batches`` is called.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RawBatch:
    """One batch of raw cells.

    Attributes:
        rows: (n,) row numbers as the user finds them: CSV/TSV the spreadsheet row (header = 1,
            first data row = 2), JSONL the line number, JSON/Parquet/datasets the 1-based record.
        columns: {column: (n,) raw cell values}. ``values.MISSING`` marks a JSON record without
            that key; CSV empty cells arrive as None.
    """

    rows: list[int]
    columns: dict[str, list[Any]]

    def __len__(self) -> int:
        return len(self.rows)


@dataclass
class RawSource:
    """An opened source: its columns are known, its rows are not read yet.

    Attributes:
        name: how messages name the source (file name or hub id).
        fmt: the format, one of ``FORMATS``.
        columns: the columns, in file order (JSON/JSONL: the keys of the first batch of records).
        iter_batches: ``iter_batches(columns)`` streams batches holding only ``columns`` (None = all).
        class_names: {column: label names} for datasets ``ClassLabel`` columns (cells are indices).
        split_name: the split of a ``DatasetDict`` / hub dataset that is read, else None.
    """

    name: str
    fmt: str
    columns: list[str]
    iter_batches: Callable[[list[str] | None], Iterator[RawBatch]]
    class_names: dict[str, list[str]] = field(default_factory=dict)
    split_name: str | None = None


def rebatch(batches: Iterable[RawBatch], size: int) -> Iterator[RawBatch]:
    """Re-cut batches to exactly ``size`` rows (the last may be shorter). Parquet row groups and
    datasets shards end where they like; callers see chunks of ``chunk_rows`` whatever the source."""
    rows: list[int] = []
    cols: dict[str, list[Any]] = {}
    for batch in batches:
        if not cols:
            cols = {c: [] for c in batch.columns}
        start = 0
        while start < len(batch):
            take = min(size - len(rows), len(batch) - start)
            rows.extend(batch.rows[start : start + take])
            for c, values in batch.columns.items():
                cols[c].extend(values[start : start + take])
            start += take
            if len(rows) == size:
                yield RawBatch(rows, cols)
                rows, cols = [], {c: [] for c in batch.columns}
    if rows:
        yield RawBatch(rows, cols)
