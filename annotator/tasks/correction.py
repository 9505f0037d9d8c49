"""Corrections: the person edits a response; the edited text and its diff are kept."""

from __future__ import annotations

import difflib
from typing import Any

from annotator.core.errors import ValidationError
from annotator.tasks.base import TaskAnswer, TaskForm, TaskItem
from annotator.tasks.definitions import TASKS, TaskDefinition


def unified_diff(original: str, edited: str) -> str:
    """difflib's unified diff, line by line (empty when nothing changed)."""
    return "".join(difflib.unified_diff(original.splitlines(keepends=True), edited.splitlines(keepends=True),
                                        fromfile="response", tofile="corrected"))


def correction_answer(original: str, edited: str, rationale: str | None = None) -> TaskAnswer:
    """The person's edited response → value edited/unchanged, payload with the text and its diff."""
    if edited is None or not str(edited).strip():
        raise ValidationError("A correction cannot be empty.", fix="edit the response, or skip the item")
    edited = str(edited).replace("\r\n", "\n")
    original = original.replace("\r\n", "\n")
    changed = edited.strip() != original.strip()
    rationale = (rationale or "").strip() or None
    return TaskAnswer(["edited" if changed else "unchanged"],
                      {"edited": edited, "diff": unified_diff(original, edited), "rationale": rationale}, rationale)


class CorrectionTask:
    """``correction``: one response to edit; value edited | unchanged."""

    definition: TaskDefinition = TASKS["correction"]

    def lay_out(self, item: TaskItem) -> dict[str, Any]:
        return {"response": str(item.meta.get("response", ""))}

    def answer(self, form: TaskForm, item: TaskItem) -> TaskAnswer:
        return correction_answer(str(item.meta.get("response", "")), form.edited or "", form.rationale)
