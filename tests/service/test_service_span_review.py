"""Review of span disagreements through the service: disputed items listed with every rater's
spans, settle and take storing the reviewer's spans as the final answer (route review), the
reviewer role required, bad spans refused with nothing written, a new rater answer reopening."""

from __future__ import annotations

import json

import pytest

from annotator.core.errors import PermissionDeniedError, ValidationError
from annotator.spans import Span

TEXTS = ["Ada Lovelace met Charles Babbage in London.", "Marie Curie lived in Paris.", "Nothing to see here."]


@pytest.fixture
def disputed(service):
    service.projects.create_project("ner", ["PER", "ORG", "LOC"], task_type="spans")
    service.imports.import_records("ner", [{"text": t} for t in TEXTS])
    ids = {r["text"]: r["item_id"] for r in service.exports.final_labels("ner")}
    ada, marie = ids[TEXTS[0]], ids[TEXTS[1]]
    # item 0: ana and ben differ by one character on London, cy agrees with ana
    service.spans.submit_spans("ner", "ana", ada, [Span(0, 12, "PER"), Span(36, 42, "LOC")])
    service.spans.submit_spans("ner", "ben", ada, [Span(0, 12, "PER"), Span(36, 41, "LOC")])
    service.spans.submit_spans("ner", "cy", ada, [Span(36, 42, "LOC"), Span(0, 12, "PER")])
    # item 1: same spans (in another order): no dispute; item 2: one rater only
    service.spans.submit_spans("ner", "ana", marie, [Span(0, 11, "PER"), Span(21, 26, "LOC")])
    service.spans.submit_spans("ner", "ben", marie, [Span(21, 26, "LOC"), Span(0, 11, "PER")])
    service.spans.submit_spans("ner", "ana", ids[TEXTS[2]], [])
    service.accounts.add_user("rita", role="reviewer")
    service.accounts.add_user("otto", role="annotator")
    return ids


def test_disputed_items_list_every_raters_spans(service, disputed):
    listing = service.spans.disagreements("ner")
    assert listing["items"] == 1 and listing["settled"] == 0
    (entry,) = listing["entries"]
    assert entry["item_id"] == disputed[TEXTS[0]] and entry["text"] == TEXTS[0] and entry["settled"] is None
    assert [r["rater"] for r in entry["raters"]] == ["ana", "ben", "cy"]
    assert entry["raters"][1]["spans"][1] == {"start": 36, "end": 41, "label": "LOC", "text": "Londo"}


def test_settle_stores_the_reviewers_spans_as_the_final_answer(service, disputed, tmp_path):
    item = disputed[TEXTS[0]]
    stored = service.spans.settle("ner", "rita", item, [{"start": 36, "end": 42, "label": "LOC"},
                                                       {"start": 0, "end": 12, "label": "PER"}], comment="London")
    assert stored == [Span(0, 12, "PER"), Span(36, 42, "LOC")]
    got = service.spans.item_spans("ner", item)
    assert got["final"] == [{"start": 0, "end": 12, "label": "PER"}, {"start": 36, "end": 42, "label": "LOC"}]
    assert [a["route"] for a in got["answers"] if a["user"] == "rita"] == ["review"]
    assert service.spans.disagreements("ner")["items"] == 0
    settled = service.spans.disagreements("ner", include_settled=True)
    assert settled["settled"] == 1 and settled["entries"][0]["reviewer"] == "rita"
    assert "rita" not in service.spans.spans_by_rater("ner")  # a decision is not a rater's answer

    service.spans.export("ner", fmt="jsonl", out=tmp_path / "out")
    rows = {r["item_id"]: r for r in map(json.loads, (tmp_path / "out" / "data.jsonl").read_text().splitlines())}
    assert rows[item]["route"] == "review" and rows[item]["annotator"] == "rita"

    # the reviewer changes their mind: one decision stays; a rater answering again reopens the item
    service.spans.take("ner", "rita", item, "ben")
    rita = [a for a in service.spans.item_spans("ner", item)["answers"] if a["user"] == "rita"]
    assert len(rita) == 1 and rita[0]["spans"][1] == {"start": 36, "end": 41, "label": "LOC"}
    service.spans.submit_spans("ner", "cy", item, [Span(0, 3, "PER")])
    assert service.spans.disagreements("ner")["items"] == 1


def test_settling_needs_the_reviewer_role_and_valid_spans(service, disputed):
    item = disputed[TEXTS[0]]
    before = len(service.spans.item_spans("ner", item)["answers"])
    with pytest.raises(PermissionDeniedError, match="may not review"):
        service.spans.settle("ner", "otto", item, [])
    with pytest.raises(ValidationError, match="outside the text"):
        service.spans.settle("ner", "rita", item, [{"start": 0, "end": 999, "label": "PER"}])
    with pytest.raises(ValidationError, match="unknown label"):
        service.spans.settle("ner", "rita", item, [[0, 3, "DATE"]])
    with pytest.raises(ValidationError, match="gave no spans"):
        service.spans.take("ner", "rita", item, "zed")
    with pytest.raises(ValidationError, match="does not belong"):
        service.projects.create_project("other", ["PER"], task_type="spans")
        service.imports.import_records("other", [{"text": "Bob"}])
        service.spans.settle("other", "rita", item, [])
    assert len(service.spans.item_spans("ner", item)["answers"]) == before  # nothing written


def test_cli_review_lists_and_settles_span_disagreements(service, disputed, settings):
    from typer.testing import CliRunner

    from annotator.cli import app

    item = disputed[TEXTS[0]]
    run = CliRunner()
    base = ["review", "--project", "ner", "--data-dir", str(settings.data_dir)]
    listed = run.invoke(app, base)
    assert listed.exit_code == 0, listed.output
    assert "1 items whose raters' spans differ" in listed.stdout and "LOC 36-41 'Londo'" in listed.stdout
    done = run.invoke(app, [*base, "--settle", str(item), "--take", "ana", "--reviewer", "rita"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["spans"][1] == {"start": 36, "end": 42, "label": "LOC"}
    refused = run.invoke(app, [*base, "--settle", str(item), "--spans", "[[0, 3, \"PER\"]]", "--reviewer", "otto"])
    assert refused.exit_code != 0 and "may not review" in str(refused.output) + str(refused.exception)
    assert json.loads(run.invoke(app, [*base, "--json"]).stdout)["items"] == 0
