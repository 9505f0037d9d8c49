"""What each post-training task type is: the item fields it needs, its default labels, its hotkeys.

An item of any task type keeps ``text`` = the prompt (so dedupe, embeddings and the queue work as
for classification); the responses live in the item's metadata under the names in ``fields``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from annotator.core.errors import ValidationError

#: Preference verdicts about the ORIGINAL response_a / response_b (never about left/right).
PREFERENCE_LABELS = ["A", "B", "tie", "both-bad"]
#: A correction answer says whether the person changed the response.
CORRECTION_LABELS = ["edited", "unchanged"]
#: Rating criteria when a rating project is created without labels.
DEFAULT_CRITERIA = ["helpfulness", "correctness"]


@dataclass(frozen=True)
class TaskDefinition:
    """One task type.

    Attributes:
        name: the ``schema.TaskType`` value.
        fields: metadata keys every item must carry (the import's response columns).
        default_labels: the project's labels when none are given (criteria for ``rating``).
        hotkeys: key → what it does on the labelling page (shown as help).
    """

    name: str
    fields: tuple[str, ...]
    default_labels: tuple[str, ...]
    hotkeys: tuple[tuple[str, str], ...]


TASKS: dict[str, TaskDefinition] = {
    "preference": TaskDefinition(
        "preference", ("response_a", "response_b"), tuple(PREFERENCE_LABELS),
        (("1", "left is better"), ("2", "right is better"), ("3", "tie"), ("4", "both bad"), ("Enter", "submit"))),
    "rating": TaskDefinition(
        "rating", ("response",), tuple(DEFAULT_CRITERIA),
        (("1…9", "score of the highlighted criterion, then the next one"), ("Enter", "submit"))),
    "correction": TaskDefinition(
        "correction", ("response",), tuple(CORRECTION_LABELS),
        (("type", "edit the response"), ("Ctrl+Enter", "submit"))),
}


def is_posttraining(task_type: str) -> bool:
    return str(task_type) in TASKS


def task_definition(task_type: str) -> TaskDefinition:
    try:
        return TASKS[str(task_type)]
    except KeyError:
        raise ValidationError(f"{task_type!r} is not a post-training task type.", expected=" | ".join(TASKS),
                              fix="create the project with --task rating|preference|correction") from None


def default_labels(task_type: str) -> list[str]:
    return list(task_definition(task_type).default_labels)


def check_fields(task_type: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Every row's ``metadata`` must hold the task's fields as non-empty text.

    Raises:
        ValidationError: naming the first rows that lack a field, and the columns to import.
    """
    if not is_posttraining(task_type):
        return
    fields = task_definition(task_type).fields
    bad = []
    for r in rows:
        meta = r.get("metadata") or {}
        missing = [f for f in fields if not isinstance(meta.get(f), str) or not meta.get(f).strip()]
        if missing:
            bad.append((r.get("row", "?"), missing))
    if bad:
        raise ValidationError(
            f"{len(bad)} rows lack the {task_type} fields {', '.join(fields)}.",
            got="; ".join(f"row {row}: no {', '.join(m)}" for row, m in bad[:5]),
            fix=f"import a file with columns {', '.join(fields)} beside the prompt column "
                f"(--text-column PROMPT; other columns become metadata), and no empty cells there",
        )


class TaskView(BaseModel):
    """One item of a post-training project as the labelling page shows it.

    For ``preference``, ``left`` / ``right`` are the responses in the order shown (``shown_order``
    "AB" puts response_a on the left); the answer comes back as left / right / tie / both-bad and
    the service maps it onto A / B with the same order.
    """

    item_id: int
    task_type: str
    prompt: str
    response: str = ""
    left: str = ""
    right: str = ""
    shown_order: str = "AB"
    criteria: list[str] = Field(default_factory=list)
    scale: tuple[int, int] = (1, 5)
    route: str = "manual"
    suggestion: str | None = None
    suggestion_score: float | None = None
