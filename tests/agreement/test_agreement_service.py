"""AnnotatorService.quality.agreement and the dataset card: three people answer overlapping items with
known disagreements, a reviewer settles one item, and an AI agent rates too (in-memory SQLite,
and the same on PostgreSQL under the postgres marker)."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from annotator import store
from annotator.core.errors import NoOverlapError, NotEnoughRatersError
from annotator.service import AnnotatorService
from annotator.store import projects as project_q

# Items i0..i5 and who answered what (the hand-worked table of test_agreement_functions.SMALL).
ANSWERS = {
    "ana": ["a", "b", "c", "a", "b", "c"],
    "ben": ["a", "b", "c", "b", "b", "c"],
    "cy": ["a", "b", "a", None, "c", "c"],
}
AI = ["a", "b", "c", "b", "b", "c"]  # the agent answers like ben


@pytest.fixture
def svc(settings, engine, fake_embedder):
    service = AnnotatorService(settings, engine, embedder=fake_embedder)
    yield service
    service.close()


def _ids(service: AnnotatorService, project: str) -> dict[str, int]:
    return {row["external_id"]: row["item_id"] for row in service.exports.final_labels(project)}


@pytest.fixture
def team(svc):
    svc.projects.create_project("t", ["a", "b", "c"])
    # Items i0..i5 come with an AI agent's labels (suggestions); i6..i9 with imported labels
    # (the 'import' pseudo-user, which is nobody's answer and must not count as a rater).
    svc.imports.import_records("t", [{"text": f"item {k}", "external_id": f"i{k}", "labels": [AI[k]]} for k in range(6)],
                       labels_as="suggestion", agent="gpt")
    svc.imports.import_records("t", [{"text": f"item {k}", "external_id": f"i{k}", "labels": ["a"]} for k in range(6, 10)])
    ids = _ids(svc, "t")
    for person, values in ANSWERS.items():
        for k, value in enumerate(values):
            if value is not None:
                svc.queue.submit("t", person, ids[f"i{k}"], [value])
    svc.queue.submit("t", "ana", ids["i6"], ["b"])  # one answer only: not an overlapping item
    svc.queue.submit("t", "cy", ids["i4"], ["c"])  # a re-answer replaces the old one (still c)
    with store.transaction(svc.engine) as s:
        project_q.get_or_create_user(s, "rita", role="reviewer")
    svc.queue.submit("t", "rita", ids["i3"], ["b"])  # the reviewer settles the one disputed 2-rater item
    return svc


def test_people_agreement_matches_the_hand_computed_table(team):
    report = team.quality.agreement("t")
    assert report["raters"] == ["ana", "ben", "cy"]  # no 'import', no reviewer, no AI
    assert report["rater_kinds"] == {"ana": "person", "ben": "person", "cy": "person"}
    assert report["overlap_items"] == 6 and report["items_rated"] == 7 and report["ratings"] == 18
    assert report["krippendorff_alpha"] == 0.5
    p_bar, p_e = Fraction(11, 18), Fraction(97, 289)
    assert report["fleiss_kappa"] == pytest.approx(float((p_bar - p_e) / (1 - p_e)), abs=1e-4)
    pairs = {(r["rater_a"], r["rater_b"]): r for r in report["pairwise"]}
    assert pairs[("ana", "ben")]["kappa"] == 0.75 and pairs[("ana", "ben")]["items"] == 6
    assert pairs[("ana", "cy")]["kappa"] == pytest.approx(7 / 17, abs=1e-4)
    per_label = {r["label"]: r for r in report["per_label"]}
    assert per_label["a"]["krippendorff_alpha"] == pytest.approx(7 / 15, abs=1e-4)
    per_rater = {r["rater"]: r for r in report["per_rater"]}
    assert per_rater["ana"]["items"] == 7 and per_rater["ana"]["overlap_items"] == 6
    assert per_rater["ana"]["agreement"] == pytest.approx(8 / 11, abs=1e-4)
    # Settled: i3 by the reviewer (b), the other five by a strict majority of three.
    assert report["settled_items"] == 6 and report["settled_by"] == {"reviewer": 1, "majority": 5}
    accuracy = {r["rater"]: r for r in report["accuracy"]}
    assert accuracy["ana"]["accuracy"] == pytest.approx(5 / 6, abs=1e-4)
    assert accuracy["ben"]["accuracy"] == 1.0
    assert accuracy["cy"]["accuracy"] == 0.6 and accuracy["cy"]["settled_items"] == 5
    json.dumps(report, allow_nan=False)


def test_ai_annotators_can_be_raters(team):
    report = team.quality.agreement("t", include_ai=True)
    assert report["raters"] == ["ana", "ben", "cy", "ai:gpt"]  # people first, then AI
    assert report["rater_kinds"]["ai:gpt"] == "ai" and report["include_ai"] is True
    pairs = {frozenset((r["rater_a"], r["rater_b"])): r for r in report["pairwise"]}
    assert pairs[frozenset(("ai:gpt", "ben"))]["kappa"] == 1.0
    assert pairs[frozenset(("ai:gpt", "ben"))]["items"] == 6
    accuracy = {r["rater"]: r for r in report["accuracy"]}
    assert accuracy["ai:gpt"]["accuracy"] == 1.0 and accuracy["ai:gpt"]["settled_items"] == 6
    assert report["krippendorff_alpha"] > 0.5  # a fourth rater who agrees with the majority


def test_clear_errors_with_one_person_or_no_overlap(svc):
    svc.projects.create_project("solo", ["a", "b"])
    svc.imports.import_records("solo", [{"text": f"t {k}", "external_id": f"i{k}"} for k in range(4)])
    ids = _ids(svc, "solo")
    svc.queue.submit("solo", "ana", ids["i0"], ["a"])
    with pytest.raises(NotEnoughRatersError, match="at least two raters"):
        svc.quality.agreement("solo")
    svc.queue.submit("solo", "ben", ids["i1"], ["b"])
    with pytest.raises(NoOverlapError, match="No item was answered by two raters"):
        svc.quality.agreement("solo")


def test_no_answers_at_all_is_a_clear_error_too(svc):
    for task_type in ("single-label", "multi-label"):
        svc.projects.create_project(task_type, ["a", "b"], task_type=task_type)
        svc.imports.import_records(task_type, [{"text": "t", "labels": ["a"]}])  # imported: nobody's answer
        with pytest.raises(NotEnoughRatersError):
            svc.quality.agreement(task_type, include_ai=True)


def test_multi_label_projects_get_per_label_agreement(svc):
    svc.projects.create_project("m", ["x", "y"], task_type="multi-label")
    svc.imports.import_records("m", [{"text": f"t {k}", "external_id": f"i{k}"} for k in range(4)])
    ids = _ids(svc, "m")
    for k, (p, q) in enumerate([(["x"], ["x", "y"]), (["y"], ["y"]), (["x", "y"], ["x"]), (["y"], ["y"])]):
        svc.queue.submit("m", "ana", ids[f"i{k}"], p)
        svc.queue.submit("m", "ben", ids[f"i{k}"], q)
    report = svc.quality.agreement("m")
    per_label = {r["label"]: r for r in report["per_label"]}
    assert per_label["x"]["krippendorff_alpha"] == 1.0 and per_label["x"]["ratings"] == 4
    assert report["macro_over_labels"] is True and report["overlap_items"] == 4
    assert report["pairwise"][0]["agreement"] == 0.5  # the whole label set matches on 2 of 4


def test_the_card_states_agreement_when_people_overlap(team, tmp_path):
    result = team.exports.export("t", fmt="jsonl", out=tmp_path / "x")
    card = result.card_path.read_text(encoding="utf-8")
    assert "## Agreement" in card
    assert "Measured on **6 items** answered by two or more of the 3 raters (ana, ben, cy)" in card
    assert "| Krippendorff's alpha (nominal) | 0.500 |" in card
    assert "| ana | 7 | 6 | 72.7% | 0.581 | 83.3% (6) |" in card
    assert "by a reviewer: 1" in card


def test_the_card_has_no_agreement_section_for_a_single_person(svc, tmp_path):
    svc.projects.create_project("solo", ["a", "b"])
    svc.imports.import_records("solo", [{"text": f"t {k}", "external_id": f"i{k}"} for k in range(3)])
    svc.queue.submit("solo", "ana", _ids(svc, "solo")["i0"], ["a"])
    card = svc.exports.export("solo", fmt="csv", out=tmp_path / "y").card_path.read_text(encoding="utf-8")
    assert "## Agreement" not in card and "No audit or agreement measurement" in card


def test_answers_and_decisions_read_once_equal_the_two_separate_reads(team):
    """The agreement reads people's newest answers and the review decisions among them in one pass;
    the same as ``answers_by_person`` and ``store.review.decision_pairs`` (kept as the reference)."""
    from annotator.store import responses as response_q
    from annotator.store import review as review_q

    ids = _ids(team, "t")
    team.accounts.add_user("boss", role="admin")
    team.review.correct("t", "boss", ids["i0"], ["c"])  # an admin's decision: settles, does not rate
    team.review.correct("t", "boss", ids["i1"], ["a"])
    team.queue.submit("t", "boss", ids["i1"], ["b"])  # ... until their newer plain answer replaces it
    with store.transaction(team.engine) as s:
        pid = project_q.get_project(s, "t").id
        answers, decided = response_q.answers_and_decisions(s, pid)
        reference = review_q.decision_pairs(s, pid)
        assert answers == response_q.answers_by_person(s, pid)
    names = {name for _, name, _, _ in answers}
    assert decided == {(i, name) for i, name in reference if name in names}
    assert (ids["i0"], "boss") in decided and (ids["i1"], "boss") not in decided
