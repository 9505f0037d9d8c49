"""The router: auto-accept where the AI is reliably right, else a person verifies or labels blind.

Thresholds are chosen per predicted label on the ensemble's *out-of-fold* predictions of the
human-labelled items: the lowest confidence τ such that the one-sided lower confidence bound
(Clopper–Pearson) of the precision of items at or above τ is at least the target. Human labels
gathered by active learning over-represent hard items, so this errs on the careful side; the
random audit of auto-accepted labels then measures the precision that was actually reached.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from annotator.routing.audit import clopper_pearson
from annotator.routing.dataset_accuracy import BinPrecision, choose_auto_set


@dataclass(frozen=True)
class RoutingPolicy:
    target_precision: float = 0.95
    bound_confidence: float = 0.9  # one-sided confidence of the precision lower bound
    #: One-sided confidence of the dataset-accuracy bound (``target_accuracy``). Higher than the
    #: per-label one: that bound covers the single region the auto items fill, so nothing else in
    #: it leaves slack, and the random items stand in for the pool's items only approximately
    #: (their out-of-fold confidence, drawn over the whole run).
    dataset_bound_confidence: float = 0.95
    min_support: int = 20  # labelled items at or above τ needed before anything goes auto
    verify_min_confidence: float = 0.6  # below this a person labels blind (no anchoring on a weak guess)
    audit_fraction: float = 0.05
    min_audits: int = 10
    #: Accuracy the whole finished pool must keep (None: off). Where set, auto-accept goes past the
    #: per-label thresholds while the pool's certified lower bound stays at or above it
    #: (``dataset_accuracy.choose_auto_set``).
    target_accuracy: float | None = None
    #: Probability a person's label is right, assumed by the dataset bound (1.0: people are right).
    human_accuracy: float = 1.0
    #: How the dataset bound and estimate bound a precision (``dataset_accuracy.precision_lower``):
    #: ``anytime`` (valid over every AI run's look at once) or ``clopper-pearson`` (one look).
    dataset_bound: str = "anytime"


@dataclass(frozen=True)
class Routes:
    """Per unlabelled item: ``route`` (n,) str in auto | audit | verify | blind; ``label`` (n,) class;
    ``confidence`` (n,); ``thresholds`` (k,) τ per label (inf where nothing may go auto)."""

    route: np.ndarray
    label: np.ndarray
    confidence: np.ndarray
    thresholds: np.ndarray


def _deepest_certified(correct: np.ndarray, confs: np.ndarray, policy: RoutingPolicy) -> float:
    """τ of the deepest confidence-sorted prefix whose precision lower bound meets the target.

    ``correct`` and ``confs`` are sorted by confidence, highest first; inf when no prefix holds.
    """
    hits = np.cumsum(correct)
    n = np.arange(1, len(correct) + 1)
    lower = np.array([clopper_pearson(int(h), int(t), 1 - 2 * (1 - policy.bound_confidence))[0]
                      for h, t in zip(hits, n)])
    ok = np.flatnonzero((lower >= policy.target_precision) & (n >= policy.min_support))
    return float(confs[ok.max()]) if len(ok) else np.inf


def min_certifiable(policy: RoutingPolicy) -> int:
    """Fewest items, all correct, whose precision lower bound reaches the target (45 for 0.95 at 90 %)."""
    n = max(1, policy.min_support)
    while clopper_pearson(n, n, 1 - 2 * (1 - policy.bound_confidence))[0] < policy.target_precision and n < 100_000:
        n += 1
    return n


def choose_thresholds(oof_proba: np.ndarray, labels: np.ndarray, policy: RoutingPolicy,
                      audits: dict[int, tuple[int, int]] | None = None) -> np.ndarray:
    """(k,) the lowest confidence per predicted label at which auto-accept keeps the target precision.

    A label predicted often enough to be certified on its own (``min_certifiable`` items) gets its
    own τ. A rarer label borrows the τ certified on all labels pooled, but only if its own items at
    or above that τ are right at least as often as the target (no evidence against it): per label
    alone, 4 labels would need ~180 confident human labels before anything goes auto.

    Args:
        oof_proba: (m, k) out-of-fold fused probabilities of the human-labelled items.
        labels: (m,) their human labels (class indices).
        audits: per label index, (agreements, audits) of blind audits of its auto labels. A label
            whose audit interval lies wholly below the target stops going auto (τ = inf) until
            the audits recover: the audited items are human labels too and so re-certify it.
    """
    pred, conf = oof_proba.argmax(axis=1), oof_proba.max(axis=1)
    return certify_thresholds(pred, conf, pred == labels, oof_proba.shape[1], policy, audits=audits)


def certify_thresholds(pred: np.ndarray, score: np.ndarray, correct: np.ndarray, n_labels: int,
                       policy: RoutingPolicy, audits: dict[int, tuple[int, int]] | None = None) -> np.ndarray:
    """(n_labels,) per predicted label, the lowest ``score`` at which auto-accept keeps the target.

    The rule of ``choose_thresholds`` for any score that should rank right answers first: the
    fused confidence, or the judge's P(correct).

    Args:
        pred: (m,) predicted label of each human-labelled item (out of fold).
        score: (m,) its score, higher = more likely right.
        correct: (m,) bool, the prediction equals the human label.
    """
    order = np.argsort(-score, kind="stable")
    pooled = _deepest_certified(correct[order], score[order], policy)
    need = min_certifiable(policy)
    thresholds = np.full(n_labels, np.inf)
    for label in range(n_labels):
        mask = pred == label
        if mask.sum() >= need:
            own_order = np.argsort(-score[mask], kind="stable")
            thresholds[label] = _deepest_certified(correct[mask][own_order], score[mask][own_order], policy)
        elif np.isfinite(pooled):
            above = mask & (score >= pooled)
            if not above.any() or correct[above].mean() >= policy.target_precision:
                thresholds[label] = pooled
        if audits and label in audits:
            agree, n = audits[label]
            if n and clopper_pearson(agree, n, 0.95)[1] < policy.target_precision:
                thresholds[label] = np.inf
    return thresholds


def route_items(proba: np.ndarray, thresholds: np.ndarray, policy: RoutingPolicy, rng: np.random.Generator, *,
                already_audited: int = 0, keep_audit: np.ndarray | None = None,
                judge_score: np.ndarray | None = None, judge_thresholds: np.ndarray | None = None,
                bins: BinPrecision | None = None, pool_size: int | None = None) -> Routes:
    """Routes for unlabelled items with fused probabilities ``proba`` (n, k).

    Args:
        already_audited: audits answered so far; they count toward the audit quota.
        keep_audit: (n,) bool, items already picked for audit and not yet answered: they stay
            audits while the AI would still auto-accept them, so the sample stays random and stable.
        judge_score: (n,) the judge's P(AI label correct), or None (no judge yet).
        judge_thresholds: (k,) per label, the judge score an ``auto`` item also needs; an item the
            judge vetoes goes to a person (verify or blind, by its confidence) as if below τ.
        bins: per-bin precision of the random calibration items; with ``policy.target_accuracy``
            set, more items go auto while the whole pool's accuracy bound holds. None: per-label only.
        pool_size: items in the whole pool, labelled ones included (needed with ``bins``).
    """
    label, conf = proba.argmax(axis=1), proba.max(axis=1)
    route = np.where(conf >= policy.verify_min_confidence, "verify", "blind").astype(object)
    auto = conf >= thresholds[label]
    if judge_score is not None and judge_thresholds is not None:
        auto &= judge_score >= judge_thresholds[label]
    if policy.target_accuracy is not None and bins is not None and pool_size:
        # Every item may join, judge-vetoed ones too: the judge's thresholds certify the per-label
        # precision target (inf on hard data), while the bins' bound already counts the errors of
        # every item of a bin, however the judge scored it.
        auto = choose_auto_set(conf, auto, np.ones(len(conf), dtype=bool), bins, pool_size=pool_size,
                               target_accuracy=policy.target_accuracy, human_accuracy=policy.human_accuracy)
    route[auto] = "auto"
    auto_rows = np.flatnonzero(auto)
    if len(auto_rows):
        pending = np.flatnonzero(auto & keep_audit) if keep_audit is not None else np.zeros(0, dtype=np.int64)
        route[pending] = "audit"
        quota = max(policy.min_audits, int(np.ceil(policy.audit_fraction * (len(auto_rows) + already_audited))))
        extra = min(max(0, quota - already_audited - len(pending)), len(auto_rows) - len(pending))
        if extra:
            fresh = np.setdiff1d(auto_rows, pending)
            route[rng.choice(fresh, size=extra, replace=False)] = "audit"
    return Routes(route=route.astype(str), label=label, confidence=conf, thresholds=thresholds)
