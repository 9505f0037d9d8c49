"""Properties of the two new scanners behind the import limits, over generated inputs: the
vectorised JSON depth scan agrees with the parsed value's depth (whatever the strings hold and
wherever its windows cut the text), and the line counter finds exactly the lines over the limit
(and the right line number) however a stream is cut into blocks."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotator.core.errors import InputFileError
from annotator.importers.bounds import ReadLimits, _Counter
from annotator.importers.nesting import deep_point, depth_of

# Strings full of what could fool a bracket count: quotes, backslashes, brackets, braces, commas, newlines.
_tricky_text = st.text(alphabet=st.sampled_from('ab"\\[]{},\n :é'), max_size=12)
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | _tricky_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_tricky_text, inner, max_size=4),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(value=_json_values, limit=st.integers(0, 8), window=st.integers(1, 64), indent=st.sampled_from([None, 1]))
def test_the_depth_scan_agrees_with_the_parsed_depth(value, limit, window, indent):
    text = json.dumps(value, indent=indent, ensure_ascii=bool(indent))
    found = deep_point(text, limit, scan_chars=window)
    assert (found is not None) == (depth_of(value) > limit)


@settings(max_examples=200, deadline=None)
@given(records=st.lists(_json_values, min_size=1, max_size=6), window=st.integers(1, 64))
def test_the_depth_scan_names_the_record_and_line(records, window):
    """In a top-level array written one record per line, the first too-deep record and its line."""
    limit = 2  # the array is level 1, so a record deeper than 1 level passes it
    text = "[" + ",\n".join(json.dumps(r) for r in records) + "]"
    deep = [k for k, r in enumerate(records) if depth_of(r) > limit - 1]
    found = deep_point(text, limit, scan_chars=window)
    if not deep:
        assert found is None
    else:
        first = deep[0]
        assert found == (first + 1, first + 1)


_lines = st.lists(st.integers(0, 90), min_size=1, max_size=8).map(lambda ns: b"\n".join(b"a" * n for n in ns))
_bytes = st.binary(max_size=400).map(lambda b: b.replace(b"\r", b"x").replace(b"\x00", b"\n"))


@settings(max_examples=400, deadline=None)
@given(data=_lines | _bytes, cuts=st.lists(st.integers(0, 400), max_size=8), cap=st.integers(1, 60))
def test_the_line_counter_refuses_exactly_the_lines_over_the_cap(data, cuts, cap):
    bounds = sorted({0, len(data), *(c for c in cuts if c <= len(data))})
    blocks = [data[a:b] for a, b in zip(bounds, bounds[1:])]
    counter = _Counter("f.csv", ReadLimits(max_bytes=10**9, max_line_bytes=cap), None)
    longest = max(len(line) for line in data.split(b"\n"))
    if longest <= cap:
        for block in blocks:
            counter.add(block)
        return
    with pytest.raises(InputFileError) as caught:
        for block in blocks:
            counter.add(block)
    first_over = next(k for k, line in enumerate(data.split(b"\n"), start=1) if len(line) > cap)
    assert str(caught.value).startswith(f"Line {first_over:,} of f.csv is longer than")
