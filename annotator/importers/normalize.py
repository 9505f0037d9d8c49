"""One raw batch → one chunk in the importer's shape, validated.

Chunk columns (``CHUNK_COLUMNS``), one row per input row:
    row          int        where the user finds the row: CSV/TSV the spreadsheet row (header = 1,
                            first data row = 2), JSONL the line number, JSON/Parquet/datasets the
                            1-based record number
    external_id  str|None   the id column, stripped; None when there is no id column or the cell is empty
    text         str        stripped, non-empty, at most ``max_text_chars`` characters
    labels       list[str]|None   distinct labels in cell order; None when unlabelled
    metadata     dict       {column: JSON-safe value}
    split        str|None   the split column, or the DatasetDict split read
    score        float|None the score column (a confidence in [0, 1]); None when absent or empty
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from annotator.core.errors import ValidationError
from annotator.importers.raw import RawBatch, RawSource
from annotator.importers.spec import CHUNK_COLUMNS, ImportSpec
from annotator.importers.validate import DuplicateIds, check_texts
from annotator.importers.values import MISSING, json_safe, parse_labels, to_optional_str, to_text


def _column(cols: dict[str, list], name: str, n: int) -> list:
    """A column of the batch; all MISSING when no JSON record of this batch has the key."""
    values = cols.get(name)
    return values if values is not None else [MISSING] * n


class Normalizer:
    """Turns a source's raw batches into chunks; holds the only cross-chunk state, the ids seen.

    Args:
        spec: the import spec (columns already checked against ``source.columns``).
        source: the opened source (its name, ClassLabel names and split name).
    """

    def __init__(self, spec: ImportSpec, source: RawSource) -> None:
        self.spec = spec
        self.source = source
        self.ids = DuplicateIds(source.name, spec.id_column) if spec.id_column else None
        self._roles = set(spec.role_columns.values())
        self._label_names = source.class_names.get(spec.label_column) if spec.label_column else None

    def __call__(self, batch: RawBatch) -> pd.DataFrame:
        """Validate and convert one batch.

        Raises:
            ValidationError: empty or non-string texts, texts over the limit, repeated ids, or an
                id/split cell that holds a list or object.
        """
        spec, rows, cols = self.spec, batch.rows, batch.columns
        n = len(rows)
        # The `type(v) is str` tests inline the common case: a CSV cell needs no conversion call.
        texts = [v.strip() if type(v) is str else to_text(v) for v in _column(cols, spec.text_column, n)]
        check_texts(rows, texts, spec.max_text_chars, self.source.name)

        ids: list[str | None] = [None] * n
        if spec.id_column:
            ids = self._optional_strs(rows, _column(cols, spec.id_column, n), "id")
            assert self.ids is not None
            self.ids.check(rows, ids)

        labels: list[list[str] | None] = [None] * n
        if spec.label_column:
            sep, names = spec.label_separator, self._label_names
            labels = [None if v is None else parse_labels(v, sep, names)
                      for v in _column(cols, spec.label_column, n)]

        if spec.split_column:
            splits = self._optional_strs(rows, _column(cols, spec.split_column, n), "split")
        else:
            splits = [self.source.split_name] * n

        scores: list[float | None] = [None] * n
        if spec.score_column:
            scores = self._scores(rows, _column(cols, spec.score_column, n))

        return pd.DataFrame({
            "row": pd.Series(rows, dtype="int64"),
            # object dtype on purpose: pandas 3 would store str columns as its string dtype and turn None into NaN.
            "external_id": pd.Series(ids, dtype=object),
            "text": pd.Series(texts, dtype=object),
            "labels": pd.Series(labels, dtype=object),
            "metadata": pd.Series(self._metadata(cols, n), dtype=object),
            "split": pd.Series(splits, dtype=object),
            "score": pd.Series(scores, dtype=object),
        }, columns=list(CHUNK_COLUMNS))

    def _metadata(self, cols: dict[str, list], n: int) -> list[dict]:
        """Per-row metadata dicts. Explicit ``metadata_columns``: every listed key, None when absent.
        Default: every non-role column; a key a JSON record lacks stays absent."""
        explicit = self.spec.metadata_columns
        names = explicit if explicit is not None else [c for c in cols if c not in self._roles]
        if not names:
            return [{} for _ in range(n)]
        raw = [_column(cols, c, n) for c in names]
        ragged = explicit is None and any(v is MISSING for column in raw for v in column)
        # Convert column by column (strings and None pass as they are), then zip rows into dicts.
        safe = [[v if type(v) is str or v is None else json_safe(v) for v in column] for column in raw]
        if not ragged:
            return [dict(zip(names, values)) for values in zip(*safe)]
        # A JSON record without a key: leave the key out rather than invent a null.
        return [{k: v for k, v, r in zip(names, values, raws) if r is not MISSING}
                for values, raws in zip(zip(*safe), zip(*raw))]

    def _scores(self, rows: Sequence[int], values: list) -> list[float | None]:
        """The score column as floats in [0, 1] (None for an empty cell).

        Raises:
            ValidationError: a cell that is not a number in [0, 1], with its row.
        """
        out: list[float | None] = []
        for row, value in zip(rows, values):
            if value is None or value is MISSING or (isinstance(value, str) and not value.strip()):
                out.append(None)
                continue
            try:
                score = float(value)
            except (TypeError, ValueError, OverflowError):
                score = float("nan")
            if not 0.0 <= score <= 1.0:  # also refuses NaN
                raise ValidationError(
                    f"Row {row:,} of {self.source.name} has the score {value!r} in {self.spec.score_column!r}.",
                    expected="a confidence between 0 and 1 (or an empty cell)", got=repr(value)[:120],
                    fix="rescale the scores to [0, 1], or leave --score-column out",
                )
            out.append(score)
        return out

    def _optional_strs(self, rows: Sequence[int], values: list, role: str) -> list[str | None]:
        if all(type(v) is str or v is None for v in values):  # CSV: no conversion can fail
            return [v.strip() or None if v is not None else None for v in values]
        out: list[str | None] = []
        for row, value in zip(rows, values):
            try:
                out.append(to_optional_str(value))
            except TypeError as e:
                column = self.spec.id_column if role == "id" else self.spec.split_column
                raise ValidationError(
                    f"Row {row:,} of {self.source.name} holds a {e} in the {role} column {column!r}.",
                    expected=f"a single value per {role} cell (text or a number)", got=repr(value)[:120],
                    fix=f"point the {role} column at a column of plain values",
                ) from e
        return out
