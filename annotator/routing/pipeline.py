"""From fitted AI annotators to one route per item: the algorithm behind ``svc.ai.run_ai``.

Two plain steps, no database and no pool:

1. :func:`calibrate` fits the ensemble on the human labels (out of fold), chooses per-label
   auto-accept thresholds that hold the target precision, and fits the judge that predicts
   whether an AI label is right.
2. :func:`route` scores a batch of unlabelled items and sends each to ``auto`` / ``audit`` /
   ``verify`` / ``blind``.

:func:`summary` turns both into the dict that the service records for the dashboard.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from annotator.annotators import AIAnnotator, ItemBatch, LabelContext
from annotator.core.schema import ROUTED_NAMES, Route
from annotator.routing import judge as judge_m
from annotator.routing.calibration import Ensemble, fit_ensemble
from annotator.routing.dataset_accuracy import (
    BinPrecision,
    auto_region,
    bin_precision,
    dataset_accuracy,
    dataset_cutoff,
    precision_lower,
    reweighted_counts,
    widen_region,
)
from annotator.routing.forecast import labels_to_finish
from annotator.routing.router import (
    Routes,
    RoutingPolicy,
    choose_thresholds,
    route_items,
)

#: Route names in the order the summary counts them.
ROUTE_NAMES = ROUTED_NAMES


@dataclass
class Calibration:
    """What the human labels certify.

    Attributes:
        ensemble: the fused, temperature-calibrated annotators.
        thresholds: (n_labels,) auto-accept confidence per label; ``inf`` where none holds the target.
        judge: P(AI label correct) model, fitted out of fold on the same human labels.
        judge_thresholds: (n_labels,) judge score an auto item must also clear; None when the veto is off.
        bins: the AI label's precision per confidence bin on the random human-labelled items (the
            calibration slice), out of fold; None with too few of them.
    """

    ensemble: Ensemble
    thresholds: np.ndarray
    judge: judge_m.Judge
    judge_thresholds: np.ndarray | None
    bins: BinPrecision | None = None


def calibrate(annotators: Sequence[AIAnnotator], context: LabelContext, policy: RoutingPolicy, *,
              audits: dict[int, tuple[int, int]], seed: int, judge_veto: bool) -> Calibration:
    """Fit the ensemble and the judge and choose the thresholds.

    Args:
        audits: per label index, (audits the person agreed with, audits) of earlier auto labels.
        seed: fold assignment and model seeds.
        judge_veto: whether auto-accept also needs the judge's score over its own threshold.
    """
    ensemble = fit_ensemble(annotators, context, seed=seed)
    thresholds = choose_thresholds(ensemble.oof_proba, ensemble.oof_labels, policy, audits=audits)
    picked = context.random_pick
    if picked is not None and picked.any():
        # The queue's uncertain picks over-represent hard items, so a threshold certified on all
        # human labels is safe but late; the random picks are an unbiased sample of the pool.
        thresholds = np.minimum(thresholds, choose_thresholds(
            ensemble.oof_proba[picked], ensemble.oof_labels[picked], policy, audits=audits))
    # The judge learns from the same human labels (out of fold) when the AI label is right; once it
    # has enough verdicts an item goes auto only if the judge's P(correct) also clears its threshold.
    judge = judge_m.fit_ensemble_judge(ensemble, context, seed=seed)
    judge_thresholds = judge_m.judge_thresholds(judge, len(context.label_names), policy, random_pick=picked) \
        if judge_veto else None
    bins = None
    if picked is not None and picked.any():
        # Only the random picks: per confidence bin they are a random sample of the pool's items,
        # which the dataset bound needs; the queue's picks are not.
        oof = ensemble.oof_proba[picked]
        bins = bin_precision(oof.max(axis=1), oof.argmax(axis=1) == ensemble.oof_labels[picked],
                             bound_confidence=policy.dataset_bound_confidence, bound=policy.dataset_bound)
    return Calibration(ensemble, thresholds, judge, judge_thresholds, bins)


@dataclass
class RoutedBatch:
    """One route per item of a batch.

    Attributes:
        proba: (n_items, n_labels) fused probabilities.
        routes: label index, confidence and route per item.
        judge_score: (n_items,) judge's P(correct), or None when the veto is off.
    """

    proba: np.ndarray
    routes: Routes
    judge_score: np.ndarray | None


def route(cal: Calibration, batch: ItemBatch, context: LabelContext, policy: RoutingPolicy,
          rng: np.random.Generator, *, already_audited: int, keep_audit: np.ndarray,
          text_lengths: np.ndarray | None) -> RoutedBatch:
    """Score ``batch`` and route each item.

    Args:
        already_audited: audits answered so far (the audit slice shrinks as they accumulate).
        keep_audit: (n_items,) bool, items already routed to audit that stay audits.
        text_lengths: (n_items,) characters per text, a judge feature; needed when the veto is on.
    """
    raw = [a.predict_proba(batch, context) for a in cal.ensemble.annotators]
    proba = cal.ensemble.combine(raw)
    judge_score = None
    if cal.judge_thresholds is not None:
        if text_lengths is None:
            raise ValueError("route() needs text_lengths when the judge veto is on")
        judge_score = judge_m.score_items(cal.judge, proba, cal.ensemble.calibrate(raw), batch.embeddings,
                                          context, text_lengths)
    # ``batch`` is every unlabelled item of the pool (as ``run_ai`` routes them), so with the human
    # labels it is the whole pool the dataset target is about.
    routes = route_items(proba, cal.thresholds, policy, rng, already_audited=already_audited,
                         keep_audit=keep_audit, judge_score=judge_score, judge_thresholds=cal.judge_thresholds,
                         bins=cal.bins, pool_size=len(context.labels) + len(proba))
    return RoutedBatch(proba, routes, judge_score)


def thresholds_dict(names: Sequence[str], thresholds: np.ndarray) -> dict[str, float | None]:
    """Per label, the auto-accept confidence threshold; None where no threshold holds the target."""
    return {n: (None if not np.isfinite(t) else round(float(t), 4)) for n, t in zip(names, thresholds)}


def dataset_estimate(cal: Calibration, routed: RoutedBatch | None, human_labels: int, policy: RoutingPolicy,
                     random_pick: np.ndarray | None, random_share: float | None = None) -> dict[str, Any] | None:
    """The expected accuracy of the labels the dataset holds after this run (the human labels and
    the AI labels of ``auto`` items and of pending audits, which keep the AI label until the
    person answers), with its 95 % interval (``dataset_accuracy.dataset_accuracy``), and the
    target. The auto labels are measured on the random human-labelled items (``random_pick``
    (m,) bool over the labelled items) that the same rule would have sent auto, out of fold;
    None without any label. With a target and items still open, ``forecast`` holds how many more
    human labels the AI needs before it may take them all (``forecast.labels_to_finish``, with the
    queue's ``random_share``; None: the share the labelled items show)."""
    n_auto, cutoff, auto_confidence = 0, float("inf"), np.zeros(0)
    if routed is not None:
        r = routed.routes
        accepted = np.isin(r.route, (Route.auto.value, Route.audit.value))
        n_auto, auto_confidence = int(accepted.sum()), r.confidence[accepted]
        cutoff = dataset_cutoff(r.confidence, accepted, r.label, cal.thresholds)
    region = floor = (0.0, 0.0)
    measured_on = 0
    forecast = None
    if random_pick is not None and random_pick.any():
        oof = cal.ensemble.oof_proba[random_pick]
        pred, conf = oof.argmax(axis=1), oof.max(axis=1)
        right = pred == cal.ensemble.oof_labels[random_pick]
        if policy.target_accuracy is not None and routed is not None and n_auto < len(routed.routes.route):
            share = float(random_pick.mean()) if random_share is None else random_share
            forecast = labels_to_finish(conf, right, routed.routes.confidence, n_human=human_labels,
                                        target_accuracy=policy.target_accuracy, human_accuracy=policy.human_accuracy,
                                        random_share=share, bound_confidence=policy.dataset_bound_confidence,
                                        bound=policy.dataset_bound)
        inside = auto_region(pred, conf, cal.thresholds, cutoff)
        wide = widen_region(inside, conf)
        # weighted to the auto labels' own confidences, as the router's bound is
        region = reweighted_counts(conf[inside], right[inside], auto_confidence)
        floor = reweighted_counts(conf[wide], right[wide], auto_confidence)
        measured_on = int(wide.sum())
    est = dataset_accuracy(human_labels, n_auto, region, floor, human_accuracy=policy.human_accuracy,
                           bound=policy.dataset_bound, measured_on=measured_on)
    if est is None:
        return None
    return {**est.as_dict(), "target": policy.target_accuracy, "bound": policy.dataset_bound,
            "cutoff": None if np.isinf(cutoff) else round(cutoff, 4),
            "auto_precision": auto_precision(region, floor, measured_on, policy) if n_auto else None,
            "bins": None if cal.bins is None else cal.bins.as_dict(),
            "forecast": None if forecast is None else forecast.as_dict()}


def auto_precision(region: tuple[float, float], floor: tuple[float, float], measured_on: int,
                   policy: RoutingPolicy) -> dict[str, Any]:
    """What the random items say of the auto labels' precision: ``value`` (on ``region``, the random
    items the rule sent auto, reweighted), ``lower`` (the one-sided bound at the router's
    ``dataset_bound_confidence`` on ``floor``, its widened version: close to the region bound the
    router tested, which limits how many labels it may accept), the random items behind it
    (``measured_on``) and their ``effective`` number after the reweighting (Kish's,
    ``reweighted_counts``): the gap says what the weighting costs."""
    right, items = floor
    lower = precision_lower(right, items, policy.dataset_bound_confidence, policy.dataset_bound) if items else 0.0
    return {"value": round(region[0] / region[1], 4) if region[1] else None, "lower": round(float(lower), 4),
            "confidence": policy.dataset_bound_confidence, "measured_on": measured_on,
            "effective": round(float(items), 1)}


def summary(cal: Calibration, names: Sequence[str], routed: RoutedBatch | None, human_labels: int,
            policy: RoutingPolicy | None = None, random_pick: np.ndarray | None = None,
            random_share: float | None = None) -> dict[str, Any]:
    """The run's record: items and counts per route, thresholds, per-annotator calibration, the
    fusion rule chosen (``fusion``: every candidate's out-of-fold log loss), judge, and
    ``dataset_accuracy`` (``dataset_estimate`` on the ``random_pick`` (m,) items; with the default
    policy when ``policy`` is None).

    ``routed`` None: nothing was left to route (every item has a human label).
    """
    thresholds = thresholds_dict(names, cal.thresholds)
    estimate = dataset_estimate(cal, routed, human_labels, policy or RoutingPolicy(), random_pick, random_share)
    if routed is None:
        return {"agent": cal.ensemble.name, "items": 0, "routes": dict.fromkeys(ROUTE_NAMES, 0),
                "thresholds": thresholds, "calibration": cal.ensemble.per_annotator, "human_labels": human_labels,
                "fusion": cal.ensemble.fusion_report, "judge": cal.judge.as_dict(), "dataset_accuracy": estimate}
    r = routed.routes
    counts = {name: int((r.route == name).sum()) for name in ROUTE_NAMES}
    # confident enough for auto-accept, yet sent to a person: the judge said the label looks wrong
    vetoed = (r.confidence >= cal.thresholds[r.label]) & ~np.isin(r.route, (Route.auto.value, Route.audit.value))
    judge = {**cal.judge.as_dict(), "vetoed": int(vetoed.sum()),
             "thresholds": None if cal.judge_thresholds is None else thresholds_dict(names, cal.judge_thresholds)}
    return {"agent": cal.ensemble.name, "items": len(r.route), "routes": counts, "thresholds": thresholds,
            "calibration": cal.ensemble.per_annotator, "human_labels": human_labels,
            "fusion": cal.ensemble.fusion_report, "judge": judge, "dataset_accuracy": estimate}
