"""Post-training task types: answer validation, shown order, diffs, import fields, demo pairs."""

from __future__ import annotations

import pytest

from annotator.core.errors import ValidationError
from annotator.tasks import (
    check_fields, correction_answer, default_labels, preference_answer, rating_answer, shown_order, unified_diff,
)
from annotator.tasks.demo_pairs import correction_items, preference_pairs, rating_items


@pytest.mark.parametrize(("choice", "order", "verdict"), [
    ("left", "AB", "A"), ("left", "BA", "B"), ("right", "AB", "B"), ("right", "BA", "A"),
    ("1", "BA", "B"), ("2", "BA", "A"), ("3", "AB", "tie"), ("4", "BA", "both-bad"),
])
def test_preference_choice_maps_back_to_the_original_responses(choice, order, verdict):
    answer = preference_answer(choice, order, "  because  ")
    assert answer.value == [verdict]
    assert answer.payload["shown_order"] == order
    assert answer.payload["rationale"] == "because"


def test_preference_rejects_unknown_choices():
    with pytest.raises(ValidationError, match="press 1"):
        preference_answer("middle", "AB")


def test_shown_order_is_seeded_and_mixes_both_orders():
    orders = [shown_order(0, i, "ana") for i in range(200)]
    assert orders == [shown_order(0, i, "ana") for i in range(200)]
    assert 60 < orders.count("AB") < 140
    assert orders != [shown_order(1, i, "ana") for i in range(200)]


def test_rating_needs_every_criterion_within_the_scale():
    answer = rating_answer({"helpfulness": "4", "correctness": 5}, ["helpfulness", "correctness"], (1, 5), "ok")
    assert answer.value == ["helpfulness=4", "correctness=5"]
    assert answer.payload["ratings"] == {"helpfulness": 4, "correctness": 5}
    with pytest.raises(ValidationError, match="correctness has no score"):
        rating_answer({"helpfulness": 4}, ["helpfulness", "correctness"], (1, 5))
    with pytest.raises(ValidationError, match="out of the scale"):
        rating_answer({"helpfulness": 7, "correctness": 1}, ["helpfulness", "correctness"], (1, 5))
    with pytest.raises(ValidationError, match="Unknown rating criterion"):
        rating_answer({"style": 3}, ["helpfulness"], (1, 5))


def test_correction_keeps_the_edited_text_and_its_unified_diff():
    answer = correction_answer("2 + 2 = 5.\nDone.", "2 + 2 = 4.\nDone.")
    assert answer.value == ["edited"]
    assert answer.payload["edited"] == "2 + 2 = 4.\nDone."
    assert "-2 + 2 = 5." in answer.payload["diff"] and "+2 + 2 = 4." in answer.payload["diff"]
    assert correction_answer("same", "same ").value == ["unchanged"]
    assert unified_diff("a", "a") == ""
    with pytest.raises(ValidationError, match="cannot be empty"):
        correction_answer("x", "   ")


def test_import_rows_must_carry_the_task_fields():
    check_fields("preference", [{"row": 1, "metadata": {"response_a": "x", "response_b": "y"}}])
    check_fields("single-label", [{"row": 1, "metadata": {}}])  # classification: nothing to check
    with pytest.raises(ValidationError, match="response_b") as err:
        check_fields("preference", [{"row": 3, "metadata": {"response_a": "x"}}])
    assert "row 3" in err.value.message or "row 3" in str(err.value)
    assert default_labels("preference") == ["A", "B", "tie", "both-bad"]


def test_demo_pairs_know_their_better_side():
    pairs = preference_pairs(30, seed=1)
    assert len({p["prompt"] for p in pairs}) == 30
    for p in pairs:
        better = p["response_a"] if p["better"] == "A" else p["response_b"]
        worse = p["response_b"] if p["better"] == "A" else p["response_a"]
        assert better != worse
        if p["kind"] == "arithmetic":
            a, b = (int(x) for x in p["prompt"][8:-1].split(" + "))
            assert better.endswith(f"= {a + b}.") and not worse.endswith(f"= {a + b}.")
    assert {"A", "B"} == {p["better"] for p in pairs}
    assert len(rating_items(10)) == 10 and all(r["fixed"] != r["response"] for r in correction_items(10))


def test_bradley_terry_judge_learns_relevance_from_verdicts_without_position_bias():
    import numpy as np

    from annotator.annotators import ItemBatch, LabelContext
    from annotator.annotators.preference import BradleyTerryJudge
    from annotator.embeddings import HashingEmbedder

    embedder = HashingEmbedder()
    pairs = [p for p in preference_pairs(240, seed=2) if p["kind"] == "relevance"]
    lookup = {p["prompt"]: (p["response_a"], p["response_b"]) for p in pairs}
    judge = BradleyTerryJudge(lookup, embed=lambda texts: embedder.encode(list(texts)))
    train, test = pairs[:50], pairs[50:]
    context = LabelContext(label_names=["A", "B", "tie", "both-bad"], texts=[p["prompt"] for p in train],
                           labels=np.array([0 if p["better"] == "A" else 1 for p in train]))
    proba = judge.predict_proba(ItemBatch(texts=[p["prompt"] for p in test], embeddings=np.zeros((len(test), 1))),
                                context)
    accuracy = np.mean([("A" if row[0] > row[1] else "B") == p["better"] for row, p in zip(proba, test)])
    assert proba.shape == (len(test), 4) and np.allclose(proba.sum(axis=1), 1, atol=1e-5)
    assert accuracy >= 0.8  # relevant vs off-topic is learnable from the prompt-response similarity
    # antisymmetric: swapping a and b swaps the probabilities
    swapped = BradleyTerryJudge({t: (b, a) for t, (a, b) in lookup.items()}, embed=judge.embed)
    flipped_context = LabelContext(label_names=context.label_names, texts=context.texts, labels=1 - context.labels)
    proba2 = swapped.predict_proba(ItemBatch(texts=[p["prompt"] for p in test], embeddings=np.zeros((len(test), 1))),
                                   flipped_context)
    assert np.allclose(proba[:, 0], proba2[:, 1], atol=1e-4)
    # too few verdicts: no opinion
    few = LabelContext(label_names=context.label_names, texts=context.texts[:2], labels=np.array([0, 0]))
    assert np.allclose(judge.predict_proba(ItemBatch(texts=[test[0]["prompt"]], embeddings=np.zeros((1, 1))), few)[0, :2],
                       0.5, atol=0.01)
