"""Task type name → its :class:`~annotator.tasks.base.TaskKind` (chosen from a dict, not a chain)."""

from __future__ import annotations

from annotator.tasks.base import TaskKind
from annotator.tasks.correction import CorrectionTask
from annotator.tasks.definitions import task_definition
from annotator.tasks.preference import PreferenceTask
from annotator.tasks.rating import RatingTask

TASK_KINDS: dict[str, TaskKind] = {"preference": PreferenceTask(), "rating": RatingTask(), "correction": CorrectionTask()}


def task_kind(task_type: str) -> TaskKind:
    """The task type's behaviour; ValidationError (listing the types) for a classification project."""
    task_definition(task_type)  # the one error message for a type that is not post-training
    return TASK_KINDS[str(task_type)]
