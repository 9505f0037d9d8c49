"""The dataset card states the estimated accuracy of the labels (value, 95 % interval, the random
human-labelled items it is measured on and the people's assumed accuracy), as inert text, from the
last AI run; without an AI run it says nothing of the kind."""

from __future__ import annotations

import pytest
from topic_data import TOPICS, topic_records

from annotator.export.card import CardStats, render_card
from annotator.routing.accuracy_text import card_sentence

EST = {"value": 0.9684, "ci_low": 0.9441, "ci_high": 0.9843, "human": 1200, "auto": 561, "human_accuracy": 0.99,
       "confidence": 0.95, "measured_on": 120, "target": 0.95}


def _stats() -> CardStats:
    stats = CardStats(project_name="p", labels=["a", "b"], multi_label=False, fmt="jsonl")
    stats.add_rows([{"label": ["a"], "label_source": "human", "annotator": "ana", "route": "manual",
                     "settled_by": "single", "verified": True}])
    return stats


def test_card_sentence_states_value_interval_items_and_the_people_assumption():
    line = card_sentence(EST)
    assert line.startswith("0.968 (95 % interval 0.944–0.984), measured on 120 random human-labelled items; "
                           "people's labels assumed right at 0.99")
    assert "1,200 labels by people, 561 auto-accepted AI labels" in line
    assert card_sentence(None) is None
    unmeasured = card_sentence({**EST, "value": None, "measured_on": 0, "ci_low": 0.6, "ci_high": 1.0})
    assert unmeasured.startswith("not measured:") and "0.600–1.000" in unmeasured
    people_only = card_sentence({**EST, "auto": 0, "value": 0.99, "ci_low": 0.99, "ci_high": 0.99})
    assert people_only.startswith("0.990: every label is a person's")


def test_the_sentences_name_the_one_look_bound_only_where_it_was_used():
    from annotator.routing.accuracy_text import estimate_sentence

    once = {**EST, "bound": "clopper-pearson"}
    assert card_sentence(once).startswith("0.968 (95 % interval 0.944–0.984; one-look bound: repeated AI runs "
                                          "not corrected for), measured on 120")
    assert estimate_sentence(once).endswith("target 0.95; one-look bound: repeated AI runs not corrected for)")
    for est in (EST, {**EST, "bound": "anytime"}):
        assert "one-look" not in card_sentence(est) and "one-look" not in estimate_sentence(est)
