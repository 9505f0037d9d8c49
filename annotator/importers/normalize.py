"""Turn raw chunks into the importer's one shape and validate them.

Output columns: ``row`` (int), ``external_id`` (str | None), ``text`` (str), ``labels``
(list[str] | None), ``metadata`` (dict of JSON-safe values), ``split`` (str | None).
"""

from __future__ import annotations

import difflib
import json
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from annotator.errors import InputFileError, UnknownLabelError, ValidationError
from annotator.importers.formats import ROW


@dataclass(frozen=True)
class ImportSpec:
    """Which columns mean what, and the limits of one import."""

    text_column: str
    id_column: str | None = None
    label_column: str | None = None
    metadata_columns: list[str] | None = None  # None: every other column
    label_separator: str = ","  # multi-label cells "a,b" or a JSON list '["a","b"]'
    encoding: str | None = None  # None: UTF-8, with a clear error naming the detected encoding
    chunk_rows: int = 20_000
    max_text_chars: int = 1_000_000
    split_column: str | None = None


def _missing_column(kind: str, name: str, columns: Sequence[str], source: str) -> InputFileError:
    close = difflib.get_close_matches(name, columns, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return InputFileError(
        f"The {kind} column {name!r} is not in {source}.", expected=f"one of: {', '.join(map(str, columns))}",
        got=repr(name), fix=f"{hint}pass the right name with --{kind.replace(' ', '-')}-column",
    )


def json_safe(value: Any) -> Any:
    """NaN → None, numpy scalars → python, arrays → lists; everything else unchanged."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return json_safe(value.item())
    if isinstance(value, np.ndarray):
        return [json_safe(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def parse_labels(cell: Any, separator: str) -> list[str] | None:
    """A label cell → list of names; empty / NaN → None. Accepts "a", "a,b", '["a","b"]', lists, numbers."""
    cell = json_safe(cell)
    if cell is None:
        return None
    if isinstance(cell, list):
        values = [str(v).strip() for v in cell if v is not None and str(v).strip()]
        return values or None
    if isinstance(cell, bool):
        return [str(cell).lower()]
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    text = str(cell).strip()
    if not text:
        return None
    if text.startswith("[") and text.endswith("]"):
        try:
            parsed = json.loads(text)
            if isinstance(parsed, list):
                return parse_labels(parsed, separator)
        except json.JSONDecodeError:
            pass
    values = [v.strip() for v in text.split(separator)] if separator else [text]
    values = list(dict.fromkeys(v for v in values if v))
    return values or None


class Normalizer:
    """Stateful across chunks: remembers the ids seen, to catch duplicates anywhere in the file."""

    def __init__(self, spec: ImportSpec, source: str):
        self.spec = spec
        self.source = source
        self.seen_ids: set[str] = set()
        self.rows = 0

    def __call__(self, raw: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for frame in raw:
            if ROW not in frame.columns:
                frame[ROW] = range(self.rows + 1, self.rows + 1 + len(frame))
            self.rows += len(frame)
            yield self._normalize(frame)
        if self.rows == 0:
            raise InputFileError(f"{self.source} has no rows.", expected="at least one row under the header",
                                 fix="check that you exported the data, not just the header")

    def _normalize(self, frame: pd.DataFrame) -> pd.DataFrame:
        spec = self.spec
        columns = [c for c in frame.columns if c != ROW]
        for kind, name in (("text", spec.text_column), ("id", spec.id_column), ("label", spec.label_column),
                           ("split", spec.split_column)):
            if name is not None and name not in columns:
                raise _missing_column(kind, name, columns, self.source)
        special = {spec.text_column, spec.id_column, spec.label_column, spec.split_column, ROW}
        meta_columns = spec.metadata_columns if spec.metadata_columns is not None else [
            c for c in columns if c not in special]
        for name in meta_columns:
            if name not in columns:
                raise _missing_column("metadata", name, columns, self.source)
        rows = frame[ROW].astype(int).tolist()
        texts = self._texts(frame[spec.text_column].tolist(), rows)
        ids = self._ids(frame[spec.id_column].tolist(), rows) if spec.id_column else [None] * len(frame)
        labels = [parse_labels(v, spec.label_separator) for v in frame[spec.label_column]] \
            if spec.label_column else [None] * len(frame)
        splits = [None if (v := json_safe(x)) in (None, "") else str(v) for x in frame[spec.split_column]] \
            if spec.split_column else [None] * len(frame)
        meta_records = frame[meta_columns].to_dict(orient="records") if meta_columns else [{}] * len(frame)
        metadata = [{str(k): json_safe(v) for k, v in record.items()} for record in meta_records]
        return pd.DataFrame({"row": rows, "external_id": ids, "text": texts, "labels": labels, "metadata": metadata,
                             "split": splits})

    def _texts(self, values: list[Any], rows: list[int]) -> list[str]:
        texts, empty = [], []
        limit = self.spec.max_text_chars
        for value, row in zip(values, rows, strict=True):
            value = json_safe(value)
            text = "" if value is None else str(value).strip()
            if not text:
                empty.append(row)
            elif len(text) > limit:
                raise ValidationError(
                    f"Row {row}: the text is {len(text):,} characters long.",
                    expected=f"at most {limit:,} characters (setting max_text_chars)",
                    fix="split long documents into passages, or raise ANNOTATOR_MAX_TEXT_CHARS",
                )
            texts.append(text)
        if empty:
            raise ValidationError(
                f"{len(empty)} rows have an empty text in column {self.spec.text_column!r}.",
                got="rows " + ", ".join(map(str, empty[:5])) + (" …" if len(empty) > 5 else ""),
                fix="drop those rows or fill them in; nothing was imported",
            )
        return texts

    def _ids(self, values: list[Any], rows: list[int]) -> list[str | None]:
        out, duplicates = [], []
        for value, row in zip(values, rows, strict=True):
            value = json_safe(value)
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            ident = None if value in (None, "") else str(value)
            if ident is not None:
                if ident in self.seen_ids:
                    duplicates.append((row, ident))
                self.seen_ids.add(ident)
            out.append(ident)
        if duplicates:
            raise ValidationError(
                f"{len(duplicates)} duplicate ids in column {self.spec.id_column!r}.",
                got="; ".join(f"row {row}: {ident!r}" for row, ident in duplicates[:5]),
                fix="make the ids unique, or import without --id-column",
            )
        return out


def check_labels(values: Iterable[list[str] | None], allowed: Sequence[str]) -> None:
    """Raise UnknownLabelError listing label values outside ``allowed`` (with counts)."""
    allowed_set = set(allowed)
    unknown: Counter[str] = Counter()
    for value in values:
        for name in value or ():
            if name not in allowed_set:
                unknown[name] += 1
    if unknown:
        listed = ", ".join(f"{name!r} ×{n}" for name, n in unknown.most_common(10))
        raise UnknownLabelError(
            f"{sum(unknown.values())} label values are not labels of this project.",
            expected="one of: " + ", ".join(allowed), got=listed,
            fix="add them with --add-labels, or map/remove them in the file",
        )
