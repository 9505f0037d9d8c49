"""The Post-training tab's handlers without a browser: views per task type, errors as boxes, the judge box."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.llm.pairwise import KnownAnswerScorer
from annotator.tasks.demo_pairs import preference_pairs, rating_items
from annotator.ui.tabs.tasks import MAX_CRITERIA, TasksTab, task_card


@pytest.fixture
def tab(ui_service):
    import gradio as gr

    with gr.Blocks():
        t = TasksTab(ui_service)
        t.render()
    return t


def _prefs(service, n=24):
    service.projects.create_project("prefs", [], task_type="preference")
    pairs = preference_pairs(n, 0)
    service.imports.import_records("prefs", [{"text": p["prompt"], "metadata": {"response_a": p["response_a"],
                                                                        "response_b": p["response_b"]}} for p in pairs])
    return {p["prompt"]: p for p in pairs}


def test_preference_view_submit_and_error_box(tab, ui_service):
    _prefs(ui_service, 4)
    out = tab.on_load("prefs", "ana")
    item = out[tab.item_state]
    assert f'data-item-id="{item}"' in out[tab.card_html] and 'data-task="preference"' in out[tab.card_html]
    rest = [None] * MAX_CRITERIA + ["", ""]
    missing = tab.on_submit("prefs", "ana", item, None, *rest)
    assert "press 1 (left)" in missing[tab.status_html]  # no choice: a message, not a traceback
    saved = tab.on_submit("prefs", "ana", item, "left", *rest)
    assert f"Saved item {item}" in saved[tab.status_html] and saved[tab.item_state] != item


def test_classification_project_is_sent_to_the_label_tab(tab, ui_service):
    ui_service.projects.create_project("plain", ["a", "b"])
    out = tab.on_load("plain", "ana")
    assert out[tab.item_state] is None and "Label tab" in out[tab.card_html]


def test_judge_box_reports_routes_and_rating_agreement(tab, ui_service, monkeypatch):
    truth = _prefs(ui_service, 40)
    for _ in range(25):
        view = ui_service.tasks.next_task("prefs", "ana")
        pair = truth[view.prompt]
        good = pair["response_a"] if pair["better"] == "A" else pair["response_b"]
        ui_service.tasks.submit_task("prefs", "ana", view.item_id, choice="left" if view.left == good else "right")
    good = {p["response_a"] if p["better"] == "A" else p["response_b"] for p in truth.values()}
    monkeypatch.setattr(type(ui_service.tasks), "option_scorer", lambda self, name, progress=None: KnownAnswerScorer(good))
    text = tab.on_judge("prefs", "llm-local", progress=lambda *a, **k: None)
    assert "Judged 15 open pairs, calibrated on 25 human verdicts" in text and "llm-judge" in text

    class Threes:
        name = "fake"

        def option_probs(self, prompts, options):
            return np.tile(np.eye(len(options))[2], (len(prompts), 1))

    ui_service.projects.create_project("rate", [], task_type="rating")
    ui_service.imports.import_records("rate", [{"text": r["prompt"], "metadata": {"response": r["response"]}}
                                       for r in rating_items(3)])
    monkeypatch.setattr(type(ui_service.tasks), "option_scorer", lambda self, name, progress=None: Threes())
    text = tab.on_judge("rate", "llm-local", progress=lambda *a, **k: None)
    assert "3 suggestions stored (never auto-accepted)" in text


def test_card_escapes_the_responses():
    from annotator.tasks import TaskView

    html = task_card(TaskView(item_id=1, task_type="preference", prompt="<b>q</b>", left="<script>x</script>",
                              right="ok", shown_order="BA"))
    assert "<script>x" not in html and "&lt;script&gt;" in html and 'data-order="BA"' in html
