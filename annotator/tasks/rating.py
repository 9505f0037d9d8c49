"""Ratings: a score per criterion on the project's scale."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from annotator.core.errors import ValidationError
from annotator.tasks.base import TaskAnswer, TaskForm, TaskItem
from annotator.tasks.definitions import TASKS, TaskDefinition


def rating_answer(ratings: Mapping[str, Any], criteria: Sequence[str], scale: tuple[int, int],
                  rationale: str | None = None) -> TaskAnswer:
    """Scores per criterion (each an int in ``scale``, every criterion rated) → value ["crit=score", …]."""
    lo, hi = scale
    unknown = [c for c in ratings if c not in criteria]
    if unknown:
        raise ValidationError(f"Unknown rating criterion {unknown[0]!r}.", expected=" | ".join(criteria))
    missing = [c for c in criteria if ratings.get(c) in (None, "")]
    if missing:
        raise ValidationError(f"Rate every criterion before submitting: {', '.join(missing)} has no score.",
                              fix=f"press a number {lo}-{hi} for each criterion")
    scores: dict[str, int] = {}
    for c in criteria:
        try:
            score = int(ratings[c])
        except (TypeError, ValueError):
            raise ValidationError(f"The score of {c!r} must be a whole number.", got=repr(ratings[c]),
                                  expected=f"{lo}..{hi}") from None
        if not lo <= score <= hi:
            raise ValidationError(f"The score of {c!r} is out of the scale.", got=str(score), expected=f"{lo}..{hi}")
        scores[c] = score
    rationale = (rationale or "").strip() or None
    return TaskAnswer([f"{c}={s}" for c, s in scores.items()],
                      {"ratings": scores, "scale": [lo, hi], "rationale": rationale}, rationale)


class RatingTask:
    """``rating``: one response, every criterion scored within the scale."""

    definition: TaskDefinition = TASKS["rating"]

    def lay_out(self, item: TaskItem) -> dict[str, Any]:
        return {"response": str(item.meta.get("response", "")), "criteria": list(item.criteria)}

    def answer(self, form: TaskForm, item: TaskItem) -> TaskAnswer:
        return rating_answer(form.ratings or {}, list(item.criteria), item.scale, form.rationale)
