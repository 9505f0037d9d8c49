"""``HashingEmbedder``: the deterministic, model-free fake embedder for tests and demos."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np


@lru_cache(maxsize=4)
def _projection(n_features: int, dim: int, seed: int) -> np.ndarray:
    """(n_features, dim) float32 Gaussian matrix scaled by 1/sqrt(dim); read-only, shared.

    Cached because tests build many embedders and drawing the matrix is the only slow step.
    """
    rng = np.random.default_rng(seed)
    matrix = rng.standard_normal((n_features, dim), dtype=np.float32)
    matrix *= np.float32(1.0 / np.sqrt(dim))
    matrix.setflags(write=False)
    return matrix


class HashingEmbedder:
    """Word 1–2-grams and character 3–4-grams, hashed, then a fixed random projection, L2-normalised.

    Deterministic across processes (fixed seed, no model), tens of thousands of texts/s; texts
    that share words or word pieces get nearby vectors (Johnson–Lindenstrauss keeps the cosine of
    the hashed n-gram vectors approximately).

    Args:
        dim: output vector length.
        n_features: hash buckets before projection; 2**14 keeps the projection at
            n_features × dim × 4 bytes (25 MB at dim 384) with few harmful collisions.
        seed: seed of the projection; part of ``name`` when not 0.
    """

    def __init__(self, dim: int = 384, *, n_features: int = 2**14, seed: int = 0):
        from sklearn.feature_extraction.text import HashingVectorizer  # lazy: sklearn import is slow

        self.dim = int(dim)
        self.name = f"hashing-{self.dim}" + (f"-s{seed}" if seed else "") + (
            f"-f{n_features}" if n_features != 2**14 else "")
        self._words = HashingVectorizer(n_features=n_features, alternate_sign=False, ngram_range=(1, 2), norm="l2",
                                        dtype=np.float32)
        self._chars = HashingVectorizer(n_features=n_features, alternate_sign=False, analyzer="char_wb",
                                        ngram_range=(3, 4), norm="l2", dtype=np.float32)
        self._projection = _projection(n_features, self.dim, seed)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float32, rows of norm 1 (a text with no n-grams, e.g. "", gives a zero row)."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Characters weigh half: word overlap should dominate, shared stems still count.
        sparse = self._words.transform(texts) + 0.5 * self._chars.transform(texts)
        dense = np.asarray(sparse @ self._projection, dtype=np.float32)
        norms = np.linalg.norm(dense, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return dense / norms
