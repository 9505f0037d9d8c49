"""LLM-as-a-judge for pairs: asking both orders cancels position bias."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from annotator.annotators import ItemBatch, LabelContext
from annotator.llm.pairwise import (
    FirstPositionScorer, KnownAnswerScorer, PairwiseJudge, combine_orders, judge_pairs, rate_responses,
)
from annotator.tasks import PREFERENCE_LABELS
from annotator.tasks.demo_pairs import preference_pairs


def _triples(n=24, seed=0):
    pairs = preference_pairs(n, seed)
    good = {p["response_a"] if p["better"] == "A" else p["response_b"] for p in pairs}
    return pairs, [(p["prompt"], p["response_a"], p["response_b"]) for p in pairs], good


def test_a_left_biased_judge_gets_low_confidence_when_its_two_orders_disagree():
    pairs, triples, _ = _triples()
    verdicts = judge_pairs(FirstPositionScorer(p_first=0.9), triples, swap=True)
    assert not verdicts.consistent.any()  # it always named the left answer, so the two orders disagree
    assert verdicts.confidence.max() <= 0.5
    assert set(verdicts.verdict) == {"tie"}
    # without swapping the same judge is confidently "A" on every pair, right about half the time
    single = judge_pairs(FirstPositionScorer(p_first=0.9), triples, swap=False)
    assert set(single.verdict) == {"A"} and single.confidence.min() > 0.85


def test_a_consistent_judge_keeps_high_confidence_and_is_right():
    pairs, triples, good = _triples()
    verdicts = judge_pairs(KnownAnswerScorer(good, p=0.9), triples, swap=True)
    assert verdicts.consistent.all()
    assert verdicts.confidence.min() > 0.85
    assert verdicts.verdict == [p["better"] for p in pairs]


def test_combine_orders_maps_the_second_order_back():
    v = combine_orders(np.array([0.8, 0.8, 0.3]), np.array([0.3, 0.9, 0.6]))
    # pair 0: a first → a better (0.8); b first → first (b) 0.3 → a better 0.7: consistent, A at 0.75
    assert v.verdict[0] == "A" and v.consistent[0] and abs(v.proba[0, 0] - 0.75) < 0.01
    # pair 1: both orders name the first position → inconsistent, low confidence
    assert not v.consistent[1] and v.confidence[1] <= 0.5
    # pair 2: a first → b better (0.7); b first → b better (0.6): consistent B
    assert v.verdict[2] == "B" and v.consistent[2]
    assert np.allclose(v.proba.sum(axis=1), 1.0)


def test_the_judge_is_an_ai_annotator_over_the_project_labels():
    pairs, triples, good = _triples(8)
    judge = PairwiseJudge(KnownAnswerScorer(good), {p: (a, b) for p, a, b in triples})
    context = LabelContext(label_names=PREFERENCE_LABELS)
    proba = judge.predict_proba(ItemBatch(texts=[t[0] for t in triples], embeddings=np.zeros((8, 2))), context)
    assert proba.shape == (8, 4) and np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert [PREFERENCE_LABELS[i] for i in proba.argmax(axis=1)] == [p["better"] for p in pairs]
    assert judge.version.startswith("fake-known-answer@")


def test_rating_judge_scores_each_point_of_the_scale():
    class Fives:
        name = "fake"

        def option_probs(self, prompts, options):
            assert options == ["1", "2", "3", "4", "5"] and "helpfulness" in prompts[0]
            return np.tile(np.eye(5)[4], (len(prompts), 1))

    probs = rate_responses(Fives(), [("What is 2+3?", "5")], "helpfulness", (1, 5))
    assert probs.shape == (1, 5) and probs[0].argmax() == 4


@pytest.mark.slow
def test_real_local_judge_runs_both_orders():
    """SmolLM2 through the local scorer: real probabilities, and the combined verdicts stay valid."""
    pytest.importorskip("transformers")
    from annotator.llm.pairwise import LocalOptionScorer

    _, triples, _ = _triples(3)
    scorer = LocalOptionScorer(models_dir=Path(__file__).resolve().parents[2] / "models")  # converted once, reused
    verdicts = judge_pairs(scorer, triples, swap=True)
    assert verdicts.proba.shape == (3, 4) and np.allclose(verdicts.proba.sum(axis=1), 1.0)
    assert ((verdicts.p_ab > 0) & (verdicts.p_ab < 1)).all()
    assert scorer.stats["scored"] == 6


@pytest.mark.slow
def test_endpoint_judge_on_the_real_server_matches_the_local_judge():
    """The same SmolLM2 behind llm-server: the endpoint scorer's " A" / " B" probabilities (top
    logprobs) equal the local scorer's label likelihoods, and a second run is served from the cache."""
    pytest.importorskip("transformers")
    from annotator.llm.local import load_llm
    from annotator.llm.pairwise import EndpointOptionScorer, LocalOptionScorer
    from annotator.servers.llm import ServerThread, create_app

    models = Path(__file__).resolve().parents[2] / "models"
    _, triples, _ = _triples(2)
    local = judge_pairs(LocalOptionScorer(models_dir=models), triples)
    with ServerThread(create_app(load_llm("smollm2", models), ["smollm2"])) as server:
        cache: dict = {}
        endpoint = EndpointOptionScorer(base_url=server.base_url, model="smollm2", cache=cache)
        remote = judge_pairs(endpoint, triples)
        assert len(cache) == 4
        again = judge_pairs(EndpointOptionScorer(base_url="http://127.0.0.1:9/v1", model="smollm2", cache=cache),
                            triples)  # a dead URL: every answer must come from the cache
    assert np.allclose(remote.p_ab, local.p_ab, atol=0.02) and np.allclose(remote.p_ba, local.p_ba, atol=0.02)
    assert np.allclose(again.proba, remote.proba)
