"""Suspect labels: human labels the out-of-fold classifier confidently contradicts.

Confident learning (Northcutt et al. 2021, cleanlab's ``find_label_issues``): every labelled item
is scored by a linear probe that never saw it (k-fold cross-validation on the cached embeddings),
then labels whose given class is much less likely than the class the model believes in, given the
per-class confidence thresholds, are flagged and ranked by how little the model trusts them.
Plain functions on numpy arrays: no database, no UI.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from annotator.active.classifier import DEFAULT_C, fit_classifier
from annotator.core.errors import EmptyPoolError, ValidationError

#: Folds of the out-of-fold probe; fewer when the rarest class has fewer examples.
DEFAULT_FOLDS = 5
#: Every class needs this many examples for out-of-fold scores to mean anything.
MIN_PER_CLASS = 2


@dataclass(frozen=True)
class Suspect:
    """One human label the model contradicts.

    ``p`` is the out-of-fold probability of ``model_label``; ``given_p`` that of the label the person
    gave; ``rank`` 0 is the most suspect.
    """

    item_id: int
    given: str
    model_label: str
    p: float
    given_p: float
    rank: int

    @property
    def reason(self) -> str:
        return (f"suspect label: model says '{self.model_label}' with p={self.p:.2f} "
                f"(given '{self.given}', p={self.given_p:.2f})")

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "reason": self.reason}


def out_of_fold_proba(
    X: np.ndarray, y: np.ndarray, n_labels: int, *, folds: int = DEFAULT_FOLDS, seed: int = 0, C: float = DEFAULT_C,
) -> np.ndarray:
    """(n, n_labels) probabilities of each labelled row from a probe fitted without it.

    Args:
        X: (n, d) embeddings of the labelled items. y: (n,) class indices in [0, n_labels).
        folds: stratified folds, capped by the rarest present class's count (at least 2).
    """
    from sklearn.model_selection import StratifiedKFold  # lazy: sklearn import is slow

    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64)
    counts = np.bincount(y, minlength=n_labels)
    present = counts[counts > 0]
    if len(present) < 2 or present.min() < MIN_PER_CLASS:
        raise EmptyPoolError(
            "Too few human labels to score them out of fold.",
            expected=f"at least two classes, each with {MIN_PER_CLASS}+ labelled items",
            got=", ".join(str(int(c)) for c in counts) + " labels per class",
            fix="label a few more items of each class first",
        )
    k = int(max(2, min(folds, present.min())))
    proba = np.zeros((len(y), n_labels), dtype=np.float64)
    for train, test in StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(X, y):
        probe = fit_classifier(X[train], y[train], n_labels, C=C)
        proba[test] = probe.predict_proba(X[test])
    return proba


def find_suspects(
    X: np.ndarray, y: np.ndarray, item_ids: np.ndarray, label_names: list[str], *, folds: int = DEFAULT_FOLDS,
    seed: int = 0, min_p: float = 0.5,
) -> list[Suspect]:
    """The labelled items whose label the out-of-fold probe confidently contradicts, most suspect first.

    Args:
        X: (n, d) embeddings; y: (n,) given class indices; item_ids: (n,) ids of the rows.
        min_p: only keep a flag when the model's own label has at least this probability, so the
            reason shown to the reviewer is a confident contradiction, not a coin toss.
    """
    from cleanlab.filter import find_label_issues

    y = np.asarray(y, dtype=np.int64)
    item_ids = np.asarray(item_ids, dtype=np.int64)
    if not (len(X) == len(y) == len(item_ids)):
        raise ValidationError("Embeddings, labels and item ids must have one row per labelled item.",
                              got=f"{len(X)} / {len(y)} / {len(item_ids)} rows")
    n_labels = len(label_names)
    proba = out_of_fold_proba(X, y, n_labels, folds=folds, seed=seed)
    # cleanlab wants every class in 0..K-1 to occur: score on the classes people actually used.
    used = np.flatnonzero(np.bincount(y, minlength=n_labels) > 0)
    remap = np.full(n_labels, -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    sub = proba[:, used]
    sub = sub / np.clip(sub.sum(axis=1, keepdims=True), 1e-12, None)
    ranked = find_label_issues(labels=remap[y], pred_probs=sub, return_indices_ranked_by="self_confidence")
    out: list[Suspect] = []
    for row in np.asarray(ranked, dtype=np.int64):
        model = int(used[int(np.argmax(sub[row]))])
        if model == int(y[row]) or sub[row].max() < min_p:
            continue
        out.append(Suspect(item_id=int(item_ids[row]), given=label_names[int(y[row])], model_label=label_names[model],
                           p=round(float(sub[row].max()), 4), given_p=round(float(sub[row, remap[y[row]]]), 4),
                           rank=len(out)))
    return out
