"""Post-training task types: rating, preference, correction.

Plain domain code, one module per task type behind the small ``TaskKind`` protocol
(``tasks/base.py``): how its item is laid out, how an answer is validated and turned into a
response value plus payload. ``definitions`` holds what each type needs from an import.
No database, no UI.
"""

from annotator.tasks.base import TaskAnswer, TaskForm, TaskItem, TaskKind
from annotator.tasks.correction import correction_answer, unified_diff
from annotator.tasks.definitions import (
    CORRECTION_LABELS,
    DEFAULT_CRITERIA,
    PREFERENCE_LABELS,
    TASKS,
    TaskDefinition,
    TaskView,
    check_fields,
    default_labels,
    is_posttraining,
    task_definition,
)
from annotator.tasks.preference import PREFERENCE_CHOICES, PREFERENCE_KEYS, preference_answer, shown_order
from annotator.tasks.rating import rating_answer
from annotator.tasks.registry import TASK_KINDS, task_kind

__all__ = [
    "CORRECTION_LABELS", "DEFAULT_CRITERIA", "PREFERENCE_CHOICES", "PREFERENCE_KEYS", "PREFERENCE_LABELS", "TASKS",
    "TASK_KINDS", "TaskAnswer", "TaskDefinition", "TaskForm", "TaskItem", "TaskKind", "TaskView", "check_fields",
    "correction_answer", "default_labels", "is_posttraining", "preference_answer", "rating_answer", "shown_order",
    "task_definition", "task_kind", "unified_diff",
]
