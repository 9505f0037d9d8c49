"""The forecast of human labels until the AI may take the rest (``routing.forecast.labels_to_finish``)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotator.routing.accuracy_text import estimate_sentence, forecast_sentence
from annotator.routing.dataset_accuracy import precision_lower, reweighted_counts
from annotator.routing.forecast import FORECAST_STEPS, labels_to_finish


def _world(n_random: int, precision: float, n_open: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random items whose AI label is right with ``precision`` at every confidence, and open items."""
    rng = np.random.default_rng(seed)
    conf = rng.uniform(0.6, 1.0, n_random)
    return conf, rng.random(n_random) < precision, rng.uniform(0.6, 1.0, n_open)


def _walk(conf, right, open_conf, more, *, n_human, target, share, h=1.0):  # noqa: ANN001
    """required and certified at ``more`` further labels, written out independently of the module."""
    still = np.sort(open_conf)[int(round((1 - share) * more)):]
    required = (target * (n_human + len(open_conf)) - h * (n_human + more)) / (len(open_conf) - more)
    hits, eff = reweighted_counts(conf, right, still)
    grown = eff * (len(conf) + share * more) / len(conf)
    return required, precision_lower(hits / eff * grown, grown, 0.95, "anytime")


def test_the_forecast_is_the_first_step_where_the_bound_reaches_what_the_rest_needs():
    conf, right, open_conf = _world(150, 0.95, 1500)
    fc = labels_to_finish(conf, right, open_conf, n_human=750, target_accuracy=0.95, random_share=0.2)
    assert fc is not None and fc.reachable and 0 < fc.more_labels < fc.open_items == 1500
    required, certified = _walk(conf, right, open_conf, fc.more_labels, n_human=750, target=0.95, share=0.2)
    assert required <= certified
    step = -(-1500 // FORECAST_STEPS)
    before = _walk(conf, right, open_conf, fc.more_labels - step, n_human=750, target=0.95, share=0.2)
    assert before[0] > before[1]  # one step earlier the bound still fell short
    assert fc.required_now > fc.certified_now and 0.9 < fc.measured_now <= 1.0


def test_a_better_ai_or_a_lower_target_needs_fewer_labels():
    conf, _, open_conf = _world(200, 0.9, 2000)
    rng = np.random.default_rng(1)
    noise = rng.random(200)
    need = {p: labels_to_finish(conf, noise < p, open_conf, n_human=500, target_accuracy=0.95,
                                random_share=0.2).more_labels for p in (0.85, 0.93, 0.99)}
    assert need[0.99] < need[0.93] < need[0.85]
    right = noise < 0.93
    low = labels_to_finish(conf, right, open_conf, n_human=500, target_accuracy=0.9, random_share=0.2)
    high = labels_to_finish(conf, right, open_conf, n_human=500, target_accuracy=0.97, random_share=0.2)
    assert low.more_labels < high.more_labels


def test_an_ai_at_chance_takes_only_what_the_people_s_labels_pay_for():
    conf, right, open_conf = _world(200, 0.5, 1000)
    fc = labels_to_finish(conf, right, open_conf, n_human=300, target_accuracy=0.95, random_share=0.2)
    # 1,300 items at 0.95 allow 65 wrong labels: about 130 coin-toss labels at most, fewer once bounded
    assert fc.reachable and 0 < fc.open_items - fc.more_labels <= 130
    # people who are themselves below the target leave the AI nothing to take
    short = labels_to_finish(conf, right, open_conf, n_human=300, target_accuracy=0.95, human_accuracy=0.94,
                             random_share=0.2)
    assert not short.reachable and short.more_labels == short.open_items == 1000
    assert "cannot take the 1,000 open items" in forecast_sentence({"forecast": short.as_dict()})


def test_the_uncertain_picks_leave_the_open_set_first():
    """Where the AI is right only on its confident items, the queue taking the unsure ones first
    lets it finish sooner than a queue that took items at random would."""
    rng = np.random.default_rng(2)
    conf = rng.uniform(0.5, 1.0, 300)
    right = rng.random(300) < np.where(conf > 0.75, 0.99, 0.6)
    open_conf = rng.uniform(0.5, 1.0, 2000)
    uncertain_first = labels_to_finish(conf, right, open_conf, n_human=400, target_accuracy=0.95, random_share=0.2)
    all_random = labels_to_finish(conf, right, open_conf, n_human=400, target_accuracy=0.95, random_share=1.0)
    assert uncertain_first.more_labels < all_random.more_labels


def test_nothing_to_forecast_from_or_for():
    conf, right, open_conf = _world(50, 0.9, 10)
    assert labels_to_finish(conf[:0], right[:0], open_conf, n_human=5, target_accuracy=0.95, random_share=0.2) is None
    assert labels_to_finish(conf, right, open_conf[:0], n_human=5, target_accuracy=0.95, random_share=0.2) is None
    # a lenient target the people's labels already carry: nothing more to label
    done = labels_to_finish(conf, right, open_conf, n_human=990, target_accuracy=0.6, random_share=0.2)
    assert done.more_labels == 0
    assert "next AI run may take them" in forecast_sentence({"forecast": done.as_dict()})


@settings(max_examples=60, deadline=None)
@given(n_random=st.integers(1, 120), n_open=st.integers(1, 600), n_human=st.integers(0, 600),
       precision=st.floats(0.0, 1.0), target=st.floats(0.51, 0.99), share=st.floats(0.0, 1.0),
       seed=st.integers(0, 10**6))
def test_the_forecast_is_always_a_count_of_open_items(n_random, n_open, n_human, precision, target, share, seed):
    conf, right, open_conf = _world(n_random, precision, n_open, seed)
    fc = labels_to_finish(conf, right, open_conf, n_human=n_human, target_accuracy=target, random_share=share)
    assert 0 <= fc.more_labels <= fc.open_items == n_open
    assert 0.0 <= fc.certified_now <= fc.measured_now + 1e-9 <= 1.0 + 1e-9
    assert fc.reachable == (fc.more_labels < n_open)


def test_the_estimate_sentence_ends_with_the_forecast():
    est = {"value": 0.97, "ci_low": 0.95, "ci_high": 0.98, "human": 1000, "auto": 400, "human_accuracy": 1.0,
           "confidence": 0.95, "measured_on": 150, "target": 0.95,
           "forecast": {"more_labels": 240, "open_items": 1400, "reachable": True, "required_now": 0.917,
                        "certified_now": 0.884, "measured_now": 0.94}}
    assert estimate_sentence(est).endswith(
        "; forecast: about 240 more human labels, and the AI may take the other 1,160 open items "
        "(it needs ≥ 0.917 certified on them now, has ≥ 0.884)")
    assert forecast_sentence({**est, "forecast": None}) == "" and forecast_sentence(None) == ""


@pytest.mark.parametrize("bound", ["anytime", "clopper-pearson"])
def test_the_one_look_bound_forecasts_no_more_labels_than_the_anytime_one(bound):
    conf, right, open_conf = _world(150, 0.95, 1500)
    fc = labels_to_finish(conf, right, open_conf, n_human=750, target_accuracy=0.95, random_share=0.2, bound=bound)
    anytime = labels_to_finish(conf, right, open_conf, n_human=750, target_accuracy=0.95, random_share=0.2)
    assert fc.more_labels <= anytime.more_labels
