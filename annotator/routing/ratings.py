"""Routing of the LLM judge's rating suggestions: auto / audit / verify / blind, as for labels.

A rating suggestion is the judge's most likely score on every criterion; it is right only when
every score equals the person's. Its score is the joint probability of those scores (the product
over criteria of the judge's probability of its best score), which ranks suggestions for the
router. The auto-accept threshold is certified on the items people rated, with the classifier's
rule (``router.certify_thresholds``: the lowest score whose one-sided lower precision bound meets
the target, with ``min_support`` items), and audits (blind re-ratings of auto-accepted items)
withdraw it when their interval falls below the target. ``route_items`` then sends each unrated
item auto / audit / verify / blind exactly as for classification.
"""

from __future__ import annotations

import numpy as np

from annotator.routing.router import Routes, RoutingPolicy, certify_thresholds, route_items


def joint_confidence(confidence: np.ndarray) -> np.ndarray:
    """(n, c) probability of the best score per criterion → (n,) their product (1.0 when c = 0)."""
    return np.prod(np.asarray(confidence, dtype=np.float64), axis=1)


def exact_match(judged: np.ndarray, human: np.ndarray) -> np.ndarray:
    """(m, c) judged best scores and (m, c) people's scores → (m,) bool, every criterion equal."""
    return (np.asarray(judged) == np.asarray(human)).all(axis=1)


def route_ratings(rated_score: np.ndarray, rated_correct: np.ndarray, open_score: np.ndarray, policy: RoutingPolicy,
                  rng: np.random.Generator, *, audits: tuple[int, int] | None = None, already_audited: int = 0,
                  keep_audit: np.ndarray | None = None) -> Routes:
    """Routes of the unrated items' rating suggestions.

    Args:
        rated_score, rated_correct: (m,) joint confidence and exact match of the judge on the items
            people rated (the certification sample).
        open_score: (n,) joint confidence of the suggestions for the unrated items.
        audits: (agreements, audits) of the judge's audited auto ratings so far.
        already_audited, keep_audit: as for ``route_items``.

    Returns:
        ``Routes`` with ``label`` all 0 (one pseudo-label: "the judge's rating") and ``thresholds`` (1,).
    """
    rated_score = np.asarray(rated_score, dtype=np.float64)
    thresholds = certify_thresholds(np.zeros(len(rated_score), dtype=np.int64), rated_score,
                                    np.asarray(rated_correct, dtype=bool), 1, policy,
                                    audits={0: audits} if audits else None)
    return route_items(np.asarray(open_score, dtype=np.float64)[:, None], thresholds, policy, rng,
                       already_audited=already_audited, keep_audit=keep_audit)
