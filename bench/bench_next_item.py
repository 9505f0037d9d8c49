"""Latency of "submit label → next item" through the service, with a large pool.

    python bench/bench_next_item.py --items 100000 --labels 300

The pool's texts are synthetic; their 384-d vectors are written straight into the embedding
cache (random, normalised) so the bench measures the queue, not the embedder. Each step is one
``service.queue.submit`` (a transaction) plus one ``service.queue.next_item``; refits run in the background
every 10 labels as in the app. Prints one JSON line with p50/p95/max in milliseconds, and the
time of a background refit + re-rank of the whole pool.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from annotator.core.config import Settings  # noqa: E402
from annotator.embeddings import EmbeddingCache, HashingEmbedder, text_hash  # noqa: E402
from annotator.service import AnnotatorService  # noqa: E402

LABELS = ["billing", "bug", "feature", "account"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--labels", type=int, default=300, help="answers to time")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        embedder = HashingEmbedder(dim=384)
        settings = Settings(data_dir=Path(tmp) / "data", demo=False, embedding_model="hashing")
        service = AnnotatorService.from_settings(settings, embedder=embedder)
        service.projects.create_project("bench", LABELS)
        texts = [f"synthetic ticket {i} " + " ".join(rng.choice(["a", "b", "c", "d"], 5)) for i in range(args.items)]
        service.imports.import_records("bench", [{"text": t} for t in texts])
        centers = rng.normal(size=(len(LABELS), 384)).astype(np.float32)
        truth = rng.integers(len(LABELS), size=args.items)
        vectors = centers[truth] + rng.normal(scale=2.0, size=(args.items, 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        EmbeddingCache(settings.embeddings_dir, embedder.name, embedder.dim).put([text_hash(t) for t in texts], vectors)
        t0 = time.perf_counter()
        item = service.queue.next_item("bench", "ana")
        build_s = time.perf_counter() - t0
        index = {t: i for i, t in enumerate(texts)}
        latencies = []
        for _ in range(args.labels):
            label = LABELS[truth[index[item.text]]]
            t = time.perf_counter()
            service.queue.submit("bench", "ana", item.item_id, [label])
            item = service.queue.next_item("bench", "ana")
            latencies.append((time.perf_counter() - t) * 1000)
        service.queue.wait_for_refit("bench")
        t = time.perf_counter()
        service.queue.refit_now("bench")
        refit_s = time.perf_counter() - t
        ms = np.asarray(latencies)
        print(json.dumps({
            "bench": "next_item", "n_items": args.items, "answers": args.labels,
            "p50_ms": round(float(np.percentile(ms, 50)), 2), "p95_ms": round(float(np.percentile(ms, 95)), 2),
            "max_ms": round(float(ms.max()), 2), "pool_build_s": round(build_s, 2),
            "refit_and_rerank_s": round(refit_s, 3), "model_version": service.queue.progress("bench").model_version,
        }))
        service.close()


if __name__ == "__main__":
    main()
