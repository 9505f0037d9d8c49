"""Records as programs pass them (the Python client, the HTTP endpoints) → the import's records.

A program's record is a plain dict: ``text``, ``id`` (its identifier; it matches suggestions to
items), ``label`` (a name, or a list for multi-label), ``score`` (a suggestion's confidence in
[0, 1]), ``metadata`` (a dict) and ``split``. The import (``svc.imports.import_records``) names
them ``external_id``, ``labels`` …; this module is the one place that maps one onto the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from annotator.core.errors import ValidationError

#: A program record's keys, and the import field each one fills.
RECORD_KEYS: dict[str, str] = {"text": "text", "id": "external_id", "label": "labels", "labels": "labels",
                               "score": "score", "metadata": "metadata", "split": "split"}
#: The keys of a suggestion record.
SUGGESTION_KEYS: tuple[str, ...] = ("id", "text", "label", "score")


def import_records(records: Iterable[Mapping[str, Any] | str], *,
                   keys: Iterable[str] = RECORD_KEYS) -> list[dict[str, Any]]:
    """Program records (a bare string is a text) → records for ``import_records``.

    Raises:
        ValidationError: a record that is not a dict, or has a key outside ``keys``.
    """
    allowed = list(keys)
    out = []
    for n, record in enumerate(records, start=1):
        record = {"text": record} if isinstance(record, str) else record
        if not isinstance(record, Mapping):
            raise ValidationError(f"Record {n} is not a dict.", expected="keys among " + ", ".join(allowed),
                                  got=repr(record)[:120], fix='pass e.g. {"id": "t1", "text": "…", "label": "billing"}')
        unknown = sorted(set(record) - set(allowed))
        if unknown:
            raise ValidationError(f"Record {n} has unknown keys: {', '.join(unknown)}.",
                                  expected="keys among " + ", ".join(allowed), got=repr(dict(record))[:200],
                                  fix="rename the keys, or put extra fields under 'metadata'")
        row = {RECORD_KEYS[k]: v for k, v in record.items()}
        if row.get("external_id") is not None:
            row["external_id"] = str(row["external_id"])
        if isinstance(row.get("labels"), str):
            row["labels"] = [row["labels"]]
        out.append(row)
    return out
