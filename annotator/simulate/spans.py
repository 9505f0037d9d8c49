"""``simulate --task spans``: a simulated person labels a span set through the real service, with
and without a span suggester's pre-annotations, and the report counts the human work each took.

One run (an *arm*) per seed and suggester setting: a fresh project of the gold file's labels, the
pool imported without spans; with a suggester its spans are stored for every pool item first
(``svc.spans.suggest``). The person is served items in queue order (``svc.spans.next_item``:
span uncertainty of the token tagger fitted on their answers, re-ranked after every batch) and
answers the gold spans. Per item the work is the **span edits**: gold spans missing from what
was pre-filled (to draw) plus pre-filled spans not in the gold (to delete); without a suggester
that is every gold span. After every batch the tagger fitted on the answers so far is scored on
a held-out slice (exact span F1), so each arm also has a learning curve.

Report keys (per arm, means over seeds in ``arms``): ``items_labelled``, ``gold_spans``,
``span_edits`` (the human span labels needed), ``edits_per_item``, ``items_unchanged`` (accepted
as pre-filled), ``suggester`` (its exact precision / recall against gold on the pool), ``curve``
(``[{"items", "span_edits", "test_f1"}]``) and ``items_to_test_f1`` (items until the tagger's
test F1 first reaches ``target_f1``).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from annotator.core.config import Settings
from annotator.core.errors import ValidationError
from annotator.importers.span_records import read_span_records
from annotator.service import AnnotatorService
from annotator.spans import Span
from annotator.spans.agreement import Counts, span_f1
from annotator.spans.tagger import TokenTagger

PROJECT = "sim-spans"


@dataclass(frozen=True)
class SpanSimConfig:
    """One simulated span session.

    Attributes:
        human_budget: items the person may answer.
        batch_size: items answered between two re-rankings / curve points.
        test_fraction: share of the file held out to score the tagger (never labelled).
        target_f1: the tagger's test F1 that ``items_to_test_f1`` waits for.
        strategy: the queue's strategy ("margin": span uncertainty; "random": the baseline).
        max_items: sample this many records of the file first (None: all).
    """

    human_budget: int = 200
    batch_size: int = 10
    seed: int = 0
    test_fraction: float = 0.2
    target_f1: float = 0.6
    strategy: str = "margin"
    max_items: int | None = None


@dataclass(frozen=True)
class SpanGold:
    """A gold span file: texts (n,), their gold spans (n,) and the labels found, sorted."""

    texts: list[str]
    spans: list[list[Span]]
    labels: list[str]


def load_span_gold(path: str | Path, text_key: str = "text") -> SpanGold:
    """Every record of a span file that carries a span answer (see ``importers.span_records``).

    Raises:
        ValidationError: no record has spans, or no span has a label.
    """
    records = [r for r in read_span_records(path, text_key=text_key, id_key=None) if r.spans is not None]
    labels = sorted({s.label for r in records for s in r.spans or []})
    if not records or not labels:
        raise ValidationError(f"{Path(path).name} holds no gold spans.", expected='records with "spans" (or '
                              '"entities") and at least one labelled span', fix="point simulate at a labelled span file")
    return SpanGold([r.text for r in records], [list(r.spans or []) for r in records], labels)


def _split(n: int, cfg: SpanSimConfig) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(cfg.seed)
    index = np.arange(n)
    if cfg.max_items and cfg.max_items < n:
        index = rng.choice(index, size=cfg.max_items, replace=False)
    index = rng.permutation(index)
    n_test = max(1, int(round(len(index) * cfg.test_fraction)))
    return np.sort(index[n_test:]), np.sort(index[:n_test])


def _test_f1(texts: Sequence[str], spans: Sequence[Sequence[Span]], test_texts: Sequence[str],
             test_gold: Sequence[Sequence[Span]], labels: Sequence[str]) -> float | None:
    """Exact span F1 on the test slice of a tagger fitted on the answers (None: cannot fit yet)."""
    try:
        tagger = TokenTagger(labels).fit(texts, spans)
    except ValueError:
        return None
    pred = tagger.predict_spans(test_texts)
    c = span_f1(dict(enumerate(pred)), dict(enumerate(test_gold)), match="exact").get("*", Counts())
    return None if c.f1 is None else round(c.f1, 4)


def run_span_arm(gold: SpanGold, cfg: SpanSimConfig, suggester: Any | None, *,
                 on_batch: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """One session (see the module docstring); ``suggester`` None is the manual arm."""
    started = time.perf_counter()
    pool_idx, test_idx = _split(len(gold.texts), cfg)
    by_id = {str(i): gold.spans[i] for i in pool_idx}
    test_texts, test_gold = [gold.texts[i] for i in test_idx], [gold.spans[i] for i in test_idx]
    with tempfile.TemporaryDirectory(prefix="annotator-sim-spans-") as tmp:
        settings = Settings(data_dir=Path(tmp), demo=False, embedding_model="hashing", jobs_backend="immediate",
                            jobs_workers=0, models_dir=Path(tmp) / "models")
        svc = AnnotatorService.from_settings(settings)
        try:
            svc.projects.create_project(PROJECT, gold.labels, task_type="spans", settings={
                "strategy": cfg.strategy, "refit_every": 10**9, "batch_size": cfg.batch_size, "seed": cfg.seed,
                "explore_fraction": 0.0, "allow_overlapping_spans": True})
            svc.spans.import_records(PROJECT, [{"id": str(i), "text": gold.texts[i]} for i in pool_idx])
            suggested = svc.spans.suggest(PROJECT, suggester) if suggester is not None else None
            precision = svc_suggester_vs_gold(svc, by_id) if suggester is not None else None
            texts: list[str] = []
            answers: list[list[Span]] = []
            edits = unchanged = gold_spans = 0
            curve: list[dict[str, Any]] = []
            while len(texts) < cfg.human_budget:
                batch = 0
                while batch < cfg.batch_size and len(texts) < cfg.human_budget:
                    view = svc.spans.next_item(PROJECT, "sim")
                    if view is None:
                        break
                    truth = by_id[str(view.external_id)]
                    shown = {Span(int(s["start"]), int(s["end"]), str(s["label"])) for s in view.spans}
                    work = len(shown ^ set(truth))  # spans to draw plus spans to delete
                    edits += work
                    unchanged += work == 0
                    gold_spans += len(truth)
                    svc.spans.submit_spans(PROJECT, "sim", view.item_id, truth)
                    texts.append(view.text)
                    answers.append(list(truth))
                    batch += 1
                if batch == 0:
                    break
                svc.spans.rank(PROJECT)
                point = {"items": len(texts), "span_edits": edits,
                         "test_f1": _test_f1(texts, answers, test_texts, test_gold, gold.labels)}
                curve.append(point)
                if on_batch:
                    on_batch(point)
        finally:
            svc.close()
    reached = next((p["items"] for p in curve if p["test_f1"] is not None and p["test_f1"] >= cfg.target_f1), None)
    return {"arm": "manual" if suggester is None else str(getattr(suggester, "agent", suggester)),
            "seed": cfg.seed, "pool": len(pool_idx), "test": len(test_idx), "items_labelled": len(texts),
            "gold_spans": gold_spans, "span_edits": edits,
            "edits_per_item": round(edits / len(texts), 4) if texts else None, "items_unchanged": unchanged,
            "suggester": precision, "suggested_spans": suggested["spans"] if suggested else None,
            "curve": curve, "final_test_f1": curve[-1]["test_f1"] if curve else None,
            "items_to_test_f1": reached, "target_f1": cfg.target_f1,
            "seconds": round(time.perf_counter() - started, 2)}


def svc_suggester_vs_gold(svc: AnnotatorService, by_id: dict[str, list[Span]]) -> dict[str, Any]:
    """The stored suggestions' exact precision / recall against gold over the whole pool."""
    rows, _ = _rows(svc)
    pred = {r["external_id"]: [Span(s["start"], s["end"], s["label"]) for s in r["spans"]] for r in rows}
    c = span_f1({k: pred.get(k, []) for k in by_id}, by_id, match="exact").get("*", Counts())
    return {"precision": round(c.matched / c.n_a, 4) if c.n_a else None,
            "recall": round(c.matched / c.n_b, 4) if c.n_b else None, "f1": None if c.f1 is None else round(c.f1, 4)}


def _rows(svc: AnnotatorService) -> tuple[list[dict[str, Any]], int]:
    from annotator.service.span_io import span_export_rows

    return span_export_rows(svc.spans, PROJECT)


def _mean(values: Sequence[float | int | None]) -> float | None:
    xs = [float(v) for v in values if v is not None]
    return round(float(np.mean(xs)), 4) if xs else None


def simulate_spans(gold: SpanGold, cfg: SpanSimConfig, seeds: Sequence[int], suggester: Any | None, *,
                   gold_note: str | None = None, on_batch: Callable[[dict[str, Any]], None] | None = None
                   ) -> dict[str, Any]:
    """The manual arm and (with ``suggester``) the suggested arm on every seed, and their means.

    Returns:
        ``{"task": "spans", "labels", "gold_note", "arms": {arm: means}, "runs": [per run],
        "human_labels_saved": 1 - edits(suggested) / edits(manual)}`` (None without a suggester).
    """
    runs = []
    for seed in seeds:
        run_cfg = SpanSimConfig(**{**cfg.__dict__, "seed": int(seed)})
        runs.append(run_span_arm(gold, run_cfg, None, on_batch=on_batch))
        if suggester is not None:
            runs.append(run_span_arm(gold, run_cfg, suggester, on_batch=on_batch))
    arms: dict[str, dict[str, Any]] = {}
    for name in dict.fromkeys(r["arm"] for r in runs):
        mine = [r for r in runs if r["arm"] == name]
        arms[name] = {k: _mean([r[k] for r in mine]) for k in (
            "items_labelled", "gold_spans", "span_edits", "edits_per_item", "items_unchanged", "final_test_f1",
            "items_to_test_f1")}
        arms[name]["runs"] = len(mine)
    manual = arms.get("manual", {}).get("span_edits")
    other = [a for a in arms if a != "manual"]
    saved = None
    if other and manual:
        saved = round(1.0 - (arms[other[0]]["span_edits"] or 0.0) / manual, 4)
    return {"task": "spans", "labels": gold.labels, "records": len(gold.texts), "gold_note": gold_note,
            "config": cfg.__dict__ | {"seeds": list(seeds)}, "arms": arms, "human_labels_saved": saved, "runs": runs}
