"""Answers to post-training items → (response value, payload), validated at the boundary.

The value is what the queue, agreement and router see (a list of label names: the verdict for
preference, edited/unchanged for correction, ``criterion=score`` strings for rating); the payload
keeps the rest (shown order, rationale, per-criterion scores, edited text and its diff).
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from annotator.core.errors import ValidationError

#: Positional choices on the page → keys 1..4.
PREFERENCE_CHOICES = ["left", "right", "tie", "both-bad"]
PREFERENCE_KEYS = {"1": "left", "2": "right", "3": "tie", "4": "both-bad"}


@dataclass(frozen=True)
class TaskAnswer:
    value: list[str]
    payload: dict[str, Any] = field(default_factory=dict)
    comment: str | None = None


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
