"""Human verdicts needed for correct final preferences: people + the judge learnt from them vs all-human.

    HF_HUB_OFFLINE=1 python bench/bench_pref_loop.py --pairs 300 --seeds 0,1,2 --batch 20 [--target 0.95]

A thin wrapper over ``annotator.simulate.preference`` (the same loop as ``python -m annotator
simulate --task preference``) on a freshly constructed set per seed (``annotator.tasks.demo_pairs``):
the pairs are de-duplicated as an import would (``--near-duplicates``, default 0.95; ``off`` keeps
them), a simulated person answers what the queue serves (audits included) with the side known to be
better, and after every ``--batch`` verdicts the ``bt-judge`` is refitted, calibrated and routed at
``--target`` precision. No held-out slice and no LLM judge here (``simulate`` reports those).
Prints one JSON line per seed and the mean.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from annotator.simulate.preference import PreferenceData, PreferenceSimConfig, run_preference_simulation  # noqa: E402
from annotator.tasks.demo_pairs import preference_pairs  # noqa: E402
from annotator.tasks.near_duplicates import check_threshold  # noqa: E402


def run(seed: int, n: int, batch: int, target: float, near_duplicates: float | None) -> dict:
    pairs = preference_pairs(n, seed)
    data = PreferenceData([p["prompt"] for p in pairs], [p["response_a"] for p in pairs],
                          [p["response_b"] for p in pairs], [p["better"] for p in pairs])
    cfg = PreferenceSimConfig(batch_size=batch, target_precision=target, ai="bt-judge", llm_judge="none",
                              test_fraction=0.0, seed=seed, near_duplicate_threshold=near_duplicates)
    report = run_preference_simulation(data, cfg)
    return {"seed": seed, "pairs": n, "near_duplicates_dropped": report["near_duplicates_dropped"],
            "pool": report["pool_size"], "human_verdicts": report["human_labels"],
            "human_share": round(report["human_labels"] / report["pool_size"], 3),
            "auto_accepted": report["auto_labels"], "final_accuracy": report["final_label_accuracy"],
            "auto_precision": report["auto_label_precision"],
            "human_verdicts_for_target": report["human_verdicts_for_target"],
            "all_human_verdicts_for_target": report["all_human_verdicts_for_target"],
            "rounds": len(report["learning_curve"]), "seconds": report["seconds"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=300)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--target", type=float, default=0.95)
    ap.add_argument("--near-duplicates", default="0.95")
    args = ap.parse_args()
    threshold = check_threshold(args.near_duplicates)
    rows = [run(int(s), args.pairs, args.batch, args.target, threshold) for s in args.seeds.split(",")]
    for row in rows:
        print(json.dumps(row), flush=True)
    mean = lambda k: round(sum(r[k] for r in rows) / len(rows), 3)  # noqa: E731
    print(json.dumps({"mean_human_share": mean("human_share"), "mean_final_accuracy": mean("final_accuracy"),
                      "all_human_share": 1.0, "target": args.target, "seeds": len(rows)}))


if __name__ == "__main__":
    main()
