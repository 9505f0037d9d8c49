"""Post-training projects through the service: import, label, judge (routed), export SFT / DPO / ratings."""

from __future__ import annotations

import json

import numpy as np

import pytest

from annotator.core.errors import ValidationError
from annotator.llm.pairwise import FirstPositionScorer, KnownAnswerScorer
from annotator.routing import RoutingPolicy
from annotator.tasks.demo_pairs import correction_items, preference_pairs, rating_items


def _import_pairs(service, name="prefs", n=40, seed=0):
    service.projects.create_project(name, [], task_type="preference")
    pairs = preference_pairs(n, seed)
    service.imports.import_records(name, [{"text": p["prompt"], "metadata": {"response_a": p["response_a"],
                                                                     "response_b": p["response_b"]}}
                                  for p in pairs])
    return {p["prompt"]: p for p in pairs}


def _label_truthfully(service, name, truth, n):
    """Answer n items as a careful person would, by what is shown left/right."""
    for _ in range(n):
        view = service.tasks.next_task(name, "ana")
        pair = truth[view.prompt]
        good = pair["response_a"] if pair["better"] == "A" else pair["response_b"]
        service.tasks.submit_task(name, "ana", view.item_id, choice="left" if view.left == good else "right")


def test_preference_project_defaults_and_import_checks(service):
    summary = service.projects.create_project("p", [], task_type="preference")
    assert [lab.name for lab in summary.labels] == ["A", "B", "tie", "both-bad"]
    with pytest.raises(ValidationError, match="response_b"):
        service.imports.import_records("p", [{"text": "q?", "metadata": {"response_a": "x"}}])
    assert service.projects.project("p").items == 0  # nothing half-imported


def test_preference_answer_is_stored_about_the_original_pair(service):
    truth = _import_pairs(service, n=12)
    orders = set()
    for _ in range(12):
        view = service.tasks.next_task("prefs", "ana")
        orders.add(view.shown_order)
        pair = truth[view.prompt]
        assert {view.left, view.right} == {pair["response_a"], pair["response_b"]}
        assert (view.left == pair["response_a"]) == (view.shown_order == "AB")
        answer = service.tasks.submit_task("prefs", "ana", view.item_id, choice="left", rationale="looks right")
        expected = "A" if view.shown_order == "AB" else "B"
        assert answer.value == [expected]
    assert orders == {"AB", "BA"}  # the seeded coin shows both orders
    rows = {r["item_id"]: r for r in service.exports.final_labels("prefs")}
    assert all(r["label"] in (["A"], ["B"]) and r["comment"] == "looks right" for r in rows.values())


def test_judge_routes_a_consistent_judge_and_holds_back_a_position_biased_one(service):
    truth = _import_pairs(service, n=60)
    _label_truthfully(service, "prefs", truth, 30)
    good = {p["response_a"] if p["better"] == "A" else p["response_b"] for p in truth.values()}
    # 30 verdicts certify at most ~0.9 precision (one-sided lower bound), hence the target 0.85 here
    policy = RoutingPolicy(target_precision=0.85, audit_fraction=0.1)
    biased = service.tasks.run_judge("prefs", FirstPositionScorer(0.9), policy=policy)
    assert biased["routes"]["auto"] == 0 and biased["routes"]["audit"] == 0  # low-confidence ties only
    result = service.tasks.run_judge("prefs", KnownAnswerScorer(good, p=0.9), policy=policy)
    assert result["items"] == 30 and result["routes"]["auto"] >= 10 and result["routes"]["audit"] >= 1
    autos = [r for r in service.exports.final_labels("prefs") if r["label_source"] == "agent"]
    assert autos and all(r["label"] == [truth[r["text"]]["better"]] for r in autos)


def test_dpo_export_loads_with_datasets(service, tmp_path):
    datasets = pytest.importorskip("datasets")
    truth = _import_pairs(service, n=10)
    _label_truthfully(service, "prefs", truth, 8)
    view = service.tasks.next_task("prefs", "ana")
    service.tasks.submit_task("prefs", "ana", view.item_id, choice="tie")
    result = service.exports.export("prefs", fmt="dpo", out=tmp_path / "dpo")
    assert result.n_rows == 8  # the tie gives no pair
    ds = datasets.load_from_disk(str(tmp_path / "dpo" / "dataset"))
    assert {"prompt", "chosen", "rejected", "margin", "decided_by"} <= set(ds.column_names)
    for row in ds:
        pair = truth[row["prompt"]]
        good = pair["response_a"] if pair["better"] == "A" else pair["response_b"]
        assert row["chosen"] == good and row["rejected"] != good and row["decided_by"] == "ana"
        assert row["margin"] == 1.0
    jsonl = datasets.load_dataset("json", data_files=str(tmp_path / "dpo" / "data.jsonl"), split="train",
                                  cache_dir=str(tmp_path / "cache"))
    assert len(jsonl) == 8 and "chosen" in jsonl.column_names
    card = (tmp_path / "dpo" / "README.md").read_text()
    assert "Post-training export (`dpo`)" in card and "tie / both-bad" in card
    with pytest.raises(ValidationError, match="needs a correction or rating project"):
        service.exports.export("prefs", fmt="sft", out=tmp_path / "sft")


def test_ratings_and_sft_from_top_rated_responses(service, tmp_path):
    service.projects.create_project("rate", ["helpfulness", "correctness"], task_type="rating")
    items = rating_items(6)
    service.imports.import_records("rate", [{"text": r["prompt"], "metadata": {"response": r["response"]}} for r in items])
    good = {r["prompt"]: r["good"] for r in items}
    for _ in range(6):
        view = service.tasks.next_task("rate", "ana")
        assert view.criteria == ["helpfulness", "correctness"] and view.scale == (1, 5)
        score = 5 if good[view.prompt] else 1
        service.tasks.submit_task("rate", "ana", view.item_id, ratings={"helpfulness": score, "correctness": score})
    ratings = service.exports.export("rate", fmt="ratings", out=tmp_path / "ratings")
    assert ratings.n_rows == 6
    table = [json.loads(line) for line in (tmp_path / "ratings" / "data.jsonl").read_text().splitlines()]
    assert {row["helpfulness"] for row in table} == {1, 5} and (tmp_path / "ratings" / "data.csv").is_file()
    sft = service.exports.export("rate", fmt="sft", out=tmp_path / "sft")
    assert sft.n_rows == sum(good.values()) == 3  # only the top-rated responses
    rows = [json.loads(line) for line in (tmp_path / "sft" / "data.jsonl").read_text().splitlines()]
    assert all(r["messages"][0]["role"] == "user" and r["mean_rating"] == 5 for r in rows)


def test_corrections_keep_the_diff_and_become_sft_messages(service, tmp_path):
    service.projects.create_project("fix", [], task_type="correction")
    items = correction_items(4)
    service.imports.import_records("fix", [{"text": r["prompt"], "metadata": {"response": r["response"]}} for r in items])
    fixed = {r["prompt"]: r["fixed"] for r in items}
    for _ in range(4):
        view = service.tasks.next_task("fix", "ana")
        answer = service.tasks.submit_task("fix", "ana", view.item_id, edited=fixed[view.prompt])
        assert answer.value == ["edited"] and answer.payload["diff"].startswith("--- response")
    result = service.exports.export("fix", fmt="sft", out=tmp_path / "sft")
    rows = [json.loads(line) for line in (tmp_path / "sft" / "data.jsonl").read_text().splitlines()]
    assert result.n_rows == 4
    assert {r["messages"][1]["content"] for r in rows} == set(fixed.values())


def test_bt_judge_learns_from_verdicts_and_stacks_with_the_llm_judge(service):
    truth = _import_pairs(service, n=90, seed=4)
    _label_truthfully(service, "prefs", truth, 60)
    policy = RoutingPolicy(target_precision=0.8, audit_fraction=0.1)
    result = service.tasks.run_judge("prefs", "bt-judge", policy=policy)
    assert result["agent"] == "ensemble(bt-judge)" and result["items"] == 30
    assert result["calibration"]["bt-judge"]["oof_accuracy"] > 0.6  # out of fold, on the people's verdicts
    good = {p["response_a"] if p["better"] == "A" else p["response_b"] for p in truth.values()}
    stacked = service.tasks.run_judge("prefs", ["bt-judge", KnownAnswerScorer(good)], policy=policy)
    assert set(stacked["calibration"]) == {"bt-judge", "llm-judge", "ensemble"} and stacked["routes"]["auto"] > 0
    with pytest.raises(ValidationError, match="bt-judge"):
        service.tasks.run_judge("prefs", "gpt-judge")


@pytest.mark.postgres
def test_post_training_answers_and_exports_on_postgres(pg_database_url, tmp_path, fake_embedder):
    """The payload JSON column (migration 0006) on PostgreSQL: preference and correction round trips."""
    from sqlalchemy import text

    from annotator.core.config import Settings
    from annotator.service import AnnotatorService
    from annotator.store import make_engine

    engine = make_engine(pg_database_url)
    with engine.begin() as c:
        c.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    svc = AnnotatorService.from_settings(Settings(data_dir=tmp_path / "data", database_url=pg_database_url, demo=False),
                                         embedder=fake_embedder)
    try:
        truth = _import_pairs(svc, n=6)
        _label_truthfully(svc, "prefs", truth, 6)
        result = svc.exports.export("prefs", fmt="dpo", out=tmp_path / "dpo")
        rows = [json.loads(line) for line in (tmp_path / "dpo" / "data.jsonl").read_text().splitlines()]
        assert result.n_rows == 6 and all(r["shown_order"] in ("AB", "BA") for r in rows)
        svc.projects.create_project("fix", [], task_type="correction")
        svc.imports.import_records("fix", [{"text": "What is 2 + 3?", "metadata": {"response": "2 + 3 = 6."}}])
        view = svc.tasks.next_task("fix", "ana")
        svc.tasks.submit_task("fix", "ana", view.item_id, edited="2 + 3 = 5.", rationale="arithmetic")
        sft = [json.loads(line) for line in
               (svc.exports.export("fix", fmt="sft", out=tmp_path / "sft").data_path).read_text().splitlines()]
        assert sft[0]["messages"][1]["content"] == "2 + 3 = 5."
    finally:
        svc.close()


def test_rating_judge_suggests_scores_and_measures_agreement_with_people(service):
    class GoodIsFive:
        """Fake scorer: 5 for a response that is the right answer, 1 otherwise."""

        name = "fake-rater"

        def __init__(self, good):
            self.good = good

        def option_probs(self, prompts, options):
            out = []
            for prompt in prompts:
                answer = prompt.rsplit("Answer: ", 1)[1].split("\n", 1)[0]
                out.append(np.eye(len(options))[-1 if answer in self.good else 0] * 0.8 + 0.2 / len(options))
            return np.array(out)

    service.projects.create_project("rate", [], task_type="rating")
    items = rating_items(8)
    service.imports.import_records("rate", [{"text": r["prompt"], "metadata": {"response": r["response"]}} for r in items])
    good = {r["prompt"]: r["good"] for r in items}
    for _ in range(4):
        view = service.tasks.next_task("rate", "ana")
        score = 5 if good[view.prompt] else 1
        service.tasks.submit_task("rate", "ana", view.item_id, ratings={"helpfulness": score, "correctness": score})
    report = service.tasks.run_judge("rate", GoodIsFive({r["response"] for r in items if r["good"]}))
    assert (report["suggested"], report["human_rated"]) == (4, 4)
    assert report["agreement_with_people"]["helpfulness"]["exact"] == 1.0
    assert report["agreement_with_people"]["correctness"]["mae"] < 0.5
    suggestions = [r for r in service.exports.final_labels("rate") if r["label"] is None]
    assert len(suggestions) == 4  # suggestions only: never a final label


class _GoodIsFive:
    """Fake rating judge: 5 (p 0.84) for a response that is the right answer, else 1 (or the
    reverse when ``wrong``)."""

    name = "fake-rater"

    def __init__(self, good, wrong=False):
        self.good, self.wrong = good, wrong

    def option_probs(self, prompts, options):
        out = []
        for prompt in prompts:
            answer = prompt.rsplit("Answer: ", 1)[1].split("\n", 1)[0]
            top = (answer in self.good) != self.wrong
            out.append(np.eye(len(options))[-1 if top else 0] * 0.8 + 0.2 / len(options))
        return np.array(out)


def _rated_project(service, n=60, rated=30):
    service.projects.create_project("rate", [], task_type="rating")
    items = rating_items(n)
    service.imports.import_records("rate", [{"text": r["prompt"], "metadata": {"response": r["response"]}} for r in items],
                           near_duplicates="off")
    good = {r["prompt"]: r["good"] for r in items}
    for _ in range(rated):
        view = service.tasks.next_task("rate", "ana")
        score = 5 if good[view.prompt] else 1
        service.tasks.submit_task("rate", "ana", view.item_id, ratings={"helpfulness": score, "correctness": score})
    return items, good


def test_rating_suggestions_are_routed_audited_and_exported(service, tmp_path):
    items, good = _rated_project(service)
    policy = RoutingPolicy(target_precision=0.9)
    report = service.tasks.run_judge("rate", _GoodIsFive({r["response"] for r in items if r["good"]}), policy=policy)
    assert report["exact_match_on_rated"] == 1.0 and report["threshold"] is not None
    routes = report["routes"]
    assert routes["auto"] + routes["audit"] == 30 and routes["audit"] == policy.min_audits
    auto = [r for r in service.exports.final_labels("rate") if r["label_source"] == "agent"]
    assert len(auto) == 30  # audits keep the AI rating until a person re-rates them blind
    for row in auto:  # the auto-accepted ratings are the judge's, and right
        score = 5 if good[row["text"]] else 1
        assert sorted(row["label"]) == sorted([f"helpfulness={score}", f"correctness={score}"])
    # an audit is served blind (no suggestion shown); answering it feeds the audit estimate
    view = service.tasks.next_task("rate", "ana")
    assert view.route == "audit" and view.suggestion is None
    score = 5 if good[view.prompt] else 1
    service.tasks.submit_task("rate", "ana", view.item_id, ratings={"helpfulness": score, "correctness": score})
    estimate = service.ai.audit_estimate("rate")
    assert estimate.audits == 1 and estimate.value == 1.0
    service.exports.export_posttraining("rate", fmt="ratings", out=tmp_path / "r")
    rows = [json.loads(line) for line in (tmp_path / "r" / "data.jsonl").read_text().splitlines()]
    judged = [r for r in rows if r["label_source"] == "agent"]
    assert len(rows) == 60 and len(judged) == 29  # 31 people's ratings (one audit) + the judge's
    assert all(r["helpfulness"] in (1, 5) and r["decided_by"].startswith("llm-rating-judge") for r in judged)


def test_a_wrong_rating_judge_is_never_auto_accepted(service):
    items, good = _rated_project(service)
    report = service.tasks.run_judge("rate", _GoodIsFive({r["response"] for r in items if r["good"]}, wrong=True),
                               policy=RoutingPolicy(target_precision=0.9))
    assert report["exact_match_on_rated"] == 0.0 and report["threshold"] is None
    assert report["routes"]["auto"] == report["routes"]["audit"] == 0
    assert report["routes"]["verify"] + report["routes"]["blind"] == 30
    assert not [r for r in service.exports.final_labels("rate") if r["label_source"] == "agent"]


# ---- selection: the judges' uncertainty and diversity rank the preference queue ----------------
HARD_DISTINCT = [
    ("Which limerick about a cat in Peru is funnier?", "A cat in Peru dreamt of stew.", "A cat from Peru once flew."),
    ("Which summary of the French revolution is clearer?", "Kings fell, citizens rose in 1789.",
     "Bread prices and debt toppled Louis."),
    ("Which recipe for lentil soup is tastier?", "Simmer lentils with cumin and carrot.",
     "Boil lentils with garlic, onion and lemon."),
    ("Which greeting for a wedding card is warmer?", "Wishing you a lifetime of joy together.",
     "May your home be full of laughter and love."),
]
HARD_COPY = ("Which haiku about autumn maple leaves is prettier", "Red leaves drift on the still pond.",
             "Maple fire falls on quiet stone.")


def _selection_project(service, name="sel"):
    """Easy demo pairs (a consistent judge is sure of them), four hard pairs it cannot decide (no
    answer known) on distinct topics, and six near-copies of a fifth hard pair."""
    service.projects.create_project(name, [], task_type="preference",
                           settings={"explore_fraction": 0.0, "batch_size": 5, "near_duplicate_threshold": None})
    easy = preference_pairs(40, 3)
    hard = [{"prompt": q, "response_a": a, "response_b": b} for q, a, b in HARD_DISTINCT]
    copies = [{"prompt": f"{HARD_COPY[0]}, copy {k}?", "response_a": HARD_COPY[1], "response_b": HARD_COPY[2]}
              for k in range(6)]
    records = easy + copies + hard  # copies first: a ranking by score alone (ties in file order) serves them first
    service.imports.import_records(name, [{"text": p["prompt"], "metadata": {"response_a": p["response_a"],
                                                                     "response_b": p["response_b"]}}
                                  for p in records])
    good = {p["response_a"] if p["better"] == "A" else p["response_b"] for p in easy}
    return {p["prompt"]: p for p in easy}, {p["prompt"] for p in hard}, {p["prompt"] for p in copies}, good


def test_judges_uncertainty_and_diversity_rank_the_preference_queue(service):
    truth, hard, copies, good = _selection_project(service)
    text_of = {r["item_id"]: r["text"] for r in service.exports.final_labels("sel")}
    # people's verdicts on 20 easy pairs to calibrate the judge against (answered as a person would)
    for item_id in [i for i, t in text_of.items() if t in truth][:20]:
        pair = truth[text_of[item_id]]
        service.tasks.submit_task("sel", "ana", item_id, choice="left" if
                            service.tasks.task_view("sel", "ana", _queued(service, item_id)).left ==
                            (pair["response_a"] if pair["better"] == "A" else pair["response_b"]) else "right")
    result = service.tasks.run_judge("sel", KnownAnswerScorer(good, p=0.9),
                               policy=RoutingPolicy(target_precision=0.85, audit_fraction=0.1))
    assert result["ranked_by_judges"] == result["items"] == len(text_of) - 20  # every open pair has a verdict
    served = []
    while len(served) < 5:
        item = service.queue.next_item("sel", "bo")
        if item.route == "audit":  # audits stay first, outside the ranking
            continue
        assert item.strategy == "judge-margin"
        served.append(item)
    prompts = [text_of[it.item_id] for it in served]
    # the five the judge is least sure of, near-copies excluded: the four distinct hard pairs and ONE copy
    assert set(prompts) - copies == hard and len(set(prompts) & copies) == 1
    pool = service.queue.pool("sel")
    ranked = [text_of[int(i)] for i in pool.item_ids[pool._ranking.order]]
    easy_scores = [s for t, s in zip(ranked, pool._ranking.scores) if t in truth]
    assert easy_scores and min(it.score for it in served) > max(easy_scores)  # more uncertain than any easy pair
    # a restart rebuilds the pool from the stored verdicts: still ranked by the judges
    service.queue.drop_pool(service.projects.project("sel").id)
    again = service.queue.next_item("sel", "cy")
    assert again.strategy == "judge-margin" or again.route == "audit"


def test_without_a_judge_the_preference_queue_serves_everything(service):
    _selection_project(service, "plain")
    total = service.projects.project("plain").items
    seen = []
    while (view := service.tasks.next_task("plain", "ana")) is not None:
        seen.append(view.item_id)
        service.tasks.submit_task("plain", "ana", view.item_id, choice="tie")
    assert len(seen) == len(set(seen)) == total
    assert service.queue.pool("plain").judge_proba is None


def _queued(service, item_id):
    """A QueuedItem for ``item_id`` (to lay it out as the labelling page would)."""
    return service.queue._queued_item("sel", "ana", item_id, "test", None, 0)
