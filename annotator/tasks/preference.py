"""Preference pairs: which of two responses is better, shown in a seeded left/right order."""

from __future__ import annotations

import hashlib
from typing import Any

from annotator.core.errors import ValidationError
from annotator.tasks.base import TaskAnswer, TaskForm, TaskItem
from annotator.tasks.definitions import TASKS, TaskDefinition

#: Positional choices on the page → keys 1..4.
PREFERENCE_CHOICES = ["left", "right", "tie", "both-bad"]
PREFERENCE_KEYS = {"1": "left", "2": "right", "3": "tie", "4": "both-bad"}


def shown_order(seed: int, item_id: int, user: str) -> str:
    """"AB" or "BA": which response goes left, a seeded coin per (project seed, item, person).

    Deterministic, so the page and the service agree on it without storing it before the answer,
    and the same person sees the same order if the item comes back (undo, reload).
    """
    digest = hashlib.sha256(f"{seed}|{item_id}|{user}".encode()).digest()
    return "AB" if digest[0] % 2 == 0 else "BA"


def preference_answer(choice: str, order: str, rationale: str | None = None) -> TaskAnswer:
    """A positional choice (left / right / tie / both-bad, or keys 1-4) under ``order`` → verdict A/B/tie/both-bad."""
    choice = PREFERENCE_KEYS.get(str(choice).strip(), str(choice).strip().lower())
    if choice not in PREFERENCE_CHOICES:
        raise ValidationError(f"Unknown preference choice {choice!r}.", expected=" | ".join(PREFERENCE_CHOICES),
                              fix="press 1 (left), 2 (right), 3 (tie) or 4 (both bad)")
    if order not in ("AB", "BA"):
        raise ValidationError(f"Unknown shown order {order!r}.", expected="AB | BA")
    if choice == "left":
        verdict = order[0]
    elif choice == "right":
        verdict = order[1]
    else:
        verdict = choice
    rationale = (rationale or "").strip() or None
    return TaskAnswer([verdict], {"shown_order": order, "choice": choice, "rationale": rationale}, rationale)


class PreferenceTask:
    """``preference``: response_a / response_b laid out left/right; verdict A | B | tie | both-bad."""

    definition: TaskDefinition = TASKS["preference"]

    def lay_out(self, item: TaskItem) -> dict[str, Any]:
        order = shown_order(item.seed, item.item_id, item.user)
        a, b = str(item.meta.get("response_a", "")), str(item.meta.get("response_b", ""))
        left, right = (a, b) if order == "AB" else (b, a)
        return {"shown_order": order, "left": left, "right": right}

    def answer(self, form: TaskForm, item: TaskItem) -> TaskAnswer:
        return preference_answer(form.choice or "", shown_order(item.seed, item.item_id, item.user), form.rationale)
