"""AI annotators on a project: fit, score, calibrate and route every unlabelled item."""

from __future__ import annotations

import json as _json
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from annotator import store
from annotator.active.pool import LabelPool
from annotator.active.ranking import EXPLORE_STRATEGY
from annotator.annotators import AIAnnotator, ItemBatch, LabelContext
from annotator.annotators.imported import PREFIX as IMPORTED_PREFIX
from annotator.annotators.registry import make_annotators, parse_annotator_names
from annotator.core.errors import (
    EmptyPoolError,
    ValidationError,
)
from annotator.core.schema import (
    ROUTE_CODES,
    LabelSpec,
    Route,
    TaskType,
)
from annotator.routing import (
    PrecisionEstimate,
    RoutingPolicy,
    estimate_precision,
    pipeline,
)
from annotator.routing.calibration import fold_batches
from annotator.service.common import ProgressFn, _job_json
from annotator.service.part import ServicePart, project_settings
from annotator.store import items as item_q
from annotator.store import jobs as jobs_q
from annotator.store import projects as project_q
from annotator.store import reports as report_q
from annotator.store import responses as response_q

if TYPE_CHECKING:
    from annotator.service.facade import AnnotatorService

log = logging.getLogger(__name__)

#: Queue strategies that pick items at random: answers to them are an unbiased sample of the pool.
#: Answers whose items were drawn at random from the whole unlabelled pool: what the router's
#: random-sample bounds and the dataset estimate may use. Not the audits: they are drawn from the
#: auto set of an earlier run, the most confident items, so among the items above a later, lower
#: cutoff they over-represent the top and made the estimate optimistic (IMDB 5k: 0.974 estimated
#: for a pool that was 0.941). Audits keep their own job: a label whose audits fail stops going auto.
RANDOM_PICK_STRATEGIES = (EXPLORE_STRATEGY, "random")
#: The spans' item-level routing still counts the audits as random picks of the auto region.
SPAN_RANDOM_PICK_STRATEGIES = (EXPLORE_STRATEGY, "audit", "random")


class AIService(ServicePart):
    """AI labelling (``svc.ai``): run the AI annotators, choose per-label thresholds from the
    audited precision, route each item (auto-accept, verify, blind, audit) and keep the promoted
    classifier's probabilities in the pool."""

    def __init__(self, svc: AnnotatorService) -> None:
        super().__init__(svc)
        self._promoted_seen: dict[int, tuple[LabelPool, int | None, float]] = {}

    def label_context(self, project: str) -> LabelContext:
        """What people have taught so far: label specs and the human-labelled items (single-label)."""
        pool = self._svc.queue.pool(project)
        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            rows = np.flatnonzero(pool.labelled)
            texts = item_q.texts_by_ids(s, pool.item_ids[rows].tolist())
            picked = response_q.randomly_picked_item_ids(s, proj.id, RANDOM_PICK_STRATEGIES)
        specs = [LabelSpec(**lab) for lab in proj.labels]
        return LabelContext(
            random_pick=np.fromiter((int(i) in picked for i in pool.item_ids[rows]), dtype=bool, count=len(rows)),
            label_names=[sp.name for sp in specs], label_descriptions=[sp.description for sp in specs],
            label_embeddings=pool.label_embeddings,
            texts=[texts[int(i)] for i in pool.item_ids[rows]], embeddings=pool.embeddings[rows],
            labels=pool.targets[rows].argmax(axis=1).astype(np.int64),
        )

    def run_ai(
        self, project: str, annotators: str | Sequence[AIAnnotator] = "knn,zero-shot", *,
        policy: RoutingPolicy | None = None, progress: ProgressFn | None = None,
    ) -> dict[str, Any]:
        """Label every unlabelled item with the fused, calibrated AI annotators and route it.

        Stores one suggestion per item (agent ``ensemble(...)``, its label, per-label scores,
        confidence and route); ``auto`` items stop being served to people, ``audit`` items are
        served first with the AI label hidden. Returns counts, thresholds and calibration figures.
        """
        if isinstance(annotators, str):
            annotators = make_annotators(annotators, **self.annotator_options(
                project, parse_annotator_names(annotators)))
        if not annotators:
            raise ValidationError("No AI annotator selected.", expected="e.g. knn,zero-shot")
        annotators = self._with_promoted_classifier(project, annotators)  # a promoted fine-tune answers as "classifier"
        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            if proj.task_type == TaskType.multi_label:
                raise ValidationError("AI routing supports single-label projects for now.",
                                      fix="label multi-label projects with the queue; routing for them comes later")
            settings = project_settings(proj)
        policy = policy or RoutingPolicy(target_precision=settings.target_precision,
                                         audit_fraction=settings.audit_fraction,
                                         target_accuracy=settings.target_accuracy,
                                         human_accuracy=settings.human_accuracy,
                                         dataset_bound=settings.dataset_bound)
        pool = self._svc.queue.pool(project)
        context = self.label_context(project)
        if len(np.unique(context.labels)) < 2:
            raise EmptyPoolError("The AI needs human labels of at least two classes to calibrate against.",
                                 fix="label a few items of each class first")
        names = context.label_names
        cal = pipeline.calibrate(annotators, context, policy, audits=self._audits_by_label(project, names),
                                 seed=settings.seed, judge_veto=settings.judge_veto)
        rows = np.flatnonzero(~pool.labelled)
        if len(rows) == 0:  # every item has a human label: nothing to route, the calibration still informs
            result = pipeline.summary(cal, names, None, len(context.labels), policy, context.random_pick)
            self._record_ai_run(project, result)  # the dashboard's reliability diagram reads it back
            return result
        needs_text = any(getattr(a, "needs_text", True) for a in annotators)
        batch = self._batch(pool, rows, with_texts=needs_text)
        lengths = None
        if cal.judge_thresholds is not None:
            if needs_text:
                lengths = np.fromiter((len(t) for t in batch.texts), dtype=np.float64, count=len(rows))
            else:
                with store.transaction(self.engine) as s:
                    by_id = item_q.text_lengths_by_ids(s, pool.item_ids[rows].tolist())
                lengths = np.asarray([by_id.get(int(i), 0) for i in pool.item_ids[rows]], dtype=np.float64)
        rng = np.random.default_rng([settings.seed, pool.n_labelled])
        # pending audits stay audits while the AI still accepts them
        routed = pipeline.route(cal, batch, context, policy, rng, already_audited=self.audit_estimate(project).audits,
                                keep_audit=pool.route[rows] == ROUTE_CODES[Route.audit], text_lengths=lengths)
        routes, judge_score = routed.routes, routed.judge_score
        with store.transaction(self.engine) as s:
            response_q.insert_suggestions(s, [
                {"item_id": int(item_id), "agent": cal.ensemble.name, "agent_version": cal.ensemble.version,
                 "value": [names[int(lab)]], "scores": {n: round(float(v), 5) for n, v in zip(names, p)},
                 "score": round(float(conf), 5), "route": str(route),
                 "judge_score": None if judge_score is None else round(float(judge_score[n]), 5)}  # review reads it
                for n, (item_id, lab, p, conf, route) in enumerate(zip(
                    pool.item_ids[rows], routes.label, routed.proba, routes.confidence, routes.route))
            ])
        pool.set_routes(rows, routes.route)
        pool.rerank()
        result = pipeline.summary(cal, names, routed, len(context.labels), policy, context.random_pick,
                                  random_share=settings.random_share)
        self._record_ai_run(project, result)  # the dashboard's reliability diagram reads it back
        return result

    def cost_estimates(self, project: str, annotators: Sequence[AIAnnotator]) -> dict[str, dict[str, Any]]:
        """What an AI run would cost each paid annotator (the LLMs), before it starts.

        A run scores every labelled item once out of fold (calibration) and every unlabelled item;
        prompts already in the cache cost nothing. Returns, per annotator with an ``estimate``:
        ``{"prompts": n, "cached": n, "seconds": s, "usd": x | None}`` (seconds and usd for the
        uncached prompts only). Builds the prompts; sends nothing and loads no model.
        """
        paid = [a for a in annotators if hasattr(a, "estimate") and hasattr(a, "uncached")]
        if not paid:
            return {}
        with store.transaction(self.engine) as s:
            seed = project_settings(project_q.get_project(s, project)).seed
        pool = self._svc.queue.pool(project)
        context = self.label_context(project)
        batches = [(self._batch(pool, np.flatnonzero(~pool.labelled)), context)]
        if len(np.unique(context.labels)) >= 2:  # else the run stops before calibrating
            batches += [(batch, sub) for _, batch, sub in fold_batches(context, seed=seed)]
        out: dict[str, dict[str, Any]] = {}
        for a in paid:
            prompts = sum(len(batch.texts) for batch, _ in batches)
            todo = sum(a.uncached(batch, sub) for batch, sub in batches)
            guess = a.estimate(todo)
            out[a.name] = {"prompts": prompts, "cached": prompts - todo, "seconds": guess["seconds"],
                           "usd": guess.get("usd")}
        return out

    def _batch(self, pool: LabelPool, rows: np.ndarray, *, with_texts: bool = True) -> ItemBatch:
        """The pool's ``rows`` as an annotator batch: their embeddings, and their texts (from the
        store; empty strings when ``with_texts`` is False, for annotators that read vectors only)."""
        texts: dict[int, str] = {}
        if with_texts:
            with store.transaction(self.engine) as s:
                texts = item_q.texts_by_ids(s, pool.item_ids[rows].tolist())
        return ItemBatch(texts=[texts.get(int(i), "") for i in pool.item_ids[rows]], embeddings=pool.embeddings[rows])

    def _audits_by_label(self, project: str, names: Sequence[str]) -> dict[int, tuple[int, int]]:
        """Per audited AI label (index into ``names``): (audits the person agreed with, audits)."""
        with store.transaction(self.engine) as s:
            outcomes = response_q.audit_outcomes(s, project_q.get_project(s, project).id)
        out: dict[int, list[int]] = {}
        for person, ai in outcomes:
            if len(ai) == 1 and ai[0] in names:
                tally = out.setdefault(list(names).index(ai[0]), [0, 0])
                tally[0] += sorted(person) == sorted(ai)
                tally[1] += 1
        return {label: (agree, n) for label, (agree, n) in out.items()}

    def llm_options(self, names: Sequence[str],
                    progress_for: Callable[[str], Callable[[int, int], None] | None] | None = None,
                    ) -> dict[str, dict[str, Any]]:
        """Options of the LLM annotators among ``names`` (``agents.llm_options``), their scores
        cached in this database's ``llm_score`` table."""
        from annotator.annotators.registry import llm_options

        return llm_options(self.settings, list(names), progress_for, engine=self.engine)

    def annotator_options(self, project: str, names: Sequence[str],
                          progress_for: Callable[[str], Callable[[int, int], None] | None] | None = None,
                          ) -> dict[str, dict[str, Any]]:
        """``make_annotators`` keyword arguments for ``names`` on ``project``: the LLM annotators'
        options (``llm_options``) and, for each ``imported:AGENT``, the agent's newest imported
        suggestion per item text.

        Raises:
            ValidationError: an ``imported:AGENT`` with no suggestions in the project.
        """
        options = self.llm_options(names, progress_for)
        imported = [n for n in names if n.startswith(IMPORTED_PREFIX)]
        if imported:
            with store.transaction(self.engine) as s:
                pid = project_q.get_project(s, project).id
                for name in imported:
                    agent = name[len(IMPORTED_PREFIX):]
                    rows = response_q.newest_suggestions_of_agent(s, pid, agent)
                    if not rows:
                        raise ValidationError(f"No suggestions of agent {agent!r} in project {project!r}.",
                                              fix=f"import them first: python -m annotator import FILE --project "
                                                  f"{project} --labels-as suggestion --agent {agent}")
                    options[name] = {"table": {text: (value, score) for text, value, score in rows}}
        return options

    def last_ai_labels(self, project: str) -> dict[int, dict[str, Any]]:
        """Per item id, the newest AI suggestion: ``label`` (list of names), ``confidence`` (fused
        max probability), ``route`` the router gave it and ``agent`` (name@version). Items the AI
        never scored are absent; for a labelled item it is what the AI said before the person."""
        pool = self._svc.queue.pool(project)
        with store.transaction(self.engine) as s:
            newest = response_q.latest_suggestions(s, [int(i) for i in pool.item_ids])
        return {item_id: {"label": list(sg.value), "confidence": sg.score, "route": sg.route,
                          "agent": f"{sg.agent}@{sg.agent_version}".rstrip("@")}
                for item_id, sg in newest.items()}

    def audit_estimate(self, project: str) -> PrecisionEstimate:
        """Precision of auto-accepted labels, measured on blind audits (value and 95 % interval)."""
        with store.transaction(self.engine) as s:
            outcomes = response_q.audit_outcomes(s, project_q.get_project(s, project).id)
        return estimate_precision([sorted(person) == sorted(ai) for person, ai in outcomes])

    def dataset_accuracy(self, project: str) -> dict[str, Any] | None:
        """Expected accuracy of the project's labels (human and auto-accepted) as of the last AI run:
        ``{value, ci_low, ci_high, human, auto, human_accuracy, confidence, target, bins}``, from
        the random calibration slice only (``routing.dataset_accuracy``); None
        before any AI run."""
        with store.transaction(self.engine) as s:
            job = report_q.latest_run(s, project_q.get_project(s, project).id, "ai_summary",
                                      with_key="dataset_accuracy")
            return None if job is None else job.result.get("dataset_accuracy")

    def _record_ai_run(self, project: str, result: dict[str, Any]) -> None:
        """Keep the last AI run's summary (routes, thresholds, calibration) for the dashboard."""

        with store.transaction(self.engine) as s:
            pid = project_q.get_project(s, project).id
            report_q.record_finished_run(s, pid, "ai_summary", _job_json(result),
                                         message=f"routed {result.get('items', 0)} items: {result.get('routes')}")

    def _with_promoted_classifier(self, project: str, annotators: Sequence[AIAnnotator]) -> list[AIAnnotator]:
        """``annotators`` with ``classifier`` answered by the promoted fine-tuned version, where there
        is one (``training.annotator``: its stored pool probabilities, not for its own training items)."""

        from annotator.training.annotator import PromotedClassifierAnnotator

        annotators = list(annotators)
        if not any(a.name == "classifier" for a in annotators):
            return annotators
        with store.transaction(self.engine) as s:
            pid = project_q.get_project(s, project).id
            mv = jobs_q.promoted_version(s, pid, "finetune")
            if mv is None or not mv.path or not (Path(mv.path) / "proba.npy").is_file():
                return annotators
            ids, hashes = item_q.pool_ids_and_hashes(s, pid)
        d = Path(mv.path)
        trained = set()
        if (d / "labels.jsonl").is_file():
            for line in (d / "labels.jsonl").read_text(encoding="utf-8").splitlines():
                row = _json.loads(line)
                if row.get("split") == "train":
                    trained.add(int(row["item_id"]))
        hash_of = dict(zip(ids, hashes, strict=True))
        proba = np.load(d / "proba.npy")
        lookup = {hash_of[i]: proba[r] for r, i in enumerate(np.load(d / "item_ids.npy").tolist())
                  if i in hash_of and i not in trained}
        return [PromotedClassifierAnnotator(lookup, a, f"finetune-v{mv.version}") if a.name == "classifier" else a
                for a in annotators]

    def sync_promoted(self, pid: int, pool: LabelPool | None = None, *, force: bool = False) -> None:
        """Swap the promoted fine-tuned model's stored probabilities into the project's pool (when a
        job, maybe in another process, promoted a new one). Checked at most every 5 s per project."""

        pool = pool or self._svc.queue.pools.get(pid)
        if pool is None:
            return
        now = time.monotonic()
        seen = self._promoted_seen.get(pid)
        if not force and seen is not None and seen[0] is pool and now - seen[2] < 5.0:
            return
        with store.transaction(self.engine) as s:
            mv = jobs_q.promoted_version(s, pid, "finetune")
        mv_id = mv.id if mv else None
        if seen is not None and seen[0] is pool and seen[1] == mv_id:
            self._promoted_seen[pid] = (pool, mv_id, now)
            return
        if mv is None or not mv.path or not (Path(mv.path) / "proba.npy").is_file():
            pool.clear_external_proba()
        else:
            d = Path(mv.path)
            pool.set_external_proba(np.load(d / "item_ids.npy"), np.load(d / "proba.npy"), f"finetune v{mv.version}")
        self._promoted_seen[pid] = (pool, mv_id, now)

