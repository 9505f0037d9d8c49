"""The Python client: the same service the web app and the command line use, shaped for scripts.

Typical use::

    from annotator import Annotator

    with Annotator("annotator-data") as ann:
        tickets = ann.create_project("tickets", labels=["billing", "bug", "other"])
        tickets.add_items([{"id": "t1", "text": "I was charged twice"}, {"id": "t2", "text": "App crashes"}])
        tickets.add_suggestions([{"id": "t1", "label": "billing", "score": 0.93}], agent="my-model")
        item = tickets.next_item(user="ana")
        tickets.answer(item.item_id, "billing", user="ana")
        tickets.export("exports/tickets", format="jsonl")

Records are plain dicts: ``text`` (required for new items), ``id`` (your identifier; it matches
suggestions to items), ``label`` (a name, or a list for multi-label), ``score`` (a suggestion's
confidence in [0, 1]) and ``metadata`` (a dict). Every method raises the same errors as the CLI
(``annotator.core.errors.AnnotatorError``: what was expected, what came, how to fix it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from annotator.core.config import Settings
from annotator.core.errors import ValidationError
from annotator.core.schema import ImportReport, Progress, ProjectSummary, QueuedItem, SuggestionView
from annotator.importers.records import import_records
from annotator.service import AnnotatorService

if TYPE_CHECKING:
    from annotator.export.writers import ExportResult
    from annotator.service.spans import SpanItemView

class Annotator:
    """The projects of one data directory (or one database), opened from Python.

    Args:
        data_dir: where the SQLite database, embeddings and model versions live (created if missing).
        database_url: a SQLAlchemy URL instead of the data directory's SQLite file (e.g. PostgreSQL
            for a team).
        **settings: any other ``Settings`` field, e.g. ``embedding_model="hashing"``.
    """

    def __init__(self, data_dir: str | Path = "annotator-data", *, database_url: str | None = None,
                 **settings: Any) -> None:
        if database_url is not None:  # else ANNOTATOR_DATABASE_URL (or the data directory's SQLite file)
            settings["database_url"] = database_url
        self.service = AnnotatorService.from_settings(Settings(data_dir=Path(data_dir), **settings))

    @classmethod
    def from_service(cls, service: AnnotatorService) -> Annotator:
        """Wrap a service that is already open (the web app's, a test's)."""
        self = cls.__new__(cls)
        self.service = service
        return self

    def create_project(self, name: str, labels: Sequence[str | Mapping[str, Any]], *, task: str = "single-label",
                       guidelines: str = "") -> Project:
        """Create a project (``task``: single-label | multi-label | rating | preference | correction | spans;
        labels are names, or dicts with ``name``, ``description`` and ``key``)."""
        self.service.projects.create_project(name, list(labels), task_type=task, guidelines=guidelines)
        return Project(self.service, name)

    def project(self, name: str) -> Project:
        """An existing project (NotFoundError names the ones there are)."""
        self.service.projects.project(name)
        return Project(self.service, name)

    def projects(self) -> list[ProjectSummary]:
        """Every project with its counts."""
        return self.service.projects.list_projects()

    def close(self) -> None:
        """Stop the background work and release the database."""
        self.service.close()

    def __enter__(self) -> Annotator:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class Project:
    """One project: add items and suggestions, serve and answer items, export."""

    def __init__(self, service: AnnotatorService, name: str) -> None:
        self.service = service
        self.name = name

    def __repr__(self) -> str:
        return f"Project({self.name!r})"

    def summary(self) -> ProjectSummary:
        """Its labels and counts (items, labelled, by route)."""
        return self.service.projects.project(self.name)

    def add_items(self, records: Iterable[Mapping[str, Any] | str], *, add_labels: bool = False) -> ImportReport:
        """Add items (one transaction: a bad record anywhere adds nothing). A record's ``label`` is
        stored as an imported answer (it counts as one person's). Texts already here are skipped.
        A span project takes span records (``text`` and ``spans``, as ``add_spans``)."""
        if self.summary().task_type == "spans":
            return self.add_spans(records)  # type: ignore[arg-type]
        return self.service.imports.import_records(self.name, import_records(records), add_labels=add_labels)

    def add_suggestions(self, records: Iterable[Mapping[str, Any]], *, agent: str) -> ImportReport:
        """Attach ``agent``'s suggestions (``label`` and optionally ``score``) to the items named by
        ``id`` (or, without one, by ``text``); records for items not here yet add them. A new import
        is a new version of the agent's suggestions; use them with ``run_ai("imported:AGENT")``."""
        if not agent.strip():
            raise ValidationError("A suggestion needs the name of its agent.", fix="pass agent='my-model'")
        return self.service.imports.import_records(self.name, import_records(records), labels_as="suggestion",
                                                   agent=agent.strip())

    # ---- span projects (task "spans") ----------------------------------------------------------
    def add_spans(self, records: Iterable[Mapping[str, Any]], *, agent: str | None = None) -> ImportReport:
        """Add span records (``{"text", "spans": [{start, end, label}], "id"}``, or the Prodigy / spaCy /
        doccano shapes): people's spans, or with ``agent`` that agent's suggestions (attached to
        items already here). Every span is checked against its text first; a bad one adds nothing."""
        return self.service.spans.import_records(self.name, list(records), labels_as="suggestion" if agent else
                                                 "response", agent=agent or "import")

    def next_span_item(self, user: str | None = None) -> SpanItemView | None:
        """The span item ``user`` should label next, with the suggested spans pre-filled (none on blind)."""
        return self.service.spans.next_item(self.name, user)

    def answer_spans(self, item_id: int, spans: Sequence[Mapping[str, Any]], *, user: str | None = None,
                     comment: str | None = None) -> list[dict[str, Any]]:
        """Store ``user``'s spans (``[{start, end, label}]``, code-point offsets; ``[]``: none here)."""
        return [s.as_dict() for s in self.service.spans.submit_spans(self.name, user, int(item_id), list(spans),
                                                                     comment=comment)]

    def undo_spans(self, user: str | None = None) -> SpanItemView | None:
        """Take back ``user``'s last span answer; the item comes back with those spans."""
        return self.service.spans.undo(self.name, user)

    def item_spans(self, item_id: int) -> dict[str, Any]:
        """An item's people's answers, suggestions and final spans."""
        return self.service.spans.item_spans(self.name, int(item_id))

    def suggest_spans(self, suggester: str = "spacy") -> dict[str, Any]:
        """Store a suggester's spans for the unanswered items (``"spacy"``: the offline pipeline)."""
        return self.service.spans.suggest(self.name, suggester)

    def span_agreement(self, *, include_ai: bool = False) -> dict[str, Any]:
        """Pairwise span F1 (exact and overlap), per label and per person."""
        return self.service.spans.agreement(self.name, include_ai=include_ai)

    def next_item(self, user: str | None = None) -> QueuedItem | None:
        """The item ``user`` should label next (most informative first), or None when none is left."""
        return self.service.queue.next_item(self.name, user)

    def answer(self, item_id: int, label: str | Sequence[str], *, user: str | None = None,
               comment: str | None = None) -> SuggestionView | None:
        """Store ``user``'s answer to item ``item_id`` (a label name, or a list for multi-label).
        Returns the AI label that was hidden from a blind or audit item, else None."""
        value = [label] if isinstance(label, str) else list(label)
        return self.service.queue.submit(self.name, user, int(item_id), value, comment=comment)

    def skip(self, item_id: int, *, user: str | None = None) -> None:
        """Put an item back without answering it."""
        self.service.queue.skip(self.name, user, int(item_id))

    def progress(self) -> Progress:
        """Items, labelled items, and counts by label and by person."""
        return self.service.queue.progress(self.name)

    def run_ai(self, annotators: str = "knn,zero-shot") -> dict[str, Any]:
        """Let calibrated AI annotators label and route the unlabelled items (as ``annotator ai``)."""
        return self.service.ai.run_ai(self.name, annotators)

    def labels(self) -> list[dict[str, Any]]:
        """Every item with its final label and provenance (the rows of an export)."""
        return list(self.service.exports.final_labels(self.name))

    def export(self, out: str | Path, *, format: str = "jsonl", only: str | None = None,  # noqa: A002
               sources: Sequence[str] | None = None, statuses: Sequence[str] | None = None,
               overwrite: bool = False, csv_raw_formulas: bool = False) -> ExportResult:
        """Write the data (``format``: jsonl | csv | parquet | hf; span projects jsonl | hf | spacy) and a
        dataset card to folder ``out`` (``overwrite``: replace a previous export there; ``csv_raw_formulas``: CSV cells starting with
        ``= + - @`` as they are, not prefixed with ``'``)."""
        return self.service.exports.export(self.name, fmt=format, out=out, only=only, sources=sources,
                                           statuses=statuses, overwrite=overwrite, csv_raw_formulas=csv_raw_formulas)
