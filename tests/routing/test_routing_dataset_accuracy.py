"""The dataset-accuracy rule: per-bin precision, the auto set it allows, the estimate and its bound."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.routing import RoutingPolicy, clopper_pearson, route_items
from annotator.routing.dataset_accuracy import (
    MIN_RANDOM_ITEMS,
    BinPrecision,
    auto_region,
    bin_precision,
    choose_auto_set,
    dataset_accuracy,
    dataset_cutoff,
    precision_lower,
    reweighted_counts,
    widen_region,
)


def _flat_bins(lower: float) -> BinPrecision:
    return BinPrecision(edges=np.zeros(0), hits=np.array([90]), n=np.array([100]), lower=np.array([lower]),
                        confidence=0.9)


def test_too_few_random_items_give_no_bins():
    assert bin_precision(np.full(MIN_RANDOM_ITEMS - 1, 0.9), np.ones(MIN_RANDOM_ITEMS - 1, bool)) is None


def test_bins_have_equal_counts_and_a_simultaneous_lower_bound():
    rng = np.random.default_rng(0)
    conf = rng.uniform(0.4, 1.0, 160)
    bins = bin_precision(conf, rng.random(160) < conf)
    assert bins.n_bins == 4 and bins.n.sum() == 160 and bins.n.min() >= 39
    point = bins.hits / bins.n
    assert np.all(bins.lower < point)
    lo, hi = bins.interval(0.95)
    assert np.all(lo <= point) and np.all(point <= hi)
    # Bonferroni: each bin's one-sided bound is at level 1 − 0.1 / 4, below the plain 90 % one
    plain = [clopper_pearson(int(h), int(n), 0.8)[0] for h, n in zip(bins.hits, bins.n)]
    assert np.all(bins.lower < plain)


def test_the_auto_set_spends_exactly_the_error_budget():
    # 100 items, people right, every AI label at least 0.9: each auto item costs ≤ 0.1 of an error,
    # so a 0.95 target allows 50 of them, the most confident first.
    conf = np.linspace(0.99, 0.5, 100)
    auto = choose_auto_set(conf, np.zeros(100, bool), np.ones(100, bool), _flat_bins(0.9), pool_size=100,
                           target_accuracy=0.95)
    assert auto.sum() == 50 and auto[:50].all()
    # with 100 more human labels in the pool the budget doubles
    auto = choose_auto_set(conf, np.zeros(100, bool), np.ones(100, bool), _flat_bins(0.9), pool_size=200,
                           target_accuracy=0.95)
    assert auto.sum() == 100
    # people at 0.99 use part of the budget themselves
    auto = choose_auto_set(conf, np.zeros(100, bool), np.ones(100, bool), _flat_bins(0.9), pool_size=100,
                           target_accuracy=0.95, human_accuracy=0.99)
    assert auto.sum() == 44  # (0.99·(100 − k) + 0.9·k) / 100 ≥ 0.95 ⇔ k ≤ 44.4


def test_items_already_auto_count_against_the_budget_and_stay():
    conf = np.linspace(0.99, 0.5, 100)
    already = np.zeros(100, bool)
    already[-30:] = True  # auto by their own label's threshold, low in the global order
    auto = choose_auto_set(conf, already, np.ones(100, bool), _flat_bins(0.9), pool_size=100, target_accuracy=0.95)
    assert auto[-30:].all() and auto.sum() == 50
    ineligible = np.ones(100, bool)
    ineligible[:10] = False
    auto = choose_auto_set(conf, np.zeros(100, bool), ineligible, _flat_bins(0.9), pool_size=100,
                           target_accuracy=0.95)
    assert not auto[:10].any() and auto.sum() == 50


def test_route_items_goes_past_the_per_label_threshold_only_with_a_dataset_target():
    rng = np.random.default_rng(0)
    proba = np.stack([np.linspace(0.99, 0.5, 200), 1 - np.linspace(0.99, 0.5, 200)], axis=1)
    never = np.full(2, np.inf)
    plain = route_items(proba, never, RoutingPolicy(), rng, bins=_flat_bins(0.9), pool_size=400)
    assert not np.isin(plain.route, ("auto", "audit")).any()
    routed = route_items(proba, never, RoutingPolicy(target_accuracy=0.95), rng, bins=_flat_bins(0.9), pool_size=400)
    accepted = np.isin(routed.route, ("auto", "audit"))
    assert accepted.sum() == 200  # 400 · 0.05 / 0.1
    assert (routed.route == "audit").sum() == 10  # the audit slice is drawn from these too


@pytest.mark.parametrize("pool_size", [2000, 300])
def test_the_bound_holds_and_the_interval_covers_on_synthetic_pools(pool_size):
    """Many synthetic pools with a known precision per confidence: the chosen auto set's true expected
    accuracy reaches the target in ≥ 90 % of draws (the bound is at 90 %), and the 95 % interval of
    the dataset estimate contains the realised accuracy in ≥ 90 %."""
    rng = np.random.default_rng(1)
    target, held, covered, trials = 0.95, 0, 0, 200
    for _ in range(trials):
        conf = rng.beta(5, 1.5, pool_size)  # fused confidence of every pool item
        p_right = np.clip(conf - 0.08, 0, 1)  # an AI a little over-confident
        right = rng.random(pool_size) < p_right
        calib = rng.choice(pool_size, size=80, replace=False)  # the random human-labelled slice
        bins = bin_precision(conf[calib], right[calib])
        rest = np.setdiff1d(np.arange(pool_size), calib)
        auto = choose_auto_set(conf[rest], np.zeros(len(rest), bool), np.ones(len(rest), bool), bins,
                               pool_size=pool_size, target_accuracy=target)
        held += (pool_size - auto.sum() + p_right[rest][auto].sum()) / pool_size >= target
        cutoff = conf[rest][auto].min() if auto.any() else np.inf
        region = calib[conf[calib] >= cutoff]  # the random items the same rule would send auto
        est = dataset_accuracy(pool_size - int(auto.sum()), int(auto.sum()), (int(right[region].sum()), len(region)))
        truth = (pool_size - auto.sum() + right[rest][auto].sum()) / pool_size
        covered += est.ci_low <= truth <= est.ci_high
    assert held >= 0.9 * trials, held
    assert covered >= 0.9 * trials, covered


def test_the_estimate_without_ai_labels_is_the_people_accuracy_and_without_bins_is_trivial():
    assert dataset_accuracy(0, 0, (0, 0)) is None
    est = dataset_accuracy(50, 0, (0, 0), human_accuracy=0.99)
    assert (est.value, est.ci_low, est.ci_high) == (0.99, 0.99, 0.99)
    est = dataset_accuracy(50, 50, (0, 0))
    assert est.value is None and (est.ci_low, est.ci_high) == (0.5, 1.0)
    est = dataset_accuracy(50, 50, (18, 20))
    lo, hi = clopper_pearson(18, 20)
    # the precision's margin and the 50 labels' own binomial scatter, added in quadrature
    low = 50 * 0.9 - np.hypot(50 * (0.9 - lo), 1.959964 * np.sqrt(50 * lo * (1 - lo)))
    high = min(50.0, 50 * 0.9 + np.hypot(50 * (hi - 0.9), 1.959964 * np.sqrt(50 * hi * (1 - hi))))
    assert est.value == 0.95 and est.ci_low <= (50 + low) / 100 <= est.ci_low + 1e-4
    assert est.ci_high - 1e-4 <= (50 + high) / 100 <= est.ci_high
    assert est.ci_low < (50 + 50 * lo) / 100  # wider than the expected accuracy's interval
    # too few random items in the auto region: the lower bound comes from the widened set, the
    # upper from the region alone (1.0 when it is empty)
    est = dataset_accuracy(50, 50, (0, 0), (16, 20))
    assert est.value == 0.9 and est.ci_high == 1.0 and est.ci_low < 0.9


def test_the_interval_covers_the_labels_the_dataset_has_not_only_their_expected_accuracy():
    """With many random items the precision is known closely and the auto labels' own scatter is
    what is left: an interval for the expected accuracy alone would miss the realised one in about
    one run in seven; this one keeps ≥ 93 %."""
    rng = np.random.default_rng(3)
    trials, covered = 400, 0
    for _ in range(trials):
        p_right = rng.uniform(0.85, 0.97)
        measured = int((rng.random(1500) < p_right).sum())  # 1,500 random items in the auto region
        right_auto = int((rng.random(2000) < p_right).sum())  # the 2,000 auto labels themselves
        est = dataset_accuracy(400, 2000, (measured, 1500))
        covered += est.ci_low <= (400 + right_auto) / 2400 <= est.ci_high
    assert covered >= 0.93 * trials, covered


def test_the_anytime_bound_is_below_the_one_look_bound_and_still_tightens():
    for k, n in ((18, 20), (93, 100), (460, 500)):
        once, anytime = precision_lower(k, n, 0.95), precision_lower(k, n, 0.95, "anytime")
        assert 0 < anytime < once < k / n
    assert precision_lower(920, 1000, 0.95, "anytime") > precision_lower(92, 100, 0.95, "anytime")
    assert precision_lower(0, 10, 0.95, "anytime") == 0.0 and precision_lower(3, 0, 0.95, "anytime") == 0.0
    with pytest.raises(ValueError, match="anytime"):
        precision_lower(3, 4, 0.95, "bogus")


def test_the_anytime_bound_holds_over_every_look_at_a_growing_sample():
    """Looked at after every 10 new items, up to 300: the one-look bound is above the true
    precision at *some* look in far more than 5 % of sequences, the anytime bound in at most 5 %."""
    rng = np.random.default_rng(4)
    p, sequences = 0.9, 300
    ever_above = {"clopper-pearson": 0, "anytime": 0}
    for _ in range(sequences):
        hits = np.cumsum(rng.random(300) < p)
        for bound in ever_above:
            ever_above[bound] += any(precision_lower(int(hits[n - 1]), n, 0.95, bound) > p
                                     for n in range(10, 301, 10))
    assert ever_above["anytime"] <= 0.05 * sequences, ever_above
    assert ever_above["clopper-pearson"] >= 0.12 * sequences, ever_above


def test_widening_takes_the_most_confident_items_by_confidence_only():
    conf = np.linspace(1.0, 0.0, 50)
    region = np.zeros(50, bool)
    region[:3] = True
    wide = widen_region(region, conf, min_items=20)
    assert wide.sum() == 20 and wide[:20].all()
    assert widen_region(region[:3], conf[:3], min_items=20).sum() == 3


def test_the_auto_region_and_the_cutoff_follow_the_router():
    thresholds = np.array([0.9, np.inf])
    conf = np.array([0.95, 0.85, 0.8, 0.97])
    label = np.array([0, 0, 1, 1])
    auto = np.array([True, True, False, True])  # the last two by the dataset rule
    cutoff = dataset_cutoff(conf, auto, label, thresholds)
    assert cutoff == 0.85
    assert auto_region(label, conf, thresholds, cutoff).tolist() == [True, True, False, True]
    assert dataset_cutoff(conf, np.array([True, False, False, False]), label, thresholds) == np.inf


def test_the_region_bound_takes_more_than_per_bin_bounds_and_stops_at_the_first_failing_step():
    """160 random items, the AI right on all but the least confident ones: bounding the region the
    auto items fill pays no Bonferroni share per bin, so it accepts more than the per-bin rule."""
    import dataclasses

    rng = np.random.default_rng(3)
    sample = rng.uniform(0.5, 1.0, 160)
    bins = bin_precision(sample, sample > 0.6)
    per_bin_only = dataclasses.replace(bins, sample_confidence=None, sample_correct=None)
    conf = np.sort(rng.uniform(0.5, 1.0, 1000))[::-1]
    args = dict(pool_size=2000, target_accuracy=0.95)
    region = choose_auto_set(conf, np.zeros(1000, bool), np.ones(1000, bool), bins, **args)
    binned = choose_auto_set(conf, np.zeros(1000, bool), np.ones(1000, bool), per_bin_only, **args)
    assert region.sum() > binned.sum() > 0
    assert region[: region.sum()].all()  # a prefix of the confidence order
    # the region's bound at the chosen cutoff keeps the target; one step further it would not
    cut = conf[region].min()
    low = bins.region_lower(cut)
    assert (2000 - region.sum() + low * region.sum()) / 2000 >= 0.95
    nxt = conf[region.sum() + 9]  # ten more items
    assert (2000 - region.sum() - 10 + bins.region_lower(nxt) * (region.sum() + 10)) / 2000 < 0.95


def _calibrated_pool(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(n,) confidences spread over [0.5, 1] and (n,) whether the AI label is right, at that rate."""
    conf = rng.uniform(0.5, 1.0, n)
    return conf, rng.random(n) < conf


def test_reweighting_leaves_a_matching_mix_alone_and_needs_enough_items():
    rng = np.random.default_rng(0)
    conf, right = _calibrated_pool(rng, 300)
    assert reweighted_counts(conf[:40], right[:40], conf[40:]) == (float(right[:40].sum()), 40.0)  # one stratum
    assert reweighted_counts(conf, right, None) == (float(right.sum()), 300.0)
    assert reweighted_counts(conf[:0], right[:0], conf) == (0.0, 0.0)
    k, n = reweighted_counts(conf, right, rng.uniform(0.5, 1.0, 5000))  # the same mix
    assert 0.93 * 300 < n <= 300 and abs(k / n - right.mean()) < 0.03
    k, n = reweighted_counts(conf, np.ones(300, bool), conf[conf > 0.9])
    assert k == n < 300  # all right stays all right, with the weighting's cost in sample


def test_reweighting_measures_the_mix_the_labels_are_for():
    # A random sample of the pool measures what active learning left unlabelled (the confident
    # end): unweighted it reads the pool's precision, reweighted the target's.
    rng = np.random.default_rng(1)
    plain, weighted, truth, held = [], [], [], 0
    for _ in range(200):
        conf, right = _calibrated_pool(rng, 3000)
        target = conf > 0.8
        sample = rng.choice(3000, 250, replace=False)
        k, n = reweighted_counts(conf[sample], right[sample], conf[target])
        plain.append(right[sample].mean())
        weighted.append(k / n)
        truth.append(right[target].mean())
        held += precision_lower(k, n, 0.95) <= right[target].mean()
    assert abs(np.mean(weighted) - np.mean(truth)) < 0.01 < np.mean(truth) - np.mean(plain) - 0.1
    assert held >= 0.92 * 200  # a 95 % bound on the reweighted counts


def test_the_strata_are_chosen_from_the_confidences_alone():
    rng = np.random.default_rng(2)
    conf, right = _calibrated_pool(rng, 240)
    target = conf[conf > 0.85]
    _, items = reweighted_counts(conf, right, target)
    for _ in range(5):  # other outcomes on the same confidences: the same effective sample
        assert reweighted_counts(conf, rng.random(240) < 0.5, target)[1] == items
    assert items < 240  # the target's mix differs, and following it costs sample
