"""The Dashboard tab's handlers without a browser: figures for every plot, the suspect search and
the HTML report, and errors shown in the page."""

from __future__ import annotations

from pathlib import Path

from ai_data import CHEAP, make_project

from annotator.ui.tabs.dashboard import DashboardTab


def _tab(service):  # noqa: ANN001
    tab = DashboardTab(service)
    import gradio as gr

    with gr.Blocks():
        tab.render()
    return tab


def test_refresh_fills_every_plot_and_the_numbers(ui_service):
    make_project(ui_service, "tickets", labelled=90)
    ui_service.ai.run_ai("tickets", ",".join(CHEAP))
    tab = _tab(ui_service)
    out = tab.on_refresh("tickets")
    for key, plot in tab.plots.items():
        assert out[plot].layout.title.text, key
    assert 'data-stat="labelled" data-value="90"' in out[tab.summary_html]
    assert "ai_summary" in out[tab.jobs_html]
    found = tab.on_find_suspects("tickets")
    assert "suspect labels" in found[tab.status_html]
    assert ui_service.quality.suspect_report("tickets")["at"] is not None
    report = tab.on_report("tickets")
    path = Path(report[tab.report_file]["value"])
    assert path.is_file() and "Route mix per AI run" in path.read_text(encoding="utf-8")


def test_no_project_is_an_error_box_not_a_trace(ui_service):
    tab = _tab(ui_service)
    out = tab.on_refresh(None)
    assert list(out) == [tab.status_html] and "No project to show" in out[tab.status_html]
    out = tab.on_report("")
    assert "No project to show" in out[tab.status_html]
