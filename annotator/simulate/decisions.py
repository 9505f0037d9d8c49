"""What a simulated session decided per item, scored against gold: ``simulate --out DIR``.

One row per pool item: its final label and who gave it (the simulated person, or which model
through the router), the route that brought it there, the confidence, and whether it is right.
Beside it, what the AI said last about the item, so a user can see what would be auto-labelled
and where the AI was wrong. Gold is read here, after the last round, for the file only.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from annotator.service import AnnotatorService

#: Columns of the decisions file, in order.
DECISION_COLUMNS = [
    "item_id", "external_id", "text", "final_label", "gold_label", "right", "route", "source_kind", "source",
    "confidence", "ai_label", "ai_confidence", "ai_route", "ai_right",
]
#: What each column holds (``--help`` and the README say the same).
DECISION_HELP = {
    "item_id": "the item's id in the simulated project",
    "external_id": "row number in the input file (after de-duplication)",
    "text": "the item's text",
    "final_label": "the label the pool ends with (empty: never labelled within the budget)",
    "gold_label": "the gold label of the input file",
    "right": "final_label == gold_label (empty when unlabelled); its mean is final_label_accuracy",
    "route": "how the final label came: auto (AI, accepted), or a person through audit / verify / blind / manual "
             "(the queue, before any AI run); when unlabelled, the route the router left it on",
    "source_kind": "person | model | none",
    "source": "the simulated person's name, or the model as agent@version",
    "confidence": "the fused AI confidence of an auto label (empty for a person's label)",
    "ai_label": "the AI's newest label for the item (for a labelled item: before the person answered)",
    "ai_confidence": "its fused confidence (max probability)",
    "ai_route": "the route the router gave that suggestion",
    "ai_right": "ai_label == gold_label",
}


def _joined(label: Sequence[str] | None) -> str | None:
    return None if not label else "|".join(label)


def item_decisions(service: AnnotatorService, project: str, gold: dict[str, str]) -> list[dict[str, Any]]:
    """Rows of ``DECISION_COLUMNS``, one per pool item in item id order.

    Args:
        gold: external id → gold label (the simulated person's answer sheet).
    """
    ai = service.ai.last_ai_labels(project)
    rows = []
    for row in service.exports.final_labels(project):
        truth = gold.get(str(row["external_id"]))
        final = _joined(row["label"])
        said = ai.get(int(row["item_id"])) or {}
        ai_label = _joined(said.get("label"))
        is_model = row["label_source"] == "agent"
        rows.append({
            "item_id": int(row["item_id"]), "external_id": row["external_id"], "text": row["text"],
            "final_label": final, "gold_label": truth,
            "right": None if final is None else final == truth,
            "route": row["route"] if final is not None else said.get("route"),
            "source_kind": "none" if final is None else "model" if is_model else "person",
            "source": row["annotator"],
            "confidence": row["confidence"] if is_model else None,
            "ai_label": ai_label, "ai_confidence": said.get("confidence"), "ai_route": said.get("route"),
            "ai_right": None if ai_label is None else ai_label == truth,
        })
    return rows


def _clean(value: Any) -> Any:
    """JSON null for NaN (strict JSON)."""
    return None if isinstance(value, float) and math.isnan(value) else value


def write_decisions(rows: Sequence[dict[str, Any]], out_dir: Path, stem: str) -> dict[str, str]:
    """Write ``rows`` as ``out_dir/stem.csv`` and ``out_dir/stem.jsonl``; returns their paths."""
    import pandas as pd

    out_dir.mkdir(parents=True, exist_ok=True)
    csv, jsonl = out_dir / f"{stem}.csv", out_dir / f"{stem}.jsonl"
    pd.DataFrame(list(rows), columns=DECISION_COLUMNS).to_csv(csv, index=False)
    with jsonl.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps({k: _clean(row[k]) for k in DECISION_COLUMNS}, ensure_ascii=False) + "\n")
    return {"csv": str(csv), "jsonl": str(jsonl)}


def decisions_stem(strategy: str, seed: int, arm: str | None = None) -> str:
    """File name (no suffix) of one run's decisions: ``margin_seed0`` or ``margin_seed0_without_finetune``."""
    return f"{strategy}_seed{seed}" + (f"_{arm}" if arm else "")


def summarise(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Counts a reader checks the file against: rows, labelled, right, per route, auto wrong."""
    labelled = [r for r in rows if r["right"] is not None]
    routes: dict[str, int] = {}
    for r in rows:
        routes[str(r["route"])] = routes.get(str(r["route"]), 0) + 1
    return {"rows": len(rows), "labelled": len(labelled), "right": sum(bool(r["right"]) for r in labelled),
            "auto_wrong": sum(r["route"] == "auto" and r["right"] is False for r in rows), "routes": routes}
