"""The held-out slice and the promotion rule.

Held-out set: a fixed ~``fraction`` of the human-labelled items, chosen by a hash of (seed, item
id), so an item's membership never changes as labels accumulate and every version is scored on
the same kind of sample. No fine-tuned model trains on it, and the fast-classifier baseline it is
compared against is fitted without it too. (The in-app probe that ranks the queue and the judge
still learn from every human label: they are refitted every few labels and are not promoted.)

Promotion: the candidate must be right on strictly more held-out items than the incumbent (the
promoted version, or the fast classifier when none is), and the difference must pass a one-sided
exact McNemar test on the items where the two disagree (p < alpha), with at least ``min_heldout``
held-out items. Accuracy gains that noise can explain are not promoted.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from math import comb

import numpy as np

#: Share of the human labels held out from fine-tuning.
HELDOUT_FRACTION = 0.2
#: Fewest held-out items a promotion can be decided on.
MIN_HELDOUT = 20
#: One-sided significance level of the paired test.
ALPHA = 0.05


def heldout_mask(item_ids: np.ndarray, seed: int = 0, fraction: float = HELDOUT_FRACTION) -> np.ndarray:
    """(m,) bool: True for items in the held-out slice. Deterministic in (seed, item id)."""
    out = np.zeros(len(item_ids), dtype=bool)
    for i, item_id in enumerate(np.asarray(item_ids).tolist()):
        h = hashlib.blake2b(f"heldout:{seed}:{int(item_id)}".encode(), digest_size=8).digest()
        out[i] = int.from_bytes(h, "big") / 2**64 < fraction
    return out


def mcnemar_one_sided(wins: int, losses: int) -> float:
    """P(X >= wins) for X ~ Binomial(wins + losses, 1/2): the exact one-sided McNemar p-value that
    the candidate is no better, given it alone was right on ``wins`` items and alone wrong on ``losses``."""
    n = wins + losses
    if n == 0:
        return 1.0
    return sum(comb(n, j) for j in range(wins, n + 1)) / 2**n


@dataclass(frozen=True)
class PromotionDecision:
    promoted: bool
    reason: str
    heldout_n: int
    heldout_accuracy: float | None
    baseline_accuracy: float | None
    wins: int
    losses: int
    p_value: float

    def as_dict(self) -> dict:
        return asdict(self)


def decide_promotion(candidate_correct: np.ndarray, baseline_correct: np.ndarray, *, baseline: str,
                     alpha: float = ALPHA, min_heldout: int = MIN_HELDOUT) -> PromotionDecision:
    """Promote only a significant paired improvement over ``baseline`` (its name, for the reason).

    Args:
        candidate_correct, baseline_correct: (n,) bool, whether each model got each held-out item right.
    """
    cand = np.asarray(candidate_correct, dtype=bool)
    base = np.asarray(baseline_correct, dtype=bool)
    n = len(cand)
    wins, losses = int((cand & ~base).sum()), int((~cand & base).sum())
    p = mcnemar_one_sided(wins, losses)
    acc = float(cand.mean()) if n else None
    base_acc = float(base.mean()) if n else None
    if n < min_heldout:
        promoted, reason = False, f"only {n} held-out labels; promotion needs at least {min_heldout}"
    elif wins <= losses:
        promoted, reason = False, f"not better than {baseline} on the held-out labels ({wins} wins, {losses} losses)"
    elif p >= alpha:
        promoted, reason = False, (f"better than {baseline} by {wins - losses} items, but not significantly "
                                   f"(McNemar p = {p:.3f} >= {alpha})")
    else:
        promoted, reason = True, f"beats {baseline}: {wins} wins, {losses} losses, McNemar p = {p:.3g}"
    return PromotionDecision(promoted, reason, n, None if acc is None else round(acc, 4),
                             None if base_acc is None else round(base_acc, 4), wins, losses, round(p, 6))
