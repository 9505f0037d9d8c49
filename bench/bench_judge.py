"""LLM-as-a-judge on the constructed preference set: accuracy with vs without order swapping.

    HF_HUB_OFFLINE=1 python bench/bench_judge.py --pairs 60 --seeds 0,1,2 [--model smollm2]

Each seed draws a different set of pairs (``annotator.tasks.demo_pairs.preference_pairs``:
correct vs corrupted arithmetic, right vs wrong capital, relevant vs off-topic answer) with the
better side on A or B by a seeded coin. The local LLM (SmolLM2-135M by default, offline) scores
" A" vs " B" after ``assets/prompts/judge_pairwise.txt`` in both orders. Reported per seed:

- ``acc_one_order``: the verdict of the (a, b) order alone (the usual single-prompt judge);
- ``acc_swapped``: the combined verdict (``combine_orders``), a tie (orders disagree) counted wrong;
- ``consistent``: share of pairs whose two orders agree, and ``acc_when_consistent`` on them;
- ``first_position_rate``: how often the model picked the answer shown first (0.5 = no bias).

Prints one JSON line per seed and one for the mean. One torch thread (a shared 2-core machine).

With ``--ratings N`` it also rates N constructed responses per seed (half the right answer, half
the corrupted one) on "correctness" with ``assets/prompts/judge_rating.txt`` (scale 1-5) and reports
the Spearman correlation of the expected score with the truth and how often a right answer gets
a higher expected score than a wrong one (AUC).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from annotator.llm.judge_eval import judge_with_and_without_swap  # noqa: E402
from annotator.llm.pairwise import LocalOptionScorer  # noqa: E402
from annotator.tasks.demo_pairs import preference_pairs  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=60)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--ratings", type=int, default=0, help="also rate this many responses per seed")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    scorer = LocalOptionScorer(model=args.model, models_dir=ROOT / "models")
    rows = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        pairs = preference_pairs(args.pairs, seed)
        truth = np.array([p["better"] for p in pairs])
        t0 = time.perf_counter()
        figures, both = judge_with_and_without_swap(
            scorer, [(p["prompt"], p["response_a"], p["response_b"]) for p in pairs], truth)
        seconds = time.perf_counter() - t0
        right = np.array(both.verdict) == truth
        row = {
            "seed": seed, "model": scorer.name, **figures,
            "by_kind_swapped": {k: round(float(right[[p["kind"] == k for p in pairs]].mean()), 3)
                                for k in sorted({p["kind"] for p in pairs})},
            "seconds": round(seconds, 1), "scored_prompts": scorer.stats["scored"],
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    if args.ratings:
        ratings(scorer, args.ratings, [int(s) for s in args.seeds.split(",")])
    keys = ["acc_one_order", "acc_swapped", "consistent", "first_position_rate"]
    print(json.dumps({"mean_over_seeds": {k: round(float(np.mean([r[k] for r in rows])), 3) for k in keys},
                      "std_over_seeds": {k: round(float(np.std([r[k] for r in rows])), 3) for k in keys},
                      "seeds": len(rows), "pairs_per_seed": args.pairs}))


def ratings(scorer: LocalOptionScorer, n: int, seeds: list[int]) -> None:
    from scipy.stats import spearmanr

    from annotator.llm.pairwise import judge_ratings
    from annotator.tasks.demo_pairs import rating_items

    for seed in seeds:
        items = rating_items(n, seed)
        good = np.array([r["good"] for r in items])
        verdicts = judge_ratings(scorer, [(r["prompt"], r["response"]) for r in items], ["correctness"], (1, 5))
        score = verdicts.expected[:, 0]
        auc = float(np.mean([(g > b) + 0.5 * (g == b) for g in score[good] for b in score[~good]]))
        print(json.dumps({"seed": seed, "rated": n, "criterion": "correctness",
                          "spearman_with_truth": round(float(spearmanr(score, good).statistic), 3),
                          "auc_right_over_wrong": round(auc, 3),
                          "mean_expected_right": round(float(score[good].mean()), 2),
                          "mean_expected_wrong": round(float(score[~good].mean()), 2),
                          "most_likely_scores": sorted(set(int(b) for b in verdicts.best[:, 0]))}), flush=True)


if __name__ == "__main__":
    main()
