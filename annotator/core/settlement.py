"""The one rule that gives an item its final label from its submitted answers.

The export, the dataset card, the Review tab and the agreement figures all read an item's label
through ``settle``, so they cannot drift apart. Precedence, recorded as ``settled_by``:

- ``reviewer``: a reviewer's newest decision (an answer with route ``review``) wins;
- ``single``: exactly one person answered: their answer;
- ``majority``: several people answered and a strict majority agrees (values compared as sets):
  that value, from the newest of the people who gave it;
- ``newest``: several people answered without a strict majority (a tie): the newest answer, and
  the item waits for a reviewer (the review queue lists it as a disagreement);
- ``import``: only an imported label (a system user's answer);
- ``auto``: no answer, an AI suggestion the router auto-accepted (decided by the caller, which
  holds the suggestions);
- None: no label yet.

"People" are the newest answer of each non-system user, reviewers' decisions left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from annotator.core.schema import Route

#: ``settled_by`` values, most authoritative first.
SETTLED_BY = ("reviewer", "majority", "single", "newest", "import", "auto")


class SettleAnswer(Protocol):
    """What the rule reads of one submitted answer."""

    @property
    def response_id(self) -> int: ...  # later answers have larger ids
    @property
    def user(self) -> str: ...
    @property
    def value(self) -> Sequence[str]: ...
    @property
    def route(self) -> str | None: ...
    @property
    def is_system(self) -> bool: ...  # an import, not a person


A = TypeVar("A", bound=SettleAnswer)


def people(answers: Sequence[A]) -> list[A]:
    """People's live answers: not imports, not reviewers' decisions, one (the newest) per person,
    oldest first."""
    newest: dict[str, A] = {}
    for a in sorted(answers, key=lambda a: a.response_id):
        if not a.is_system and a.route != Route.review:
            newest[a.user] = a
    return sorted(newest.values(), key=lambda a: a.response_id)


def settle(answers: Sequence[A]) -> tuple[A | None, str | None, int]:
    """(the answer that gives the item its label, how it was settled, how many answers it has).

    The count is what overlap counts: each person once, and an imported label as one answer
    (reviewers' decisions are not answers).

    Args:
        answers: the item's submitted answers, in any order.

    Returns:
        ``(None, None, 0)`` when there is no answer; the ``auto`` case is the caller's.
    """
    if not answers:
        return None, None, 0
    live = people(answers)
    n_answers = len(live) + any(a.is_system for a in answers)
    reviews = [a for a in answers if a.route == Route.review]
    if reviews:
        return max(reviews, key=lambda a: a.response_id), "reviewer", n_answers
    if len(live) == 1:
        return live[0], "single", n_answers
    if live:
        counts: dict[tuple[str, ...], int] = {}
        for a in live:
            key = tuple(sorted(a.value))
            counts[key] = counts.get(key, 0) + 1
        value, n = max(counts.items(), key=lambda kv: kv[1])
        if 2 * n > len(live):
            return [a for a in live if tuple(sorted(a.value)) == value][-1], "majority", n_answers
        return live[-1], "newest", n_answers
    return max(answers, key=lambda a: a.response_id), "import", n_answers
