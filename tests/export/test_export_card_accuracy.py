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


def test_card_renders_the_estimate_as_one_inert_bullet():
    card = render_card(_stats(), {"Estimated accuracy of the labels": card_sentence(EST),
                                  "Note <b>x</b> | [y](z)": "`code` <script>"})
    assert ("- Estimated accuracy of the labels: 0.968 (95 % interval 0.944–0.984), measured on 120 random "
            "human-labelled items; people&#x27;s labels assumed right at 0.99") in card
    assert "<b>" not in card and "<script>" not in card and "`code`" not in card
    assert "- Note &lt;b&gt;x&lt;/b&gt; \\| \\[y\\](z): \\`code\\` &lt;script&gt;" in card


@pytest.fixture
def ai_project(service):
    """Topic items labelled through the queue (random calibration picks among them) and one AI run
    aiming at 95 % dataset accuracy."""
    service.projects.create_project("ai", list(TOPICS), settings={
        "refit_every": 1000, "explore_fraction": 0.5, "target_accuracy": 0.95})
    service.imports.import_records("ai", topic_records())
    for k in range(150):
        if k and k % 30 == 0:
            service.queue.refit_now("ai")
        item = service.queue.next_item("ai", "ana")
        service.queue.submit("ai", "ana", item.item_id, [item.external_id.split("-")[0]])
    service.ai.run_ai("ai", "knn")
    return service


def test_exported_card_states_the_last_ai_runs_estimate(ai_project, tmp_path):
    est = ai_project.ai.dataset_accuracy("ai")
    assert est is not None and est["measured_on"] > 0 and est["auto"] > 0 and est["target"] == 0.95
    card = ai_project.exports.export("ai", fmt="jsonl", out=tmp_path / "o").card_path.read_text(encoding="utf-8")
    assert (f"- Estimated accuracy of the labels: {est['value']:.3f} (95 % interval {est['ci_low']:.3f}–"
            f"{est['ci_high']:.3f}), measured on {est['measured_on']} random human-labelled items; people&#x27;s "
            f"labels assumed right at 1 (as of the last AI run: {est['human']} labels by people, {est['auto']} "
            "auto-accepted AI labels)") in card
    assert "random calibration slice" in card


def test_card_without_an_ai_run_states_no_estimate(service, tmp_path):
    service.projects.create_project("plain", list(TOPICS))
    service.imports.import_records("plain", topic_records(5))
    card = service.exports.export("plain", fmt="jsonl", out=tmp_path / "o").card_path.read_text(encoding="utf-8")
    assert "Estimated accuracy" not in card and "No audit or agreement measurement exists" in card


def test_the_estimate_states_the_auto_labels_measured_and_certified_precision(ai_project):
    from annotator.routing.accuracy_text import estimate_sentence
    from annotator.routing.dataset_accuracy import precision_lower

    est = ai_project.ai.dataset_accuracy("ai")
    ap = est["auto_precision"]
    assert ap["measured_on"] == est["measured_on"] and 0 < ap["effective"] <= ap["measured_on"] + 1e-9
    assert 0.0 <= ap["lower"] <= ap["value"] <= 1.0 and ap["confidence"] == 0.95
    # the default anytime bound is never above the one-look bound on the same effective counts
    assert ap["lower"] < precision_lower(ap["value"] * ap["effective"], ap["effective"], 0.95, "clopper-pearson") + 1e-3
    assert f"certified ≥ {ap['lower']:.3f} at 95 %" in estimate_sentence(est)


def test_the_sentence_names_the_effective_sample_only_where_weighting_shrank_it():
    from annotator.routing.accuracy_text import estimate_sentence

    shrunk = {**EST, "auto_precision": {"value": 0.93, "lower": 0.874, "confidence": 0.95, "measured_on": 120,
                                        "effective": 96.4}}
    line = estimate_sentence(shrunk)
    assert "from 120 random human-labelled items, 96 effective once weighted to the AI labels' confidences;" in line
    assert line.endswith("; the AI labels' precision measured 0.930, certified ≥ 0.874 at 95 %")
    same = {**shrunk, "auto_precision": {**shrunk["auto_precision"], "effective": 120.0}}
    assert "effective" not in estimate_sentence(same) and "effective" not in estimate_sentence(EST)
    assert "certified" not in estimate_sentence(EST)
