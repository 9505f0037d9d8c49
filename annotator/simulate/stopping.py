"""A stopping signal that needs no gold: stability of the classifier's pool predictions.

Like small-text's KappaAverage (Bloodgood & Vijay-Shanker 2009): after each round, Cohen's kappa
between this round's and the previous round's predicted labels on the pool; once the mean of the
last ``window`` kappas reaches ``threshold``, further labels barely change the model.
"""

from __future__ import annotations

import numpy as np


class KappaAverage:
    def __init__(self, threshold: float = 0.99, window: int = 3):
        self.threshold = threshold
        self.window = window
        self.kappas: list[float] = []
        self._previous: np.ndarray | None = None
        self.stop_round: int | None = None
        self.stop_human_labels: int | None = None

    def update(self, predictions: np.ndarray | None) -> float | None:
        """Feed this round's predicted class per pool item (n,); returns this round's kappa."""
        from sklearn.metrics import cohen_kappa_score

        if predictions is None:
            return None
        kappa = None
        if self._previous is not None and len(self._previous) == len(predictions):
            if np.array_equal(self._previous, predictions):
                kappa = 1.0
            else:
                kappa = float(cohen_kappa_score(self._previous, predictions))
            self.kappas.append(kappa)
            recent = self.kappas[-self.window:]
            if self.stop_round is None and len(recent) == self.window and np.mean(recent) >= self.threshold:
                self.stop_round = len(self.kappas)
        self._previous = predictions.copy()
        return None if kappa is None else round(kappa, 4)
