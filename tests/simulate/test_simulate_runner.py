"""simulate: the report contract, determinism, and that gold never reaches ranking or training."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from annotator.core.errors import InputFileError, ValidationError
from annotator.simulate import SimulationConfig, load_labelled, run_simulation, simulate_many
from annotator.simulate.runner import LabelledData, labels_needed
from annotator.simulate.stopping import KappaAverage

REPORT_KEYS = {
    "pool_size", "test_size", "human_labels", "auto_labels", "coverage", "final_label_accuracy",
    "auto_label_precision", "auto_label_precision_estimate", "classifier_accuracy", "learning_curve", "seconds",
}
TOPICS = {
    "sport": ["match", "goal", "team", "coach", "league", "score", "player", "season"],
    "food": ["recipe", "bake", "flavour", "kitchen", "dinner", "spice", "oven", "salad"],
    "tech": ["laptop", "software", "update", "battery", "screen", "app", "server", "code"],
}


def _topic_data(n_per_class: int = 60, seed: int = 0) -> LabelledData:
    """A small 3-class set built here: sentences mixing topic words with shared filler."""
    rng = np.random.default_rng(seed)
    filler = ["the", "a", "today", "really", "new", "my", "our", "great", "bad", "very", "about", "again"]
    texts, labels = [], []
    for label, words in TOPICS.items():
        for i in range(n_per_class):
            bag = list(rng.choice(words, size=3)) + list(rng.choice(filler, size=4))
            rng.shuffle(bag)
            texts.append(" ".join(bag) + f" {label[0]}{i}")
            labels.append(label)
    return LabelledData(texts=texts, labels=labels, label_names=sorted(TOPICS))


CFG = SimulationConfig(human_budget=60, batch_size=10, seed=0)


def test_report_has_every_benchmark_key(fake_embedder, tmp_path):
    report = run_simulation(_topic_data(), CFG, cache_dir=tmp_path, embedder=fake_embedder)
    assert REPORT_KEYS <= set(report)
    assert report["pool_size"] == 144 and report["test_size"] == 36  # 180 rows, 20 % held out
    assert report["human_labels"] == 60 and report["auto_labels"] == 0
    assert report["coverage"] == pytest.approx(60 / 144, abs=1e-3)
    assert report["final_label_accuracy"] == 1.0  # a perfect simulated person
    assert [p["human_labels"] for p in report["learning_curve"]] == [10, 20, 30, 40, 50, 60]
    assert report["classifier_accuracy"] > 0.6  # three well-separated topics


def test_same_seed_same_report(fake_embedder, tmp_path):
    a = run_simulation(_topic_data(), CFG, cache_dir=tmp_path, embedder=fake_embedder)
    b = run_simulation(_topic_data(), CFG, cache_dir=tmp_path, embedder=fake_embedder)
    for report in (a, b):
        report.pop("seconds")
    assert a == b


def _spy_on_the_oracle(monkeypatch) -> list[str]:  # noqa: ANN001
    """The keys the simulated person is asked about, in order (filled as simulations run)."""
    from annotator.simulate import runner

    asked: list[str] = []
    original = runner.GoldOracle.answer

    def spy(self, key):  # noqa: ANN001, ANN202
        asked.append(key)
        return original(self, key)

    monkeypatch.setattr(runner.GoldOracle, "answer", spy)
    return asked


def _shuffle_unasked_gold(data: LabelledData, asked: list[str], cfg: SimulationConfig) -> LabelledData:
    """``data`` with the gold labels permuted among pool items the simulated person was never asked."""
    from annotator.simulate import runner

    _, test_idx = runner._split(data, cfg)
    keep = {int(k) for k in asked} | set(test_idx.tolist())
    labels = list(data.labels)
    free = [i for i in range(len(labels)) if i not in keep]
    for i, lab in zip(free, np.random.default_rng(1).permutation([labels[i] for i in free]), strict=True):
        labels[i] = lab
    assert sum(labels[i] != data.labels[i] for i in free) > 10  # the permutation changed something
    return LabelledData(data.texts, labels, data.label_names)


def test_gold_of_unqueried_items_is_never_read(fake_embedder, tmp_path, monkeypatch):
    """Permute the gold labels of every item the first run never asked about (test slice kept):
    if ranking, training or stopping read gold, the second run would diverge."""
    asked = _spy_on_the_oracle(monkeypatch)
    data = _topic_data()
    first = run_simulation(data, CFG, cache_dir=tmp_path, embedder=fake_embedder)
    shuffled = _shuffle_unasked_gold(data, asked, CFG)
    asked_before = list(asked)
    asked.clear()
    second = run_simulation(shuffled, CFG, cache_dir=tmp_path, embedder=fake_embedder)
    assert asked == asked_before
    assert first["learning_curve"] == second["learning_curve"]


def test_human_error_lowers_final_label_accuracy(fake_embedder, tmp_path):
    noisy = SimulationConfig(**{**CFG.__dict__, "human_error": 0.3})
    report = run_simulation(_topic_data(), noisy, cache_dir=tmp_path, embedder=fake_embedder)
    assert 0.5 < report["final_label_accuracy"] < 0.95


def test_compare_with_random_over_seeds(fake_embedder, tmp_path):
    result = simulate_many(_topic_data(), CFG, [0, 1], compare=["random"], cache_dir=tmp_path, embedder=fake_embedder)
    assert REPORT_KEYS <= set(result)
    assert {r["strategy"] for r in result["runs"]} == {"margin", "random"} and len(result["runs"]) == 4
    assert set(result["comparison"]) == {"margin", "random"}
    assert "vs random" in result["labels_needed"]["random"]["sentence"]
    assert result["seeds"] == [0, 1]


def test_one_class_label_column_is_rejected(tmp_path):
    path = tmp_path / "one.csv"
    pd.DataFrame({"text": ["a", "b", "c"], "label": ["x", "x", "x"]}).to_csv(path, index=False)
    with pytest.raises(ValidationError, match="only one class"):
        load_labelled(path, "text", "label")


def test_missing_label_column_is_rejected(tmp_path):
    path = tmp_path / "d.csv"
    pd.DataFrame({"text": ["a", "b"], "gold": ["x", "y"]}).to_csv(path, index=False)
    with pytest.raises(InputFileError, match="gold"):
        load_labelled(path, "text", "label")


def test_kappa_average_stops_once_predictions_settle():
    stopper = KappaAverage(threshold=0.99, window=2)
    assert stopper.update(np.array([0, 1, 0, 1])) is None
    assert stopper.update(np.array([0, 0, 0, 1])) < 0.99
    stopper.update(np.array([0, 0, 0, 1]))
    assert stopper.stop_round is None
    stopper.update(np.array([0, 0, 0, 1]))
    assert stopper.stop_round == 3


def test_labels_needed_finds_the_first_round_at_target():
    curve = [{"human_labels": 10, "classifier_accuracy": 0.5}, {"human_labels": 20, "classifier_accuracy": 0.8},
             {"human_labels": 30, "classifier_accuracy": 0.9}]
    assert labels_needed(curve, 0.8) == 20 and labels_needed(curve, 0.95) is None


def test_ai_run_reports_coverage_per_round_and_the_labels_to_cover_the_pool(fake_embedder, tmp_path):
    data = _topic_data(n_per_class=120)
    cfg = SimulationConfig(human_budget=288, batch_size=24, seed=0, ai="knn,classifier", target_precision=0.9)
    report = run_simulation(data, cfg, cache_dir=tmp_path, embedder=fake_embedder)
    curve = report["learning_curve"]
    assert all({"coverage", "label_accuracy", "auto_labels"} <= set(p) for p in curve)
    covered = [p["coverage"] for p in curve]
    assert covered[0] < 1.0 and all(0 < c <= 1.0 for c in covered)
    full = report["human_labels_to_full_coverage"]
    if full is not None:  # the queue ran out once only auto items were left
        first = next(p for p in curve if p["coverage"] >= 1.0)
        assert full == {"human_labels": first["human_labels"], "label_accuracy": first["label_accuracy"],
                        "auto_labels": first["auto_labels"]}
        assert full["auto_labels"] > 0 and full["human_labels"] < report["pool_size"]
    else:
        assert covered[-1] < 1.0 and report["human_labels"] == 288


def test_router_calibration_audit_and_judge_never_read_gold(fake_embedder, tmp_path, monkeypatch):
    """The same permutation test with the AI on: gold of items the simulated person never answered
    is shuffled; if the AI annotators, calibration, router, audits or judge read it, the routes,
    thresholds, audit estimate or questions asked would change."""
    asked = _spy_on_the_oracle(monkeypatch)
    data = _topic_data(n_per_class=100)
    cfg = SimulationConfig(human_budget=150, batch_size=25, seed=0, ai="knn,zero-shot,classifier", target_precision=0.9)
    first = run_simulation(data, cfg, cache_dir=tmp_path, embedder=fake_embedder)
    assert first["ai_last_run"] and sum(first["ai_last_run"]["routes"].values()) > 0
    shuffled = _shuffle_unasked_gold(data, asked, cfg)
    asked_before = list(asked)
    asked.clear()
    second = run_simulation(shuffled, cfg, cache_dir=tmp_path, embedder=fake_embedder)
    assert asked == asked_before
    for key in ("ai_last_run", "auto_label_precision_estimate", "auto_labels", "judge_auroc", "confidence_auroc"):
        assert first[key] == second[key], key
    assert [p["classifier_accuracy"] for p in first["learning_curve"]] == \
        [p["classifier_accuracy"] for p in second["learning_curve"]]


@pytest.mark.parametrize("explore", [0.0, 0.5])
def test_explore_fraction_sets_the_share_of_the_queue_served_at_random(fake_embedder, tmp_path, monkeypatch, explore):
    from annotator.active.ranking import EXPLORE_STRATEGY
    from annotator.service.queue import QueueService

    served: list[str | None] = []
    real_next = QueueService.next_item

    def spy(self, project, user=None):  # noqa: ANN001, ANN202 - records what the simulated person is shown
        item = real_next(self, project, user)
        if item is not None:
            served.append(item.strategy)
        return item

    monkeypatch.setattr(QueueService, "next_item", spy)
    cfg = SimulationConfig(human_budget=80, batch_size=20, seed=0, explore_fraction=explore)
    run_simulation(_topic_data(), cfg, cache_dir=tmp_path, embedder=fake_embedder)
    after_first_fit = served[20:]  # the first batch comes before any model, so no uncertainty ranking yet
    share = sum(s == EXPLORE_STRATEGY for s in after_first_fit) / len(after_first_fit)
    assert share == 0.0 if explore == 0.0 else 0.35 <= share <= 0.65


def test_the_cli_default_explore_fraction_is_the_project_default():
    import inspect

    from annotator.cli.simulate import simulate

    assert inspect.signature(simulate).parameters["explore_fraction"].default == SimulationConfig.explore_fraction


def test_dataset_bound_reaches_the_router_and_a_bad_one_is_refused(fake_embedder, tmp_path):
    from annotator.core.errors import ValidationError

    cfg = SimulationConfig(human_budget=60, batch_size=20, seed=0, ai="knn", target_accuracy=0.9,
                           explore_fraction=0.5, dataset_bound="anytime")
    report = run_simulation(_topic_data(), cfg, cache_dir=tmp_path, embedder=fake_embedder)
    assert report["config"]["dataset_bound"] == "anytime"
    assert report["ai_last_run"]["dataset_accuracy"]["bound"] == "anytime"
    assert report["random_share"] == 0.5
    default = run_simulation(_topic_data(), SimulationConfig(human_budget=40, batch_size=20, ai="knn",
                                                             target_accuracy=0.9), cache_dir=tmp_path,
                             embedder=fake_embedder)
    assert default["random_share"] == 0.2 and default["config"]["explore_fraction"] is None
    assert default["ai_last_run"]["dataset_accuracy"]["bound"] == "anytime"  # the project default
    with pytest.raises(ValidationError, match="clopper-pearson or anytime"):
        run_simulation(_topic_data(), SimulationConfig(dataset_bound="exact"), cache_dir=tmp_path,
                       embedder=fake_embedder)


def test_the_cli_default_dataset_bound_is_the_project_default():
    import inspect

    from annotator.cli.simulate import simulate

    assert inspect.signature(simulate).parameters["dataset_bound"].default == SimulationConfig.dataset_bound
