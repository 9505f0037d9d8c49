"""simulate --task preference: the LLM judge with / without swapping, the learnt judge's curve, and
the human verdicts needed for 95 % correct preferences, through the real service (fake embedder)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from annotator.embeddings import HashingEmbedder
from annotator.core.errors import ValidationError
from annotator.llm.pairwise import FirstPositionScorer, KnownAnswerScorer
from annotator.simulate.preference import (
    PreferenceData, PreferenceSimConfig, load_preferences, run_preference_simulation, simulate_preferences,
)
from annotator.tasks.demo_pairs import preference_pairs


def _data(n: int = 60, seed: int = 0) -> PreferenceData:
    pairs = preference_pairs(n, seed)
    return PreferenceData([p["prompt"] for p in pairs], [p["response_a"] for p in pairs],
                          [p["response_b"] for p in pairs], [p["better"] for p in pairs])


def _good(data: PreferenceData) -> set[str]:
    return {a if b == "A" else r for a, r, b in zip(data.response_a, data.response_b, data.better)}


def test_all_human_run_needs_what_all_human_needs_and_reads_gold_only_to_answer():
    data = _data(40)
    cfg = PreferenceSimConfig(ai="none", llm_judge="none", batch_size=1, near_duplicate_threshold=None, seed=3)
    report = run_preference_simulation(data, cfg, embedder=HashingEmbedder())
    pool = report["pool_size"]
    assert pool + report["test_size"] == 40 and report["near_duplicates_dropped"] == 0
    # every pair answered by the (perfect) person, one per round: exactly ceil(0.95 · pool) verdicts reach 95 %
    assert report["human_labels"] == pool and report["auto_labels"] == 0 and report["correct_share"] == 1.0
    assert report["human_verdicts_for_target"] == report["all_human_verdicts_for_target"] == math.ceil(0.95 * pool)
    assert [p["human_verdicts"] for p in report["learning_curve"]] == list(range(1, pool + 1))
    assert report["llm_judge"] is None


def test_a_wrong_person_makes_wrong_preferences_and_all_human_cost_grows():
    data = _data(40)
    cfg = PreferenceSimConfig(ai="none", llm_judge="none", batch_size=10, human_error=0.3,
                              near_duplicate_threshold=None, test_fraction=0.0)
    report = run_preference_simulation(data, cfg, embedder=HashingEmbedder())
    assert report["correct_share"] < 1.0 and report["human_verdicts_for_target"] is None
    assert report["all_human_verdicts_for_target"] is None  # 0.95 / 0.7 of the pool: more than there is


def test_llm_judge_with_and_without_swapping():
    data = _data(30)
    cfg = PreferenceSimConfig(ai="none", llm_judge="fake", judge_sample=0, batch_size=30, test_fraction=0.0,
                              near_duplicate_threshold=None)
    biased = run_preference_simulation(data, cfg, embedder=HashingEmbedder(), scorer=FirstPositionScorer())["llm_judge"]
    a_share = round(float(np.mean([b == "A" for b in data.better])), 4)
    # always picks the first shown: one order is right exactly when A is better; both orders never agree
    assert biased["acc_one_order"] == a_share and biased["first_position_rate"] == 1.0
    assert biased["consistent"] == 0.0 and biased["acc_swapped"] == 0.0 and biased["pairs"] == 30
    fair = run_preference_simulation(data, cfg, embedder=HashingEmbedder(), scorer=KnownAnswerScorer(_good(data)))
    judge = fair["llm_judge"]
    assert judge["acc_one_order"] == judge["acc_swapped"] == judge["consistent"] == 1.0
    assert judge["first_position_rate"] == 0.5  # each pair's better side is shown first in one of its orders


def test_judges_in_the_loop_over_seeds():
    data = _data(120)
    cfg = PreferenceSimConfig(ai="bt-judge,fake", llm_judge="fake", judge_sample=20, batch_size=20,
                              target_precision=0.9)
    result = simulate_preferences(data, cfg, [0, 1, 2], embedder=HashingEmbedder(),
                                  scorer=KnownAnswerScorer(_good(data)))
    assert result["seeds"] == [0, 1, 2] and len(result["runs"]) == 3
    for run in result["runs"]:
        assert run["human_labels"] + run["auto_labels"] <= run["pool_size"]
        # a consistent judge in the loop lets the router auto-accept, and its verdicts are right
        assert run["auto_labels"] > 0 and run["auto_label_precision"] == 1.0
        assert run["human_verdicts_for_target"] < run["all_human_verdicts_for_target"]
        curve = [p["heldout_accuracy"] for p in run["bt_judge_curve"]]
        assert len(curve) == len(run["learning_curve"]) and all(0.0 <= a <= 1.0 for a in curve)
    share = result["human_share_of_all_human"]
    assert share["n"] == 3 and share["mean"] < 1.0
    assert result["llm_judge"]["acc_swapped"]["mean"] == 1.0 and result["llm_judge"]["acc_swapped"]["std"] == 0.0
    assert [p["human_verdicts"] for p in result["bt_judge_curve"]][0] == 20


def test_gold_file_is_checked(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text("\n".join(json.dumps({"prompt": f"q{i}", "response_a": "x", "response_b": "y",
                                          "better": "tie" if i == 2 else "a"}) for i in range(4)))
    with pytest.raises(ValidationError, match="no A/B gold") as e:
        load_preferences(path, "prompt", "better")
    assert "tie" in e.value.got
    path.write_text(json.dumps({"prompt": "q", "response_a": "x", "better": "A"}))
    with pytest.raises(ValidationError, match="lack response_b"):
        load_preferences(path, "prompt", "better")
    with pytest.raises(ValidationError, match="Unknown judge 'knn'"):
        run_preference_simulation(_data(10), PreferenceSimConfig(ai="knn", llm_judge="none"), embedder=HashingEmbedder())


@pytest.mark.slow
def test_cli_simulate_preference_small_budget(tmp_path):
    from annotator.cli import app

    src = tmp_path / "pairs.jsonl"
    src.write_text("".join(json.dumps(p) + "\n" for p in preference_pairs(80, 1)))
    out = tmp_path / "report.json"
    result = CliRunner().invoke(app, [
        "simulate", str(src), "--task", "preference", "--text-column", "prompt", "--label-column", "better",
        "--seeds", "0,1,2", "--batch-size", "10", "--human-budget", "30", "--llm-judge", "none",
        "--report", str(out), "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["seeds"] == [0, 1, 2] and report["human_labels"]["mean"] <= 30
    assert report["near_duplicates_dropped"]["mean"] > 0  # the constructed set repeats some pairs
    assert len(report["bt_judge_curve"]) == 3 and report["bt_judge_curve"][-1]["human_verdicts"] == 30
    bad = CliRunner().invoke(app, ["simulate", str(src), "--task", "rating", "--data-dir", str(tmp_path / "d")])
    assert bad.exit_code != 0


def test_the_versioned_judge_job_in_the_loop():
    """Responses a hashing embedder can tell apart: the judge job promotes v1 once enough verdicts
    are held out (20), and from then on bt-judge answers with it and the router auto-accepts."""
    rng = np.random.default_rng(0)
    prompts, a, b, better = [], [], [], []
    for i in range(400):
        good, bad = f"A helpful good answer to question {i}.", f"A useless bad answer to question {i}."
        a_better = bool(rng.random() < 0.5)
        prompts.append(f"Question number {i} about topic {i % 7}?")
        a.append(good if a_better else bad)
        b.append(bad if a_better else good)
        better.append("A" if a_better else "B")
    # target 0.99: auto-accepting needs ~230 verdicts, promotion ~100 (20 held out)
    cfg = PreferenceSimConfig(ai="bt-judge", llm_judge="none", batch_size=40, judge_job=True,
                              near_duplicate_threshold=None, target_precision=0.99)
    report = run_preference_simulation(PreferenceData(prompts, a, b, better), cfg, embedder=HashingEmbedder())
    versions = [p["promoted_judge_version"] for p in report["learning_curve"]]
    # too few held-out verdicts at first (a version each round, not promoted), then one promoted
    promoted = [v for v in versions if v is not None]
    assert versions[0] is None and promoted and promoted == sorted(promoted)
    assert report["auto_labels"] > 0 and report["auto_label_precision"] == 1.0
    assert report["human_verdicts_for_target"] < report["all_human_verdicts_for_target"]


def test_queue_orders_compared_on_the_same_seeds():
    """--compare random: the same seeds replayed with the queue in random order once the judges ran;
    the comparison's first row is the main runs' figures, the second comes from the random runs."""
    data = _data(50)
    good = set(list(_good(data))[:25])  # the judge knows half the answers: unsure about the rest
    cfg = PreferenceSimConfig(ai="fake", llm_judge="fake", judge_sample=10, batch_size=10, target_precision=0.9,
                              near_duplicate_threshold=None)
    result = simulate_preferences(data, cfg, [0, 1], embedder=HashingEmbedder(), scorer=KnownAnswerScorer(good),
                                  compare=["random"])
    rows = result["order_comparison"]
    assert list(rows) == ["margin", "random"]
    assert rows["margin"]["per_seed"] == {r["seed"]: r["human_verdicts_for_target"] for r in result["runs"]}
    assert rows["margin"]["human_verdicts_for_target"] == result["human_verdicts_for_target"]
    assert set(rows["random"]["per_seed"]) == {0, 1}
    for row in rows.values():
        assert row["human_labels"]["mean"] + row["auto_labels"]["mean"] <= 40 and row["correct_share"]["n"] == 2
    margin_curve = rows["margin"]["correct_share_by_verdicts"]
    assert [p["human_verdicts"] for p in margin_curve] == [p["human_verdicts"] for p in result["runs"][0][
        "learning_curve"]][:len(margin_curve)]
    shares = [p["correct_share"] for p in margin_curve]
    first = [r["learning_curve"][0]["correct_share"] for r in result["runs"]]
    assert shares and all(0.0 < v <= 1.0 for v in shares) and shares[0] == round(float(np.mean(first)), 4)
