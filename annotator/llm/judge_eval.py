"""How good a pairwise judge is on pairs whose better side is known: with and without order swapping.

Shared by ``python -m annotator simulate --task preference`` and ``bench/bench_judge.py``. Only the
scoring reads the truth; the verdicts come from ``annotator.llm.pairwise.judge_pairs``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from annotator.llm.pairwise import OptionScorer, PairVerdicts, combine_orders, judge_pairs, single_order


def _rate(mask: np.ndarray) -> float | None:
    return round(float(mask.mean()), 4) if mask.size else None


def order_swap_figures(both: PairVerdicts, truth: Sequence[str]) -> dict[str, Any]:
    """Figures of one judge run asked in both orders (``judge_pairs(..., swap=True)``).

    Args:
        both: verdicts on n pairs with ``p_ab`` and ``p_ba`` both filled.
        truth: (n,) the better original response, "A" or "B".

    Returns:
        ``acc_one_order`` (the (a, b) order alone, the usual single-prompt judge), ``acc_swapped``
        (both orders combined; a tie, i.e. the orders disagree, counts wrong), ``consistent``
        (share of pairs whose orders agree), ``acc_when_consistent``, ``first_position_rate``
        (share of prompts where the judge picked the answer shown first; 0.5 = no position bias),
        ``mean_conf_consistent`` / ``mean_conf_inconsistent`` (the combined confidence), ``pairs``.
    """
    truth_arr = np.asarray(truth)
    one = np.asarray(single_order(both.p_ab).verdict) == truth_arr
    swapped = combine_orders(both.p_ab, both.p_ba)
    right = np.asarray(swapped.verdict) == truth_arr
    firsts = np.concatenate([both.p_ab > 0.5, both.p_ba > 0.5])
    conf = swapped.confidence
    return {
        "pairs": int(len(truth_arr)),
        "acc_one_order": _rate(one),
        "acc_swapped": _rate(right),
        "consistent": _rate(swapped.consistent),
        "acc_when_consistent": _rate(right[swapped.consistent]),
        "first_position_rate": _rate(firsts),
        "mean_conf_consistent": _rate(conf[swapped.consistent]),
        "mean_conf_inconsistent": _rate(conf[~swapped.consistent]),
    }


def judge_with_and_without_swap(scorer: OptionScorer, pairs: Sequence[tuple[str, str, str]],
                                truth: Sequence[str]) -> tuple[dict[str, Any], PairVerdicts]:
    """Ask ``scorer`` both orders of every (prompt, response_a, response_b) and score against ``truth``.

    One set of 2n prompts serves both figures: the (a, b) half alone is the unswapped judge.
    """
    both = judge_pairs(scorer, pairs, swap=True)
    return order_swap_figures(both, truth), both
