"""The run_ai algorithm as plain functions: calibrate on human labels, route a batch, summarise."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.annotators import ItemBatch, KnnAnnotator, LabelContext, ZeroShotAnnotator
from annotator.routing import RoutingPolicy, pipeline


def _blobs(n_per: int, spread: float, seed: int = 0, k: int = 3, d: int = 12):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, d))
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    y = np.repeat(np.arange(k), n_per)
    x = centers[y] + rng.normal(scale=spread, size=(len(y), d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32), y, centers.astype(np.float32)


def _split(n_per: int = 200, spread: float = 0.5, judge_veto: bool = False):
    x, y, centers = _blobs(n_per, spread)
    order = np.random.default_rng(1).permutation(len(y))
    human, rest = order[: len(y) // 2], order[len(y) // 2:]
    ctx = LabelContext(label_names=["a", "b", "c"], label_embeddings=centers,
                       texts=[f"t{i}" for i in human], embeddings=x[human], labels=y[human])
    policy = RoutingPolicy(target_precision=0.95, audit_fraction=0.05, min_audits=0)
    cal = pipeline.calibrate([KnnAnnotator(), ZeroShotAnnotator()], ctx, policy, audits={}, seed=0,
                             judge_veto=judge_veto)
    batch = ItemBatch([f"t{i}" for i in rest], x[rest])
    return cal, ctx, policy, batch, y[rest]


@pytest.mark.parametrize("judge_veto", [False, True])
def test_auto_labels_hold_the_target_and_the_summary_counts_every_item(judge_veto):
    cal, ctx, policy, batch, truth = _split(judge_veto=judge_veto)
    n = len(truth)
    lengths = np.full(n, 3.0) if judge_veto else None
    routed = pipeline.route(cal, batch, ctx, policy, np.random.default_rng(0), already_audited=0,
                            keep_audit=np.zeros(n, dtype=bool), text_lengths=lengths)
    assert routed.proba.shape == (n, 3) and (routed.judge_score is not None) == judge_veto
    auto = routed.routes.route == "auto"
    assert auto.sum() > 30 and (routed.routes.label[auto] == truth[auto]).mean() >= 0.95
    out = pipeline.summary(cal, ctx.label_names, routed, len(ctx.labels))
    assert out["items"] == n == sum(out["routes"].values())
    assert out["routes"]["auto"] == int(auto.sum()) and out["human_labels"] == len(ctx.labels)
    assert (out["judge"]["thresholds"] is not None) == judge_veto


def test_a_summary_without_items_to_route_keeps_the_calibration():
    cal, ctx, *_ = _split()
    out = pipeline.summary(cal, ctx.label_names, None, len(ctx.labels))
    assert out["items"] == 0 and set(out["routes"].values()) == {0}
    assert set(out["thresholds"]) == {"a", "b", "c"} and out["calibration"]


def test_the_judge_veto_needs_text_lengths():
    cal, ctx, policy, batch, truth = _split(n_per=60, judge_veto=True)
    with pytest.raises(ValueError, match="text_lengths"):
        pipeline.route(cal, batch, ctx, policy, np.random.default_rng(0), already_audited=0,
                       keep_audit=np.zeros(len(truth), dtype=bool), text_lengths=None)
