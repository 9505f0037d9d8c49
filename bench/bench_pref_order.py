"""Preference queue order: the judges' uncertainty + diversity (margin) vs random, same seeds.

    HF_HUB_OFFLINE=1 python bench/bench_pref_order.py --setup learnable --pairs 300 --seeds 0,1,2
    HF_HUB_OFFLINE=1 python bench/bench_pref_order.py --setup fixed-judge --pairs 120 --known 0.6

A thin wrapper over ``annotator.simulate.preference.simulate_preferences(compare=["random"])`` (the
loop of ``python -m annotator simulate --task preference --compare random``) with the in-package
hashing embedder, so it runs in minutes on 2 cores:

- ``learnable``: 70 % of the pairs word their good and bad answers apart ("helpful good" / "useless
  bad"), which ``bt-judge`` learns from the verdicts; 30 % are two look-alike answers with an
  arbitrary gold side, which it cannot. ``bt-judge`` alone in the loop.
- ``fixed-judge``: the constructed pairs (``annotator.tasks.demo_pairs``) and a consistent fake LLM
  judge that knows the better answer of a ``--known`` share of them (0.5 / 0.5 on the rest).

Prints, per order, the human verdicts needed for 95 % correct final preferences (mean ± sd, per seed).
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

from annotator.embeddings import HashingEmbedder  # noqa: E402
from annotator.llm.pairwise import KnownAnswerScorer  # noqa: E402
from annotator.simulate.preference import PreferenceData, PreferenceSimConfig, simulate_preferences  # noqa: E402
from annotator.tasks.demo_pairs import preference_pairs  # noqa: E402

WORDS = "apple river stone cloud lamp garden violin paper window candle forest silver".split()


def learnable_pairs(n: int, seed: int = 0) -> PreferenceData:
    """n pairs; 7 in 10 told apart by wording, 3 in 10 look-alikes with an arbitrary gold side."""
    rng = np.random.default_rng(seed)
    prompts, a, b, better = [], [], [], []
    for i in range(n):
        if i % 10 < 7:
            good, bad = f"A helpful good answer to question {i}.", f"A useless bad answer to question {i}."
        else:
            good, bad = (" ".join(rng.choice(WORDS, 5)) + f" {i}." for _ in range(2))
        a_better = bool(rng.random() < 0.5)
        prompts.append(f"Question number {i} about topic {i % 7}?")
        a.append(good if a_better else bad)
        b.append(bad if a_better else good)
        better.append("A" if a_better else "B")
    return PreferenceData(prompts, a, b, better)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--setup", choices=("learnable", "fixed-judge"), default="learnable")
    ap.add_argument("--pairs", type=int, default=300)
    ap.add_argument("--known", type=float, default=0.6, help="fixed-judge: share of pairs the judge knows")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--target", type=float, default=None, help="target precision (default 0.95 / 0.9)")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    scorer = None
    if args.setup == "learnable":
        data = learnable_pairs(args.pairs)
        cfg = PreferenceSimConfig(ai="bt-judge", llm_judge="none", batch_size=args.batch,
                                  target_precision=args.target or 0.95, near_duplicate_threshold=None)
    else:
        pairs = preference_pairs(args.pairs, 0)
        data = PreferenceData([p["prompt"] for p in pairs], [p["response_a"] for p in pairs],
                              [p["response_b"] for p in pairs], [p["better"] for p in pairs])
        rng = np.random.default_rng(5)
        good = {x if g == "A" else y for x, y, g in zip(data.response_a, data.response_b, data.better)
                if rng.random() < args.known}
        scorer = KnownAnswerScorer(good)
        cfg = PreferenceSimConfig(ai="fake", llm_judge="fake", judge_sample=10, batch_size=args.batch,
                                  target_precision=args.target or 0.9, near_duplicate_threshold=None)
    t0 = time.perf_counter()
    result = simulate_preferences(data, cfg, seeds, embedder=HashingEmbedder(), scorer=scorer, compare=["random"])
    for name, row in result["order_comparison"].items():
        print(json.dumps({"order": name, **row}, default=str))
    for name, row in result["order_comparison"].items():
        curve = " ".join(f"{p['human_verdicts']}:{p['correct_share']:.3f}" for p in row["correct_share_by_verdicts"])
        print(name, "correct share by verdicts:", curve)
    print(json.dumps({"pool_size": result["pool_size"], "all_human": result["all_human_verdicts_for_target"],
                      "seconds": round(time.perf_counter() - t0, 1)}))


if __name__ == "__main__":
    main()
