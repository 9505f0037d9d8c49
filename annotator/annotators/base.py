"""The AI-annotator plug-in seam: a batch of items in, per-label probabilities out.

An annotator never sees gold or the router's decisions; it sees the items to label and the
*context* a person has built so far (label names and descriptions, the human-labelled items).
Its output is a raw score matrix; calibration (``annotator.routing.calibration``) turns raw
scores into probabilities on the human-labelled items.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class LabelContext:
    """What a person has taught so far.

    Attributes:
        label_names: (k,) the project's labels, in column order of every proba matrix.
        label_descriptions: (k,) one line each ("" when none).
        label_embeddings: (k, d) embeddings of "name: description", L2-normalised.
        texts: (m,) texts of the human-labelled items.
        embeddings: (m, d) their embeddings.
        labels: (m,) class index of each labelled item.
        random_pick: (m,) bool, True where the item was served at random (calibration slice or
            audit) rather than by the uncertainty ranking; None when unknown.
    """

    label_names: Sequence[str]
    label_descriptions: Sequence[str] = ()
    label_embeddings: np.ndarray | None = None
    texts: Sequence[str] = ()
    embeddings: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    labels: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    random_pick: np.ndarray | None = None

    @property
    def n_labels(self) -> int:
        return len(self.label_names)


@dataclass(frozen=True)
class ItemBatch:
    """Items to label: ``texts`` (n,) and their ``embeddings`` (n, d)."""

    texts: Sequence[str]
    embeddings: np.ndarray


@runtime_checkable
class AIAnnotator(Protocol):
    """One method: label a batch. ``name`` and ``version`` go into every suggestion's provenance."""

    name: str
    version: str

    def predict_proba(self, batch: ItemBatch, context: LabelContext) -> np.ndarray:
        """(n, k) scores in [0, 1], rows summing to 1 (single-label)."""
        ...
