"""Span data in and out of a project, for ``svc.spans``: pre-labelled span files and records (as
people's answers or as an agent's suggestions) and the span exports (jsonl | hf | spacy).

Imports run in ONE transaction and check every record first: a span outside the text,
overlapping another (unless the project allows it), with an unknown label or an offset that cuts
a character makes the import fail with the rows and the fix, and nothing is written.
Exports land through ``export.target.staged_export`` like every export (written beside ``out``,
renamed in when complete).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from annotator import store
from annotator.core.errors import AgreementError, ValidationError
from annotator.core.schema import ImportReport, Route
from annotator.embeddings import text_hash
from annotator.export import ExportResult
from annotator.export.spans import SPAN_FORMATS, write_span_export
from annotator.export.target import staged_export
from annotator.importers.bounds import ReadLimits
from annotator.importers.span_records import SpanRecord, read_span_records, span_record
from annotator.service.part import project_settings
from annotator.spans import check_spans
from annotator.store import items as item_q
from annotator.store import projects as project_q
from annotator.store import responses as response_q
from annotator.store import spans as span_q

if TYPE_CHECKING:
    from annotator.service.spans import SpansService

#: Rows of bad spans an import error lists before "…".
SHOWN_PROBLEMS = 8


def import_span_file(part: SpansService, project: str, source: str | Path, *, text_key: str = "text",
                     id_key: str | None = "id", labels_as: str = "response", agent: str = "import",
                     encoding: str | None = None) -> ImportReport:
    """Import a span file (``importers.span_records`` shapes) into a span project."""
    st = part.settings
    limits = ReadLimits(max_bytes=st.import_max_bytes, max_line_bytes=st.import_max_line_bytes,
                        max_columns=st.import_max_columns, max_depth=st.import_max_depth)
    records = read_span_records(source, text_key=text_key, id_key=id_key, encoding=encoding,
                                max_text_chars=st.max_text_chars, limits=limits, max_rows=st.import_max_rows)
    return _import(part, project, records, str(source), labels_as=labels_as, agent=agent)


def import_span_records(part: SpansService, project: str, records: Sequence[Mapping[str, Any]], *,
                        labels_as: str = "response", agent: str = "import") -> ImportReport:
    """Import in-memory span records (keys text, spans / entities / label, id, meta, score)."""
    parsed = [span_record(k + 1, dict(r), max_text_chars=part.settings.max_text_chars) for k, r in enumerate(records)]
    return _import(part, project, parsed, "records", labels_as=labels_as, agent=agent)


def _check_all(records: Sequence[SpanRecord], labels: Sequence[str], allow_overlap: bool) -> None:
    """Every record's spans against its text and the project's rules; one error listing the rows.

    Raises:
        ValidationError: ``"<n> rows have spans that do not fit"``, the first rows' problems and the fix.
    """
    bad: list[str] = []
    fixes: list[str] = []
    n_bad = 0
    for r in records:
        if not r.spans:
            continue
        problems = check_spans(r.text, r.spans, labels, allow_overlap=allow_overlap)
        if problems:
            n_bad += 1
            if len(bad) < SHOWN_PROBLEMS:
                bad.append(f"row {r.row}: " + "; ".join(p.line() for p in problems[:3]))
            fixes.extend(p.fix for p in problems if p.fix not in fixes)
    if n_bad:
        raise ValidationError(
            f"{n_bad} row(s) have spans that do not fit their text or the project; nothing was imported.",
            expected="0 <= start < end <= len(text) in code points, labels of the project, no overlap"
                     + (" " if allow_overlap else " (the project does not allow overlapping spans) ")
                     + "and offsets on character boundaries",
            got="\n  " + "\n  ".join(bad) + ("\n  …" if n_bad > len(bad) else ""),
            fix="; ".join(fixes[:3]))


def _import(part: SpansService, project: str, records: Sequence[SpanRecord], source: str, *, labels_as: str,
            agent: str) -> ImportReport:
    if labels_as not in ("response", "suggestion"):
        raise ValidationError(f"labels_as must be 'response' or 'suggestion', got {labels_as!r}.",
                              fix="pass --labels-as response (people's spans) or suggestion (an agent's)")
    started = time.perf_counter()
    report = ImportReport(project=project, source=source, rows_read=len(records))
    with store.transaction(part.engine) as s:
        proj = project_q.get_project(s, project)
        part.require_spans(proj)
        labels = [lab["name"] for lab in proj.labels]
        _check_all(records, labels, project_settings(proj).allow_overlapping_spans)
        seen_hashes = item_q.existing_hashes(s, proj.id)
        seen_ids = item_q.existing_external_ids(s, proj.id)
        by_ext, by_hash = item_q.ids_of(s, proj.id, external_ids=[r.external_id for r in records if r.external_id],
                                        text_hashes=[text_hash(r.text) for r in records])
        new: list[tuple[SpanRecord, dict[str, Any]]] = []
        attach: list[tuple[int, SpanRecord]] = []
        clashes: list[str] = []
        for r in records:
            h = text_hash(r.text)
            existing = by_ext.get(r.external_id) if r.external_id else by_hash.get(h)
            if existing is not None and labels_as == "suggestion" and r.spans is not None:
                attach.append((existing, r))  # a model's spans for an item already here
                continue
            if h in seen_hashes:
                report.duplicates_skipped += 1
                continue
            if r.external_id is not None:
                if r.external_id in seen_ids:
                    clashes.append(f"row {r.row}: id {r.external_id!r}")
                    continue
                seen_ids.add(r.external_id)
            seen_hashes.add(h)
            new.append((r, {"text": r.text, "text_hash": h, "external_id": r.external_id, "metadata": r.metadata,
                            "split": None}))
        if clashes:
            raise ValidationError(f"{len(clashes)} ids are already used by items of this project.",
                                  got="; ".join(clashes[:5]), fix="give these rows new ids, or drop the id key")
        item_ids = item_q.insert_items(s, proj.id, [row for _, row in new])
        report.items_added = len(item_ids)
        answered = [(iid, r) for iid, (r, _) in zip(item_ids, new, strict=True) if r.spans is not None]
        if labels_as == "response":
            user = project_q.get_or_create_user(s, "import", role="annotator", is_system=True)
            response_q.insert_responses(s, [
                {"item_id": iid, "user_id": user.id, "value": sorted({x.label for x in r.spans or []}),
                 "status": "submitted", "source": "import", "route": Route.imported.value,
                 "payload": {"spans": [x.as_dict() for x in sorted(r.spans or [])]}} for iid, r in answered])
            report.labels_imported = len(answered)
        else:
            rows = [*answered, *attach]
            response_q.insert_suggestions(s, [_suggestion(iid, r, agent) for iid, r in rows])
            report.suggestions_imported = len(rows)
            report.suggestions_attached = len(attach)
        pid = proj.id
    report.seconds = round(time.perf_counter() - started, 3)
    part._svc.queue.drop_pool(pid)
    return report


def _suggestion(item_id: int, r: SpanRecord, agent: str) -> dict[str, Any]:
    spans = sorted(r.spans or [])
    return {"item_id": item_id, "agent": agent, "agent_version": "", "value": sorted({x.label for x in spans}),
            "scores": {}, "score": r.score, "route": None, "payload": {"spans": [x.as_dict() for x in spans]}}


def _provenance(text: str, spans: Sequence[Mapping[str, Any]], *, who: str, source: str, route: str,
                suggested: Sequence[Mapping[str, Any]] | None, suggester: str | None) -> list[dict[str, Any]]:
    """Each span with its text and who made it; ``suggested_by`` where it equals a shown suggestion's span."""
    shown = {(int(x["start"]), int(x["end"]), str(x["label"])) for x in suggested or []}
    out = []
    for sp in sorted(spans, key=lambda x: (int(x["start"]), int(x["end"]), str(x["label"]))):
        key = (int(sp["start"]), int(sp["end"]), str(sp["label"]))
        out.append({"start": key[0], "end": key[1], "label": key[2], "text": text[key[0]:key[1]], "annotator": who,
                    "label_source": source, "route": route,
                    "suggested_by": suggester if key in shown and source != "agent" else None})
    return out


#: Routes of a suggestion that the router accepted in place of a person's answer.
ACCEPTED = ("auto", "audit")


def span_export_rows(part: SpansService, project: str, *, only: str | None = None
                     ) -> tuple[list[dict[str, Any]], int]:
    """(one row per item with decided spans — ``export.spans`` row shape — , items in the project).

    The newest submitted answer of a person (or the import) decides an item; an item no one
    answered takes the suggestion the span router accepted (route ``auto``, or ``audit`` while
    the audit is pending), else its newest suggestion (route ``suggested``), with
    ``label_source`` agent, not verified, unless ``only="human"``.
    """
    if only not in (None, "human", "labelled"):
        raise ValidationError(f"Unknown filter --only {only!r}.", expected="human | labelled")
    rows: list[dict[str, Any]] = []
    n_items = 0
    with store.transaction(part.engine) as s:
        proj = project_q.get_project(s, project)
        part.require_spans(proj)
        for chunk in span_q.iter_span_items(s, proj.id):
            n_items += len(chunk)
            ids = [c[0] for c in chunk]
            newest: dict[int, Any] = {}
            for a in span_q.span_answers(s, proj.id, ids):
                if a.item_id not in newest or a.response_id > newest[a.item_id].response_id:
                    newest[a.item_id] = a
            suggestion: dict[int, Any] = {}
            for x in span_q.span_suggestions(s, proj.id, ids):
                # the suggestion the router accepted decides an unanswered item; else the newest
                rank = (x.route in ACCEPTED, x.suggestion_id)
                old = suggestion.get(x.item_id)
                if old is None or rank > (old.route in ACCEPTED, old.suggestion_id):
                    suggestion[x.item_id] = x
            for item_id, ext, text, meta in chunk:
                a = newest.get(item_id)
                if a is not None:
                    shown = span_q.suggestion_spans(s, a.shown_suggestion_id) if a.shown_suggestion_id else None
                    source = "import" if a.source == "import" else "human"
                    rows.append({"item_id": item_id, "external_id": ext, "text": text, "metadata": meta,
                                 "spans": _provenance(text, a.spans, who=a.user, source=source, route=a.route,
                                                      suggested=shown[1] if shown else None,
                                                      suggester=shown[0] if shown else None),
                                 "label_source": source, "annotator": a.user, "route": a.route, "verified": True,
                                 "labelled_at": a.submitted_at})
                elif (x := suggestion.get(item_id)) is not None and only != "human":
                    who = f"{x.agent}@{x.agent_version}".rstrip("@")
                    # auto: accepted by the router; audit: accepted, a person's blind check pending
                    route = x.route if x.route in ACCEPTED else "suggested"
                    rows.append({"item_id": item_id, "external_id": ext, "text": text, "metadata": meta,
                                 "spans": _provenance(text, x.spans, who=who, source="agent", route=route,
                                                      suggested=None, suggester=None),
                                 "label_source": "agent", "annotator": who, "route": route, "verified": False,
                                 "labelled_at": None})
    return rows, n_items


def export_spans(part: SpansService, project: str, *, fmt: str, out: str | Path, only: str | None = None,
                 overwrite: bool = False) -> ExportResult:
    """Write the decided spans as ``fmt`` (jsonl | hf | spacy) with a dataset card, atomically."""
    from dataclasses import replace

    if fmt not in SPAN_FORMATS:
        raise ValidationError(f"Unknown export format {fmt!r} for a span project.", expected=" | ".join(SPAN_FORMATS),
                              fix="pass --format jsonl (offsets and provenance), hf (tokens + IOB ner_tags) or "
                                  "spacy (a DocBin)")
    rows, n_items = span_export_rows(part, project, only=only)
    try:
        agreement = part.agreement(project)
    except AgreementError:
        agreement = None
    precision = part.suggester_precision(project)
    proj, labels, _ = part._rules(project)
    with staged_export(out, overwrite=overwrite, about={"project": proj.name, "format": fmt},
                       protected=[part.settings.data_dir]) as (stage, target):
        result = write_span_export(rows, fmt=fmt, out_dir=stage, project_name=proj.name, labels=labels,
                                   n_items=n_items, agreement=agreement, precision=precision)
    return replace(result, out_dir=target, data_path=target / result.data_path.name,
                   card_path=target / result.card_path.name)

