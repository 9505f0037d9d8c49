"""Post-training exports: SFT chat JSONL, DPO preference pairs, ratings tables.

Input rows are ``store.tasks.iter_task_rows`` rows: the export columns (final label with its
provenance) plus the deciding answer's ``payload``. Each format writes one directory:
``data.jsonl`` (and ``data.csv`` for ratings), ``dataset/`` (an HF ``save_to_disk`` folder that
``datasets.load_from_disk`` opens) and a ``README.md`` dataset card with the provenance counts
and the measured quality, as for classification.

- ``dpo``: preference items decided A or B → prompt, chosen, rejected, margin, decided_by (plus
  provenance). ``margin`` is 1 for a person's verdict and 2·confidence − 1 for an AI verdict
  (how far the calibrated judge was from a coin flip). tie / both-bad verdicts give no pair.
- ``sft``: chat messages (user prompt, assistant answer) from corrections (the edited answer)
  and from rated responses whose mean score reaches ``min_rating`` (default: the scale's top
  minus one).
- ``ratings``: one row per rated item, one column per criterion, their mean and the rationale.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from annotator.core.errors import ValidationError
from annotator.export.card import CardStats, render_card
from annotator.export.writers import ExportResult, json_line, neutralise_formula
from annotator.tasks.definitions import is_posttraining

Rows = list[dict[str, Any]]
POSTTRAINING_FORMATS = ("sft", "dpo", "ratings")
#: format → the task types it can be made from
SOURCES = {"dpo": ("preference",), "sft": ("correction", "rating"), "ratings": ("rating",)}


def _meta(row: dict[str, Any]) -> dict[str, Any]:
    meta = row.get("metadata") or {}
    return json.loads(meta) if isinstance(meta, str) else dict(meta)


def _provenance(row: dict[str, Any]) -> dict[str, Any]:
    labelled_at = row.get("labelled_at")
    return {"item_id": row["item_id"], "decided_by": row.get("annotator"), "label_source": row.get("label_source"),
            "route": row.get("route"), "confidence": row.get("confidence"), "verified": bool(row.get("verified")),
            "labelled_at": labelled_at.isoformat() if hasattr(labelled_at, "isoformat") else labelled_at}


def dpo_rows(rows: Iterable[dict[str, Any]]) -> Rows:
    """Preference rows with a verdict A or B → DPO pairs (see the module docstring)."""
    out = []
    for row in rows:
        verdict = (row.get("label") or [None])[0]
        if verdict not in ("A", "B"):
            continue
        meta = _meta(row)
        a, b = meta.get("response_a", ""), meta.get("response_b", "")
        chosen, rejected = (a, b) if verdict == "A" else (b, a)
        person = row.get("label_source") != "agent"
        conf = row.get("confidence")
        margin = 1.0 if person else (round(2.0 * float(conf) - 1.0, 5) if conf is not None else None)
        payload = row.get("payload") or {}
        out.append({"prompt": row["text"], "chosen": chosen, "rejected": rejected, "margin": margin,
                    **_provenance(row), "verdict": verdict, "shown_order": payload.get("shown_order"),
                    "rationale": payload.get("rationale")})
    return out


def _ratings(row: dict[str, Any]) -> dict[str, int]:
    """A row's scores per criterion: a person's from the payload, else (an auto-accepted judge
    rating, routed like a label) parsed from the label's ``criterion=score`` values."""
    ratings = (row.get("payload") or {}).get("ratings")
    if ratings:
        return dict(ratings)
    if row.get("label_source") != "agent":
        return {}
    out = {}
    for value in row.get("label") or []:
        criterion, _, score = str(value).rpartition("=")
        if criterion and score.lstrip("-").isdigit():
            out[criterion] = int(score)
    return out


def _mean_rating(ratings: dict[str, Any]) -> float | None:
    return sum(ratings.values()) / len(ratings) if ratings else None


def sft_rows(rows: Iterable[dict[str, Any]], task_type: str, *, min_rating: float) -> Rows:
    """Corrections (edited answer) and top-rated responses → chat-message rows."""
    out = []
    for row in rows:
        payload = row.get("payload") or {}
        if row.get("label") is None:
            continue
        if task_type == "correction":
            answer, source, score = payload.get("edited"), "correction", None
        elif task_type == "rating":
            score = _mean_rating(_ratings(row))
            if score is None or score < min_rating:
                continue
            answer, source = _meta(row).get("response"), "rating"
        else:
            continue
        if not answer:
            continue
        out.append({"messages": [{"role": "user", "content": row["text"]}, {"role": "assistant", "content": answer}],
                    "source": source, "mean_rating": score, **_provenance(row)})
    return out


def ratings_rows(rows: Iterable[dict[str, Any]], criteria: Sequence[str]) -> Rows:
    """Rated items → one row each: prompt, response, a column per criterion, mean, rationale."""
    out = []
    for row in rows:
        payload = row.get("payload") or {}
        ratings = _ratings(row)
        if not ratings:
            continue
        out.append({"prompt": row["text"], "response": _meta(row).get("response", ""),
                    **{c: ratings.get(c) for c in criteria}, "mean": _mean_rating(ratings),
                    "rationale": payload.get("rationale"), **_provenance(row)})
    return out


def _write_hf(rows: Rows, path: Path) -> None:
    import datasets

    if path.exists():
        shutil.rmtree(path)
    datasets.Dataset.from_list(rows).save_to_disk(str(path))


COLUMNS = {
    "dpo": "`prompt`, `chosen`, `rejected`, `margin` (1 for a person's verdict, 2·confidence − 1 for an AI "
           "verdict), `decided_by` (person, or `agent@version`), `label_source`, `route`, `confidence`, "
           "`verified`, `labelled_at`, `verdict` (A | B about the original responses), `shown_order` (AB: "
           "response_a was shown on the left), `rationale`, `item_id`.",
    "sft": "`messages` (user prompt, assistant answer), `source` (correction | rating), `mean_rating`, "
           "`decided_by`, `label_source`, `route`, `confidence`, `verified`, `labelled_at`, `item_id`.",
    "ratings": "`prompt`, `response`, one column per criterion, `mean`, `rationale`, `decided_by`, "
               "`label_source`, `route`, `confidence`, `verified`, `labelled_at`, `item_id`.",
}


def write_posttraining(
    chunks: Iterable[Rows], *, fmt: str, out_dir: Path, project_name: str, task_type: str, labels: list[str],
    scale: tuple[int, int] = (1, 5), min_rating: float | None = None,
    keep: Callable[[dict[str, Any]], bool] | None = None, quality: dict[str, Any] | None = None,
    csv_raw_formulas: bool = False,
) -> ExportResult:
    """Write one post-training format for a project of ``task_type`` (see the module docstring).

    ``csv_raw_formulas``: the ratings ``data.csv`` keeps text cells that start like a spreadsheet
    formula as they are, instead of prefixing them with ``'`` (the JSONL and HF files always keep them).
    """
    if fmt not in POSTTRAINING_FORMATS:
        raise ValidationError(f"Unknown post-training format {fmt!r}.", expected=" | ".join(POSTTRAINING_FORMATS))
    if not is_posttraining(task_type) or task_type not in SOURCES[fmt]:
        raise ValidationError(f"--format {fmt} needs a {' or '.join(SOURCES[fmt])} project.",
                              got=f"a {task_type} project",
                              fix="pick the format that matches the project: preference → dpo, rating → ratings "
                                  "or sft, correction → sft; or csv | jsonl | parquet | hf for any project")
    out_dir.mkdir(parents=True, exist_ok=True)
    stats = CardStats(project_name=project_name, labels=labels, multi_label=False, fmt=fmt)
    rows: Rows = []
    for chunk in chunks:
        kept = [r for r in chunk if keep is None or keep(r)]
        stats.add_rows([{**r, "label": r["label"]} for r in kept])
        rows.extend(kept)
    top = float(min_rating) if min_rating is not None else float(scale[1] - 1)
    records = {"dpo": lambda: dpo_rows(rows), "sft": lambda: sft_rows(rows, task_type, min_rating=top),
               "ratings": lambda: ratings_rows(rows, labels)}[fmt]()
    data_path = out_dir / "data.jsonl"
    with data_path.open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json_line(record))
    if fmt == "ratings":
        import pandas as pd

        cells = records if csv_raw_formulas else [{k: neutralise_formula(v) for k, v in r.items()} for r in records]
        pd.DataFrame(cells).to_csv(out_dir / "data.csv", index=False)
    if records:
        _write_hf(records, out_dir / "dataset")
    card = render_card(stats, quality or {}, None).split("## Columns")[0]
    card = card.replace("- text-classification", "- text-generation").replace(
        "text classification, format", f"{task_type} data for LLM post-training, format")
    skipped = stats.n_labelled - len(records)
    card += (f"## Post-training export (`{fmt}`)\n\n- Rows written: {len(records)} of {stats.n_labelled} decided "
             f"items ({skipped} give no {fmt} row" + (": tie / both-bad verdicts" if fmt == "dpo" else
                                                      f": below the mean rating {top:g}" if task_type == "rating"
                                                      and fmt == "sft" else "") + ").\n"
             "- Files: `data.jsonl`, `dataset/` (`datasets.load_from_disk`)"
             + (", `data.csv`" if fmt == "ratings" else "") + ".\n\n## Columns\n\n" + COLUMNS[fmt] + "\n")
    card_path = out_dir / "README.md"
    card_path.write_text(card, encoding="utf-8")
    return ExportResult(out_dir=out_dir, data_path=data_path, card_path=card_path, n_rows=len(records), stats=stats)
