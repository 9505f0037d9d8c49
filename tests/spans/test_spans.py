"""Spans: validation against the text and labels, token snapping, IOB round trips, and span F1
against a hand-computed example."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from annotator.core.errors import ValidationError
from annotator.spans import (
    Span,
    check_spans,
    from_iob,
    pairwise_span_agreement,
    parse_spans,
    snap_to_tokens,
    span_f1,
    to_iob,
    tokenize,
    validate_spans,
)

TEXT = "Ada Lovelace met Charles Babbage in London."
LABELS = ["PER", "ORG", "LOC"]


def test_parse_accepts_objects_and_triples():
    assert parse_spans([{"start": 0, "end": 3, "label": "PER"}, [35, 41, "LOC"]]) == [Span(0, 3, "PER"),
                                                                                      Span(35, 41, "LOC")]
    assert parse_spans(None) == []


@pytest.mark.parametrize("value", ["0-3 PER", [{"start": "a", "end": 3, "label": "PER"}], [[0, 3]],
                                   [{"start": 0, "end": 3, "label": ""}], [{"start": True, "end": 3, "label": "X"}]])
def test_parse_refuses_other_shapes_with_the_row(value):
    with pytest.raises(ValidationError) as err:
        parse_spans(value, row=7)
    assert "row 7" in err.value.message and "start" in err.value.message


@pytest.mark.parametrize(("span", "words"), [
    (Span(0, 99, "PER"), "outside the text"), (Span(5, 5, "PER"), "outside the text"),
    (Span(-1, 3, "PER"), "outside the text"), (Span(0, 3, "DATE"), "unknown label 'DATE'"),
])
def test_each_bad_span_is_named(span, words):
    problems = check_spans(TEXT, [span], LABELS)
    assert len(problems) == 1 and words in problems[0].what


def test_overlaps_are_refused_unless_allowed():
    spans = [Span(0, 12, "PER"), Span(4, 12, "PER")]
    assert "overlaps" in check_spans(TEXT, spans, LABELS)[0].what
    assert check_spans(TEXT, spans, LABELS, allow_overlap=True) == []


def test_offsets_that_cut_a_character():
    text = "Cafe\u0301 \U0001F600 ok"  # a combining accent; an emoji is one code point in Python
    assert "cuts a character" in check_spans(text, [Span(0, 4, "LOC")], LABELS)[0].what
    assert check_spans(text, [Span(0, 5, "LOC")], LABELS) == []
    paired = "a\ud83d\ude00b"  # a surrogate pair as a UTF-16 reader would leave it
    assert "cuts a character" in check_spans(paired, [Span(0, 2, "LOC")], LABELS)[0].what


def test_validate_lists_every_problem_with_the_row():
    with pytest.raises(ValidationError) as err:
        validate_spans(TEXT, [Span(0, 99, "PER"), Span(0, 3, "DATE")], LABELS, row=12)
    assert err.value.message.startswith("Row 12: 2 span(s)") and "span 1" in err.value.message
    assert validate_spans(TEXT, [Span(35, 41, "LOC"), Span(0, 12, "PER")], LABELS) == [Span(0, 12, "PER"),
                                                                                       Span(35, 41, "LOC")]


def test_snapping_grows_to_whole_tokens():
    tokens = tokenize(TEXT)
    assert snap_to_tokens(Span(1, 6, "PER"), tokens) == Span(0, 12, "PER")
    assert snap_to_tokens(Span(3, 4, "PER"), tokens) is None  # only the space


def test_iob_of_the_example():
    tokens, tags = to_iob(TEXT, [Span(0, 12, "PER"), Span(17, 32, "PER"), Span(36, 42, "LOC")])
    assert tokens == ["Ada", "Lovelace", "met", "Charles", "Babbage", "in", "London", "."]
    assert tags == ["B-PER", "I-PER", "O", "B-PER", "I-PER", "O", "B-LOC", "O"]
    assert from_iob(TEXT, tags) == [Span(0, 12, "PER"), Span(17, 32, "PER"), Span(36, 42, "LOC")]


def test_iob_cannot_hold_spans_that_share_a_token():
    with pytest.raises(ValueError, match="shares a token"):
        to_iob(TEXT, [Span(0, 3, "PER"), Span(1, 12, "ORG")])


words = st.lists(st.from_regex(r"[A-Za-z0-9]{1,6}|[.,!?]", fullmatch=True), min_size=1, max_size=12)


@given(words, st.data())
def test_token_aligned_spans_round_trip_through_iob(ws, data):
    text = " ".join(ws)
    tokens = tokenize(text)
    spans, k = [], 0
    while k < len(tokens):
        n = data.draw(st.integers(0, 3))
        if n and k + n <= len(tokens):
            spans.append(Span(tokens[k].start, tokens[k + n - 1].end, data.draw(st.sampled_from(LABELS))))
            k += n + data.draw(st.integers(0, 1))  # adjacent spans must keep their boundary (B- tag)
        else:
            k += 1
    _, tags = to_iob(text, spans)
    assert from_iob(text, tags) == sorted(spans)


def test_span_f1_against_a_hand_computed_example():
    # Item 1: ana has PER[0,12) LOC[36,42); bo has PER[0,3) LOC[36,42) ORG[17,32).
    # Item 2: both PER[17,32). Item 3: only ana answered (left out).
    ana = {1: [Span(0, 12, "PER"), Span(36, 42, "LOC")], 2: [Span(17, 32, "PER")], 3: [Span(0, 3, "PER")]}
    bo = {1: [Span(0, 3, "PER"), Span(36, 42, "LOC"), Span(17, 32, "ORG")], 2: [Span(17, 32, "PER")]}
    exact = span_f1(ana, bo, match="exact")
    # Exact: matches LOC (item 1) and PER (item 2) = 2; ana has 3 spans, bo 4 → F1 = 4 / 7.
    assert (exact["*"].matched, exact["*"].n_a, exact["*"].n_b) == (2, 3, 4)
    assert exact["*"].f1 == pytest.approx(4 / 7)
    assert exact["PER"].f1 == pytest.approx(2 * 1 / (2 + 2)) and exact["ORG"].f1 == 0.0
    overlap = span_f1(ana, bo, match="overlap")
    # Overlap: PER[0,12) now meets PER[0,3) → 3 matches → F1 = 6 / 7.
    assert overlap["*"].f1 == pytest.approx(6 / 7) and overlap["PER"].f1 == 1.0
    pair, = pairwise_span_agreement({"ana": ana, "bo": bo, "cy": {9: []}})
    assert (pair.a, pair.b, pair.items) == ("ana", "bo", 2) and pair.exact["*"].f1 == pytest.approx(4 / 7)


def test_one_long_span_against_two_short_ones_is_one_overlap_match():
    a = {1: [Span(0, 32, "PER")]}
    b = {1: [Span(0, 12, "PER"), Span(17, 32, "PER")]}
    counts = span_f1(a, b, match="overlap")["*"]
    assert (counts.matched, counts.n_a, counts.n_b) == (1, 1, 2)
