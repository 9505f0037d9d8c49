"""Calibration and fusion of AI annotators, cross-fitted on the human labels.

Raw annotator scores are not probabilities. For every human-labelled item we compute each
annotator's *out-of-fold* scores (the item's own label never informs its own score), fit one
temperature per annotator on them, and fuse the calibrated probabilities with the rule
(``fusion.FUSIONS``: best single annotator, plain average, or a stacking logistic regression)
that has the lowest out-of-fold log loss on the same folds. That rule's own out-of-fold
predictions are what the router uses to choose thresholds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from annotator.annotators.base import AIAnnotator, ItemBatch, LabelContext
from annotator.routing import fusion as fusion_m
from annotator.routing.temperature import EPS, apply_temperature, fit_temperature, log_loss

__all__ = ["EPS", "Ensemble", "apply_temperature", "expected_calibration_error", "fit_ensemble", "fit_temperature",
           "fold_batches", "log_loss", "out_of_fold", "reliability"]


def expected_calibration_error(proba: np.ndarray, labels: np.ndarray, n_bins: int = 10) -> float:
    """ECE: mean |accuracy − confidence| over equal-width confidence bins, weighted by bin size."""
    conf = proba.max(axis=1)
    correct = proba.argmax(axis=1) == labels
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        mask = bins == b
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - conf[mask].mean())
    return float(ece)


def reliability(proba: np.ndarray, labels: np.ndarray, n_bins: int = 10) -> list[dict[str, float]]:
    """Points of a reliability diagram: per confidence bin, mean confidence, accuracy, count."""
    conf = proba.max(axis=1)
    correct = proba.argmax(axis=1) == labels
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    return [{"confidence": float(conf[bins == b].mean()), "accuracy": float(correct[bins == b].mean()),
             "count": int((bins == b).sum())} for b in range(n_bins) if (bins == b).any()]


def _folds(n: int, n_folds: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).permutation(n) % n_folds


def fold_batches(context: LabelContext, *, n_folds: int = 5, seed: int = 0,
                 ) -> Iterator[tuple[np.ndarray, ItemBatch, LabelContext]]:
    """Per fold of the labelled items: (test mask (m,), the fold's items, the context without them).

    These are the calls ``out_of_fold`` makes, so an LLM's cost estimate can count the prompts of
    the calibration before any is sent."""
    m = len(context.labels)
    folds = _folds(m, min(n_folds, m), seed)
    for f in np.unique(folds):
        test, train = folds == f, folds != f
        sub = LabelContext(
            label_names=context.label_names, label_descriptions=context.label_descriptions,
            label_embeddings=context.label_embeddings, texts=[t for t, keep in zip(context.texts, train) if keep],
            embeddings=context.embeddings[train], labels=context.labels[train],
        )
        batch = ItemBatch(texts=[t for t, keep in zip(context.texts, test) if keep], embeddings=context.embeddings[test])
        yield test, batch, sub


def out_of_fold(annotator: AIAnnotator, context: LabelContext, *, n_folds: int = 5, seed: int = 0) -> np.ndarray:
    """(m, k) scores of ``annotator`` on each labelled item, with that item's fold held out of the context."""
    out = np.zeros((len(context.labels), context.n_labels), dtype=np.float32)
    for test, batch, sub in fold_batches(context, n_folds=n_folds, seed=seed):
        out[test] = annotator.predict_proba(batch, sub)
    return out


@dataclass
class Ensemble:
    """Calibrated, fused annotators, fitted on the human labels of one moment.

    Attributes:
        fusion: the rule (a key of ``fusion.FUSIONS``) that turns the calibrated probabilities into one.
        params: that rule's fitted state (annotator index, None, or the stacking model).
        oof_proba: (m, k) the chosen rule's out-of-fold fused probabilities of the labelled items.
        fusion_report: ``FusionChoice.as_dict``: every candidate's out-of-fold log loss and the margin.
    """

    annotators: list[AIAnnotator]
    temperatures: list[float]
    fusion: str
    params: object
    n_labels: int
    oof_proba: np.ndarray
    oof_labels: np.ndarray  # (m,)
    per_annotator: dict[str, dict[str, float]] = field(default_factory=dict)  # ECE and accuracy, OOF
    oof_calibrated: list[np.ndarray] = field(default_factory=list)  # per annotator (m, k), OOF, temperature applied
    fusion_report: dict[str, object] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return "ensemble(" + "+".join(a.name for a in self.annotators) + ")"

    @property
    def version(self) -> str:
        return "|".join(f"{a.name}:{a.version}" for a in self.annotators)

    def predict_proba(self, batch: ItemBatch, context: LabelContext) -> np.ndarray:
        raw = [a.predict_proba(batch, context) for a in self.annotators]
        return self.combine(raw)

    def calibrate(self, raw: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Each annotator's (n, k) raw scores with its temperature applied, in annotator order."""
        return [apply_temperature(p, t) for p, t in zip(raw, self.temperatures, strict=True)]

    def combine(self, raw: Sequence[np.ndarray]) -> np.ndarray:
        """(n, k) fused probabilities from each annotator's (n, k) raw scores, by the chosen rule."""
        return fusion_m.FUSIONS[self.fusion].apply(self.params, self.calibrate(raw), self.n_labels)


def fit_ensemble(annotators: Sequence[AIAnnotator], context: LabelContext, *, seed: int = 0,
                 fusion: str | None = None, tolerance: float = fusion_m.TOLERANCE,
                 z: float = fusion_m.Z_NOISE) -> Ensemble:
    """Cross-fit, calibrate and fuse ``annotators`` on the human labels in ``context``.

    Args:
        fusion: force one rule of ``fusion.FUSIONS``; None chooses by out-of-fold log loss.
        tolerance, z: a more complex rule is chosen over a simpler one only if it gains more than
            ``max(tolerance, z × standard error)`` nats per item (``fusion.choose``).
    """
    labels = np.asarray(context.labels, dtype=np.int64)
    k = context.n_labels
    m = len(labels)
    oof = [out_of_fold(a, context, seed=seed) for a in annotators]
    # The same folds as the annotators' own out-of-fold scores: every rule is judged on items
    # whose labels neither the annotators nor the rule saw.
    choice = fusion_m.select_fusion(oof, labels, _folds(m, min(5, m), seed), k, tolerance=tolerance, z=z,
                                   only=fusion)
    temperatures = [fit_temperature(p, labels) for p in oof]
    calibrated = [apply_temperature(p, t) for p, t in zip(oof, temperatures, strict=True)]
    rule = fusion_m.FUSIONS[choice.name]
    params = rule.fit(calibrated, labels, k)
    names = [a.name for a in annotators]
    ens = Ensemble(list(annotators), temperatures, choice.name, params, k, choice.oof_proba.astype(np.float32),
                   labels, oof_calibrated=calibrated,
                   fusion_report=choice.as_dict(names, int(params) if choice.name == "best" else None))
    for a, p, t, cal in zip(annotators, oof, temperatures, calibrated, strict=True):
        ens.per_annotator[a.name] = {
            "temperature": round(t, 4), "oof_accuracy": round(float((cal.argmax(1) == labels).mean()), 4),
            "ece_raw": round(expected_calibration_error(p, labels), 4),
            "ece_calibrated": round(expected_calibration_error(cal, labels), 4),
            "oof_log_loss": round(log_loss(cal, labels), 4),
            "reliability": reliability(cal, labels),
        }
    ens.per_annotator["ensemble"] = {
        "oof_accuracy": round(float((ens.oof_proba.argmax(1) == labels).mean()), 4),
        "ece_calibrated": round(expected_calibration_error(ens.oof_proba, labels), 4),
        "oof_log_loss": round(log_loss(ens.oof_proba, labels), 4),
        "fusion": ens.fusion_report,
        "reliability": reliability(ens.oof_proba, labels),
    }
    return ens
