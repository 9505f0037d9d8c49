"""Calibration, fusion, thresholds, audits: plain functions on synthetic data."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.annotators import ItemBatch, KnnAnnotator, LabelContext, ZeroShotAnnotator
from annotator.annotators.registry import parse_annotator_names
from annotator.core.errors import ValidationError
from annotator.routing import (
    RoutingPolicy,
    choose_thresholds,
    clopper_pearson,
    estimate_precision,
    expected_calibration_error,
    fit_ensemble,
    route_items,
)
from annotator.routing.calibration import apply_temperature, fit_temperature, out_of_fold


def _blobs(n_per=60, k=3, d=12, spread=0.35, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, d))
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    y = np.repeat(np.arange(k), n_per)
    x = centers[y] + rng.normal(scale=spread, size=(len(y), d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32), y, centers.astype(np.float32)


def _context(x, y, centers):
    return LabelContext(label_names=["a", "b", "c"], label_embeddings=centers, texts=[f"t{i}" for i in range(len(y))],
                        embeddings=x, labels=y)


def test_clopper_pearson_is_exact_at_the_edges():
    low, high = clopper_pearson(10, 10)
    assert high == 1.0 and low == pytest.approx(0.025 ** (1 / 10), rel=1e-6)
    assert clopper_pearson(0, 0) == (0.0, 1.0)


def test_precision_estimate_interval_contains_the_value():
    est = estimate_precision([True] * 45 + [False] * 5)
    assert est.value == 0.9 and est.ci_low < 0.9 < est.ci_high and est.audits == 50
    assert estimate_precision([]).value is None


def test_temperature_softens_an_overconfident_annotator():
    rng = np.random.default_rng(0)
    labels = rng.integers(2, size=400)
    correct = rng.random(400) < 0.7  # right 70 % of the time, but always 99 % sure
    pred = np.where(correct, labels, 1 - labels)
    proba = np.full((400, 2), 0.01)
    proba[np.arange(400), pred] = 0.99
    t = fit_temperature(proba, labels)
    assert t > 1.5
    calibrated = apply_temperature(proba, t)
    assert expected_calibration_error(calibrated, labels) < expected_calibration_error(proba, labels) / 3


def test_out_of_fold_never_uses_an_items_own_label():
    x, y, centers = _blobs()
    x[5] = x[6]  # an exact twin: with its own label in the context, 1-NN would be certain
    ctx = _context(x, y, centers)
    oof = out_of_fold(KnnAnnotator(k=1), ctx)
    inside = KnnAnnotator(k=1).predict_proba(ItemBatch(ctx.texts, x), ctx)
    assert inside.max(axis=1).min() > oof.max(axis=1).min()  # in-sample kNN is sure of every item


def test_ensemble_is_at_least_as_good_as_its_best_member():
    x, y, centers = _blobs(spread=0.6)
    ens = fit_ensemble([KnnAnnotator(), ZeroShotAnnotator()], _context(x, y, centers))
    members = [ens.per_annotator[name]["oof_accuracy"] for name in ("knn", "zero-shot")]
    assert ens.per_annotator["ensemble"]["oof_accuracy"] >= max(members) - 0.03
    assert ens.oof_proba.shape == (len(y), 3)


def test_thresholds_hold_the_target_on_held_out_items():
    """Choose τ on one half, route the other half: auto labels must meet the target precision."""
    x, y, centers = _blobs(n_per=300, spread=0.5)
    rng = np.random.default_rng(1)
    order = rng.permutation(len(y))
    cal, held = order[:450], order[450:]
    ctx = _context(x[cal], y[cal], centers)
    ens = fit_ensemble([KnnAnnotator(), ZeroShotAnnotator()], ctx)
    policy = RoutingPolicy(target_precision=0.95, audit_fraction=0.0, min_audits=0)
    thresholds = choose_thresholds(ens.oof_proba, ens.oof_labels, policy)
    assert np.isfinite(thresholds).any()
    proba = ens.predict_proba(ItemBatch([""] * len(held), x[held]), ctx)
    routes = route_items(proba, thresholds, policy, rng)
    auto = routes.route == "auto"
    assert auto.sum() > 50
    assert (routes.label[auto] == y[held][auto]).mean() >= 0.95
    assert set(np.unique(routes.route)) <= {"auto", "verify", "blind"}


def test_nothing_goes_auto_without_enough_evidence():
    x, y, centers = _blobs(n_per=5)
    ens = fit_ensemble([KnnAnnotator()], _context(x, y, centers))
    assert not np.isfinite(choose_thresholds(ens.oof_proba, ens.oof_labels, RoutingPolicy())).any()


def test_audit_quota_counts_answered_and_pending_audits():
    proba = np.tile([[0.99, 0.01]], (200, 1))
    policy = RoutingPolicy(audit_fraction=0.1, min_audits=5)
    rng = np.random.default_rng(0)
    first = route_items(proba, np.array([0.9, 0.9]), policy, rng)
    assert (first.route == "audit").sum() == 20
    keep = first.route == "audit"
    again = route_items(proba, np.array([0.9, 0.9]), policy, rng, keep_audit=keep)
    assert ((again.route == "audit") == keep).all()  # the same sample, not a fresh one
    later = route_items(proba, np.array([0.9, 0.9]), policy, rng, already_audited=20)
    assert (later.route == "audit").sum() == 2  # 10 % of 220 is 22, 20 already done


def test_annotator_names_are_validated():
    assert parse_annotator_names("none") == [] and "knn" in parse_annotator_names("all")
    with pytest.raises(ValidationError, match="Unknown AI annotator"):
        parse_annotator_names("knn,gpt7")


def test_rare_labels_borrow_the_pooled_threshold_unless_their_own_items_contradict_it():
    from annotator.routing.router import min_certifiable

    policy = RoutingPolicy(target_precision=0.95)
    need = min_certifiable(policy)
    assert need == 45  # 45 right answers of 45: the one-sided 90 % Clopper-Pearson bound passes 0.95
    # 4 labels, 30 confident right answers each: no label alone can certify 95 %, pooled they can.
    k, per = 4, 30
    labels = np.repeat(np.arange(k), per)
    proba = np.full((k * per, k), 0.02)
    proba[np.arange(k * per), labels] = 0.94
    thresholds = choose_thresholds(proba, labels, policy)
    assert np.isfinite(thresholds).all()
    # The same, but label 3's confident predictions are wrong a third of the time: it must not borrow.
    wrong = np.flatnonzero(labels == 3)[:10]
    noisy = labels.copy()
    noisy[wrong] = 0
    thresholds = choose_thresholds(proba, noisy, policy)
    assert not np.isfinite(thresholds[3]) and np.isfinite(thresholds[:3]).all()


def test_audits_below_the_target_stop_a_label_going_auto():
    x, y, centers = _blobs(n_per=300, spread=0.5)
    ens = fit_ensemble([KnnAnnotator(), ZeroShotAnnotator()], _context(x, y, centers))
    policy = RoutingPolicy(target_precision=0.95)
    base = choose_thresholds(ens.oof_proba, ens.oof_labels, policy)
    assert np.isfinite(base).all()
    good = choose_thresholds(ens.oof_proba, ens.oof_labels, policy, audits={0: (30, 30), 1: (29, 30)})
    assert np.array_equal(good, base)  # audits that agree change nothing
    bad = choose_thresholds(ens.oof_proba, ens.oof_labels, policy, audits={1: (22, 30)})
    assert not np.isfinite(bad[1]) and np.array_equal(bad[[0, 2]], base[[0, 2]])
