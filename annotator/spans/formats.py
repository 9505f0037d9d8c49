"""Span data in and out: the record shapes other tools write (Prodigy, spaCy, doccano), a Hugging
Face dataset with ``tokens`` and IOB2 ``ner_tags`` (a ``ClassLabel``), and a spaCy ``DocBin``.

Rows going out are ``(item_id, text, spans)``; every writer keeps character offsets exact, and
``from_hf_dataset`` reads the dataset back to the same spans.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from annotator.core.errors import ValidationError
from annotator.spans.model import Span, parse_spans
from annotator.spans.tokens import to_iob

SpanRow = tuple[Any, str, Sequence[Span]]

#: Keys that hold a record's spans, in the order they are looked for: Prodigy / Argilla, spaCy's
#: training JSON, doccano's JSONL export.
SPAN_KEYS = ("spans", "entities", "ents", "label")


def record_spans(record: Mapping[str, Any], *, row: int | None = None) -> list[Span]:
    """The spans of one imported record, whichever of ``SPAN_KEYS`` holds them (none → ``[]``).

    Raises:
        ValidationError: the value under that key is not a list of spans, naming the row.
    """
    for key in SPAN_KEYS:
        value = record.get(key)
        if key == "label" and not isinstance(value, list):
            continue  # a classification label, not doccano's span list
        if value is not None:
            return parse_spans(value, row=row)
    return []


def iob_tags(labels: Sequence[str]) -> list[str]:
    """The ``ner_tags`` names: ``O`` then ``B-``/``I-`` of each label, in the project's order."""
    return ["O", *[f"{p}-{lab}" for lab in labels for p in ("B", "I")]]


def hf_features(labels: Sequence[str]) -> Any:
    """``datasets.Features`` of the span export: id, text, tokens, ner_tags (ClassLabel), spans."""
    from datasets import ClassLabel, Features, Value
    from datasets import Sequence as HFSequence

    return Features({
        "id": Value("string"), "text": Value("string"),
        "tokens": HFSequence(Value("string")), "ner_tags": HFSequence(ClassLabel(names=iob_tags(labels))),
        "spans": [{"start": Value("int32"), "end": Value("int32"), "label": Value("string")}],
    })


def to_hf_dataset(rows: Sequence[SpanRow], labels: Sequence[str]) -> Any:
    """A ``datasets.Dataset`` with one row per item (spans sorted by position)."""
    from datasets import Dataset

    tag_id = {t: k for k, t in enumerate(iob_tags(labels))}
    columns: dict[str, list[Any]] = {"id": [], "text": [], "tokens": [], "ner_tags": [], "spans": []}
    for item_id, text, spans in rows:
        tokens, tags = to_iob(text, spans)
        columns["id"].append(str(item_id))
        columns["text"].append(text)
        columns["tokens"].append(tokens)
        columns["ner_tags"].append([tag_id[t] for t in tags])
        columns["spans"].append([s.as_dict() for s in sorted(spans)])
    return Dataset.from_dict(columns, features=hf_features(labels))


def from_hf_dataset(dataset: Any) -> list[tuple[str, str, list[Span]]]:
    """``(id, text, spans)`` per row of a dataset ``to_hf_dataset`` wrote (from its ``spans`` column)."""
    return [(row["id"], row["text"], [Span(s["start"], s["end"], s["label"]) for s in row["spans"]])
            for row in dataset]


def write_docbin(path: str | Path, rows: Sequence[SpanRow]) -> Path:
    """A spaCy ``DocBin`` file of the rows (``doc.ents`` from the spans; ``user_data["id"]``).

    Raises:
        ValidationError: a span does not fall on spaCy's token boundaries, naming the item.
    """
    import spacy
    from spacy.tokens import DocBin

    nlp = spacy.blank("xx")
    docbin = DocBin(store_user_data=True)
    for item_id, text, spans in rows:
        doc = nlp.make_doc(text)
        ents = [doc.char_span(s.start, s.end, label=s.label, alignment_mode="expand") for s in sorted(spans)]
        if any(e is None for e in ents):
            raise ValidationError(f"Item {item_id}: a span does not fall on spaCy's tokens.",
                                  got=str([s.as_dict() for s in spans])[:200], fix="snap the spans to tokens")
        doc.ents = ents
        doc.user_data["id"] = str(item_id)
        docbin.add(doc)
    out = Path(path)
    docbin.to_disk(out)
    return out
