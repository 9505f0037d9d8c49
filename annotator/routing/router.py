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


@dataclass(frozen=True)
class RoutingPolicy:
    target_precision: float = 0.95
    bound_confidence: float = 0.9  # one-sided confidence of the precision lower bound
    min_support: int = 20  # labelled items at or above τ needed before anything goes auto
    verify_min_confidence: float = 0.6  # below this a person labels blind (no anchoring on a weak guess)
    audit_fraction: float = 0.05
    min_audits: int = 10


@dataclass(frozen=True)
class Routes:
    """Per unlabelled item: ``route`` (n,) str in auto | audit | verify | blind; ``label`` (n,) class;
    ``confidence`` (n,); ``thresholds`` (k,) τ per label (inf where nothing may go auto)."""

    route: np.ndarray
    label: np.ndarray
    confidence: np.ndarray
    thresholds: np.ndarray


def choose_thresholds(oof_proba: np.ndarray, labels: np.ndarray, policy: RoutingPolicy) -> np.ndarray:
    """(k,) the lowest confidence per predicted label at which auto-accept keeps the target precision."""
    k = oof_proba.shape[1]
    pred, conf = oof_proba.argmax(axis=1), oof_proba.max(axis=1)
    thresholds = np.full(k, np.inf)
    for label in range(k):
        mask = pred == label
        if mask.sum() < policy.min_support:
            continue
        order = np.argsort(-conf[mask], kind="stable")
        correct = (labels[mask] == label)[order]
        confs = conf[mask][order]
        hits = np.cumsum(correct)
        n = np.arange(1, len(correct) + 1)
        lower = np.array([clopper_pearson(int(h), int(t), 1 - 2 * (1 - policy.bound_confidence))[0]
                          for h, t in zip(hits, n)])
        ok = np.flatnonzero((lower >= policy.target_precision) & (n >= policy.min_support))
        if len(ok):
            thresholds[label] = confs[ok.max()]  # the deepest prefix that still meets the bound
    return thresholds


def route_items(proba: np.ndarray, thresholds: np.ndarray, policy: RoutingPolicy, rng: np.random.Generator, *,
                already_audited: int = 0, keep_audit: np.ndarray | None = None) -> Routes:
    """Routes for unlabelled items with fused probabilities ``proba`` (n, k).

    Args:
        already_audited: audits answered so far; they count toward the audit quota.
        keep_audit: (n,) bool, items already picked for audit and not yet answered: they stay
            audits while the AI would still auto-accept them, so the sample stays random and stable.
    """
    label, conf = proba.argmax(axis=1), proba.max(axis=1)
    route = np.where(conf >= policy.verify_min_confidence, "verify", "blind").astype(object)
    auto = conf >= thresholds[label]
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
