"""How honest is the dataset-accuracy bound when the router looks again every round?

A model-free emulation of the labelling loop, many times over, in seconds: a pool whose AI
labels are right with a known probability per item, a person who labels ``batch`` items a round
(the least confident ones, plus a random calibration slice drawn from the whole unlabelled pool),
and after every round the real ``routing.dataset_accuracy`` code choosing the auto set for a
dataset target. The session ends, as in ``annotator simulate``, at the first round where every
unlabelled item is auto. Per configuration it prints, over ``--runs`` sessions:

- ``below_target``: share of sessions whose finished pool is less accurate than the target
  (the router promises at most ``1 − dataset_bound_confidence`` in expectation);
- ``interval_holds``: share whose stated 95 % interval contains the pool's true accuracy;
- ``human_share``: mean share of the pool people labelled.

The AI's confidence per item is fixed, its calibration perfect (P(right) = confidence) unless
``--overconfidence`` is set; each round adds fresh noise to the confidences the router sees
(``--refit-noise``, in logits), as a refitted model would. That is enough to show what repeated
looks and a cutoff chosen on the same random items do, without the cost of real models.

    python bench/bench_dataset_bound.py --runs 200 --explore 0.1,0.2
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from annotator.routing.dataset_accuracy import (  # noqa: E402
    auto_region,
    bin_precision,
    choose_auto_set,
    dataset_accuracy,
    dataset_cutoff,
    widen_region,
)


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p / (1 - p))


def session(rng: np.random.Generator, *, pool: int, batch: int, explore: float, target: float,
            bound_confidence: float, refit_noise: float, overconfidence: float, mean_accuracy: float,
            bound: str) -> dict:
    """One emulated labelling session; returns its truth, estimate and human labels."""
    # binary labels: confidence in [0.5, 1); u**g has mean 1 / (1 + g), so pick g for the mean
    g = 0.5 / (mean_accuracy - 0.5) - 1
    conf = 0.5 + 0.5 * rng.random(pool) ** g * 0.999
    p_right = np.clip(0.5 + (conf - 0.5) * (1 - overconfidence), 0.5, 1.0)
    right = rng.random(pool) < p_right
    labelled = np.zeros(pool, dtype=bool)
    random_pick = np.zeros(pool, dtype=bool)
    auto = np.zeros(pool, dtype=bool)
    seen = conf
    n_random = max(1, round(batch * explore))
    est = None
    while True:
        servable = np.flatnonzero(~labelled & ~auto)
        if len(servable) == 0:
            break
        unlabelled = np.flatnonzero(~labelled)
        picks = rng.choice(unlabelled, size=min(n_random, len(unlabelled)), replace=False)
        labelled[picks], random_pick[picks] = True, True
        servable = np.flatnonzero(~labelled & ~auto)
        ranked = servable[np.argsort(seen[servable], kind="stable")][: max(0, batch - len(picks))]
        labelled[ranked] = True
        # a refit: the router sees each item's confidence with fresh noise
        seen = 1 / (1 + np.exp(-(_logit(conf) + rng.normal(0, refit_noise, pool))))
        seen = np.maximum(seen, 0.5)
        unl = np.flatnonzero(~labelled)
        auto = np.zeros(pool, dtype=bool)
        if len(unl) == 0:
            break
        bins = bin_precision(seen[random_pick], right[random_pick], bound_confidence=bound_confidence, bound=bound)
        if bins is None:
            continue
        chosen = choose_auto_set(seen[unl], np.zeros(len(unl), bool), np.ones(len(unl), bool), bins,
                                 pool_size=pool, target_accuracy=target)
        auto[unl[chosen]] = True
        cutoff = dataset_cutoff(seen[unl], chosen, np.zeros(len(unl), int), np.array([np.inf]))
        rc, rr = seen[random_pick], right[random_pick]
        inside = auto_region(np.zeros(len(rc), int), rc, np.array([np.inf]), cutoff)
        wide = widen_region(inside, rc)
        est = dataset_accuracy(int(labelled.sum()), int(auto.sum()), (int(rr[inside].sum()), int(inside.sum())),
                               (int(rr[wide].sum()), int(wide.sum())), bound=bound)
    truth = (labelled.sum() + right[auto].sum()) / pool
    return {"truth": float(truth), "human": int(labelled.sum()),
            "ci_low": None if est is None else est.ci_low, "ci_high": None if est is None else est.ci_high}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--pool", type=int, default=2400)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--explore", default="0.1,0.2", help="comma-separated random slice shares")
    ap.add_argument("--bounds", default="clopper-pearson,anytime", help="comma-separated region bounds")
    ap.add_argument("--target", type=float, default=0.95)
    ap.add_argument("--bound-confidence", type=float, default=0.95)
    ap.add_argument("--mean-accuracy", type=float, default=0.82, help="the AI's accuracy over the pool")
    ap.add_argument("--refit-noise", type=float, default=0.3, help="per-round noise of the logits the router sees")
    ap.add_argument("--overconfidence", type=float, default=0.0,
                    help="0: P(right) = confidence; 0.2: 20 %% of the margin above 0.5 is not real")
    args = ap.parse_args()
    out = []
    for bound in args.bounds.split(","):
        for explore in (float(x) for x in args.explore.split(",")):
            started = time.perf_counter()
            rng = np.random.default_rng(0)
            runs = [session(rng, pool=args.pool, batch=args.batch, explore=explore, target=args.target,
                            bound_confidence=args.bound_confidence, refit_noise=args.refit_noise,
                            overconfidence=args.overconfidence, mean_accuracy=args.mean_accuracy, bound=bound)
                    for _ in range(args.runs)]
            stated = [r for r in runs if r["ci_low"] is not None]
            out.append({
                "bound": bound, "explore": explore, "runs": len(runs),
                "below_target": round(np.mean([r["truth"] < args.target for r in runs]), 3),
                "interval_holds": round(np.mean([r["ci_low"] <= r["truth"] <= r["ci_high"] for r in stated]), 3)
                if stated else None,
                "human_share": round(float(np.mean([r["human"] for r in runs])) / args.pool, 3),
                "mean_truth": round(float(np.mean([r["truth"] for r in runs])), 4),
                "seconds": round(time.perf_counter() - started, 1),
            })
            print(json.dumps(out[-1]), flush=True)


if __name__ == "__main__":
    main()
