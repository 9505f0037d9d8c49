"""Per-person figures from answer records: labels, speed with and without timings, skips, undone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from annotator.team.stats import labels_per_hour, person_stats

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@dataclass
class Rec:
    item_id: int
    person: str
    role: str = "annotator"
    status: str = "submitted"
    source: str = "human"
    submitted_at: datetime | None = None
    seconds_spent: float | None = None


def test_labels_per_hour_from_timings_else_from_the_span():
    assert labels_per_hour(3, [10.0, 20.0, 30.0], None, None) == pytest.approx(180.0)  # 3 in 60 s
    assert labels_per_hour(3, [], T0, T0 + timedelta(minutes=30)) == pytest.approx(4.0)  # 2 gaps in 0.5 h
    assert labels_per_hour(1, [], T0, T0) is None


def test_person_stats_counts_labels_skips_undone_and_reads_agreement():
    records = [
        Rec(1, "ana", submitted_at=T0, seconds_spent=4.0),
        Rec(2, "ana", status="discarded", submitted_at=T0, seconds_spent=6.0),  # replaced below
        Rec(2, "ana", submitted_at=T0, seconds_spent=8.0),
        Rec(3, "ana", status="discarded", submitted_at=T0),  # undone, not answered again
        Rec(4, "ana", status="discarded", source="skip"),
        Rec(1, "ben", submitted_at=T0),
        Rec(5, "ben", submitted_at=T0 + timedelta(hours=1)),
    ]
    report = {"per_rater": [{"rater": "ana", "overlap_items": 1, "agreement": 1.0, "mean_kappa": 1.0},
                            {"rater": "ben", "overlap_items": 0, "agreement": None, "mean_kappa": None}],
              "accuracy": [{"rater": "ana", "settled_items": 2, "accuracy": 0.5}]}
    ana, ben = person_stats(records, report)
    assert (ana["person"], ana["labels"], ana["skips"], ana["undone"]) == ("ana", 2, 1, 1)
    assert ana["median_seconds"] == pytest.approx(6.0) and ana["labels_per_hour"] == pytest.approx(600.0)
    assert (ana["agreement"], ana["accuracy"], ana["settled_items"]) == (1.0, 0.5, 2)
    assert (ben["labels"], ben["median_seconds"], ben["labels_per_hour"]) == (2, None, pytest.approx(1.0))
    assert ben["agreement"] is None and ben["accuracy"] is None
