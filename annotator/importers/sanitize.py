"""Characters no store or export can hold, taken out at the import boundary, saying what was done.

Two kinds reach us from real files: **unpaired surrogates** (``"\\udfff"`` in JSON, or a broken
UTF-16 conversion upstream) cannot be encoded as UTF-8, so one such value would make every later
export of the project fail; they become U+FFFD (the replacement character), and a surrogate pair
left split in two code points is joined into the character it encodes. **NUL and other C0 control
characters** (all but tab, newline and carriage return) are refused by PostgreSQL (NUL) or
invisible in the UI; they are removed. Everything else, including every printable character of any
script, passes unchanged.

``clean_row`` works on the importer's row dicts (text, id, labels, split, metadata with nested
lists and dicts, keys included) and returns what it changed in words, for the import report.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_SURROGATE = re.compile(r"[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ANY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
#: Row fields that are cleaned, and how the report names them.
ROW_FIELDS = ("text", "external_id", "labels", "split", "metadata")


@dataclass
class Cleaning:
    """What cleaning one value did: characters replaced (surrogates) and removed (controls)."""

    replaced: int = 0
    removed: int = 0
    where: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.replaced or self.removed)

    def describe(self) -> str:
        parts = []
        if self.replaced:
            parts.append(f"{self.replaced} unpaired surrogate(s) replaced by U+FFFD")
        if self.removed:
            parts.append(f"{self.removed} NUL/control character(s) removed")
        return " and ".join(parts) + " in " + ", ".join(dict.fromkeys(self.where))


def clean_str(value: str) -> tuple[str, int, int]:
    """``(cleaned, surrogates replaced, control characters removed)``; fast when nothing is wrong."""
    if _ANY.search(value) is None:
        return value, 0, 0
    removed = len(_CONTROL.findall(value))
    value = _CONTROL.sub("", value)
    replaced = 0
    if _SURROGATE.search(value):
        # Join surrogate pairs split into two code points, and replace the lone ones.
        marks = value.count("\ufffd")
        value = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
        replaced = value.count("\ufffd") - marks
    return value, replaced, removed


def clean_value(value: Any, where: str, report: Cleaning) -> Any:
    """``value`` with every string in it cleaned (lists, tuples and dict keys and values, nested)."""
    if isinstance(value, str):
        cleaned, replaced, removed = clean_str(value)
        if replaced or removed:
            report.replaced += replaced
            report.removed += removed
            report.where.append(where)
        return cleaned
    if isinstance(value, Mapping):
        return {clean_value(k, where, report): clean_value(v, where, report) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(clean_value(v, where, report) for v in value)
    return value


def clean_row(row: dict[str, Any]) -> Cleaning:
    """Clean the ``ROW_FIELDS`` of one importer row in place; returns what was done."""
    report = Cleaning()
    for name in ROW_FIELDS:
        if row.get(name) is not None:
            row[name] = clean_value(row[name], name, report)
    return report
