"""Span project exports: JSONL with character offsets and per-span provenance, a Hugging Face
dataset with ``tokens`` and IOB2 ``ner_tags`` (a ``ClassLabel``), and a spaCy ``DocBin``; each
with a dataset card stating the span counts per label, how the spans were decided and what is
measured about them (agreement between people, the suggesters' span precision against people).

Input rows (one per item whose spans are decided, built by the service)::

    {"item_id": int, "external_id": str | None, "text": str, "metadata": dict,
     "spans": [{"start", "end", "label", "text", "annotator", "label_source", "route",
                "suggested_by"}, …],
     "label_source": "human" | "import" | "agent", "annotator": str, "route": str,
     "verified": bool, "labelled_at": datetime | None}

Offsets are code points of ``text``; ``suggested_by`` names the suggester whose identical span
the person kept (None when the person drew it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from annotator.core.errors import ValidationError
from annotator.export.card import CardStats, md_text
from annotator.export.writers import ExportResult, json_line
from annotator.spans.formats import to_hf_dataset, write_docbin
from annotator.spans.model import Span

#: format → data path inside the output folder
SPAN_FORMATS: dict[str, str] = {"jsonl": "data.jsonl", "hf": "dataset", "spacy": "data.spacy"}


def _spans(row: dict[str, Any]) -> list[Span]:
    return [Span(int(s["start"]), int(s["end"]), str(s["label"])) for s in row["spans"]]


def _iob_failure(row: dict[str, Any], fmt: str, e: Exception) -> ValidationError:
    return ValidationError(f"Item {row['item_id']} has spans that share a token, which {fmt} cannot hold.",
                           got=str(e)[:200], fix="export --format jsonl (overlapping spans kept), or remove the "
                           "overlap in the item")


def _jsonl(rows: Sequence[dict[str, Any]], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            labelled_at = row.get("labelled_at")
            f.write(json_line({**row, "labelled_at": labelled_at.isoformat()
                               if isinstance(labelled_at, datetime) else labelled_at}))


def _hf(rows: Sequence[dict[str, Any]], path: Path, labels: Sequence[str]) -> None:
    try:
        ds = to_hf_dataset([(r["item_id"], r["text"], _spans(r)) for r in rows], labels)
    except ValueError as e:
        bad = next((r for r in rows if _shares_token(r)), rows[0] if rows else {"item_id": "?"})
        raise _iob_failure(bad, "IOB tags", e) from e
    # provenance beside the training columns: who decided each item, how
    for name in ("label_source", "annotator", "route"):
        ds = ds.add_column(name, [str(r.get(name) or "") for r in rows])
    ds = ds.add_column("verified", [bool(r.get("verified")) for r in rows])
    ds.save_to_disk(str(path))


def _shares_token(row: dict[str, Any]) -> bool:
    from annotator.spans.tokens import to_iob

    try:
        to_iob(row["text"], _spans(row))
    except ValueError:
        return True
    return False


def _spacy(rows: Sequence[dict[str, Any]], path: Path) -> None:
    try:
        write_docbin(path, [(r["item_id"], r["text"], _spans(r)) for r in rows])
    except ValueError as e:  # spaCy refuses overlapping doc.ents
        if isinstance(e, ValidationError):
            raise
        bad = next((r for r in rows if _shares_token(r)), rows[0] if rows else {"item_id": "?"})
        raise _iob_failure(bad, "a spaCy DocBin", e) from e


def _table(header: str, counts: Counter) -> str:
    total = sum(counts.values())
    lines = [f"| {header} | count | share |", "| --- | ---: | ---: |"]
    for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0]))):
        lines.append(f"| {md_text(key)} | {n} | {n / total:.1%} |" if total else f"| {md_text(key)} | {n} | – |")
    return "\n".join(lines)


def _f1(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def span_card(project_name: str, fmt: str, rows: Sequence[dict[str, Any]], labels: Sequence[str], *,
              n_items: int, agreement: dict[str, Any] | None = None,
              precision: dict[str, dict[str, Any]] | None = None) -> str:
    """The README.md of a span export (Markdown; every name escaped)."""
    by_label: Counter = Counter({lab: 0 for lab in labels})
    items_with: Counter = Counter({lab: 0 for lab in labels})
    for r in rows:
        names = [s["label"] for s in r["spans"]]
        by_label.update(names)
        items_with.update(set(names))
    sources = Counter(str(r.get("label_source")) for r in rows)
    routes = Counter(str(r.get("route")) for r in rows)
    span_sources = Counter("drawn by a person" if s.get("label_source") != "agent" and not s.get("suggested_by")
                           else "AI suggestion kept by a person" if s.get("label_source") != "agent"
                           else "AI, not checked" for r in rows for s in r["spans"])
    lines = [f"# {md_text(project_name)} (spans)", "",
             f"Exported as `{fmt}`: {len(rows)} of {n_items} items have decided spans "
             f"({sum(by_label.values())} spans; an item without spans counts when a person said so).", "",
             "Offsets are Python string offsets (code points) of `text`, end exclusive.", "",
             "## Spans per label", "", "| label | spans | items with it |", "| --- | ---: | ---: |"]
    lines += [f"| {md_text(lab)} | {by_label[lab]} | {items_with[lab]} |" for lab in by_label]
    lines += ["", "## Who decided the items", "", _table("label source", sources), "", _table("route", routes),
              "", "## Where the spans came from", "", _table("span", span_sources), ""]
    lines += ["## Measured quality", ""]
    if agreement and agreement.get("pairs"):
        lines += ["Span F1 between people on the items both answered (exact: same start, end and label; "
                  "overlap: same label, at least one shared character).", "",
                  "| match | F1 (all labels) |", "| --- | ---: |",
                  f"| exact | {_f1(agreement.get('exact_f1'))} |", f"| overlap | {_f1(agreement.get('overlap_f1'))} |",
                  ""]
    if precision:
        lines += ["Span precision of each suggester against people's spans on the items people answered "
                  "(exact match).", "", "| suggester | items | precision | recall |", "| --- | ---: | ---: | ---: |"]
        for agent, p in precision.items():
            lines.append(f"| {md_text(agent)} | {p['items']} | {_f1(p['precision'])} | {_f1(p['recall'])} |")
        lines.append("")
    if not (agreement and agreement.get("pairs")) and not precision:
        lines += ["Nothing measured yet: no item was answered by two people and no suggester was compared "
                  "with people.", ""]
    return "\n".join(lines)


def write_span_export(rows: Sequence[dict[str, Any]], *, fmt: str, out_dir: Path, project_name: str,
                      labels: Sequence[str], n_items: int, agreement: dict[str, Any] | None = None,
                      precision: dict[str, dict[str, Any]] | None = None) -> ExportResult:
    """Write ``rows`` (module docstring) as ``fmt`` and the card into ``out_dir`` (a staging folder).

    Raises:
        ValidationError: an unknown format, or spans IOB / spaCy cannot hold (naming the item).
    """
    if fmt not in SPAN_FORMATS:
        raise ValidationError(f"Unknown export format {fmt!r} for a span project.", expected=" | ".join(SPAN_FORMATS),
                              fix="pass --format jsonl, hf or spacy")
    out_dir.mkdir(parents=True, exist_ok=True)
    data_path = out_dir / SPAN_FORMATS[fmt]
    {"jsonl": lambda: _jsonl(rows, data_path), "hf": lambda: _hf(rows, data_path, labels),
     "spacy": lambda: _spacy(rows, data_path)}[fmt]()
    card_path = out_dir / "README.md"
    card_path.write_text(span_card(project_name, fmt, rows, labels, n_items=n_items, agreement=agreement,
                                   precision=precision), encoding="utf-8")
    stats = CardStats(project_name=project_name, labels=list(labels), multi_label=True, fmt=fmt, n_rows=len(rows),
                      n_labelled=len(rows))
    stats.by_label.update(s["label"] for r in rows for s in r["spans"])
    stats.by_source.update(str(r.get("label_source")) for r in rows)
    stats.by_route.update(str(r.get("route")) for r in rows)
    stats.n_verified = sum(1 for r in rows if r.get("verified"))
    return ExportResult(out_dir=out_dir, data_path=data_path, card_path=card_path, n_rows=len(rows), stats=stats)
