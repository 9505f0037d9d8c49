"""Item-level routing of span suggestions: exact item match, the Clopper–Pearson certification
overall and per confidence bin, the audit veto, and the audit slice of the auto items."""

from __future__ import annotations

import numpy as np

from annotator.routing import RoutingPolicy
from annotator.spans import Span
from annotator.spans.routing import calibrate_spans, route_span_items, same_spans

POLICY = RoutingPolicy(target_precision=0.95, audit_fraction=0.1, min_audits=2)
NAN = float("nan")


def test_same_spans_is_exact_on_start_end_and_label():
    a = [Span(0, 3, "PER"), Span(5, 8, "LOC")]
    assert same_spans(a, list(reversed(a))) and same_spans([], [])
    assert not same_spans(a, [Span(0, 3, "PER"), Span(5, 9, "LOC")])  # one character off
    assert not same_spans(a, [Span(0, 3, "PER"), Span(5, 8, "ORG")])  # another label
    assert not same_spans(a, a[:1])  # a span missing


def test_overall_certification_needs_enough_exact_matches():
    # 45 of 45 right: one-sided 90 % lower bound 0.1 ** (1 / 45) = 0.950 -> certified
    cal = calibrate_spans(np.full(45, NAN), np.ones(45, dtype=bool), POLICY)
    assert not cal.scored and cal.certified.tolist() == [True] and cal.auto_ok(np.full(3, NAN)).all()
    # 44 of 44: 0.9490 < 0.95 -> nothing goes auto; one miss in 60: not certified either
    assert not calibrate_spans(np.full(44, NAN), np.ones(44, dtype=bool), POLICY).auto_ok(np.full(3, NAN)).any()
    miss = np.ones(60, dtype=bool)
    miss[7] = False
    assert not calibrate_spans(np.full(60, NAN), miss, POLICY).auto_ok(np.full(3, NAN)).any()
    # too few calibration items: no estimate at all
    few = calibrate_spans(np.full(5, NAN), np.ones(5, dtype=bool), POLICY)
    assert few.bins is None and not few.auto_ok(np.ones(2)).any()
    assert few.as_dict()["items"] == 5 and few.as_dict()["precision"] == 1.0


def test_per_bin_certification_follows_the_confidence():
    rng = np.random.default_rng(0)
    score = rng.uniform(0, 1, 400)
    correct = np.where(score >= 0.5, True, rng.uniform(size=400) < 0.5)  # right above 0.5, a coin below
    cal = calibrate_spans(score, correct, POLICY)
    assert cal.scored and cal.bins.n_bins == 4
    assert cal.certified.tolist() == [False, False, True, True]
    ok = cal.auto_ok(np.array([0.1, 0.45, 0.8, 0.99, NAN]))
    assert ok.tolist() == [False, False, True, True, False]  # an item without a confidence never goes auto


def test_failed_audits_stop_auto_accept():
    audits = [True] * 3 + [False] * 7  # 3 of 10 blind audits matched: the interval is far below 0.95
    cal = calibrate_spans(np.full(100, NAN), np.ones(100, dtype=bool), POLICY, audits=audits)
    assert not cal.certified.any() and cal.as_dict()["audits"]["audits"] == 10


def test_routes_send_a_random_slice_of_auto_items_to_audit_and_the_rest_to_verify():
    cal = calibrate_spans(np.full(50, NAN), np.ones(50, dtype=bool), POLICY)
    routes = route_span_items(cal, np.full(40, NAN), POLICY, np.random.default_rng(1))
    counts = {r: int((routes == r).sum()) for r in ("auto", "audit", "verify")}
    assert counts == {"auto": 36, "audit": 4, "verify": 0}  # ceil(0.1 * 40) audits
    keep = routes == "audit"
    again = route_span_items(cal, np.full(40, NAN), POLICY, np.random.default_rng(2), keep_audit=keep)
    assert (again[keep] == "audit").all()  # pending audits stay audits
    none = calibrate_spans(np.full(50, NAN), np.zeros(50, dtype=bool), POLICY)
    assert set(route_span_items(none, np.full(5, NAN), POLICY, np.random.default_rng(1))) == {"verify"}
