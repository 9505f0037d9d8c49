"""Fusing calibrated annotators into one score, and choosing how by out-of-fold log loss.

Three named rules (``FUSIONS``, simplest first) turn the per-annotator calibrated probabilities
(each n_items × n_labels) into one (n_items × n_labels) matrix:

- ``best``: the single annotator with the lowest log loss on the labels it is fitted on;
- ``mean``: the plain average of the calibrated probabilities;
- ``stacker``: a multinomial logistic regression on the calibrated log-probabilities.

A stacker can learn what no single member knows (two annotators right on different labels), but
on few labels and many weak annotators it fits their noise and its confidence stops ranking right
answers first. So every rule is scored out of fold on the human labels, with the same folds and
with the temperatures refitted inside each fold, and the simplest rule within ``TOLERANCE`` of the
lowest log loss wins: the fused score is then never clearly worse than its best member.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from annotator.routing.temperature import apply_temperature, fit_temperature, log_loss, safe_log

#: Nats per item a more complex rule must gain over a simpler one to be chosen instead: below
#: it the difference is noise of the folds, and the simpler rule generalises better.
TOLERANCE = 0.005
#: Standard errors of the paired per-item difference a more complex rule must gain by (the
#: one-standard-error rule): the folds' log loss of a flexible rule is itself noisy, and a stacker
#: that wins by less on a hundred labels often loses on the next thousand items. Two standard
#: errors kept the best single annotator too long where stacking really helps (3,000 tickets:
#: 15 % more human labels to cover the pool), so one.
Z_NOISE = 1.0
#: The stacker is a candidate only with this many human labels and MIN_PER_CLASS of each label.
MIN_FOR_STACKING = 30
MIN_PER_CLASS = 5


@dataclass(frozen=True)
class FusionRule:
    """One way to fuse: ``fit(calibrated, labels, n_labels) → params``, then
    ``apply(params, calibrated, n_labels) → (n, k)``; ``calibrated`` holds one (n, k) matrix per annotator."""

    fit: Callable[[Sequence[np.ndarray], np.ndarray, int], object]
    apply: Callable[[object, Sequence[np.ndarray], int], np.ndarray]
    describe: str


def _fit_best(calibrated: Sequence[np.ndarray], labels: np.ndarray, n_labels: int) -> int:
    """Index of the annotator with the lowest log loss on ``labels``."""
    return int(np.argmin([log_loss(p, labels) for p in calibrated]))


def _apply_best(params: object, calibrated: Sequence[np.ndarray], n_labels: int) -> np.ndarray:
    return np.asarray(calibrated[int(params)], dtype=np.float32)


def _fit_mean(calibrated: Sequence[np.ndarray], labels: np.ndarray, n_labels: int) -> None:
    return None


def _apply_mean(params: object, calibrated: Sequence[np.ndarray], n_labels: int) -> np.ndarray:
    return np.mean(np.stack(calibrated), axis=0).astype(np.float32)


def stack_features(calibrated: Sequence[np.ndarray]) -> np.ndarray:
    """(n, n_annotators × k) calibrated log-probabilities side by side, the stacker's input."""
    return np.hstack([safe_log(p) for p in calibrated])


def _fit_stacker(calibrated: Sequence[np.ndarray], labels: np.ndarray, n_labels: int) -> object:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1.0, max_iter=1000).fit(stack_features(calibrated), labels)


def _apply_stacker(params: object, calibrated: Sequence[np.ndarray], n_labels: int) -> np.ndarray:
    feats = stack_features(calibrated)
    proba = np.zeros((len(feats), n_labels), dtype=np.float32)
    proba[:, params.classes_] = params.predict_proba(feats)  # a label no training item had stays at 0
    return proba


#: The fusion rules, simplest first: on a tie within TOLERANCE the earlier one wins.
FUSIONS: dict[str, FusionRule] = {
    "best": FusionRule(_fit_best, _apply_best, "the best single calibrated annotator"),
    "mean": FusionRule(_fit_mean, _apply_mean, "the average of the calibrated probabilities"),
    "stacker": FusionRule(_fit_stacker, _apply_stacker, "logistic regression on the calibrated log-probabilities"),
}


def stacking_possible(labels: np.ndarray, n_labels: int) -> bool:
    """Whether the human labels (m,) are enough to fit (and cross-fit) a stacker at all."""
    counts = np.bincount(labels, minlength=n_labels)
    present = counts[counts > 0]
    return len(labels) >= MIN_FOR_STACKING and len(present) >= 2 and int(present.min()) >= MIN_PER_CLASS


def candidate_names(labels: np.ndarray, n_labels: int, n_annotators: int) -> list[str]:
    """The rules worth trying: with one annotator only ``best`` and ``stacker`` differ."""
    names = ["best"] if n_annotators == 1 else ["best", "mean"]
    if stacking_possible(labels, n_labels):
        names.append("stacker")
    return names


def cross_fit(raw_oof: Sequence[np.ndarray], labels: np.ndarray, folds: np.ndarray, n_labels: int,
              names: Sequence[str]) -> dict[str, np.ndarray]:
    """Out-of-fold fused probabilities (m, k) of every rule in ``names``, on the same ``folds``.

    In each fold the temperatures and the rule are fitted on the other folds' items only, so
    the rule's score of an item never saw that item's label. A rule that cannot be fitted on
    some fold (a training part with one label only, for the stacker) is left out.

    Args:
        raw_oof: per annotator, (m, k) raw out-of-fold scores of the human-labelled items.
        labels: (m,) their human labels; folds: (m,) fold index of each item.
    """
    out = {name: np.zeros((len(labels), n_labels), dtype=np.float32) for name in names}
    failed: set[str] = set()
    for f in np.unique(folds):
        test, train = folds == f, folds != f
        if not train.any():
            continue
        temps = [fit_temperature(p[train], labels[train]) for p in raw_oof]
        cal_train = [apply_temperature(p[train], t) for p, t in zip(raw_oof, temps, strict=True)]
        cal_test = [apply_temperature(p[test], t) for p, t in zip(raw_oof, temps, strict=True)]
        for name in names:
            if name == "stacker" and len(np.unique(labels[train])) < 2:
                failed.add(name)
                continue
            rule = FUSIONS[name]
            out[name][test] = rule.apply(rule.fit(cal_train, labels[train], n_labels), cal_test, n_labels)
    return {name: p for name, p in out.items() if name not in failed}


def choose(item_losses: dict[str, np.ndarray], tolerance: float = TOLERANCE, z: float = Z_NOISE) -> str:
    """The simplest rule (``FUSIONS`` order) whose log loss is within noise of the lowest.

    Within noise: its mean excess loss over the lowest rule, item by item on the same items, is at
    most ``max(tolerance, z × standard error of that paired difference)``.

    Args:
        item_losses: per rule, (m,) out-of-fold negative log-likelihood of each human label.
    """
    finite = {n: v for n, v in item_losses.items() if np.isfinite(v).all() and len(v)}
    if not finite:
        raise ValueError("no fusion rule could be scored")
    lowest = min(finite, key=lambda n: finite[n].mean())
    for name in FUSIONS:
        if name not in finite:
            continue
        diff = finite[name] - finite[lowest]
        noise = z * float(diff.std(ddof=1)) / np.sqrt(len(diff)) if len(diff) > 1 else 0.0
        if diff.mean() <= max(tolerance, noise):
            return name
    return lowest


@dataclass
class FusionChoice:
    """Which rule fuses the annotators, and the evidence.

    Attributes:
        name: the chosen rule (a key of ``FUSIONS``).
        log_loss: per candidate rule, its out-of-fold log loss on the human labels (nats per item).
        oof_proba: (m, k) the chosen rule's out-of-fold fused probabilities (the router's input).
        tolerance: the margin a more complex rule had to win by.
        candidates_oof: per candidate rule, its (m, k) out-of-fold probabilities.
    """

    name: str
    log_loss: dict[str, float]
    oof_proba: np.ndarray
    tolerance: float = TOLERANCE
    candidates_oof: dict[str, np.ndarray] = field(default_factory=dict)

    def as_dict(self, annotator_names: Sequence[str] = (), best_index: int | None = None) -> dict[str, object]:
        """JSON-ready: ``choice``, every candidate's ``oof_log_loss``, the ``runner_up`` and the
        ``margin`` (its log loss minus the choice's; negative when a simpler rule won within the
        tolerance) and, for ``best``, which annotator it is."""
        others = {n: v for n, v in self.log_loss.items() if n != self.name}
        runner_up = min(others, key=others.get) if others else None
        out: dict[str, object] = {
            "choice": self.name, "describe": FUSIONS[self.name].describe,
            "oof_log_loss": {n: round(v, 4) for n, v in self.log_loss.items()},
            "runner_up": runner_up,
            "margin": None if runner_up is None else round(others[runner_up] - self.log_loss[self.name], 4),
            "tolerance": self.tolerance,
        }
        if best_index is not None and annotator_names:
            out["best_annotator"] = annotator_names[best_index]
        return out


def select_fusion(raw_oof: Sequence[np.ndarray], labels: np.ndarray, folds: np.ndarray, n_labels: int, *,
                  tolerance: float = TOLERANCE, z: float = Z_NOISE, only: str | None = None) -> FusionChoice:
    """Cross-fit every candidate rule on ``folds`` and choose by out-of-fold log loss.

    Args:
        raw_oof: per annotator, (m, k) raw out-of-fold scores; labels: (m,); folds: (m,).
        only: force one rule (it is still cross-fitted, so its out-of-fold figures stay honest).
    """
    names = candidate_names(labels, n_labels, len(raw_oof))
    if only is not None:
        if only not in FUSIONS:
            raise ValueError(f"unknown fusion rule {only!r}: expected one of {', '.join(FUSIONS)}")
        names = [only] if only != "stacker" or stacking_possible(labels, n_labels) else ["mean"]
    oof = cross_fit(raw_oof, labels, folds, n_labels, names)
    rows = np.arange(len(labels))
    item_losses = {n: -safe_log(p[rows, labels]) for n, p in oof.items()}
    name = choose(item_losses, tolerance, z)
    losses = {n: float(v.mean()) for n, v in item_losses.items()}
    return FusionChoice(name, losses, oof[name], tolerance, oof)
