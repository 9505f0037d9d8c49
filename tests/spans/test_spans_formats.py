"""Span records of other tools read alike; the HF dataset (tokens + IOB ner_tags as a ClassLabel)
loads with ``datasets`` and round-trips to the same spans; the DocBin holds the same entities."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotator.core.errors import ValidationError
from annotator.spans import Span, tokenize
from annotator.spans.formats import from_hf_dataset, iob_tags, record_spans, to_hf_dataset, write_docbin

TEXT = "Ada Lovelace met Charles Babbage in London."
LABELS = ["PER", "ORG", "LOC"]
GOLD = [Span(0, 12, "PER"), Span(36, 42, "LOC")]


@pytest.mark.parametrize("record", [
    {"text": TEXT, "spans": [{"start": 0, "end": 12, "label": "PER"}, {"start": 36, "end": 42, "label": "LOC"}]},
    {"text": TEXT, "entities": [[0, 12, "PER"], [36, 42, "LOC"]]},
    {"text": TEXT, "label": [[0, 12, "PER"], [36, 42, "LOC"]]},
])
def test_the_span_records_of_other_tools(record):
    assert sorted(record_spans(record)) == GOLD


def test_a_classification_label_is_not_a_span_list():
    assert record_spans({"text": TEXT, "label": "positive"}) == []
    with pytest.raises(ValidationError, match="row 3"):
        record_spans({"text": TEXT, "spans": "PER 0-12"}, row=3)


def test_hf_dataset_has_iob_class_labels_and_round_trips(tmp_path):
    from datasets import load_from_disk

    ds = to_hf_dataset([(1, TEXT, GOLD), (2, "nothing here", [])], LABELS)
    ds.save_to_disk(str(tmp_path / "hf"))
    back = load_from_disk(str(tmp_path / "hf"))
    names = back.features["ner_tags"].feature.names
    assert names == iob_tags(LABELS) == ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
    assert [names[k] for k in back[0]["ner_tags"]] == ["B-PER", "I-PER", "O", "O", "O", "O", "B-LOC", "O"]
    assert from_hf_dataset(back) == [("1", TEXT, GOLD), ("2", "nothing here", [])]


words = st.lists(st.from_regex(r"[A-Za-z]{1,6}", fullmatch=True), min_size=1, max_size=8)


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(words, st.data())
def test_any_token_spans_round_trip_through_the_dataset(ws, data):
    text = " ".join(ws)
    tokens = tokenize(text)
    picks = sorted(data.draw(st.sets(st.integers(0, len(tokens) - 1), max_size=len(tokens))))
    spans = [Span(tokens[k].start, tokens[k].end, data.draw(st.sampled_from(LABELS))) for k in picks]
    assert from_hf_dataset(to_hf_dataset([("x", text, spans)], LABELS)) == [("x", text, spans)]


def test_docbin_holds_the_entities(tmp_path):
    pytest.importorskip("spacy")
    import spacy
    from spacy.tokens import DocBin

    path = write_docbin(tmp_path / "train.spacy", [(7, TEXT, GOLD)])
    (doc,) = DocBin().from_disk(path).get_docs(spacy.blank("xx").vocab)
    assert [(e.start_char, e.end_char, e.label_) for e in doc.ents] == [(0, 12, "PER"), (36, 42, "LOC")]
    assert doc.user_data["id"] == "7"
