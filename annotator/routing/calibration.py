"""Calibration and fusion of AI annotators, cross-fitted on the human labels.

Raw annotator scores are not probabilities. For every human-labelled item we compute each
annotator's *out-of-fold* scores (the item's own label never informs its own score), fit one
temperature per annotator on them, and stack the calibrated log-probabilities with a small
multinomial logistic regression. The stacker's own out-of-fold predictions are what the
router uses to choose thresholds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from annotator.annotators.base import AIAnnotator, ItemBatch, LabelContext

EPS = 1e-6


def _log(p: np.ndarray) -> np.ndarray:
    return np.log(np.clip(p, EPS, 1.0))


def fit_temperature(proba: np.ndarray, labels: np.ndarray) -> float:
    """The T > 0 minimising the NLL of softmax(log p / T) on labelled items (T > 1 softens)."""
    from scipy.optimize import minimize_scalar

    logp = _log(proba)
    idx = np.arange(len(labels))

    def nll(log_t: float) -> float:
        z = logp / np.exp(log_t)
        z -= z.max(axis=1, keepdims=True)
        return float(-(z[idx, labels] - np.log(np.exp(z).sum(axis=1))).mean())

    return float(np.exp(minimize_scalar(nll, bounds=(-3.0, 3.0), method="bounded").x))


def apply_temperature(proba: np.ndarray, temperature: float) -> np.ndarray:
    z = _log(proba) / temperature
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    return z / z.sum(axis=1, keepdims=True)


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
    """Calibrated, stacked annotators, fitted on the human labels of one moment."""

    annotators: list[AIAnnotator]
    temperatures: list[float]
    stacker: object | None  # sklearn LogisticRegression, or None → mean of calibrated log-probs
    n_labels: int
    oof_proba: np.ndarray  # (m, k) fused out-of-fold probabilities of the labelled items
    oof_labels: np.ndarray  # (m,)
    per_annotator: dict[str, dict[str, float]] = field(default_factory=dict)  # ECE and accuracy, OOF
    oof_calibrated: list[np.ndarray] = field(default_factory=list)  # per annotator (m, k), OOF, temperature applied

    @property
    def name(self) -> str:
        return "ensemble(" + "+".join(a.name for a in self.annotators) + ")"

    @property
    def version(self) -> str:
        return "|".join(f"{a.name}:{a.version}" for a in self.annotators)

    def features(self, raw: Sequence[np.ndarray]) -> np.ndarray:
        return np.hstack([_log(apply_temperature(p, t)) for p, t in zip(raw, self.temperatures, strict=True)])

    def predict_proba(self, batch: ItemBatch, context: LabelContext) -> np.ndarray:
        raw = [a.predict_proba(batch, context) for a in self.annotators]
        return self.combine(raw)

    def calibrate(self, raw: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Each annotator's (n, k) raw scores with its temperature applied, in annotator order."""
        return [apply_temperature(p, t) for p, t in zip(raw, self.temperatures, strict=True)]

    def combine(self, raw: Sequence[np.ndarray]) -> np.ndarray:
        feats = self.features(raw)
        if self.stacker is None:
            k = self.n_labels
            z = feats.reshape(len(feats), len(raw), k).mean(axis=1)
            z -= z.max(axis=1, keepdims=True)
            p = np.exp(z)
            return (p / p.sum(axis=1, keepdims=True)).astype(np.float32)
        proba = np.zeros((len(feats), self.n_labels), dtype=np.float32)
        proba[:, self.stacker.classes_] = self.stacker.predict_proba(feats)
        return proba


def fit_ensemble(annotators: Sequence[AIAnnotator], context: LabelContext, *, seed: int = 0,
                 min_for_stacking: int = 30) -> Ensemble:
    """Cross-fit, calibrate and stack ``annotators`` on the human labels in ``context``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    labels = np.asarray(context.labels, dtype=np.int64)
    oof = [out_of_fold(a, context, seed=seed) for a in annotators]
    temperatures = [fit_temperature(p, labels) for p in oof]
    ens = Ensemble(list(annotators), temperatures, None, context.n_labels, np.zeros((0, context.n_labels)), labels)
    feats = ens.features(oof)
    counts = np.bincount(labels, minlength=context.n_labels)
    present = counts[counts > 0]
    if len(labels) >= min_for_stacking and len(present) >= 2 and present.min() >= 5:
        stacker = LogisticRegression(C=1.0, max_iter=1000)
        n_folds = int(min(5, present.min()))
        fused = np.zeros((len(labels), context.n_labels))
        fused[:, np.unique(labels)] = cross_val_predict(stacker, feats, labels, cv=n_folds, method="predict_proba")
        ens.stacker = stacker.fit(feats, labels)
        ens.oof_proba = fused.astype(np.float32)
    else:
        ens.oof_proba = ens.combine(oof)
    ens.oof_calibrated = ens.calibrate(oof)
    for a, p, t, cal in zip(annotators, oof, temperatures, ens.oof_calibrated, strict=True):
        ens.per_annotator[a.name] = {
            "temperature": round(t, 4), "oof_accuracy": round(float((cal.argmax(1) == labels).mean()), 4),
            "ece_raw": round(expected_calibration_error(p, labels), 4),
            "ece_calibrated": round(expected_calibration_error(cal, labels), 4),
            "reliability": reliability(cal, labels),
        }
    ens.per_annotator["ensemble"] = {
        "oof_accuracy": round(float((ens.oof_proba.argmax(1) == labels).mean()), 4),
        "ece_calibrated": round(expected_calibration_error(ens.oof_proba, labels), 4),
        "reliability": reliability(ens.oof_proba, labels),
    }
    return ens
