"""Cell values → the chunk's types: text, external id, labels, split and JSON-safe metadata.

Raw cells come from many readers: strings (CSV), JSON values, Python values from Arrow
(ints, floats, datetimes, Decimals, bytes, lists, dicts) and numpy scalars. Missing is ``None``,
``MISSING`` (a JSON record without the key) or a float NaN.
"""

from __future__ import annotations

import base64
import json
import math
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd


class _Missing:
    """A JSON record that has no such key (unlike ``null``, it is left out of default metadata)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:  # a singleton, so ``is MISSING`` works everywhere
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


def is_missing(value: Any) -> bool:
    """None, MISSING, NaN/NaT (any float or numpy flavour), or an empty/blank string."""
    if value is None or value is MISSING:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (float, np.floating)):
        return math.isnan(value)
    return value is pd.NaT or (isinstance(value, np.datetime64) and np.isnat(value))


def _scalar_str(value: Any) -> str | None:
    """A scalar cell as a string: 3 → "3", 3.0 → "3" (an int column with gaps read as floats),
    True → "True"; None for containers, which no text, id, label or split should be."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, (dict, list, tuple, np.ndarray, bytes)):
        return None
    return str(value).strip()


def to_text(value: Any) -> str | None:
    """The text of a cell, stripped; "" when missing; None when the cell is a container (an error)."""
    if type(value) is str:  # the hot path: every CSV cell
        return value.strip()
    if is_missing(value):
        return ""
    return _scalar_str(value)


def to_optional_str(value: Any) -> str | None:
    """An id or split cell: a stripped string, or None when missing. Containers raise TypeError."""
    if type(value) is str:
        return value.strip() or None
    if is_missing(value):
        return None
    out = _scalar_str(value)
    if out is None:
        raise TypeError(type(value).__name__)
    return out or None


def parse_labels(value: Any, separator: str = ",", class_names: list[str] | None = None) -> list[str] | None:
    """A label cell → a list of distinct label names in file order, or None when there are none.

    Accepted forms: ``"a"``; ``"a,b"`` (split on ``separator``; ``""`` = never split); a JSON list
    ``'["a", "b"]'``; a real list (JSON, Parquet, datasets); an int index into ``class_names``
    (a datasets ``ClassLabel``). An empty cell, NaN or an empty list gives None (unlabelled).
    """
    if is_missing(value):
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("[") and text.endswith("]"):
            try:
                parsed = json.loads(text)
            except (ValueError, RecursionError):  # also nesting or an integer too large for the reader
                parsed = None  # not JSON, e.g. a label literally named "[draft]": split it as text
            if isinstance(parsed, list):
                return parse_labels(parsed, separator, class_names)
        parts = text.split(separator) if separator else [text]
    elif isinstance(value, (list, tuple, np.ndarray)):
        parts = list(value)
    else:
        parts = [value]
    names: dict[str, None] = {}  # an ordered set: "a,a" is one label
    for part in parts:
        if is_missing(part):
            continue
        if class_names is not None and isinstance(part, (int, np.integer)) and not isinstance(part, bool):
            index = int(part)
            name = class_names[index] if 0 <= index < len(class_names) else str(index)
        else:
            name = _scalar_str(part)
            if name is None:  # a nested list or dict inside a label cell: keep it visible, not lost
                name = json.dumps(json_safe(part), ensure_ascii=False)
        if name:
            names[name] = None
    return list(names) or None


def json_safe(value: Any) -> Any:
    """``value`` as plain JSON types: NaN/NaT/inf → None, numpy scalars → Python, datetimes →
    ISO strings, Decimal → float, bytes → UTF-8 text (base64 when not text), containers recursively.

    Strict JSON (PostgreSQL's jsonb, most parsers) has no NaN or Infinity, hence None.
    """
    kind = type(value)
    if value is None or kind is str or kind is int or kind is bool:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if value is MISSING or value is pd.NaT:
        return None
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value).isoformat()
    if isinstance(value, np.timedelta64):
        return None if np.isnat(value) else str(pd.Timedelta(value))
    if isinstance(value, np.generic):
        return json_safe(value.item())
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, np.ndarray)):
        return [json_safe(v) for v in value]
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, Decimal):
        return json_safe(float(value))
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(raw).decode("ascii")
    if isinstance(value, (int, float)):  # int/float subclasses (IntEnum, numpy-like)
        return json_safe(float(value)) if isinstance(value, float) else int(value)
    return str(value)
