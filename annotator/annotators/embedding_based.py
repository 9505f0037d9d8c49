"""Cheap AI annotators on the cached sentence embeddings: zero-shot, kNN, and the classifier."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from annotator.active.classifier import fit_classifier
from annotator.active.cold_start import zero_shot_proba
from annotator.annotators.base import ItemBatch, LabelContext


def _uniform(n: int, k: int) -> np.ndarray:
    return np.full((n, k), 1.0 / k, dtype=np.float32)


@dataclass
class ZeroShotAnnotator:
    """Similarity of each item to the label names and descriptions (no labels needed)."""

    temperature: float = 0.05
    name: str = "zero-shot"
    version: str = "1"
    needs_text: bool = False  # embeddings suffice: the service skips loading texts

    def predict_proba(self, batch: ItemBatch, context: LabelContext) -> np.ndarray:
        if context.label_embeddings is None:
            return _uniform(len(batch.texts), context.n_labels)
        return zero_shot_proba(batch.embeddings, context.label_embeddings, self.temperature)


@dataclass
class KnnAnnotator:
    """Similarity-weighted vote of the ``k`` nearest human-labelled items, Laplace-smoothed."""

    k: int = 10
    name: str = "knn"
    version: str = "1"
    needs_text: bool = False

    def predict_proba(self, batch: ItemBatch, context: LabelContext) -> np.ndarray:
        n, n_labels = len(batch.texts), context.n_labels
        if len(context.labels) == 0:
            return _uniform(n, n_labels)
        k = min(self.k, len(context.labels))
        out = np.empty((n, n_labels), dtype=np.float32)
        for start in range(0, n, 4096):  # bounded (chunk × m) similarity blocks
            sim = batch.embeddings[start:start + 4096] @ context.embeddings.T
            nearest = np.argpartition(-sim, k - 1, axis=1)[:, :k]
            weights = np.clip(np.take_along_axis(sim, nearest, axis=1), 0.0, None)
            votes = np.zeros((len(sim), n_labels), dtype=np.float32)
            np.add.at(votes, (np.repeat(np.arange(len(sim)), k), context.labels[nearest].ravel()), weights.ravel())
            votes += 1.0 / n_labels  # smoothing: k tied neighbours never give certainty
            out[start:start + len(sim)] = votes / votes.sum(axis=1, keepdims=True)
        return out


@dataclass
class ClassifierAnnotator:
    """The project's own logistic-regression probe, fit on the human labels in ``context``."""

    name: str = "classifier"
    version: str = "1"
    needs_text: bool = False

    def predict_proba(self, batch: ItemBatch, context: LabelContext) -> np.ndarray:
        if len(np.unique(context.labels)) < 2:
            return _uniform(len(batch.texts), context.n_labels)
        model = fit_classifier(context.embeddings, context.labels, context.n_labels)
        return model.predict_proba(batch.embeddings)
