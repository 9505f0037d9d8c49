"""Export a fine-tuned version as a standalone ``save_pretrained`` folder with a model card."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from annotator.core.errors import ConflictError, NotFoundError

#: Files of a version folder that belong to the annotator, not to the model.
PRIVATE = {"proba.npy", "item_ids.npy"}


def model_card(*, project: str, version: int, labels: list[str], metrics: dict[str, Any], promoted: bool,
               base_model: str, created_at: datetime | None) -> str:
    """README.md text: labels, training data counts, held-out metrics, date."""
    def fmt(v: Any) -> str:
        return "n/a" if v is None else (f"{v:.1%}" if isinstance(v, float) and v <= 1 else str(v))

    rows = [
        ("Held-out accuracy", fmt(metrics.get("heldout_accuracy"))),
        ("Held-out labels", fmt(metrics.get("heldout_n"))),
        (f"Baseline ({metrics.get('baseline', 'n/a')}) accuracy on the same items", fmt(metrics.get("baseline_accuracy"))),
        ("Paired test (McNemar, one-sided) p-value", fmt(metrics.get("p_value"))),
        ("Training labels (people's)", fmt(metrics.get("human_train_n", metrics.get("train_n")))),
        ("Training labels (auto-accepted AI, weight "
         f"{metrics.get('auto_weight', 0)})", fmt(metrics.get("auto_train_n", 0))),
        ("Optimiser steps / device", f"{metrics.get('steps', 'n/a')} / {metrics.get('device', 'n/a')}"),
    ]
    table = "\n".join(f"| {k} | {v} |" for k, v in rows)
    return f"""---
library_name: transformers
pipeline_tag: text-classification
tags: [annotator, text-classification]
---

# {project} — fine-tuned classifier v{version}

A sequence classifier fine-tuned by the annotator on the labels people gave in project
**{project}**, starting from `{base_model}`.

- Labels (column order of the logits): {", ".join(f"`{lab}`" for lab in labels)}
- Trained: {created_at.isoformat(timespec="seconds") if created_at else "n/a"}
- Promoted in the app: {"yes" if promoted else "no"} — {metrics.get("reason", "")}

## Evaluation

Measured on a fixed random slice (about a fifth, chosen by a hash of the item id) of the
people's labels that no fine-tuned model trained on.

| Figure | Value |
|---|---|
{table}

## Use

```python
from transformers import pipeline
clf = pipeline("text-classification", model="path/to/this/folder")
clf("some text")
```

`labels.jsonl` lists the item ids and labels this version saw (split train / heldout).
"""


def prepare_out(out: Path) -> Path:
    """Create the export folder ``out``; it must not exist or be empty.

    Raises:
        ConflictError: ``out`` is a file, or a folder with something in it.
    """
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConflictError(f"{out} exists and is not empty.", expected="a new or empty folder",
                            fix="pass a new folder to --out")
    out.mkdir(parents=True, exist_ok=True)
    return out


def export_version(version_dir: Path, out: Path, *, project: str, version: int, metrics: dict[str, Any],
                   promoted: bool, created_at: datetime | None) -> Path:
    """Copy the model files of ``version_dir`` to ``out`` (must not exist or be empty) and write README.md."""
    if not version_dir.is_dir():
        raise NotFoundError(f"The folder of model version {version} is missing: {version_dir}.",
                            fix="it was moved or deleted; train a new version")
    prepare_out(out)
    for f in version_dir.iterdir():
        if f.is_file() and f.name not in PRIVATE:
            shutil.copy2(f, out / f.name)
    config = json.loads((version_dir / "config.json").read_text()) if (version_dir / "config.json").is_file() else {}
    labels = [config.get("id2label", {}).get(str(i), config.get("id2label", {}).get(i, str(i)))
              for i in range(int(config.get("num_labels", len(config.get("id2label", {})))))]
    run = json.loads((version_dir / "finetune.json").read_text()) if (version_dir / "finetune.json").is_file() else {}
    base = (run.get("config") or {}).get("model", "n/a")
    (out / "README.md").write_text(model_card(project=project, version=version, labels=labels or run.get("labels", []),
                                              metrics=metrics, promoted=promoted, base_model=str(base),
                                              created_at=created_at), encoding="utf-8")
    return out
