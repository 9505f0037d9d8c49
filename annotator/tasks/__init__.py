"""Post-training task types (issue 9): rating, preference, correction.

Plain domain code: what each task type stores, how an answer is validated and turned into a
response value plus payload, which import columns it needs, and the constructed demo pairs.
No database, no UI.
"""

from annotator.tasks.answers import (
    PREFERENCE_CHOICES, PREFERENCE_KEYS, TaskAnswer, correction_answer, preference_answer, rating_answer,
    shown_order, unified_diff,
)
from annotator.tasks.definitions import (
    CORRECTION_LABELS, DEFAULT_CRITERIA, PREFERENCE_LABELS, TASKS, TaskDefinition, TaskView, check_fields,
    default_labels, is_posttraining, task_definition,
)

__all__ = [
    "CORRECTION_LABELS", "DEFAULT_CRITERIA", "PREFERENCE_CHOICES", "PREFERENCE_KEYS", "PREFERENCE_LABELS", "TASKS",
    "TaskAnswer", "TaskDefinition", "TaskView", "check_fields", "correction_answer", "default_labels",
    "is_posttraining", "preference_answer", "rating_answer", "shown_order", "task_definition", "unified_diff",
]
