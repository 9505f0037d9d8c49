"""The ``classifier`` AI annotator backed by a promoted fine-tuned version.

The version stored its probabilities for every pool item when it was promoted (``proba.npy``).
This annotator answers from them, keyed by text hash, for every item the version did NOT train
on (its held-out slice and everything unlabelled then); for its own training items, whose scores
are in-sample and over-confident, it falls back to the fast classifier, so the router's
out-of-fold calibration is not fooled by memorised labels.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from annotator.annotators import AIAnnotator, ItemBatch, LabelContext
from annotator.embeddings import text_hash


class PromotedClassifierAnnotator:
    """Answers with ``proba_by_hash`` (text hash → (k,) probabilities) where it has them, else with ``fallback``."""

    name: str = "classifier"
    needs_text: bool = True

    def __init__(self, proba_by_hash: Mapping[str, np.ndarray], fallback: AIAnnotator, version: str):
        self.proba_by_hash = proba_by_hash
        self.fallback = fallback
        self.version = version

    def predict_proba(self, batch: ItemBatch, context: LabelContext) -> np.ndarray:
        hashes = [text_hash(t) for t in batch.texts]
        known = np.fromiter((h in self.proba_by_hash for h in hashes), dtype=bool, count=len(hashes))
        out = np.zeros((len(hashes), context.n_labels), dtype=np.float32)
        if (~known).any():
            rest = ItemBatch(texts=[t for t, k in zip(batch.texts, known, strict=True) if not k],
                             embeddings=batch.embeddings[~known])
            out[~known] = self.fallback.predict_proba(rest, context)
        for row in np.flatnonzero(known):
            out[row] = self.proba_by_hash[hashes[row]]
        return out
