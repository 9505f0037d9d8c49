"""Synthetic pools for the active-learning tests: unit vectors around well-separated centres."""

from __future__ import annotations

import numpy as np


def make_blobs(n_per: int, n_blobs: int, d: int = 16, noise: float = 0.15, seed: int = 0):
    """(X, blob): ``n_blobs × n_per`` L2-normalised float32 rows around random unit centres,
    with (n_blobs × n_per,) int blob ids."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_blobs, d))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    blob = np.repeat(np.arange(n_blobs), n_per)
    x = centres[blob] + rng.normal(scale=noise, size=(len(blob), d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32), blob
