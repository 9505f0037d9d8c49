"""The Python client on a span project: add span records (answers and an agent's), serve, answer, undo."""

from __future__ import annotations

import pytest

from annotator.client import Annotator
from annotator.core.errors import ValidationError


def test_span_project_through_the_client(service):
    ann = Annotator.from_service(service)
    ner = ann.create_project("ner", ["PER", "LOC"], task="spans")
    report = ner.add_items([{"text": "Ada Lovelace lived in London.", "spans": [[0, 12, "PER"], [22, 28, "LOC"]]},
                            {"text": "Alan Turing was born in Maida Vale."}])
    assert (report.items_added, report.labels_imported) == (2, 1)
    ner.add_spans([{"text": "Alan Turing was born in Maida Vale.", "spans": [[0, 11, "PER"]]}], agent="m")
    item = ner.next_span_item("ana")
    assert item.text.startswith("Alan") and item.spans == [{"start": 0, "end": 11, "label": "PER"}]
    with pytest.raises(ValidationError, match="unknown label"):
        ner.answer_spans(item.item_id, [{"start": 0, "end": 4, "label": "ORG"}], user="ana")
    assert ner.answer_spans(item.item_id, [{"start": 24, "end": 34, "label": "LOC"}, [0, 11, "PER"]], user="ana") == [
        {"start": 0, "end": 11, "label": "PER"}, {"start": 24, "end": 34, "label": "LOC"}]
    assert ner.item_spans(item.item_id)["answers"][0]["route"] == "verify"  # the suggestion was shown
    back = ner.undo_spans("ana")
    assert back.item_id == item.item_id and len(back.previous) == 2
