"""Imports: files and records into a project, checked, de-duplicated and chunked."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from annotator import store
from annotator.core.errors import (
    ValidationError,
)
from annotator.core.schema import (
    ImportReport,
    LabelSpec,
    NearDuplicate,
    Route,
    TaskType,
    validate_label_name,
)
from annotator.embeddings import (
    text_hash,
)
from annotator.importers import ImportSpec, check_labels, preview, read_chunks
from annotator.importers.failures import reading
from annotator.importers.formats import detect_format
from annotator.importers.sanitize import clean_row
from annotator.service.common import ProgressFn
from annotator.service.part import ServicePart, project_settings
from annotator.store import items as item_q
from annotator.store import projects as project_q
from annotator.store import responses as response_q
from annotator.tasks import (
    check_fields,
    is_posttraining,
    task_definition,
)
from annotator.tasks.near_duplicates import NearDuplicateFilter, check_threshold

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


class ImportsService(ServicePart):
    """Imports (``svc.imports``): preview a file, import files or records in chunks, check their
    labels, drop exact and near duplicates, keep the labels that came with them."""

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

        A span project (``--task spans``) reads JSONL span records instead (``svc.spans.import_file``:
        the spec's text and id columns name the records' keys).
        """
        with reading(Path(str(source)).name):
            detect_format(source)  # a missing or unreadable file is named before the project is looked up
        if self._is_span_project(project):
            return self._svc.spans.import_file(project, source, text_key=spec.text_column,
                                               id_key=spec.id_column or "id", labels_as=labels_as, agent=agent,
                                               encoding=spec.encoding)
        return self._import_chunks(project, read_chunks(source, spec), str(source), labels_as=labels_as,
                                   agent=agent, add_labels=add_labels, progress=progress,
                                   near_duplicates=near_duplicates)

    def import_records(
        self, project: str, records: Sequence[dict[str, Any]], *, labels_as: str = "response", agent: str = "import",
        add_labels: bool = False, near_duplicates: float | str | None = None,
    ) -> ImportReport:
        """Import in-memory records (keys: text, and optionally external_id, labels, metadata, split,
        score); ``near_duplicates`` as for ``import_file``. With ``labels_as="suggestion"`` a record
        that names an item already here by ``external_id`` needs no text.

        Raises:
            ValidationError: a text that is not a string, a score outside [0, 1], a record with
                neither a text nor the id of an item already here (nothing is imported then).

        A span project takes span records (``svc.spans.import_records``).
        """
        if self._is_span_project(project):
            return self._svc.spans.import_records(project, records, labels_as=labels_as, agent=agent)
        rows = [
            {"row": i + 1, "external_id": r.get("external_id"), "text": _record_text(i + 1, r.get("text")),
             "labels": r.get("labels"), "metadata": r.get("metadata") or {}, "split": r.get("split"),
             "score": _record_score(i + 1, r.get("score"))}
            for i, r in enumerate(records)
        ]
        return self._import_chunks(project, [pd.DataFrame(rows)], "records", labels_as=labels_as, agent=agent,
                                   add_labels=add_labels, near_duplicates=near_duplicates)

    def _import_chunks(
        self, project: str, chunks: Iterable[pd.DataFrame], source: str, *, labels_as: str, agent: str,
        add_labels: bool, progress: ProgressFn | None = None, near_duplicates: float | str | None = None,
    ) -> ImportReport:

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
                self._clean_rows(rows, report)
                self._check_sizes(rows)
                check_fields(proj.task_type, rows)  # post-training items need their response columns
                self._check_chunk_labels(rows, allowed, label_specs, multi, add_labels, report)
                if len(report.labels_added) > self._svc.settings.import_max_new_labels:
                    raise ValidationError(
                        f"This import would add {len(report.labels_added):,} new labels to {project!r}.",
                        expected=f"at most {self._svc.settings.import_max_new_labels} new labels from one import",
                        got=", ".join(report.labels_added[:5]) + " …",
                        fix="check --label-column points at the labels (not at a text or id column), or raise "
                        "ANNOTATOR_IMPORT_MAX_NEW_LABELS")
                if labels_as == "suggestion":  # a model's labels for items already here are attached to them
                    rows = self._attach_to_existing(s, proj.id, rows, agent, report)
                untexted = [r["row"] for r in rows if not r.get("text")]
                if untexted:
                    raise ValidationError(f"Record {untexted[0]} has no text and names no item of {project!r}.",
                                          expected="a text, or the id of an item already in the project",
                                          got=f"{len(untexted)} such records", fix="add the text, or fix the id")
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
        self._svc.queue.drop_pool(pid)
        log.info("import %s: %s", source, report.model_dump())
        return report

    def _is_span_project(self, project: str) -> bool:
        with store.transaction(self.engine) as s:
            return project_q.get_project(s, project).task_type == TaskType.spans

    def _near_duplicate_filter(self, s: Any, proj: Any, override: float | str | None) -> Any:
        """The post-training import's near-duplicate filter, primed with the project's items
        (``annotator.tasks.near_duplicates``), or None (classification project, or switched off)."""

        if not is_posttraining(proj.task_type):
            return None
        threshold = project_settings(proj).near_duplicate_threshold if override is None \
            else None if override == "off" else override
        if threshold is None:
            return None
        fields = ("text", *task_definition(proj.task_type).fields)
        swap = (1, 2) if proj.task_type == TaskType.preference else None
        near = NearDuplicateFilter(fields, self._svc.embeddings.embed_texts, float(threshold), swap=swap)
        ids, records = item_q.items_with_metadata(s, proj.id)
        near.add(records, ids)
        return near

    @staticmethod
    def _drop_near_duplicates(
        near: Any, rows: list[dict[str, Any]], report: ImportReport,
    ) -> tuple[list[dict[str, Any]], Callable[[list[int]], None]]:
        """(rows to insert, a function to call with their new item ids, which records the drops
        in ``report`` and lets later chunks compare against them)."""

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

    def _check_sizes(self, rows: list[dict[str, Any]]) -> None:
        """Ids and metadata values within the settings' limits (a 5 MB id is an accident or an attack).

        Raises:
            ValidationError: the first row over a limit, naming the setting that sets it.
        """
        settings = self._svc.settings
        for r in rows:
            rid = r.get("external_id")
            if isinstance(rid, str) and len(rid) > settings.import_max_id_chars:
                raise ValidationError(f"Row {r.get('row')} has an id of {len(rid):,} characters.",
                                      expected=f"ids of at most {settings.import_max_id_chars:,} characters",
                                      fix="point --id-column at a column of short ids, or raise "
                                      "ANNOTATOR_IMPORT_MAX_ID_CHARS")
            for key, value in (r.get("metadata") or {}).items():
                size = len(value) if isinstance(value, str) else 0
                if size > settings.import_max_cell_chars:
                    raise ValidationError(f"Row {r.get('row')} has a metadata value {str(key)[:40]!r} of {size:,} "
                                          "characters.", expected=f"values of at most "
                                          f"{settings.import_max_cell_chars:,} characters",
                                          fix="leave that column out (--metadata-columns), or raise "
                                          "ANNOTATOR_IMPORT_MAX_CELL_CHARS")

    @staticmethod
    def _clean_rows(rows: list[dict[str, Any]], report: ImportReport) -> None:
        """Take out what no store or export can hold (``importers.sanitize``), noting it per row; a
        text left empty by that is refused like any empty text.

        Raises:
            ValidationError: texts that held nothing but control characters, with their rows.
        """
        emptied = []
        for r in rows:
            cleaning = clean_row(r)
            if not cleaning:
                continue
            report.rows_cleaned += 1
            if len(report.cleaned) < 20:
                report.cleaned.append(f"row {r.get('row')}: {cleaning.describe()}")
            if isinstance(r.get("text"), str) and not r["text"].strip() and "text" in cleaning.where:
                emptied.append(r.get("row"))
        if emptied:
            raise ValidationError(
                f"{len(emptied)} texts hold nothing but NUL or other control characters.",
                expected="a text with at least one visible character", got=f"rows {', '.join(map(str, emptied[:5]))}",
                fix="drop those rows or fix the texts; nothing was imported")

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
                        validate_label_name(name)  # a new label must show safely in the UI and the card
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
    def _attach_to_existing(
        s, project_id: int, rows: list[dict[str, Any]], agent: str, report: ImportReport,  # noqa: ANN001
    ) -> list[dict[str, Any]]:
        """Store the labels of rows that name an item already in the project (by its external id;
        rows without an id by their text) as ``agent``'s suggestions; returns the other rows."""
        hashes = {i: text_hash(r["text"]) for i, r in enumerate(rows) if r.get("external_id") is None and r.get("text")}
        by_ext, by_hash = item_q.ids_of(s, project_id, external_ids=[r["external_id"] for r in rows
                                                                     if r.get("external_id") is not None],
                                        text_hashes=list(hashes.values()))
        rest: list[dict[str, Any]] = []
        matched: list[tuple[int, dict[str, Any]]] = []
        for i, r in enumerate(rows):
            ext = r.get("external_id")
            item_id = by_ext.get(ext) if ext is not None else by_hash.get(hashes.get(i, ""))
            if item_id is None:
                rest.append(r)
            elif r.get("labels"):
                matched.append((item_id, r))
            else:
                report.duplicates_skipped += 1  # an item already here, and no label to attach
        response_q.insert_suggestions(s, [_suggestion_row(item_id, r, agent) for item_id, r in matched])
        report.suggestions_imported += len(matched)
        report.suggestions_attached += len(matched)
        return rest

    @staticmethod
    def _store_imported_labels(
        s, rows: list[dict[str, Any]], item_ids: list[int], user_id: int, labels_as: str, agent: str,  # noqa: ANN001
        report: ImportReport,
    ) -> None:
        labelled = [(iid, r) for iid, r in zip(item_ids, rows, strict=True) if r.get("labels")]
        if labels_as == "response":
            response_q.insert_responses(s, [
                {"item_id": iid, "user_id": user_id, "value": list(r["labels"]), "status": "submitted",
                 "source": "import", "route": Route.imported.value} for iid, r in labelled
            ])
            report.labels_imported += len(labelled)
        else:
            response_q.insert_suggestions(s, [_suggestion_row(iid, r, agent) for iid, r in labelled])
            report.suggestions_imported += len(labelled)


def _suggestion_row(item_id: int, row: dict[str, Any], agent: str) -> dict[str, Any]:
    """A stored suggestion of ``agent`` from an imported row: its labels, and its score when the
    file had a score column (else each label scored 1.0, no overall score).

    An imported agent has no version of its own: each import adds new rows, and the newest row
    per item (``newest_suggestions_of_agent``) is the one that answers."""
    score = row.get("score")
    score = None if score is None or score != score else float(score)  # NaN: pandas' empty cell
    return {"item_id": item_id, "agent": agent, "agent_version": "", "value": list(row["labels"]),
            "scores": {name: 1.0 if score is None else score for name in row["labels"]}, "score": score,
            "route": None}


def _record_text(row: int, text: Any) -> str | None:
    """A record's text, stripped (None when it has none)."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise ValidationError(f"Record {row}: the text must be a string.", got=type(text).__name__,
                              fix="pass the item's text as a str")
    return text.strip() or None


def _record_score(row: int, score: Any) -> float | None:
    """A record's suggestion score: a number in [0, 1], or None."""
    if score is None:
        return None
    try:
        value = float(score)
    except (TypeError, ValueError):
        value = float("nan")
    if not 0.0 <= value <= 1.0 or isinstance(score, bool):
        raise ValidationError(f"Record {row}: the score must be a number between 0 and 1.", got=repr(score)[:80],
                              fix="pass the model's confidence in [0, 1], or leave the score out")
    return value
