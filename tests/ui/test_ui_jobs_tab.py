"""The Jobs tab's handlers (no browser): start, progress, cancel, model versions, timer on/off."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "jobs"))
from jobs_helpers import PROJECT, parity_project, parity_rule  # noqa: E402


@pytest.fixture
def tab(ui_service):
    import gradio as gr

    from annotator.training import RuleTrainer
    from annotator.ui.tabs.jobs import JobsTab

    ui_service.settings.jobs_backend = "immediate"
    ui_service.models.trainer = RuleTrainer(parity_rule)
    parity_project(ui_service, n=200, labelled=150)
    with gr.Blocks():
        panel = JobsTab(ui_service)
        panel.render()
    return panel


def test_start_a_finetune_and_see_it_done_with_its_version(tab):
    out = tab.on_submit(PROJECT, "finetune")
    assert "Job 1 (finetune) done." in out[tab.status_html]
    assert 'data-status="done"' in out[tab.jobs_html] and "100%" in out[tab.jobs_html]
    versions = out[tab.versions_html]
    assert "v1" in versions and "promoted" in versions and "100.0%" in versions
    assert out[tab.timer].active is False  # nothing left running: no polling


def test_a_queued_job_turns_the_timer_on_and_cancel_stops_it(tab, ui_service):
    from annotator import store
    from annotator.store import jobs as jobs_q

    with store.transaction(ui_service.engine) as s:
        job_id = jobs_q.create_job(s, ui_service.projects.project(PROJECT).id, "embed", {}).id
    out = tab.on_refresh(PROJECT)
    assert 'data-status="queued"' in out[tab.jobs_html] and out[tab.timer].active is True
    out = tab.on_cancel(PROJECT, job_id)
    assert "cancelled before it started" in out[tab.status_html]
    assert 'data-status="cancelled"' in out[tab.jobs_html] and out[tab.timer].active is False


def test_errors_show_in_the_status_box(tab):
    out = tab.on_cancel(PROJECT, None)
    assert "No job id" in out[tab.status_html]
    out = tab.on_submit(None, "finetune")
    assert "No project selected" in out[tab.status_html]
