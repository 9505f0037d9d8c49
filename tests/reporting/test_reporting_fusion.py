"""The fusion rule of the last AI run (which one made the fused score, every candidate's
out-of-fold log loss) reaches the dashboard's cards and the report page as run_ai reported it."""

from __future__ import annotations

import re

from topic_data import TOPICS, topic_records

from annotator.reporting.html import fusion_html, render_report, summary_html


def test_the_report_names_the_chosen_fusion_rule_and_every_candidates_log_loss(service):
    service.projects.create_project("ai", list(TOPICS))
    service.imports.import_records("ai", topic_records())
    for _ in range(120):
        item = service.queue.next_item("ai", "ana")
        service.queue.submit("ai", "ana", item.item_id, [item.external_id.split("-")[0]])
    service.queue.refit_now("ai")
    report = service.ai.run_ai("ai", "knn,classifier,zero-shot")
    fusion = report["fusion"]
    assert fusion["choice"] in fusion["oof_log_loss"] and set(fusion["oof_log_loss"]) <= {"best", "mean", "stacker"}
    assert report["calibration"]["ensemble"]["fusion"] == fusion
    d = service.quality.dashboard("ai")
    cards = dict(re.findall(r'data-stat="([a-z-]+)" data-value="([^"]*)"', summary_html(d)))
    assert cards["fusion"] == fusion["choice"]
    page = render_report(d)
    assert "<h2>Fused score</h2>" in page and f'data-choice="{fusion["choice"]}"' in page
    for rule, loss in fusion["oof_log_loss"].items():
        assert re.search(rf'data-rule="{rule}".*?{loss:.4f}', page)


def test_fusion_html_marks_the_choice_and_the_margins():
    fusion = {"choice": "best", "best_annotator": "classifier", "runner_up": "stacker", "margin": 0.02,
              "tolerance": 0.005, "oof_log_loss": {"best": 0.3, "mean": 0.45, "stacker": 0.32}}
    html = fusion_html(fusion)
    assert "best single annotator (classifier)" in html and 'data-chosen="1"' in html
    assert "+0.0200" in html and "+0.1500" in html
    assert [m for m in re.findall(r'data-rule="(\w+)"', html)] == ["best", "stacker", "mean"]  # by log loss
    assert fusion_html(None) == ""
    assert 'data-stat="fusion" data-value="None"' in summary_html(_empty_dashboard())


def _empty_dashboard():
    from annotator.reporting.data import Dashboard

    return Dashboard(project="p", generated_at="2025-01-01T00:00:00", items=0, labelled=0, human_answers=0,
                     model_versions=0)
