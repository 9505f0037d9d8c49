"""The trained preference judge as a versioned model: fit on people's verdicts outside the
held-out slice, promote only a significant held-out improvement (the classifier's rule, shared).

Plain domain code over ``annotator.annotators.preference.BradleyTerryJudge``: the service's
``judge`` job loads the verdicts, calls ``train_judge`` and writes the version (``VersionDirs``,
kind ``bt-judge``) and its row; ``run_judge`` then answers with the promoted weights
(``PromotedPreferenceJudge``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from annotator.annotators.preference import BradleyTerryJudge
from annotator.core.errors import EmptyPoolError
from annotator.training.heldout import MIN_HELDOUT, PromotionDecision, decide_promotion

#: ``ModelVersion.kind`` and the version folder name of the trained judge.
JUDGE_KIND = "bt-judge"


@dataclass(frozen=True)
class JudgeCandidate:
    """A fitted judge version: ``weights`` (2d + 1,), the promotion ``decision`` and its ``metrics``."""

    weights: np.ndarray
    decision: PromotionDecision
    metrics: dict[str, Any]


def train_judge(judge: BradleyTerryJudge, texts: Sequence[str], a_better: np.ndarray, heldout: np.ndarray, *,
                incumbent: np.ndarray | None = None, incumbent_name: str | None = None,
                min_heldout: int = MIN_HELDOUT) -> JudgeCandidate:
    """Fit on the verdicts outside ``heldout`` and decide promotion on those inside it.

    Args:
        texts: (m,) prompts (item texts) of the people's A/B verdicts.
        a_better: (m,) 1 when the people said A is better, 0 for B.
        heldout: (m,) bool, the fixed held-out slice (``training.heldout.heldout_mask``).
        incumbent: the promoted version's weights; None: the baseline is the training verdicts'
            majority side (a judge that always names it), which a useful judge must beat.

    Raises:
        EmptyPoolError: too few verdicts of each side outside the held-out slice to fit.
    """
    a_better = np.asarray(a_better, dtype=np.int64)
    heldout = np.asarray(heldout, dtype=bool)
    train_texts = [t for t, h in zip(texts, heldout) if not h]
    held_texts = [t for t, h in zip(texts, heldout) if h]
    weights = judge.fit_weights(train_texts, a_better[~heldout])
    if weights is None:
        raise EmptyPoolError("Too few people's verdicts to train the judge.",
                             expected="at least 2 'A better' and 2 'B better' verdicts outside the held-out slice",
                             got=f"{int(a_better[~heldout].sum())} A and {int((1 - a_better[~heldout]).sum())} B",
                             fix="answer more pairs (about a fifth of them are held out for evaluation)")
    truth = a_better[heldout].astype(bool)
    cand = judge.predict_with(weights, held_texts) > 0.5
    if incumbent is not None:
        base = judge.predict_with(incumbent, held_texts) > 0.5
        name = incumbent_name or "the promoted judge"
    else:
        majority = bool(a_better[~heldout].mean() >= 0.5)
        base = np.full(len(held_texts), majority)
        name = f"always {'A' if majority else 'B'} (the majority of the training verdicts)"
    decision = decide_promotion(cand == truth, base == truth, baseline=name, min_heldout=min_heldout)
    metrics = {"heldout_accuracy": decision.heldout_accuracy, "heldout_n": decision.heldout_n,
               "train_n": len(train_texts), "baseline": name, "baseline_accuracy": decision.baseline_accuracy,
               "wins": decision.wins, "losses": decision.losses, "p_value": decision.p_value,
               "promoted": decision.promoted, "reason": decision.reason}
    return JudgeCandidate(weights, decision, metrics)
