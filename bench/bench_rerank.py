"""Time of re-scoring and re-ranking a whole pool after a refit: predict_proba + rank_pool.

    python bench/bench_rerank.py --sizes 100000,1000000 [--n-labels 5] [--repeats 3]

For each pool size: random L2-normalised 384-d float32 vectors (what the embedding cache holds),
a linear probe fitted on 200 random labelled items with ``--n-labels`` classes, then
``--repeats`` runs of ``probe.predict_proba(pool)`` followed by ``rank_pool`` (margin, diverse
first batch of 10, a 0.1 random slice). Prints one JSON line per size with the medians in
seconds. The target is 1M items in at most 3 s on 2 cores: a refit must never hold the queue up
for long.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from annotator.active.classifier import fit_classifier  # noqa: E402
from annotator.active.ranking import rank_pool  # noqa: E402


def random_unit_vectors(n: int, d: int, rng: np.random.Generator, chunk: int = 100_000) -> np.ndarray:
    """(n, d) float32 rows uniform on the unit sphere, built in chunks (no float64 copy of 1M × d)."""
    out = np.empty((n, d), dtype=np.float32)
    for start in range(0, n, chunk):
        block = rng.standard_normal((min(chunk, n - start), d), dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start:start + len(block)] = block
    return out


def bench_size(n_items: int, args: argparse.Namespace) -> dict:
    rng = np.random.default_rng(args.seed)
    embeddings = random_unit_vectors(n_items, args.dim, rng)
    labelled = rng.choice(n_items, args.labelled, replace=False)
    y = rng.integers(args.n_labels, size=args.labelled)
    t0 = time.perf_counter()
    probe = fit_classifier(embeddings[labelled], y, args.n_labels)
    fit_s = time.perf_counter() - t0
    unlabelled = np.ones(n_items, dtype=bool)
    unlabelled[labelled] = False

    proba_s, rank_s, total_s = [], [], []
    for repeat in range(args.repeats):
        t0 = time.perf_counter()
        proba = probe.predict_proba(embeddings)
        t1 = time.perf_counter()
        ranking = rank_pool(proba, embeddings, unlabelled, args.strategy, args.batch_size,
                            np.random.default_rng(repeat), explore_fraction=args.explore_fraction)
        t2 = time.perf_counter()
        proba_s.append(t1 - t0)
        rank_s.append(t2 - t1)
        total_s.append(t2 - t0)
        assert len(ranking.order) > 0
    return {
        "bench": "rerank", "n_items": n_items, "seconds_median": round(statistics.median(total_s), 4),
        "predict_proba_s": round(statistics.median(proba_s), 4), "rank_s": round(statistics.median(rank_s), 4),
        "fit_s": round(fit_s, 4), "dim": args.dim, "n_labels": args.n_labels, "labelled": args.labelled,
        "strategy": args.strategy, "batch_size": args.batch_size, "explore_fraction": args.explore_fraction,
        "repeats": args.repeats,
        "ranked": len(ranking.order), "cpu_count": os.cpu_count(),
        "loadavg_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated pool sizes")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--labelled", type=int, default=200, help="random labelled items the probe is fitted on")
    parser.add_argument("--n-labels", type=int, default=5, help="classes (2–5 in the app's usual projects)")
    parser.add_argument("--strategy", default="margin")
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--explore-fraction", type=float, default=0.1,
                        help="random calibration slice interleaved in the ranking (the app's default 0.1)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    results = []
    for n_items in (int(s) for s in args.sizes.split(",") if s.strip()):
        result = bench_size(n_items, args)
        print(json.dumps(result), flush=True)
        results.append(result)
    return results


if __name__ == "__main__":
    main()
