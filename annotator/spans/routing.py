"""Item-level routing of span suggestions: auto-accept an item's suggested spans only where their
exact precision is certified, audit a random slice of the auto-accepted ones.

The unit is the item: a suggestion is *right* when its spans equal the person's spans exactly
(same start, end and label, none missing, none extra; "no spans" against "no spans" is right).
It is measured on the random human-labelled items only (the queue's random calibration picks,
answered blind, and the audits), never on the items the queue chose for being uncertain, nor on
items where the person saw the suggestion (anchoring). The statistics are the classification
router's: ``dataset_accuracy.bin_precision`` (one-sided Clopper–Pearson lower bounds per
confidence bin, Bonferroni-corrected over the bins; one bin, the overall rate, when the
suggester gives no confidence) and ``router.route_items`` for the audit sample. A bin goes auto
when its lower bound reaches the target precision, with at least ``policy.min_support``
calibration items in all; audits whose exact-match interval lies wholly below the target stop
every auto-accept until they recover.

Plain functions, no store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from annotator.routing.audit import PrecisionEstimate, estimate_precision
from annotator.routing.dataset_accuracy import BinPrecision, bin_precision
from annotator.routing.router import RoutingPolicy, route_items
from annotator.spans.model import Span


def same_spans(a: Sequence[Span], b: Sequence[Span]) -> bool:
    """Whether two answers to one item are the same spans (order and duplicates ignored)."""
    return set(a) == set(b)


@dataclass(frozen=True)
class SpanCalibration:
    """What the random human-labelled items certify about one suggester.

    Attributes:
        bins: per confidence bin, exact-match precision and its lower bound; None with fewer than
            ``dataset_accuracy.MIN_RANDOM_ITEMS`` calibration items.
        scored: whether the bins are over the suggester's confidence (else one overall bin).
        certified: (B,) bool, the bins whose items may go auto.
        audits: exact-match precision of the answered audits.
        items, matches: calibration items and how many of them the suggestion got exactly right.
    """

    bins: BinPrecision | None
    scored: bool
    certified: np.ndarray
    audits: PrecisionEstimate
    items: int
    matches: int

    def auto_ok(self, score: np.ndarray) -> np.ndarray:
        """(n,) bool: items whose suggestion may go auto, from their confidence (n,) (NaN: none)."""
        score = np.asarray(score, dtype=np.float64)
        if self.bins is None or not self.certified.any():
            return np.zeros(len(score), dtype=bool)
        if not self.scored:
            return np.full(len(score), bool(self.certified[0]))
        known = np.isfinite(score)
        ok = np.zeros(len(score), dtype=bool)
        ok[known] = self.certified[self.bins.bin_of(score[known])]
        return ok

    def as_dict(self) -> dict:
        return {"items": self.items, "exact_matches": self.matches,
                "precision": round(self.matches / self.items, 4) if self.items else None,
                "scored": self.scored, "bins": None if self.bins is None else self.bins.as_dict(),
                "certified_bins": [bool(c) for c in self.certified], "audits": self.audits.as_dict()}


def calibrate_spans(score: np.ndarray, correct: np.ndarray, policy: RoutingPolicy, *,
                    audits: Sequence[bool] = ()) -> SpanCalibration:
    """Certify a suggester on its calibration items.

    Args:
        score: (m,) the suggester's confidence per calibration item (NaN: none given).
        correct: (m,) bool, its spans equal the person's exactly.
        audits: per answered audit, whether the person's blind spans equal the auto-accepted ones
            (those items are in ``score`` / ``correct`` too: they are random picks of the auto region).
    """
    score, correct = np.asarray(score, dtype=np.float64), np.asarray(correct, dtype=bool)
    scored = bool(len(score)) and bool(np.isfinite(score).all())
    bins = bin_precision(score if scored else np.ones(len(score)), correct, bound_confidence=policy.bound_confidence,
                         n_bins=None if scored else 1)
    audit = estimate_precision(list(audits))
    certified = np.zeros(0 if bins is None else bins.n_bins, dtype=bool)
    if bins is not None and len(score) >= policy.min_support:
        certified = bins.lower >= policy.target_precision
        if audit.audits and audit.ci_high is not None and audit.ci_high < policy.target_precision:
            certified[:] = False  # the audits say the auto-accepted spans miss the target
    return SpanCalibration(bins, scored, certified, audit, len(score), int(correct.sum()))


def route_span_items(cal: SpanCalibration, score: np.ndarray, policy: RoutingPolicy, rng: np.random.Generator, *,
                     already_audited: int = 0, keep_audit: np.ndarray | None = None) -> np.ndarray:
    """(n,) route per open item with a suggestion: "auto" | "audit" | "verify".

    Certified items go auto; of those a random slice (``policy.audit_fraction``, at least
    ``policy.min_audits`` counting ``already_audited``; pending ones in ``keep_audit`` stay) is
    served to a person blind instead. Every other item is verified: a person sees the suggested
    spans and keeps or corrects them (the queue's random picks are still served blind).
    """
    ok = cal.auto_ok(score)
    # the classification router on a one-column "probability" that is 1 exactly where the bin is
    # certified: its threshold picks those items, and its audit sampling is reused as it is
    proba = ok.astype(np.float64)[:, None]
    routes = route_items(proba, np.array([0.5]), RoutingPolicy(audit_fraction=policy.audit_fraction,
                                                                min_audits=policy.min_audits), rng,
                         already_audited=already_audited, keep_audit=keep_audit)
    out = routes.route.astype(object)
    out[~ok] = "verify"
    return out.astype(str)
