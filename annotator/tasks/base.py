"""The one small protocol every post-training task type follows, and the shapes it speaks in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from annotator.tasks.definitions import TaskDefinition


@dataclass(frozen=True)
class TaskAnswer:
    """A validated answer: ``value`` (label names, what queue, agreement and router see), the
    ``payload`` kept beside it, and the person's rationale as the response's comment."""

    value: list[str]
    payload: dict[str, Any] = field(default_factory=dict)
    comment: str | None = None


@dataclass(frozen=True)
class TaskForm:
    """What the labelling page sent; each task type reads the fields it knows."""

    choice: str | None = None
    ratings: Mapping[str, Any] | None = None
    edited: str | None = None
    rationale: str | None = None


@dataclass(frozen=True)
class TaskItem:
    """One item as a task type sees it: who answers, the project's seed, scale and criteria.

    Attributes:
        meta: the item's metadata (the responses live there, under the definition's ``fields``).
        criteria: the project's label names (the rating criteria for ``rating``).
        scale: (lowest, highest) score of a rating.
    """

    item_id: int
    user: str
    seed: int
    meta: Mapping[str, Any]
    criteria: tuple[str, ...] = ()
    scale: tuple[int, int] = (1, 5)


class TaskKind(Protocol):
    """A post-training task type: how its item is laid out and how an answer becomes a value."""

    definition: TaskDefinition

    def lay_out(self, item: TaskItem) -> dict[str, Any]:
        """The ``TaskView`` fields of this type (responses, order, criteria)."""
        ...

    def answer(self, form: TaskForm, item: TaskItem) -> TaskAnswer:
        """Validate ``form`` and turn it into the stored answer; ValidationError says what to fix."""
        ...
