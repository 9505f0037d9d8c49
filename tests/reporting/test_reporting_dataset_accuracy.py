"""The last AI run's estimated dataset accuracy reaches the dashboard's cards, beside the fused
score, and the report page, as the run recorded it."""

from __future__ import annotations

import re

from topic_data import TOPICS, topic_records

from annotator.reporting.data import Dashboard
from annotator.reporting.html import render_report, summary_html


def _cards(d: Dashboard) -> dict[str, str]:
    return dict(re.findall(r'data-stat="([a-z-]+)" data-value="([^"]*)"', summary_html(d)))


def test_dashboard_and_report_state_the_runs_dataset_accuracy(service):
    service.projects.create_project("ai", list(TOPICS), settings={
        "refit_every": 1000, "explore_fraction": 0.5, "target_accuracy": 0.95})
    service.imports.import_records("ai", topic_records())
    for k in range(150):
        if k and k % 30 == 0:  # a model, so the queue serves random calibration picks
            service.queue.refit_now("ai")
        item = service.queue.next_item("ai", "ana")
        service.queue.submit("ai", "ana", item.item_id, [item.external_id.split("-")[0]])
    report = service.ai.run_ai("ai", "knn")
    est = report["dataset_accuracy"]
    assert est["value"] is not None and est["measured_on"] > 0
    d = service.quality.dashboard("ai")
    assert d.dataset_accuracy == est == service.ai.dataset_accuracy("ai")
    html = summary_html(d)
    assert _cards(d)["dataset-accuracy"] == str(est["value"])
    assert list(_cards(d)).index("dataset-accuracy") == list(_cards(d)).index("fusion") + 1  # beside the fused score
    assert f"{est['measured_on']} random human-labelled items, target 95.0 %" in html
    page = render_report(d)
    assert "<h2>Dataset accuracy</h2>" in page
    assert (f"Estimated dataset accuracy {est['value']:.3f} (95 % interval {est['ci_low']:.3f}–"
            f"{est['ci_high']:.3f}, from {est['measured_on']} random human-labelled items") in page


def test_no_ai_run_no_dataset_accuracy():
    d = Dashboard(project="p", generated_at="2025-01-01T00:00:00", items=0, labelled=0, human_answers=0,
                  model_versions=0)
    assert _cards(d)["dataset-accuracy"] == "None" and "dataset accuracy: no AI run yet" in summary_html(d)
    assert "Dataset accuracy" not in render_report(d)
    unmeasured = Dashboard(project="p", generated_at="2025-01-01T00:00:00", items=0, labelled=0, human_answers=0,
                           model_versions=0, calibration={"ensemble": {}}, dataset_accuracy={
                               "value": None, "ci_low": 0.4, "ci_high": 1.0, "auto": 180, "measured_on": 0,
                               "human": 120, "human_accuracy": 1.0, "confidence": 0.95, "target": None})
    assert "no random human-labelled item measures the 180 AI labels (40.0 %–100.0 %)" in summary_html(unmeasured)
    assert "No estimate of the dataset accuracy" in render_report(unmeasured)


def test_the_anytime_bound_is_the_projects_choice_and_states_a_wider_interval(service):
    """The same labels, routed under each ``dataset_bound``: the run records which one it used, and
    the anytime bound, valid over every run's look, states a lower floor and never more auto labels."""
    runs = {}
    for bound in ("clopper-pearson", "anytime"):
        name = f"ai-{bound}"
        service.projects.create_project(name, list(TOPICS), settings={
            "refit_every": 1000, "explore_fraction": 0.5, "target_accuracy": 0.9, "dataset_bound": bound})
        service.imports.import_records(name, topic_records())
        for k in range(150):
            if k and k % 30 == 0:
                service.queue.refit_now(name)
            item = service.queue.next_item(name, "ana")
            service.queue.submit(name, "ana", item.item_id, [item.external_id.split("-")[0]])
        runs[bound] = service.ai.run_ai(name, "knn")
    once, anytime = runs["clopper-pearson"]["dataset_accuracy"], runs["anytime"]["dataset_accuracy"]
    assert (once["bound"], anytime["bound"]) == ("clopper-pearson", "anytime")
    assert anytime["bins"]["bound"] == "anytime"
    assert anytime["bins"]["lower"][0] < once["bins"]["lower"][0]
    assert once["auto"] > 0 and anytime["auto"] <= once["auto"]
    assert anytime["auto"] < once["auto"] or anytime["ci_low"] < once["ci_low"]
