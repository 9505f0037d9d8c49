"""The labelling loop through the service: serve, submit, skip, undo, background refit, restart."""

from __future__ import annotations

import pytest

from annotator.core.config import Settings
from annotator.service import AnnotatorService

TOPICS = {"sport": "match goal team coach league", "food": "recipe bake flavour kitchen dinner",
          "tech": "laptop software update battery screen"}


def _records(n_per: int = 15):
    out = []
    for label, words in TOPICS.items():
        w = words.split()
        for i in range(n_per):
            out.append({"text": f"{w[i % 5]} {w[(i + 2) % 5]} story number {i} {label}", "external_id": f"{label}-{i}"})
    return out


@pytest.fixture
def project(service):
    service.projects.create_project("t", list(TOPICS), settings={"refit_every": 5})
    service.imports.import_records("t", _records())
    return "t"


def _gold(item):
    return [item.external_id.split("-")[0]]


def test_labelling_loop_serves_each_item_once_and_refits_in_background(service, project):
    seen = set()
    for _ in range(12):
        item = service.queue.next_item(project, "ana")
        assert item.item_id not in seen
        seen.add(item.item_id)
        service.queue.submit(project, "ana", item.item_id, _gold(item))
    service.queue.wait_for_refit(project)
    progress = service.queue.progress(project)
    assert progress.labelled == 12 and progress.by_user == {"ana": 12}
    assert progress.model_version >= 1  # refit ran after every 5 labels, in the background
    assert sum(progress.by_label.values()) == 12


def test_each_answer_records_why_the_item_was_served(service, project):
    item = service.queue.next_item(project, "ana")
    service.queue.submit(project, "ana", item.item_id, _gold(item))
    row = next(r for r in service.exports.final_labels(project) if r["item_id"] == item.item_id)
    assert row["query_strategy"] == item.strategy and row["seconds_spent"] is not None
    assert row["label_source"] == "human" and row["route"] == "manual"


def test_undo_brings_the_item_back_editable(service, project):
    first = service.queue.next_item(project, "ana")
    service.queue.submit(project, "ana", first.item_id, ["food"])
    back = service.queue.undo(project, "ana")
    assert back.item_id == first.item_id and back.previous_value == ["food"]
    assert service.queue.progress(project).labelled == 0
    service.queue.submit(project, "ana", back.item_id, ["tech"])
    labels = {r["item_id"]: r["label"] for r in service.exports.final_labels(project) if r["label"]}
    assert labels == {first.item_id: ["tech"]}
    assert service.queue.undo(project, "ben") is None  # ben has nothing to undo


def test_skip_moves_on_without_saving(service, project):
    item = service.queue.next_item(project, "ana")
    service.queue.skip(project, "ana", item.item_id)
    assert service.queue.next_item(project, "ana").item_id != item.item_id
    assert service.queue.progress(project).labelled == 0


def test_labels_survive_a_restart(settings, fake_embedder, service, project):
    for _ in range(3):
        item = service.queue.next_item(project, "ana")
        service.queue.submit(project, "ana", item.item_id, _gold(item))
    service.close()
    again = AnnotatorService.from_settings(settings, embedder=fake_embedder)
    try:
        assert again.queue.progress(project).labelled == 3
        served = {again.queue.next_item(project, "ana").item_id for _ in range(10)}
        labelled = {r["item_id"] for r in again.exports.final_labels(project) if r["label"]}
        assert not served & labelled  # labelled items are not served again after a restart
    finally:
        again.close()


def test_empty_project_says_to_import(service):
    from annotator.core.errors import EmptyPoolError

    service.projects.create_project("empty", ["a", "b"])
    with pytest.raises(EmptyPoolError, match="import"):
        service.queue.next_item("empty", "ana")


def test_queue_returns_none_when_everything_is_labelled(service):
    service.projects.create_project("small", ["a", "b"])
    service.imports.import_records("small", [{"text": "one"}, {"text": "two"}])
    for _ in range(2):
        item = service.queue.next_item("small", "ana")
        service.queue.submit("small", "ana", item.item_id, ["a"])
    assert service.queue.next_item("small", "ana") is None


def test_strategy_setting_changes_the_queue(service, project):
    with pytest.raises(Exception, match="Unknown query strategy"):
        service.projects.update_project_settings(project, strategy="bogus")
    service.projects.update_project_settings(project, strategy="random")
    for _ in range(8):  # get past the cold start
        item = service.queue.next_item(project, "ana")
        service.queue.submit(project, "ana", item.item_id, _gold(item))
    service.queue.refit_now(project)
    assert service.queue.next_item(project, "ana").strategy == "random"
