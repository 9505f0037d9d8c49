"""The review queue: which items need a reviewer, why, and in which order. Plain functions.

An item needs a reviewer when

- **disagreement**: people (not reviewers, not imports) gave two or more distinct answers;
- **flagged**: a person flagged their answer;
- **low judge score**: its label is an AI label the router auto-accepted, and the judge's
  P(AI label correct) is below the project's target precision (only where a judge was fitted);
- **a request**: other code asked for it (``service.review.flag``, e.g. suspect labels found
  by confident learning) with a reason;
- **sent back, answered again**: a reviewer sent it back and a person has answered since.

A reviewer's decision (accept or correct: a response with route ``review``) settles the item: it
leaves the queue, and only people's answers given after that decision can bring it back. An item
sent back waits outside the queue until a person answers it again.

**Order: how likely the current label is wrong.** Each reason gives an estimate ``p`` that the
label is wrong: disagreement ``1 - share of the most common answer`` (1:1 → 0.5, 2:1 → 0.33,
1:1:1 → 0.67), low judge score ``1 - P(correct)``, a request its ``score`` when the caller knows
it (a suspect label's model probability) else 0.5, a flag 0.5, a send-back answered again 0.5.
Reasons combine as independent evidence, ``priority = 1 - prod(1 - p)``; the queue is sorted by
priority, highest first, then by item id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, Field

from annotator.core.schema import Route
from annotator.core.settlement import people as _people
from annotator.core.settlement import settle
from annotator.store.review import AnswerRow, RequestRow

#: ``p`` (label wrong) of a reason that carries no estimate of its own.
DEFAULT_REASON_P = 0.5

REASON_DISAGREEMENT = "disagreement"
REASON_FLAGGED = "flagged"
REASON_LOW_JUDGE = "low judge score"
REASON_SENT_BACK = "sent back, answered again"


class ReviewAnswer(BaseModel):
    """One answer of an item as the reviewer sees it."""

    user: str
    role: str
    value: list[str]
    route: str
    seconds: float | None = None
    comment: str | None = None
    flagged: bool = False
    submitted_at: datetime | None = None
    reviewer: bool = False  # a reviewer's decision (route review)


class ReviewSuggestion(BaseModel):
    """An AI annotator's newest suggestion for the item."""

    agent: str
    value: list[str]
    score: float | None = None
    judge_score: float | None = None
    route: str | None = None


class ReviewEntry(BaseModel):
    """One item in the review queue."""

    item_id: int
    external_id: str | None = None
    text: str = ""
    metadata: dict[str, Any] = Field(default_factory=dict)
    reasons: list[str]
    priority: float  # estimated P(current label wrong), see the module docstring
    answers: list[ReviewAnswer]
    suggestions: list[ReviewSuggestion]
    final_label: list[str] | None = None
    settled_by: str | None = None  # reviewer | majority | single | newest | auto | None

    def choices(self) -> list[tuple[str, list[str]]]:
        """The distinct values the reviewer can accept with one key: people's answers first (most
        common first), then the AI's; each as (who gave it, value)."""
        seen: dict[tuple[str, ...], list[str]] = {}
        counts = Counter(tuple(sorted(a.value)) for a in self.answers if not a.reviewer)
        for a in sorted((a for a in self.answers if not a.reviewer),
                        key=lambda a: -counts[tuple(sorted(a.value))]):
            seen.setdefault(tuple(sorted(a.value)), []).append(a.user)
        for s in self.suggestions:
            seen.setdefault(tuple(sorted(s.value)), []).append(f"AI {s.agent}")
        return [(", ".join(who), list(value)) for value, who in seen.items() if value]


def assess(
    answers: Sequence[AnswerRow], requests: Sequence[RequestRow], routed: Any | None = None, *,
    judge_below: float | None = None,
) -> tuple[list[str], float] | None:
    """Why the item needs a reviewer and how likely its label is wrong, or None when it does not.

    Args:
        answers: the item's submitted responses (``store.review.answers_of``), oldest first.
        requests: its open review requests (flags and send-backs).
        routed: its newest routed suggestion (``judge_score``, ``route``) or None.
        judge_below: AI labels whose judge score is below this are reviewed; None: no judge reason.
    """
    reviews = [a for a in answers if a.route == Route.review]
    last_review = max((a.response_id for a in reviews), default=0)
    people = _people(answers)
    send_backs = [r for r in requests if r.kind == "send_back"]
    newest_person = max((a.response_id for a in people), default=0)
    if any(newest_person <= (r.after_response_id or 0) for r in send_backs):
        return None  # waiting for another answer
    reasons: list[tuple[str, float]] = []
    fresh = [a for a in people if a.response_id > last_review]
    if reviews:  # settled: only answers after the decision can disagree with it
        decided = tuple(sorted(max(reviews, key=lambda a: a.response_id).value))
        values = [tuple(sorted(a.value)) for a in fresh]
        if any(v != decided for v in values):
            values.append(decided)
    else:
        values = [tuple(sorted(a.value)) for a in people]
    counts = Counter(values)
    if len(counts) >= 2:
        top = counts.most_common(1)[0][1]
        shares = ", ".join(f"{' + '.join(v) or '(none)'} × {n}" for v, n in counts.most_common())
        reasons.append((f"{REASON_DISAGREEMENT}: {shares}", 1.0 - top / len(values)))
    for a in fresh:
        if a.flagged:
            reasons.append((f"{REASON_FLAGGED} by {a.user}" + (f": {a.comment}" if a.comment else ""),
                            DEFAULT_REASON_P))
    if send_backs and fresh:
        reasons.append((REASON_SENT_BACK, DEFAULT_REASON_P))
    for r in requests:
        if r.kind != "send_back":
            reasons.append((r.reason or "requested", DEFAULT_REASON_P if r.score is None else float(r.score)))
    if (judge_below is not None and not people and not reviews and routed is not None
            and getattr(routed, "route", None) == "auto" and routed.judge_score is not None
            and routed.judge_score < judge_below):
        reasons.append((f"{REASON_LOW_JUDGE}: P(AI label correct) = {routed.judge_score:.2f}",
                        1.0 - float(routed.judge_score)))
    if not reasons:
        return None
    keep = 1.0
    for _, p in reasons:
        keep *= 1.0 - min(max(p, 0.0), 1.0)
    return [text for text, _ in reasons], round(1.0 - keep, 6)


def current_label(answers: Sequence[AnswerRow], routed: Any | None = None) -> tuple[list[str] | None, str | None]:
    """(value, how settled) as the export derives it (``annotator.core.settlement``), or an
    auto-accepted AI label (``routed`` with route ``auto``) when nobody answered."""
    chosen, how, _ = settle(answers)
    if chosen is not None:
        return list(chosen.value), how
    if routed is not None and getattr(routed, "route", None) == Route.auto:
        return list(routed.value), "auto"
    return None, None


def rank(entries: Sequence[ReviewEntry]) -> list[ReviewEntry]:
    """Highest priority first, ties by item id."""
    return sorted(entries, key=lambda e: (-e.priority, e.item_id))


def summary(entries: Sequence[ReviewEntry]) -> dict[str, Any]:
    """Counts for the CLI and the tab: items, and items per kind of reason."""
    return count_reasons(e.reasons for e in entries)


def count_reasons(reasons_per_item: Iterable[Sequence[str]]) -> dict[str, Any]:
    """{"items": n, "by_reason": {kind: items}} from each queued item's reasons, most common first."""
    kinds: Counter[str] = Counter()
    n = 0
    for reasons in reasons_per_item:
        n += 1
        for kind in {_kind(r) for r in reasons}:
            kinds[kind] += 1
    return {"items": n, "by_reason": dict(sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))}


@lru_cache(maxsize=4096)  # the queue's counts are taken on every look; reasons repeat a lot
def _kind(reason: str) -> str:
    """The kind of a reason: its text up to the first ':' (``suspect label``, ``disagreement``...)
    with the person's name of a flag dropped."""
    head = reason.split(":", 1)[0].strip()
    return REASON_FLAGGED if head.startswith(REASON_FLAGGED + " by ") else head
