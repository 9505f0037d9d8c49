"""Post-training tasks: ratings, preferences and corrections, and the judges that score them."""

from __future__ import annotations

import json as _json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from annotator import store
from annotator.annotators import AIAnnotator
from annotator.core.errors import (
    ValidationError,
)
from annotator.core.schema import (
    ROUTE_CODES,
    ROUTED_NAMES,
    ProjectSettings,
    QueuedItem,
    TaskType,
)
from annotator.routing import (
    RoutingPolicy,
)
from annotator.service.common import ProgressFn
from annotator.service.part import ServicePart, project_settings
from annotator.store import items as item_q
from annotator.store import jobs as jobs_q
from annotator.store import projects as project_q
from annotator.store import responses as response_q
from annotator.store.llm_cache import StoreLLMCache
from annotator.store.tasks import item_fields, iter_task_rows
from annotator.tasks import (
    TaskAnswer,
    TaskForm,
    TaskItem,
    TaskView,
    task_kind,
)

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


class TasksService(ServicePart):
    """Post-training tasks (``svc.tasks``): the next task for a person, their answers, and the
    LLM and Bradley-Terry judges for ratings and preference pairs."""

    # Items keep text = the prompt (dedupe, embeddings, the queue); responses are item metadata; a
    # person's answer is a response whose payload keeps shown order, ratings, edited text and diff.
    def next_task(self, project: str, user: str | None = None) -> TaskView | None:
        """The next item of a post-training project as its labelling page shows it, or None."""
        user = user or self.settings.default_user
        item = self._svc.queue.next_item(project, user)
        return None if item is None else self.task_view(project, user, item)

    def task_view(self, project: str, user: str, item: QueuedItem) -> TaskView:
        """``item`` with its responses laid out (preference: left/right in the seeded shown order)."""
        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
        kind, settings = task_kind(proj.task_type), project_settings(proj)
        view = TaskView(item_id=item.item_id, task_type=proj.task_type, prompt=item.text, route=item.route,
                        scale=(settings.rating_min, settings.rating_max),
                        suggestion=item.suggestion.value[0] if item.suggestion and item.suggestion.value else None,
                        suggestion_score=item.suggestion.score if item.suggestion else None)
        return view.model_copy(update=kind.lay_out(_task_item(proj, settings, item.item_id, user, item.metadata)))

    def submit_task(
        self, project: str, user: str | None, item_id: int, *, choice: str | None = None,
        ratings: dict[str, Any] | None = None, edited: str | None = None, rationale: str | None = None,
    ) -> TaskAnswer:
        """Save a person's answer to a post-training item (one transaction) and update the queue.

        Args:
            choice: preference: left | right | tie | both-bad (or keys 1-4), as shown to ``user``;
                stored as the verdict A | B | tie | both-bad about the original responses.
            ratings: rating: criterion → score on the project's scale, every criterion.
            edited: correction: the corrected response (the unified diff is kept with it).
            rationale: optional free text, for every task type.
        """
        user = user or self.settings.default_user
        form = TaskForm(choice=choice, ratings=ratings, edited=edited, rationale=rationale)
        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            kind, settings = task_kind(proj.task_type), project_settings(proj)
            item = item_q.get_item(s, item_id)
            if item.project_id != proj.id:
                raise ValidationError(f"Item {item_id} does not belong to project {project!r}.")
            answer = kind.answer(form, _task_item(proj, settings, item_id, user, item.meta))
            person = project_q.get_or_create_user(s, user)
            served = self._svc.queue.take_served(proj.id, user, item_id)
            strategy, score, seconds, route, suggestion_id = (
                served.strategy, served.score, served.seconds, served.route, served.suggestion_id)
            response_q.discard_responses(s, item_id, person.id)
            response_q.add_response(
                s, item_id=item_id, user_id=person.id, value=answer.value, route=route, comment=answer.comment,
                query_strategy=strategy, query_score=score, seconds_spent=seconds, shown_suggestion_id=suggestion_id,
                payload=answer.payload,
            )
            pid = proj.id
        pool = self._svc.queue.pools.get(pid)
        if pool is not None:
            pool.set_label(item_id, [v for v in answer.value if v in pool.label_names])
            if pool.labels_since_refit >= settings.refit_every:
                self._svc.queue.schedule_refit(project)
        return answer

    def option_scorer(self, name: str = "llm-local", progress: ProgressFn | None = None):  # noqa: ANN201
        """The LLM behind the judge: "llm-local" (offline SmolLM2) or "llm-endpoint" (Settings'
        OpenAI-compatible server); scores cached in the project database like the LLM annotators'."""
        from annotator.llm.pairwise import EndpointOptionScorer, LocalOptionScorer

        cache = StoreLLMCache(self.engine)
        if name == "llm-local":
            return LocalOptionScorer(models_dir=self.settings.resolved_models_dir, cache=cache, on_progress=progress)
        if name == "llm-endpoint":
            key = self.settings.llm_api_key.get_secret_value() if self.settings.llm_api_key else None
            return EndpointOptionScorer(base_url=self.settings.llm_endpoint_url, model=self.settings.llm_endpoint_model,
                                        api_key=key, timeout_s=self.settings.llm_timeout_s,
                                        max_retries=self.settings.llm_max_retries, cache=cache)
        raise ValidationError(f"Unknown judge {name!r}.", expected="llm-local | llm-endpoint | bt-judge",
                              fix="pass --judge llm-local (offline), llm-endpoint (Settings' server) or bt-judge "
                                  "(learnt from people's verdicts), or several, comma-separated")

    def run_judge(
        self, project: str, judge: str | Any = "llm-local", *, swap: bool = True, policy: RoutingPolicy | None = None,
        progress: ProgressFn | None = None,
    ) -> dict[str, Any]:
        """Judges over a preference project, calibrated on the people's verdicts and routed /
        audited exactly like ``run_ai`` (whose result it returns; several judges are stacked).

        Args:
            judge: comma-separated "llm-local" | "llm-endpoint" (the pairwise LLM judge, both orders
                asked unless ``swap`` is False) | "bt-judge" (a Bradley–Terry model on embeddings,
                learnt from the people's verdicts), or a list of names and
                ``annotator.llm.pairwise.OptionScorer`` objects.
        """
        from annotator.llm.pairwise import PairwiseJudge

        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            kind = proj.task_type
            if kind == TaskType.preference:
                fields = item_fields(s, proj.id, ("response_a", "response_b"))
        if kind == TaskType.rating:
            return self.run_rating_judge(project, judge, policy=policy, progress=progress)
        if kind != TaskType.preference:
            raise ValidationError("The judges score preference and rating projects.", got=f"a {kind} project",
                                  fix="create the project with --task preference (or rating)")
        pairs = {t: (f["response_a"], f["response_b"]) for t, f in fields.items()}
        names = [n.strip() for n in judge.split(",") if n.strip()] if isinstance(judge, str) else (
            list(judge) if isinstance(judge, (list, tuple)) else [judge])
        if not names:
            raise ValidationError("No judge selected.", expected="llm-local | llm-endpoint | bt-judge")
        annotators = [self._bt_judge(project, pairs) if name == "bt-judge" else
                      PairwiseJudge(self.option_scorer(name, progress) if isinstance(name, str) else name, pairs,
                                    swap=swap) for name in names]
        result = self._svc.ai.run_ai(project, annotators, policy=policy, progress=progress)
        # the queue serves what the judges are least sure of first, diverse (as for classification)
        result["ranked_by_judges"] = self._svc.queue.rank_by_judges(self._svc.queue.pool(project))
        return result

    def _bt_judge(self, project: str, pairs: dict[str, tuple[str, str]]) -> AIAnnotator:
        """The "bt-judge" annotator: the promoted version of the ``judge`` job when there is one
        trained with this project's embedder (``PromotedPreferenceJudge``), else a Bradley–Terry
        model refitted on the people's verdicts at every run."""

        from annotator.annotators.preference import (
            BradleyTerryJudge,
            PromotedPreferenceJudge,
        )
        from annotator.training.judge import JUDGE_KIND

        fallback = BradleyTerryJudge(pairs, embed=self._svc.embeddings.embed_texts)
        with store.transaction(self.engine) as s:
            mv = jobs_q.promoted_version(s, project_q.get_project(s, project).id, JUDGE_KIND)
        if mv is None or not mv.path or not (Path(mv.path) / "weights.npy").is_file():
            return fallback
        d = Path(mv.path)
        meta = _json.loads((d / "judge.json").read_text(encoding="utf-8"))
        if meta.get("embedder") != self._svc.embeddings.embedder.name:
            log.warning("bt-judge v%s was trained with %s, the project embeds with %s: refitting instead",
                        mv.version, meta.get("embedder"), self._svc.embeddings.embedder.name)
            return fallback
        trained = frozenset(_json.loads(line)["text"] for line in (d / "verdicts.jsonl").read_text(
            encoding="utf-8").splitlines() if line and _json.loads(line)["split"] == "train")
        return PromotedPreferenceJudge(np.load(d / "weights.npy"), trained, fallback, f"bt-v{mv.version}")

    def run_rating_judge(self, project: str, judge: str | Any = "llm-local", *, policy: RoutingPolicy | None = None,
                         progress: ProgressFn | None = None) -> dict[str, Any]:
        """The LLM judge over a rating project: every response scored on every criterion
        (``assets/prompts/judge_rating.txt``). Each item no person rated gets a suggestion (agent
        ``llm-rating-judge``; value ``criterion=score``, scores = expected score per criterion,
        score = the joint probability of the chosen scores) with a route, as ``run_ai`` gives
        labels (``annotator.routing.ratings``): ``auto`` only where that score is certified, on the
        items people rated, to match every criterion exactly at the target precision; a slice of
        the auto ones is audited blind; the rest go to people (verify, or blind when unsure). The
        judge's agreement with the people's ratings is measured too (exact, MAE, Spearman).
        """
        from annotator.llm.pairwise import judge_ratings, rating_agreement
        from annotator.routing.ratings import (
            exact_match,
            joint_confidence,
            route_ratings,
        )

        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            if proj.task_type != TaskType.rating:
                raise ValidationError("The rating judge scores rating projects.", got=f"a {proj.task_type} project")
            settings = project_settings(proj)
            criteria = [lab["name"] for lab in proj.labels]
            rows = [r for chunk in iter_task_rows(s, proj.id) for r in chunk]
            audits = [sorted(person) == sorted(ai) for person, ai in response_q.audit_outcomes(s, proj.id)]
        scale = (settings.rating_min, settings.rating_max)
        policy = policy or RoutingPolicy(target_precision=settings.target_precision,
                                         audit_fraction=settings.audit_fraction)
        scorer = self.option_scorer(judge, progress) if isinstance(judge, str) else judge
        items = [(r["text"], str((r["metadata"] or {}).get("response", ""))) for r in rows]
        verdicts = judge_ratings(scorer, items, criteria, scale)
        rated = [i for i, r in enumerate(rows) if (r.get("payload") or {}).get("ratings")]
        human = np.array([[rows[i]["payload"]["ratings"][c] for c in criteria] for i in rated], dtype=np.float64)
        human = human.reshape(len(rated), len(criteria))
        agreement = rating_agreement(verdicts.expected[rated], human, criteria)
        # open: no person's rating yet (an earlier auto-accepted suggestion is routed again, as in run_ai)
        open_rows = [i for i, r in enumerate(rows) if r["label"] is None or r["label_source"] == "agent"]
        score = joint_confidence(verdicts.confidence)
        pool = self._svc.queue.pool(project)
        pool_rows = np.asarray([pool.row_of(int(rows[i]["item_id"])) for i in open_rows], dtype=np.int64)
        routes = route_ratings(score[rated], exact_match(verdicts.best[rated], human), score[open_rows], policy,
                               np.random.default_rng([settings.seed, len(rated)]),
                               audits=(sum(audits), len(audits)) if audits else None, already_audited=len(audits),
                               keep_audit=pool.route[pool_rows] == ROUTE_CODES["audit"])
        with store.transaction(self.engine) as s:
            response_q.insert_suggestions(s, [
                {"item_id": int(rows[i]["item_id"]), "agent": "llm-rating-judge", "agent_version": scorer.name,
                 "value": [f"{c}={int(verdicts.best[i, j])}" for j, c in enumerate(criteria)],
                 "scores": {c: round(float(verdicts.expected[i, j]), 4) for j, c in enumerate(criteria)},
                 "score": round(float(score[i]), 5), "route": str(routes.route[k])}
                for k, i in enumerate(open_rows)
            ])
        if len(pool_rows):
            pool.set_routes(pool_rows, routes.route)
            pool.rerank()
        counts = {r: int((routes.route == r).sum()) for r in ROUTED_NAMES}
        threshold = float(routes.thresholds[0])
        return {"agent": "llm-rating-judge", "model": scorer.name, "items": len(rows), "suggested": len(open_rows),
                "human_rated": len(rated), "agreement_with_people": agreement, "routes": counts,
                "threshold": None if not np.isfinite(threshold) else round(threshold, 5),
                "exact_match_on_rated": round(float(exact_match(verdicts.best[rated], human).mean()), 4)
                if rated else None}


def _task_item(proj: Any, settings: ProjectSettings, item_id: int, user: str, meta: dict[str, Any] | None) -> TaskItem:
    """What a task type needs of one item: its metadata and the project's seed, criteria and scale."""
    return TaskItem(item_id=item_id, user=user, seed=settings.seed, meta=meta or {},
                    criteria=tuple(lab["name"] for lab in proj.labels),
                    scale=(settings.rating_min, settings.rating_max))
