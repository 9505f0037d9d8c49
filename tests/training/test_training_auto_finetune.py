"""The fine-tune starts by itself every ``finetune_every`` human labels, in the background, and a
promoted version routes the items again with the last AI run's annotators."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "jobs"))
from jobs_helpers import PROJECT, parity_project, parity_rule  # noqa: E402

from annotator.training import RuleTrainer  # noqa: E402


def _service(settings, backend: str):
    from annotator.embeddings import HashingEmbedder
    from annotator.service import AnnotatorService

    settings.jobs_backend, settings.jobs_workers = backend, 0
    return AnnotatorService.from_settings(settings, embedder=HashingEmbedder())


def _label(service, n: int) -> None:
    for _ in range(n):
        item = service.queue.next_item(PROJECT, "ana")
        service.queue.submit(PROJECT, "ana", item.item_id, [["even", "odd"][parity_rule(item.text)]])


def _finetune_jobs(service) -> list:
    return [j for j in service.jobs.list_jobs(PROJECT) if j.kind == "finetune"]


def test_a_finetune_is_queued_every_n_labels_and_never_twice_at_once(settings):
    service = _service(settings, "sqlite")  # a queue without a consumer: jobs stay queued
    try:
        parity_project(service, n=120, labelled=0)
        service.projects.update_project_settings(PROJECT, finetune_every=20)
        _label(service, 19)
        assert _finetune_jobs(service) == []
        _label(service, 1)
        [job] = _finetune_jobs(service)
        assert job.status == "queued" and job.payload["at_labels"] == 20
        _label(service, 20)  # the first one is still queued: no second
        assert len(_finetune_jobs(service)) == 1
        service.jobs.cancel(job.id)
        _label(service, 20)
        newest = _finetune_jobs(service)[0]
        assert len(_finetune_jobs(service)) == 2 and newest.payload["at_labels"] == 60
    finally:
        service.close()


@pytest.mark.parametrize("every, backend", [(0, "sqlite"), (10, "immediate")])
def test_no_automatic_finetune_when_off_or_when_it_would_run_inside_the_request(settings, every, backend):
    service = _service(settings, backend)
    try:
        parity_project(service, n=60, labelled=0)
        service.projects.update_project_settings(PROJECT, finetune_every=every)
        _label(service, 30)
        assert _finetune_jobs(service) == []
    finally:
        service.close()


def _suggestion_versions(service) -> set[str]:
    from sqlmodel import select

    from annotator import store
    from annotator.store.tables import Suggestion

    with store.transaction(service.engine) as s:
        return set(s.exec(select(Suggestion.agent_version)).all())


@pytest.fixture
def immediate(settings):
    """A service whose jobs run inline, with the parity project (150 of 200 labelled) and a rule
    trainer that beats the fast classifier, so a fine-tune is promoted."""
    service = _service(settings, "immediate")
    parity_project(service, n=200, labelled=150)
    service.models.trainer = RuleTrainer(parity_rule)
    yield service
    service.close()


def test_a_promoted_finetune_routes_the_items_again(immediate):
    immediate.ai.run_ai(PROJECT, "classifier,knn")
    assert not any("finetune-v1" in v for v in _suggestion_versions(immediate))
    job = immediate.jobs.submit("finetune", PROJECT)
    assert job.status == "done", job.error
    assert job.result["promoted"] and job.result["rerouted"]["annotators"] == "classifier,knn"
    # the items were routed again, with the promoted version answering as the classifier
    assert any("classifier:finetune-v1" in v for v in _suggestion_versions(immediate))


def test_no_reroute_before_any_ai_run(immediate):
    job = immediate.jobs.submit("finetune", PROJECT)
    assert job.result["promoted"] and job.result["rerouted"] is None
    assert _suggestion_versions(immediate) == set()


def test_no_reroute_after_a_run_with_a_paid_endpoint(immediate):
    immediate.ai._record_ai_run(PROJECT, {"agent": "ensemble(knn+llm-endpoint)", "items": 20, "routes": {}})
    assert immediate.models._reroute_after_promotion(PROJECT) is None
    immediate.ai._record_ai_run(PROJECT, {"agent": "ensemble(knn)", "items": 20, "routes": {}})
    assert immediate.models._reroute_after_promotion(PROJECT)["annotators"] == "knn"


def test_a_reroute_that_fails_leaves_the_promoted_version_and_says_why(immediate):
    # the last AI run used an annotator that cannot load now (an unknown name stands for it)
    immediate.ai._record_ai_run(PROJECT, {"agent": "ensemble(knn+no-such-annotator)", "items": 20, "routes": {}})
    job = immediate.jobs.submit("finetune", PROJECT)
    assert job.status == "done", job.error
    assert job.result["promoted"] and "no-such-annotator" in job.result["rerouted"]["error"]
    assert "annotator ai" in job.result["rerouted"]["fix"]
