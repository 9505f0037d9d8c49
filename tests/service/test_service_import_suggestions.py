"""Suggestions from outside: a model's labels for items already in a project (matched by id, else
by text) become that agent's suggestions, never a person's answer, and take part in AI runs."""

from __future__ import annotations

import pandas as pd
import pytest

from annotator.core.errors import ValidationError
from annotator.importers import ImportSpec
from topic_data import TOPICS, topic_records

SPEC = ImportSpec(text_column="text", id_column="id", label_column="pred", score_column="prob")


def _preds(tmp_path, rows, name="preds.csv"):
    path = tmp_path / name
    pd.DataFrame(rows, columns=["id", "text", "pred", "prob"]).to_csv(path, index=False)
    return path


@pytest.fixture
def project(service):
    service.projects.create_project("t", list(TOPICS))
    service.imports.import_records("t", topic_records(n_per=10))
    return service


def test_suggestions_attach_to_existing_items_by_id_and_by_text(project, tmp_path):
    records = topic_records(n_per=10)
    rows = [[r["external_id"], r["text"], r["external_id"].split("-")[0], 0.8] for r in records[:6]]
    rows.append(["", records[6]["text"], "tech", ""])  # no id: matched by its text, no score
    rows.append(["new-1", "a brand new ticket about the oven", "food", 0.6])  # not in the project: a new item
    report = project.imports.import_file("t", _preds(tmp_path, rows), SPEC, labels_as="suggestion", agent="mymodel")
    assert (report.suggestions_attached, report.suggestions_imported, report.items_added) == (7, 8, 1)
    assert report.labels_imported == 0
    table = project.ai.annotator_options("t", ["imported:mymodel"])["imported:mymodel"]["table"]
    assert table[records[0]["text"]] == (["sport"], 0.8)
    assert table[records[6]["text"]] == (["tech"], None)
    assert len(table) == 8
    # a suggestion is never a person's answer: nothing is labelled
    assert all(r["label"] is None for r in project.exports.final_labels("t"))


def test_a_second_import_is_the_newest_version(project, tmp_path):
    rec = topic_records(n_per=10)[0]
    project.imports.import_file("t", _preds(tmp_path, [[rec["external_id"], rec["text"], "food", 0.3]]), SPEC,
                                labels_as="suggestion", agent="mymodel")
    project.imports.import_file("t", _preds(tmp_path, [[rec["external_id"], rec["text"], "sport", 0.9]], "b.csv"),
                                SPEC, labels_as="suggestion", agent="mymodel")
    table = project.ai.annotator_options("t", ["imported:mymodel"])["imported:mymodel"]["table"]
    assert table[rec["text"]] == (["sport"], 0.9)


@pytest.mark.parametrize("bad", ["1.5", "-0.1", "high", "nan"])
def test_a_score_outside_0_1_names_the_row_and_writes_nothing(project, tmp_path, bad):
    recs = topic_records(n_per=10)
    rows = [[recs[0]["external_id"], recs[0]["text"], "sport", 0.5], [recs[1]["external_id"], recs[1]["text"], "sport", bad]]
    with pytest.raises(ValidationError) as err:
        project.imports.import_file("t", _preds(tmp_path, rows), SPEC, labels_as="suggestion", agent="mymodel")
    assert "Row 3" in err.value.message and "[0, 1]" in err.value.message
    with pytest.raises(ValidationError, match="No suggestions of agent 'mymodel'"):
        project.ai.annotator_options("t", ["imported:mymodel"])


def test_imported_suggestions_are_calibrated_and_routed_like_any_annotator(service, tmp_path):
    service.projects.create_project("ai", list(TOPICS), settings={"refit_every": 1000})
    records = topic_records()
    service.imports.import_records("ai", records)
    gold = [[r["external_id"], r["text"], r["external_id"].split("-")[0], 0.9] for r in records]
    service.imports.import_file("ai", _preds(tmp_path, gold), SPEC, labels_as="suggestion", agent="gold-model")
    for _ in range(165):
        item = service.queue.next_item("ai", "ana")
        service.queue.submit("ai", "ana", item.item_id, [item.external_id.split("-")[0]])
    report = service.ai.run_ai("ai", "imported:gold-model")
    assert report["calibration"]["imported:gold-model"]["oof_accuracy"] == pytest.approx(1.0)
    assert report["routes"]["auto"] > 0
    auto = [r for r in service.exports.final_labels("ai") if r["status"] == "auto"]
    assert auto and all(r["label"] == [r["external_id"].split("-")[0]] for r in auto)


def test_an_unknown_imported_agent_in_an_ai_run_says_how_to_import_it(project):
    with pytest.raises(ValidationError, match="--labels-as suggestion --agent nobody"):
        project.ai.run_ai("t", "imported:nobody")


def test_the_cli_attaches_suggestions_with_a_score_column(tmp_path):
    from typer.testing import CliRunner

    from annotator.cli import app

    data = tmp_path / "d"
    items = tmp_path / "items.csv"
    pd.DataFrame({"id": ["a", "b"], "text": ["the oven is cold", "my laptop froze"]}).to_csv(items, index=False)
    preds = _preds(tmp_path, [["a", "the oven is cold", "food", 0.7], ["b", "my laptop froze", "tech", 0.95]])
    runner = CliRunner()
    for args in (["init", "t", "--labels", ",".join(TOPICS)], ["import", str(items), "--project", "t", "--id-column", "id"],
                 ["import", str(preds), "--project", "t", "--id-column", "id", "--label-column", "pred",
                  "--labels-as", "suggestion", "--agent", "mymodel", "--score-column", "prob"]):
        result = runner.invoke(app, [*args, "--data-dir", str(data)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    assert '"suggestions_attached": 2' in result.output and '"items_added": 0' in result.output
