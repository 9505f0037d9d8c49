"""Per-person figures of a labelling team: labels, speed, skips, agreement, accuracy.

Plain functions over the records the store reads (``store.teams.answer_records``: one per response,
any status) and the agreement report (``AnnotatorService.quality.agreement``). No database, no UI.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

#: An answer's ``source`` that records a skip (status discarded, no value).
SKIP_SOURCE = "skip"


class AnswerLike(Protocol):
    item_id: int
    person: str
    role: str
    status: str
    source: str
    submitted_at: datetime | None
    seconds_spent: float | None


def labels_per_hour(n_labels: int, seconds: Sequence[float], first: datetime | None, last: datetime | None,
                    ) -> float | None:
    """Labels per hour of labelling.

    With timings (``seconds``: time from showing an item to its answer, one per timed answer): the
    timed answers per hour of that time. Without: ``n_labels`` over the span from the first to the
    last answer (None when that span is zero, e.g. a single answer or one bulk action).
    """
    spent = sum(s for s in seconds if s is not None and s > 0)
    if spent > 0:
        return round(len(seconds) / (spent / 3600.0), 2)
    if first is not None and last is not None and n_labels > 1:
        span = (last - first).total_seconds()
        if span > 0:
            return round((n_labels - 1) / (span / 3600.0), 2)  # n answers bound n-1 gaps
    return None


def person_stats(records: Iterable[AnswerLike], agreement: dict[str, Any] | None = None, *,
                 spans: dict[str, tuple[datetime, datetime]] | None = None) -> list[dict[str, Any]]:
    """One dict per person (see ``AnnotatorService.team.person_stats`` for the keys), sorted by name.

    ``labels`` counts items with a submitted answer (a re-answer replaces the earlier one: the old
    response is discarded, so it is not counted twice); ``undone`` counts discarded answers that
    were not replaced by a newer answer to the same item; ``skips`` counts skip records.

    ``spans``: person → (first, last) time of the answers counted as labels, when the caller read
    them apart (``store.teams.answer_spans``, the records then carry no times); without it they come
    from the records' ``submitted_at``. Both give the same figures.
    """
    by_person: dict[str, dict[str, Any]] = {}
    for r in records:
        p = by_person.setdefault(r.person, {
            "role": r.role, "submitted": {}, "skips": 0, "discarded": set(), "times": [],
        })
        if r.source == SKIP_SOURCE:
            p["skips"] += 1
        elif r.status == "submitted":
            p["submitted"][r.item_id] = r
        elif r.status == "discarded":
            p["discarded"].add(r.item_id)
    per_rater = {row["rater"]: row for row in (agreement or {}).get("per_rater", [])}
    accuracy = {row["rater"]: row for row in (agreement or {}).get("accuracy", [])}
    out = []
    for name in sorted(by_person):
        p = by_person[name]
        answers = list(p["submitted"].values())
        times = [a.seconds_spent for a in answers if a.seconds_spent is not None]
        if spans is not None:
            stamps = list(spans.get(name, ()))
        else:
            stamps = sorted(a.submitted_at for a in answers if a.submitted_at is not None)
        rater = per_rater.get(name, {})
        acc = accuracy.get(name, {})
        out.append({
            "person": name, "role": p["role"], "labels": len(answers),
            "labels_per_hour": labels_per_hour(len(answers), times, stamps[0] if stamps else None,
                                               stamps[-1] if stamps else None),
            "median_seconds": round(statistics.median(times), 3) if times else None,
            "skips": p["skips"], "undone": len(p["discarded"] - set(p["submitted"])),
            "agreement": rater.get("agreement") if rater.get("overlap_items") else None,
            "overlap_items": int(rater.get("overlap_items") or 0),
            "mean_kappa": rater.get("mean_kappa") if rater.get("overlap_items") else None,
            "accuracy": acc.get("accuracy") if acc.get("settled_items") else None,
            "settled_items": int(acc.get("settled_items") or 0),
            "first_at": stamps[0] if stamps else None, "last_at": stamps[-1] if stamps else None,
        })
    return out
