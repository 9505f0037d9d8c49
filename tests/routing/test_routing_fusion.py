"""The fused score is never clearly worse than its best member, and stacking still wins where
annotators know different things: fit_ensemble on fixed synthetic scores, judged on fresh items."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.annotators import ItemBatch, LabelContext
from annotator.routing import expected_calibration_error, fit_ensemble
from annotator.routing.fusion import FUSIONS, choose, select_fusion
from annotator.routing.temperature import apply_temperature, log_loss

N_TEST = 2000
SEEDS = (0, 1, 2)
#: "Within noise" of the good annotator alone, on 2,000 fresh items, mean over SEEDS.
AUROC_TOLERANCE = 0.01
ECE_TOLERANCE = 0.015


class TableAnnotator:
    """Fixed scores per item (the item's text is its row number): no context, no leakage."""

    version = "1"

    def __init__(self, name: str, scores: np.ndarray) -> None:
        self.name, self.scores = name, scores

    def predict_proba(self, batch: ItemBatch, context: LabelContext) -> np.ndarray:
        return self.scores[[int(t) for t in batch.texts]]


def _softmax(z: np.ndarray) -> np.ndarray:
    p = np.exp(z - z.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def one_good_many_noisy(seed: int, n: int, k: int = 3, n_noise: int = 10) -> tuple[list[TableAnnotator], np.ndarray]:
    """One annotator whose confidence carries signal (~85 % right), ``n_noise`` pure noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(k, size=n)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y] += 1.5 * rng.gamma(2.0, 1.0, size=n)
    noisy = [TableAnnotator(f"noise{j}", _softmax(rng.normal(scale=2.0, size=(n, k)))) for j in range(n_noise)]
    return [TableAnnotator("good", _softmax(logits)), *noisy], y


def complementary(seed: int, n: int, err: float = 0.05) -> tuple[list[TableAnnotator], np.ndarray]:
    """Four labels: ``group`` knows {0, 1} against {2, 3}, ``parity`` knows {0, 2} against {1, 3};
    each alone is right about half the time, together they know the label."""
    rng = np.random.default_rng(seed)
    y = rng.integers(4, size=n)

    def knows(key) -> np.ndarray:  # noqa: ANN001
        said = np.where(rng.random(n) < err, 1 - key(y), key(y))
        s = np.where(key(np.arange(4))[None, :] == said[:, None], 0.49, 0.01)
        return s / s.sum(axis=1, keepdims=True)

    return [TableAnnotator("group", knows(lambda v: v // 2)), TableAnnotator("parity", knows(lambda v: v % 2))], y


def _fit_and_score(annotators: list[TableAnnotator], y: np.ndarray, m: int, seed: int, **kw):  # noqa: ANN003
    """Fit on the first ``m`` items (the human labels); score the rest: (ensemble, fused (n, k),
    per annotator calibrated (n, k), their labels)."""
    k = int(y.max()) + 1
    ctx = LabelContext(label_names=[f"l{j}" for j in range(k)], texts=[str(i) for i in range(m)],
                       embeddings=np.zeros((m, 1), np.float32), labels=y[:m])
    ens = fit_ensemble(annotators, ctx, seed=seed, **kw)
    batch = ItemBatch([str(i) for i in range(m, len(y))], np.zeros((len(y) - m, 1), np.float32))
    raw = [a.predict_proba(batch, ctx) for a in annotators]
    return ens, ens.combine(raw), [apply_temperature(p, t) for p, t in zip(raw, ens.temperatures)], y[m:]


def _auroc_ece(proba: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """AUROC of the confidence against correctness, and ECE, of (n, k) ``proba``."""
    from sklearn.metrics import roc_auc_score

    correct = proba.argmax(axis=1) == y
    return float(roc_auc_score(correct, proba.max(axis=1))), expected_calibration_error(proba, y)


def _gaps(fusion: str | None, m: int = 60) -> tuple[float, float, list[str]]:
    """Mean over SEEDS of (fused AUROC − good AUROC, fused ECE − good ECE) and the rules chosen."""
    d_auroc, d_ece, chosen = [], [], []
    for seed in SEEDS:
        annotators, y = one_good_many_noisy(seed, m + N_TEST)
        ens, fused, calibrated, truth = _fit_and_score(annotators, y, m, seed, fusion=fusion)
        (fa, fe), (ga, ge) = _auroc_ece(fused, truth), _auroc_ece(calibrated[0], truth)
        d_auroc.append(fa - ga)
        d_ece.append(fe - ge)
        chosen.append(ens.fusion)
    return float(np.mean(d_auroc)), float(np.mean(d_ece)), chosen


def test_with_one_good_annotator_among_noise_the_fused_score_is_as_good_as_it():
    d_auroc, d_ece, chosen = _gaps(None)
    assert d_auroc >= -AUROC_TOLERANCE and d_ece <= ECE_TOLERANCE, (d_auroc, d_ece, chosen)


def test_the_data_is_hard_enough_that_always_stacking_fails_the_same_check():
    """Always stacking (the rule before the choice) fits the noise of 10 annotators on 60 labels."""
    d_auroc, d_ece, chosen = _gaps("stacker")
    assert set(chosen) == {"stacker"}
    assert d_auroc < -AUROC_TOLERANCE or d_ece > ECE_TOLERANCE, (d_auroc, d_ece)


@pytest.mark.parametrize("seed", [0, 1])
def test_when_two_annotators_are_complementary_the_stacker_wins(seed):
    annotators, y = complementary(seed, 100 + N_TEST)
    ens, fused, calibrated, truth = _fit_and_score(annotators, y, 100, seed)
    assert ens.fusion == "stacker"
    report = ens.fusion_report
    assert report["choice"] == "stacker" and set(report["oof_log_loss"]) == set(FUSIONS)
    assert report["margin"] > 0.1  # far past the tolerance: each member alone is a coin toss between two
    best_single = max((p.argmax(axis=1) == truth).mean() for p in calibrated)
    assert (fused.argmax(axis=1) == truth).mean() > best_single + 0.3
    assert log_loss(fused, truth) < min(log_loss(p, truth) for p in calibrated) - 0.2


def test_the_routers_input_is_the_chosen_rules_out_of_fold_prediction():
    annotators, y = one_good_many_noisy(0, 60)
    ctx = LabelContext(label_names=["a", "b", "c"], texts=[str(i) for i in range(60)],
                       embeddings=np.zeros((60, 1), np.float32), labels=y)
    ens = fit_ensemble(annotators, ctx, seed=0)
    assert ens.fusion == "best" and ens.fusion_report["best_annotator"] == "good"
    assert log_loss(ens.oof_proba, y) == pytest.approx(ens.fusion_report["oof_log_loss"]["best"], abs=1e-4)
    summary = ens.per_annotator["ensemble"]
    assert summary["fusion"]["choice"] == "best" and summary["oof_log_loss"] == pytest.approx(
        ens.fusion_report["oof_log_loss"]["best"], abs=1e-4)
    assert {"good", "noise0", "ensemble"} <= set(ens.per_annotator)


def test_choose_prefers_the_simpler_rule_within_noise():
    rng = np.random.default_rng(0)
    base = rng.exponential(0.4, size=200)
    swing = 0.5 * np.where(np.arange(200) % 2, 1.0, -1.0)  # mean exactly 0, standard error 0.035
    noisy_gain = base - 0.01 + swing  # 0.01 better on average: less than one standard error
    assert choose({"best": base, "mean": base + 0.2, "stacker": noisy_gain}) == "best"
    assert choose({"best": base, "mean": base + 0.2, "stacker": base - 0.1}) == "stacker"
    assert choose({"best": base, "stacker": noisy_gain}, z=0.0) == "stacker"  # without the noise rule it would win
    assert choose({"best": base + 0.003, "stacker": base}, z=0.0) == "best"  # inside the tolerance
    assert choose({"mean": base, "stacker": base - 0.05}, tolerance=0.1, z=0.0) == "mean"


def test_a_forced_rule_is_still_scored_out_of_fold_and_few_labels_cannot_stack():
    annotators, y = one_good_many_noisy(1, 20, n_noise=2)
    raw = [a.scores for a in annotators]
    folds = np.arange(20) % 5
    few = select_fusion(raw, y, folds, 3)
    assert set(few.log_loss) == {"best", "mean"}  # 20 labels: no stacker
    forced = select_fusion(raw, y, folds, 3, only="mean")
    assert forced.name == "mean" and forced.oof_proba.shape == (20, 3)
    with pytest.raises(ValueError, match="unknown fusion rule"):
        select_fusion(raw, y, folds, 3, only="median")
