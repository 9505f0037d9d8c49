"""The Python client (``from annotator import Annotator``): the README's walk-through, end to end on
a real data directory, and its errors for bad records."""

from __future__ import annotations

import json

import pytest

from annotator import Annotator, Project
from annotator.core.errors import NotFoundError, ValidationError
from topic_data import TOPICS, topic_records


@pytest.fixture
def ann(tmp_path):
    with Annotator(tmp_path / "data", embedding_model="hashing", demo=False) as client:
        yield client


def test_open_add_suggest_label_and_export(ann, tmp_path):
    tickets = ann.create_project("tickets", labels=list(TOPICS))
    records = [{"id": r["external_id"], "text": r["text"], "metadata": {"n": i}}
               for i, r in enumerate(topic_records(n_per=5))]
    assert tickets.add_items(records).items_added == len(records)
    # suggestions by id need no text; they are never a person's answer
    report = tickets.add_suggestions([{"id": "sport-0", "label": "sport", "score": 0.9},
                                      {"id": "food-1", "label": "food"}], agent="my-model")
    assert (report.suggestions_attached, report.items_added) == (2, 0)
    assert tickets.progress().labelled == 0

    answered = {}
    for _ in range(6):
        item = tickets.next_item(user="ana")
        assert item is not None and item.item_id not in answered
        label = item.external_id.split("-")[0]
        tickets.answer(item.item_id, label, user="ana")
        answered[item.item_id] = label
    assert tickets.progress().labelled == 6 and tickets.progress().by_user == {"ana": 6}

    result = tickets.export(tmp_path / "out", format="jsonl", only="human")
    rows = [json.loads(line) for line in (tmp_path / "out" / "data.jsonl").read_text().splitlines()]
    assert result.n_rows == 6 and {r["item_id"]: r["label"] for r in rows} == answered
    assert all(r["annotator"] == "ana" and r["label_source"] == "human" for r in rows)
    assert ann.project("tickets").summary().items == len(records)
    assert [p.name for p in ann.projects()] == ["tickets"]


def test_imported_labels_count_as_answers_and_strings_are_items(ann):
    p = ann.create_project("p", labels=["a", "b"])
    assert isinstance(p, Project)
    p.add_items(["first text", {"text": "second text", "label": "a"}])
    assert p.progress().labelled == 1
    assert {r["text"]: r["label"] for r in p.labels()} == {"first text": None, "second text": ["a"]}


@pytest.mark.parametrize("record, message", [
    ({"text": "x", "colour": "red"}, "unknown keys: colour"),
    ({"id": "nope", "label": "a"}, "has no text and names no item"),
    ({"id": "s1", "text": "y", "label": "a", "score": 1.5}, "between 0 and 1"),
    ({"text": 42}, "must be a string"),
])
def test_bad_records_say_what_to_fix_and_add_nothing(ann, record, message):
    p = ann.create_project("p", labels=["a", "b"])
    p.add_items([{"id": "s0", "text": "kept"}])
    with pytest.raises(ValidationError) as err:
        p.add_suggestions([{"id": "s0", "label": "b"}, record], agent="m")
    assert message in str(err.value)
    assert p.summary().items == 1
    with pytest.raises(ValidationError, match="No suggestions of agent 'm'"):
        p.service.ai.annotator_options("p", ["imported:m"])  # the good record before it was not attached


def test_an_unknown_project_and_an_unknown_label(ann):
    with pytest.raises(NotFoundError):
        ann.project("missing")
    p = ann.create_project("p", labels=["a", "b"])
    p.add_items(["t"])
    item = p.next_item(user="ana")
    with pytest.raises(ValidationError):
        p.answer(item.item_id, "zzz", user="ana")
