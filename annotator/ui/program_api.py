"""HTTP endpoints for programs: small JSON in and out, beside the page's own events.

The page's events take and return component values (states, label lists, flags); a script wants
"the next item for ana" and "ana's answer to item 12". These endpoints are that, registered with
``gr.api`` so ``gradio_client`` sees them with their names and types::

    from gradio_client import Client

    client = Client("http://127.0.0.1:7860/", auth=("ana", "ana's password"))  # auth only in team mode
    item = client.predict("tickets", "", api_name="/next_item")
    client.predict("tickets", item["item_id"], ["billing"], "", "", api_name="/submit_answer")

=================  =====================================================  ================
endpoint           in → out                                               roles
=================  =====================================================  ================
/list_projects     () → [{name, task_type, labels, items, labelled}]      everyone
/next_item         (project, user) → {item_id, text, suggestion …} | {}   everyone
/submit_answer     (project, item_id, labels, user, comment) → {saved}    everyone
/add_suggestions   (project, agent, [{id | text, label, score}]) → counts admins
/export_data       (project, only) → {n_rows, rows, card}                 admins
=================  =====================================================  ================

Who answers: in team mode (logins) always the logged-in person; a ``user`` naming someone else
is refused. In single-user mode ``user`` names the annotator (empty: the default user). The role
check is the page's (``annotator.ui.auth.POLICY``, applied by ``auth.protect`` to these events
too). Errors come back as the page's do: a message that says what was expected and how to fix it.
"""

# No ``from __future__ import annotations``: gr.api reads the type hints as classes.

import functools
import json
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr

from annotator.core.errors import AnnotatorError, PermissionDeniedError, ValidationError
from annotator.importers.records import SUGGESTION_KEYS, import_records
from annotator.service import AnnotatorService
from annotator.ui import auth

#: Names of the endpoints (their ``api_name``), for the policy and the README.
ENDPOINTS = ("list_projects", "next_item", "submit_answer", "add_suggestions", "export_data")


class ProgramAPI:
    """Registers the program endpoints on the Blocks being built (call ``wire`` inside its context).

    Args:
        service: the facade every endpoint calls.
        auth_mode: team mode: the person is the login, never the ``user`` argument.
    """

    def __init__(self, service: AnnotatorService, *, auth_mode: bool) -> None:
        self.service = service
        self.auth_mode = auth_mode

    def wire(self) -> None:
        for name in ENDPOINTS:
            gr.api(_answering_errors(getattr(self, name)), api_name=name)

    # ------------------------------------------------------------------ endpoints
    def list_projects(self) -> list:
        """Every project: name, task type, label names, items and labelled items."""
        return [{"name": p.name, "task_type": str(p.task_type), "labels": [lab.name for lab in p.labels],
                 "items": p.items, "labelled": p.labelled} for p in self.service.projects.list_projects()]

    def next_item(self, project: str, user: str = "") -> dict:
        """The item ``user`` should label next: item_id, external_id, text, metadata, route, and the
        AI suggestion (agent, value, score) unless the item is served blind; {} when none is left."""
        item = self.service.queue.next_item(_required(project, "project"), self._person(user))
        if item is None:
            return {}
        return json.loads(item.model_dump_json(include={"item_id", "external_id", "text", "metadata", "route",
                                                        "suggestion", "strategy"}))

    def submit_answer(self, project: str, item_id: int, labels: list, user: str = "", comment: str = "") -> dict:
        """Store ``user``'s answer (label names) to item ``item_id``. Returns {saved, item_id,
        revealed}: ``revealed`` is the AI label that was hidden from a blind or audit item, else null."""
        if not isinstance(labels, list) or not all(isinstance(v, str) for v in labels):
            raise ValidationError("labels must be a list of label names.", got=repr(labels)[:80],
                                  fix='pass e.g. ["billing"]')
        revealed = self.service.queue.submit(_required(project, "project"), self._person(user), int(item_id),
                                             labels, comment=comment or None)
        return {"saved": True, "item_id": int(item_id),
                "revealed": None if revealed is None else json.loads(revealed.model_dump_json())}

    def add_suggestions(self, project: str, agent: str, suggestions: list) -> dict:
        """Attach ``agent``'s suggestions to items (matched by ``id``, else by ``text``; records for
        items not there yet add them). Returns the import's counts."""
        records = import_records(suggestions, keys=SUGGESTION_KEYS)
        if not agent.strip():
            raise ValidationError("A suggestion needs the name of its agent.", fix='pass agent="my-model"')
        report = self.service.imports.import_records(_required(project, "project"), records,
                                                     labels_as="suggestion", agent=agent.strip())
        return {"suggestions_attached": report.suggestions_attached, "suggestions_imported": report.suggestions_imported,
                "items_added": report.items_added}

    def export_data(self, project: str, only: str = "") -> dict:
        """The project's export: {n_rows, rows (as the JSONL export's lines), card (the dataset
        card's Markdown)}; ``only``: "" (every item) | human | labelled."""
        with tempfile.TemporaryDirectory(prefix="annotator-export-") as tmp:
            result = self.service.exports.export(_required(project, "project"), fmt="jsonl", out=Path(tmp) / "out",
                                                 only=only or None)
            rows = [json.loads(line) for line in result.data_path.read_text(encoding="utf-8").splitlines()]
            return {"n_rows": result.n_rows, "rows": rows, "card": result.card_path.read_text(encoding="utf-8")}

    # ------------------------------------------------------------------ identity
    def _person(self, user: str) -> str | None:
        """Who the call is for: the login in team mode (refusing another name), else ``user``."""
        if not self.auth_mode:
            return (user or "").strip() or None
        who = auth.request_who(self.service)
        if user and user.strip() != who.name:
            raise PermissionDeniedError(f"{who.name} may not answer as {user.strip()!r}.", got=user,
                                        fix="leave user empty: with logins the answer is always yours")
        return who.name


def _required(value: str, name: str) -> str:
    if not value or not str(value).strip():
        raise ValidationError(f"The {name} is missing.", fix=f"pass the {name}'s name")
    return str(value).strip()


def _answering_errors(fn: Any) -> Any:
    """``fn`` with the product's errors turned into ``gr.Error`` (a clean message in the answer,
    never a traceback), keeping its name, docstring and type hints for ``gr.api``."""
    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except AnnotatorError as e:
            raise gr.Error(e.message, title=type(e).__name__, print_exception=False) from e

    return call
