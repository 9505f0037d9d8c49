"""JSON nesting depth and oversized integers: the limit, how deep a value is, and where in a
JSON text a too-deep value starts, so the error names the record instead of Python's
``RecursionError`` (or the bare ``ValueError`` of an integer of thousands of digits).

Depth counts containers: a scalar is 0 levels, ``[]`` and ``{}`` are 1, a record
``{"text": "x", "m": [1]}`` is 2.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from annotator.core.errors import InputFileError

#: Characters of JSON text scanned per step of ``deep_point`` (its memory is ~40 bytes a character).
SCAN_CHARS = 1 << 20
#: Python refuses to convert integers longer than this many digits (``sys.get_int_max_str_digits``).
INT_DIGITS = 4_300

_ESCAPE = re.compile(r"\\.", re.DOTALL)
_LONG_INT = re.compile(r"\d{%d,}" % (INT_DIGITS + 1))
_OPEN, _CLOSE = (ord("["), ord("{")), (ord("]"), ord("}"))


def depth_of(value: Any) -> int:
    """Nesting levels of a parsed JSON value (dicts and lists count; scalars are 0).

    Iterative, so any depth Python could build is measured without recursion.
    """
    if not isinstance(value, (dict, list)):
        return 0
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def may_be_deeper(text: str, max_depth: int) -> bool:
    """False when ``text`` holds too few brackets to nest deeper than ``max_depth`` (a C-speed pre-check)."""
    return text.count("[") + text.count("{") > max_depth


def deep_point(text: str, max_depth: int, *, scan_chars: int = SCAN_CHARS) -> tuple[int, int | None] | None:
    """Where ``text`` (JSON, possibly invalid) first nests deeper than ``max_depth`` levels.

    Brackets inside strings do not count (escapes are honoured). The scan is vectorised and goes
    ``scan_chars`` characters at a time, so a file of gigabytes needs only that window in memory.

    Returns:
        (1-based line, 1-based record) of the first bracket past ``max_depth``, where the record
        is the element of a top-level array holding it (None when the text is not an array, or
        the array itself is too deep); None when nothing is that deep.
    """
    depth = 0  # nesting before the current window
    in_string = False
    lines = 0  # line breaks before the current window
    commas = 0  # top-level commas before the current window (records before the current one)
    is_array = text.lstrip()[:1] == "["
    start = 0
    while start < len(text):
        end = min(start + scan_chars, len(text))
        while end < len(text) and text[end - 1] == "\\":  # keep an escape and what it escapes together
            end += 1
        window = _ESCAPE.sub("__", text[start:end]).encode("utf-32-le")
        codes = np.frombuffer(window, dtype=np.uint32)
        quotes = np.cumsum(codes == ord('"'), dtype=np.int64)
        inside = ((quotes + in_string) % 2).astype(bool)
        steps = np.isin(codes, _OPEN).astype(np.int64) - np.isin(codes, _CLOSE).astype(np.int64)
        steps[inside] = 0
        levels = depth + np.cumsum(steps)
        over = np.flatnonzero(levels > max_depth)
        top_commas = (codes == ord(",")) & ~inside & (levels == 1)
        if len(over):
            at = int(over[0])
            line = lines + int(np.count_nonzero(codes[:at] == ord("\n"))) + 1
            record = commas + int(np.count_nonzero(top_commas[:at])) + 1 if is_array and max_depth >= 1 else None
            return line, record
        depth = int(levels[-1]) if len(levels) else depth
        in_string = bool(inside[-1]) if len(inside) else in_string
        lines += int(np.count_nonzero(codes == ord("\n")))
        commas += int(np.count_nonzero(top_commas))
        start = end
    return None


def long_integer_line(text: str) -> int | None:
    """The 1-based line of the first run of more than ``INT_DIGITS`` digits in ``text``, or None."""
    found = _LONG_INT.search(text)
    return None if found is None else text.count("\n", 0, found.start()) + 1


def too_deep(name: str, where: str, max_depth: int) -> InputFileError:
    """The error for a JSON record of ``name`` nested deeper than ``max_depth``; ``where`` says
    where (e.g. "Line 3", "Record 12 (line 40)")."""
    return InputFileError(
        f"{where} of {name} nests JSON more than {max_depth} levels deep.",
        expected=f"records nested at most {max_depth} levels deep (import_max_depth; "
                 '{"text": "…", "meta": {"a": [1]}} is 3)',
        got=f"{where.lower()}: a value more than {max_depth} levels deep",
        fix="flatten the nested values or store them as strings, or raise ANNOTATOR_IMPORT_MAX_DEPTH "
            "(at most 500)")


def too_many_digits(name: str, where: str | None) -> InputFileError:
    """The error for an integer of more than ``INT_DIGITS`` digits in ``name``, at ``where`` when known."""
    place = f"{where} of {name}" if where else name
    return InputFileError(
        f"{place} holds an integer with more than {INT_DIGITS:,} digits.",
        expected=f"numbers of at most {INT_DIGITS:,} digits", got=f"{where.lower() if where else 'the file'}: "
        f"an integer of more than {INT_DIGITS:,} digits, which Python refuses to read",
        fix="quote such values so they are read as text, or drop them")


def is_digits_error(error: BaseException) -> bool:
    """Whether ``error`` is Python's refusal to read an integer of too many digits."""
    text = str(error)
    return isinstance(error, ValueError) and "digits" in text and "integer" in text
