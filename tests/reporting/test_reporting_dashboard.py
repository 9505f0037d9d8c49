"""The dashboard's figure data match the store, and the report is one self-contained HTML page."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlmodel import select

from annotator import store
from annotator.reporting import FIGURE_TITLES, dashboard_figures, stopping_advice
from annotator.store.tables import Item, ModelVersion, Response, Suggestion
from topic_data import TOPICS, topic_records

@pytest.fixture
def project(service):
    """165 queue answers, one AI run, 10 answered audits, a suspect search."""
    service.projects.create_project("ai", list(TOPICS), settings={"refit_every": 20, "audit_fraction": 0.1})
    service.imports.import_records("ai", topic_records())
    for _ in range(165):
        item = service.queue.next_item("ai", "ana")
        service.queue.submit("ai", "ana", item.item_id, [item.external_id.split("-")[0]])
    service.queue.refit_now("ai")
    report = service.ai.run_ai("ai", "knn,classifier")
    for _ in range(10):
        item = service.queue.next_item("ai", "ana")
        assert item.route == "audit"
        service.queue.submit("ai", "ana", item.item_id, [item.external_id.split("-")[0]])
    service.quality.find_suspects("ai")
    return service, report


def _pid(s):
    return s.exec(select(Item.project_id)).first()


def test_figure_data_match_the_store(project):
    service, report = project
    d = service.quality.dashboard("ai")
    with store.transaction(service.engine) as s:
        pid = _pid(s)
        routes = Counter(s.exec(select(Suggestion.route).join(Item, Item.id == Suggestion.item_id)
                                .where(Item.project_id == pid, Suggestion.route.is_not(None))).all())
        answers = s.exec(select(Response.id).join(Item, Item.id == Response.item_id)
                         .where(Item.project_id == pid, Response.source != "import")).all()
    # Route mix: one run, its counts are the stored suggestions' routes and run_ai's own report.
    assert len(d.route_runs) == 1
    run = d.route_runs[0]
    assert {r: run[r] for r in ("auto", "audit", "verify", "blind")} == report["routes"]
    assert {r: run[r] for r in routes} == dict(routes)
    # Labels per hour: every answer a person gave, counted once.
    assert sum(h["labels"] for h in d.labels_per_hour) == len(answers) == d.human_answers == 175
    # The audit estimate is the service's, and the series ends on it.
    assert d.audit_estimate == service.ai.audit_estimate("ai").as_dict()
    assert d.audits[-1]["audits"] == 10 and [a["audits"] for a in d.audits] == list(range(1, 11))
    # Coverage ends at people's items plus the auto-accepted ones.
    assert d.coverage[-1]["human"] == 175
    assert d.coverage[-1]["ai"] == report["routes"]["auto"]
    assert d.coverage[-1]["coverage"] == pytest.approx((175 + report["routes"]["auto"]) / 300, abs=1e-4)
    # Reliability: the last AI run's calibration, kept in the store.
    assert set(d.calibration) == set(report["calibration"])
    assert d.calibration["ensemble"]["reliability"] == report["calibration"]["ensemble"]["reliability"]
    # The job list holds the recorded runs.
    assert [j["kind"] for j in d.jobs][:2] == ["suspects", "ai_summary"]
    assert d.suspects["found"] == len(d.suspects["suspects"])


def test_learning_curve_by_model_version(project):
    service, _ = project
    d = service.quality.dashboard("ai")
    assert d.model_versions == 0 and d.learning_curve["source"] == "cross-validation"
    points = d.learning_curve["points"]
    assert len(points) >= 3 and points[-1]["n_labels"] == 175
    assert all(0.0 <= p["accuracy"] <= 1.0 for p in points) and points[-1]["accuracy"] > 0.8
    with store.transaction(service.engine) as s:
        pid = _pid(s)
        for v, (n, acc) in enumerate([(50, 0.7), (100, 0.82), (150, 0.8)], start=1):
            s.add(ModelVersion(project_id=pid, kind="finetune", version=v, n_labels=n, promoted=v == 2,
                               metrics={"heldout_accuracy": acc, "heldout_n": 40, "train_n": n}))
    d = service.quality.dashboard("ai")
    assert d.model_versions == 3 and d.learning_curve["source"] == "model versions"
    assert [(p["version"], p["n_labels"], p["accuracy"], p["promoted"]) for p in d.learning_curve["points"]] == [
        (1, 50, 0.7, False), (2, 100, 0.82, True), (3, 150, 0.8, False)]


def test_stopping_signal_compares_successive_refits(project):
    service, _ = project
    d = service.quality.dashboard("ai")
    points = d.stability["points"]
    assert [p["n_labels"] for p in points] == [135, 155, 175]  # refit_every 20: the last 3 refits
    assert all(0.0 <= p["changed"] <= 1.0 for p in points)
    assert d.stability["advice"] == stopping_advice([p["changed"] for p in points])
    assert "over the last 3 refits" in d.stability["advice"]


def test_stopping_advice_in_plain_words():
    assert stopping_advice([0.004, 0.003, 0.005]) == (
        "predictions changed on 0.4 % of items over the last 3 refits: more labels will change little.")
    assert "still learning" in stopping_advice([0.2, 0.1])
    assert "settling" in stopping_advice([0.03])
    assert "Not enough refits" in stopping_advice([])


def test_figures_and_report(project, tmp_path):
    service, _ = project
    d = service.quality.dashboard("ai")
    figs = dashboard_figures(d)
    assert list(figs) == list(FIGURE_TITLES)
    assert sum(figs["routes"].data[i].y[0] for i in range(4)) == d.route_runs[0]["items"]
    assert list(figs["labels_per_hour"].data[0].y) == [h["labels"] for h in d.labels_per_hour]
    path = service.quality.write_report("ai", tmp_path / "r" / "report.html")
    html = path.read_text(encoding="utf-8")
    for title in FIGURE_TITLES.values():
        assert title.replace("&", "&amp;") in html
    assert html.count('class="plotly-graph-div"') == len(FIGURE_TITLES)
    # plotly.js inline (the machine may be offline): no script is loaded from anywhere.
    assert "<script src=" not in html and "Plotly.newPlot" in html and len(html) > 1_000_000


def test_an_empty_project_has_an_empty_dashboard(service, tmp_path):
    service.projects.create_project("new", ["a", "b"])
    d = service.quality.dashboard("new")
    assert d.items == 0 and d.route_runs == [] and d.audits == [] and d.labels_per_hour == []
    assert d.learning_curve["points"] == [] and d.calibration is None and d.jobs == []
    html = service.quality.write_report("new", tmp_path / "new.html").read_text(encoding="utf-8")
    assert "No AI run yet" in html and "No jobs yet." in html


def test_refit_jobs_feed_the_learning_curve_and_the_job_list(project):
    """Two real `refit` jobs record `classifier` versions; the dashboard draws them and lists the jobs."""
    service, _ = project
    first = service.jobs.run("refit", "ai")
    open_items = [r for r in service.browse.browse("ai", page_size=500).rows if r["status"] != "submitted"][:20]
    assert len(open_items) == 20
    for r in open_items:  # people label 20 more items (auto-accepted ones among them)
        service.queue.submit("ai", "bo", r["item_id"], [r["external_id"].split("-")[0]])
    second = service.jobs.run("refit", "ai")
    d = service.quality.dashboard("ai")
    with store.transaction(service.engine) as s:
        versions = s.exec(select(ModelVersion).order_by(ModelVersion.id)).all()
    assert d.model_versions == len(versions) >= 2 and d.learning_curve["source"] == "model versions"
    assert [p["accuracy"] for p in d.learning_curve["points"]] == [v.metrics["heldout_accuracy"] for v in versions]
    assert [p["n_labels"] for p in d.learning_curve["points"]] == [v.n_labels for v in versions]
    job_ids = [j["id"] for j in d.jobs]
    assert first.id in job_ids and second.id in job_ids
    assert {j["status"] for j in d.jobs if j["id"] in (first.id, second.id)} == {"done"}


def test_judge_auroc_next_to_the_best_raw_confidence_matches_the_store(service):
    """The headline cards show the last AI run's judge AUROC and the best single raw confidence's,
    exactly as run_ai reported them and the store kept them."""
    import re

    from annotator.reporting.html import summary_html
    from annotator.store.tables import Job

    # A person who slips on every fourth answer: the AI's label and the person's then disagree on
    # some verdicts, so the judge has right and wrong ones to learn from and an AUROC to report.
    names = list(TOPICS)
    service.projects.create_project("noisy", names)
    service.imports.import_records("noisy", topic_records(seed=1))
    for n in range(160):
        item = service.queue.next_item("noisy", "ana")
        truth = names.index(item.external_id.split("-")[0])
        service.queue.submit("noisy", "ana", item.item_id, [names[(truth + (n % 4 == 0)) % 3]])
    service.queue.refit_now("noisy")
    report = service.ai.run_ai("noisy", "knn,classifier")
    assert report["judge"]["used"] and report["judge"]["auroc"] is not None
    d = service.quality.dashboard("noisy")
    with store.transaction(service.engine) as s:
        stored = s.exec(select(Job).where(Job.kind == "ai_summary").order_by(Job.id.desc())).first().result["judge"]
    assert d.judge == stored
    assert d.judge["auroc"] == report["judge"]["auroc"] and d.judge["n_train"] == report["judge"]["n_train"] == 160
    aurocs = d.judge["confidence_aurocs"]
    assert {"fused", "knn", "classifier"} <= set(aurocs)
    assert aurocs["fused"] == d.judge["confidence_auroc"]
    assert d.judge["best_confidence_auroc"] == max(aurocs.values())
    assert aurocs[d.judge["best_confidence"]] == d.judge["best_confidence_auroc"]
    html = summary_html(d)
    cards = dict(re.findall(r'data-stat="([a-z-]+)" data-value="([^"]*)"', html))
    assert cards["judge-auroc"] == str(d.judge["auroc"])
    assert cards["confidence-auroc"] == str(d.judge["best_confidence_auroc"])
    assert f"({d.judge['best_confidence']})" in html and "judge AUROC" in html


def test_no_ai_run_shows_no_judge(service):
    from annotator.reporting.html import summary_html

    service.projects.create_project("plain", list(TOPICS))
    service.imports.import_records("plain", topic_records(n_per=5))
    d = service.quality.dashboard("plain")
    assert d.judge is None
    html = summary_html(d)
    assert 'data-stat="judge-auroc" data-value="None"' in html and "no AI run yet" in html
