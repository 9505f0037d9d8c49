"""The fast project classifier: a linear probe (logistic regression) on frozen embeddings.

Fitting uses scikit-learn on the labelled rows only (hundreds to thousands). Scoring the whole
pool after every refit is the hot part, so the fitted weights are copied into a ``LinearProbe``
that scores with one float32 matrix product plus softmax (or sigmoid for multi-label), in chunks
that keep the temporaries small: 1M × 384 takes well under a second on 2 cores
(bench/bench_rerank.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from annotator.active._threads import single_threaded
from annotator.core.errors import EmptyPoolError, ValidationError

if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression

#: Logit of a class with no labelled example yet: its probability is ~1e-13 of the others', so it
#: never wins nor moves margin/entropy, but ``proba`` keeps one column per label.
ABSENT_LOGIT = -30.0
#: Rows scored per chunk: 65k × k floats of temporaries, whatever the pool size.
CHUNK_ROWS = 65_536
#: Inverse L2 strength. L2-normalised sentence vectors have small coordinates (~0.05 at d=384)
#: and classes differ by a few tenths of cosine, so strong regularisation squashes probabilities
#: towards uniform. Measured on cached MiniLM vectors (5 seeds, random labelled subsets of 20–500,
#: rest held out): accuracy is flat within ~1 point for C in [1, 3]; held-out log-loss at C = 1 / 3
#: / 10 is 0.54 / 0.38 / 0.29 on the support tickets (4 classes, n=200) and 0.60 / 0.58 / 0.60 on
#: rotten_tomatoes (2 classes, n=200); above 10 the harder set overfits. 3 is the middle ground.
DEFAULT_C = 3.0


@dataclass(frozen=True)
class LinearProbe:
    """Per-label linear scores of a fitted classifier.

    Attributes:
        coef: (k, d) float32 weights, one row per label.
        intercept: (k,) float32 biases; ``ABSENT_LOGIT`` for labels never seen in training.
        classes: (c,) int64 label indices that had training examples (c <= k).
        multi_label: independent sigmoids per label instead of one softmax over labels.
    """

    coef: np.ndarray
    intercept: np.ndarray
    classes: np.ndarray
    multi_label: bool = False

    @property
    def n_labels(self) -> int:
        return len(self.intercept)

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """(n, k) float32 logits of ``X`` (n, d). Not chunked: use ``predict_proba`` for big pools."""
        return np.asarray(X, dtype=np.float32) @ self.coef.T + self.intercept

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """(n, k) float32 probabilities of ``X`` (n, d): softmax over labels, or per-label sigmoids.

        Chunked so a 1M-row pool never allocates more than ``CHUNK_ROWS`` × k temporaries.
        """
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.coef.shape[1]:
            raise ValidationError("Embeddings do not match the classifier.",
                                  expected=f"shape (n, {self.coef.shape[1]})", got=f"shape {X.shape}",
                                  fix="score with vectors from the embedder the classifier was fitted on")
        out = np.empty((len(X), self.n_labels), dtype=np.float32)
        # One BLAS thread: an (n, d) @ (d, k) product with k a handful is memory-bound, and the
        # default pool spin-waits on a busy machine. Measured, 1M × 384, k=5, 2 loaded cores:
        # 0.77 s single-threaded vs 1.49 s with two threads.
        with single_threaded():
            self._predict_into(X, out)
        return out

    def _predict_into(self, X: np.ndarray, out: np.ndarray) -> None:
        for start in range(0, len(X), CHUNK_ROWS):
            z = self.decision_function(X[start:start + CHUNK_ROWS])  # float32 (chunk, k)
            if self.multi_label:
                np.clip(z, -50.0, 50.0, out=z)  # exp(-z) must not overflow float32
                np.negative(z, out=z)
                np.exp(z, out=z)
                z += 1.0
                np.reciprocal(z, out=z)
            else:
                z -= z.max(axis=1, keepdims=True)  # softmax is shift-invariant; this avoids overflow
                np.exp(z, out=z)
                z /= z.sum(axis=1, keepdims=True)
            out[start:start + len(z)] = z


def _logistic(
    C: float, sample_weight: np.ndarray | None, X: np.ndarray, y: np.ndarray, balanced: bool,
) -> LogisticRegression:
    """A fitted scikit-learn LogisticRegression on ``X`` (n, d), ``y`` (n,) class indices."""
    from sklearn.linear_model import LogisticRegression  # lazy: keeps `import annotator` fast

    # "balanced" because people label what the queue serves, not the label distribution: the
    # rare class is under-represented early on and would otherwise never be predicted.
    model = LogisticRegression(C=C, class_weight="balanced" if balanced else None, max_iter=1000)
    # One thread: labelled sets are small (hundreds to thousands of rows) and the default pools
    # spin-wait against the app's other work. Measured on 2 loaded cores, 2000 × 384, 5 classes:
    # 0.16 s single-threaded vs 3.9 s with default threads.
    with single_threaded():
        return model.fit(X, y, sample_weight=sample_weight)


def _smoothed_log_prior(counts: np.ndarray) -> np.ndarray:
    """log of Laplace-smoothed class frequencies (counts + 1) / (n + k): what is known with no
    usable decision boundary. A class never seen keeps a real (small) probability."""
    counts = np.asarray(counts, dtype=np.float64)
    return np.log((counts + 1.0) / (counts.sum() + len(counts))).astype(np.float32)


def fit_classifier(
    X: np.ndarray, y: np.ndarray, n_labels: int, multi_label: bool = False,
    sample_weight: np.ndarray | None = None, *, C: float = DEFAULT_C, class_weight_balanced: bool = True,
) -> LinearProbe:
    """Fit a logistic-regression probe on labelled embeddings.

    Args:
        X: (n, d) float32 embeddings of the labelled items.
        y: (n,) int class indices in [0, n_labels); or, when ``multi_label``, (n, n_labels) 0/1.
        n_labels: k, the project's label count. Labels with no example get ``ABSENT_LOGIT`` so the
            probe still returns k columns.
        multi_label: one binary logistic regression per label (one-vs-rest sigmoids).
        sample_weight: (n,) optional non-negative weights, e.g. down-weighted AI labels.
        C: inverse L2 regularisation strength (scikit-learn's ``C``).
        class_weight_balanced: reweight classes inversely to their frequency.

    Degenerate cases: with a single class seen (single-label), or a label that is always / never
    on (multi-label), no boundary can be learnt; the probe then predicts the Laplace-smoothed
    prior, the same for every item, instead of raising.

    Raises:
        EmptyPoolError: no labelled rows.
        ValidationError: shapes or label indices that do not fit.
    """
    X = np.asarray(X, dtype=np.float32)
    if len(X) == 0:
        raise EmptyPoolError("No labelled items to train the classifier on.",
                             expected="at least one labelled item", got="0",
                             fix="label a few items first (the queue serves cold-start items until then)")
    if X.ndim != 2:
        raise ValidationError("Training embeddings must be a 2-d array.", expected="shape (n, d)",
                              got=f"shape {X.shape}", fix="stack one vector per labelled item")
    n, d = X.shape
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
        if sample_weight.shape != (n,):
            raise ValidationError("sample_weight must have one weight per labelled item.",
                                  expected=f"shape ({n},)", got=f"shape {sample_weight.shape}",
                                  fix="pass one weight per row of X, or None")
    coef = np.zeros((n_labels, d), dtype=np.float32)
    if multi_label:
        return _fit_multi_label(X, y, n_labels, sample_weight, C, class_weight_balanced, coef)

    y = np.asarray(y)
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer) or (n and (y.min() < 0 or y.max() >= n_labels)):
        raise ValidationError("Single-label targets must be class indices, one per labelled item.",
                              expected=f"shape ({n},) ints in [0, {n_labels})",
                              got=f"shape {y.shape}, dtype {y.dtype}",
                              fix="pass y = targets.argmax(axis=1), or multi_label=True for 0/1 indicators")
    present = np.unique(y).astype(np.int64)
    intercept = np.full(n_labels, ABSENT_LOGIT, dtype=np.float32)
    if len(present) == 1:
        # One class only: no boundary to learn. Predicting it with certainty would make every
        # uncertainty score tie at 0; the smoothed prior is honest and keeps proba well defined.
        return LinearProbe(coef, _smoothed_log_prior(np.bincount(y, minlength=n_labels)), present)
    model = _logistic(C, sample_weight, X, y, class_weight_balanced)
    if len(present) == 2:
        # scikit-learn keeps one weight row for two classes: the logit of classes_[1] vs [0].
        # softmax([0, z]) = sigmoid(z), so the probe reproduces its probabilities exactly.
        coef[present[1]], intercept[present[1]] = model.coef_[0], model.intercept_[0]
        intercept[present[0]] = 0.0
    else:
        coef[present], intercept[present] = model.coef_, model.intercept_
    return LinearProbe(coef, intercept, present)


def _fit_multi_label(
    X: np.ndarray, y: np.ndarray, n_labels: int, sample_weight: np.ndarray | None, C: float,
    balanced: bool, coef: np.ndarray,
) -> LinearProbe:
    """One binary logistic regression per label; constant smoothed prior for one-sided labels."""
    n = len(X)
    Y = np.asarray(y)
    if Y.shape != (n, n_labels) or not np.isin(Y, (0, 1)).all():
        raise ValidationError("Multi-label targets must be a 0/1 indicator matrix.",
                              expected=f"shape ({n}, {n_labels}) of 0/1", got=f"shape {Y.shape}",
                              fix="one row per labelled item, one column per label")
    Y = Y.astype(np.int64)
    intercept = np.zeros(n_labels, dtype=np.float32)
    positives = Y.sum(axis=0)
    for j in range(n_labels):  # k is a handful of labels; each fit is independent
        if 0 < positives[j] < n:
            model = _logistic(C, sample_weight, X, Y[:, j], balanced)
            coef[j], intercept[j] = model.coef_[0], model.intercept_[0]
        else:
            p = (positives[j] + 1.0) / (n + 2.0)  # Laplace: always/never on so far, never certain
            intercept[j] = np.log(p / (1.0 - p))
    return LinearProbe(coef, intercept, np.flatnonzero(positives > 0).astype(np.int64), multi_label=True)
