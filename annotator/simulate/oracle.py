"""The simulated person: the only reader of the gold column during a run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


class GoldOracle:
    """Answers from gold, wrong with probability ``human_error`` (a uniformly chosen other label).

    Every read is counted, so tests can prove nothing else looks at gold.
    """

    def __init__(self, gold: Mapping[str, str], labels: Sequence[str], *, human_error: float = 0.0, seed: int = 0):
        if not 0.0 <= human_error < 1.0:
            raise ValueError(f"human_error must be in [0, 1), got {human_error}")
        self._gold = dict(gold)
        self._labels = list(labels)
        self._error = human_error
        self._rng = np.random.default_rng([seed, 7])  # own stream: the error draws never shift the queue's
        self.reads = 0

    def answer(self, key: str) -> str:
        """The simulated person's label for the item with external id ``key``."""
        self.reads += 1
        truth = self._gold[key]
        if self._error and self._rng.random() < self._error:
            others = [label for label in self._labels if label != truth]
            return others[int(self._rng.integers(len(others)))]
        return truth
