"""AI routing through the service: auto labels leave the queue, audits come first and blind,
verify items show the suggestion, and the export carries the provenance."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.core.errors import EmptyPoolError
from topic_data import TOPICS, topic_records

@pytest.fixture
def routed(service):
    service.projects.create_project("ai", list(TOPICS), settings={"refit_every": 1000, "audit_fraction": 0.1})
    service.imports.import_records("ai", topic_records())
    # Enough labels that each class can certify 95 % precision (≥ 45 right answers per label).
    for _ in range(165):
        item = service.queue.next_item("ai", "ana")
        service.queue.submit("ai", "ana", item.item_id, [item.external_id.split("-")[0]])
    service.queue.refit_now("ai")
    report = service.ai.run_ai("ai", "knn,classifier")
    return service, report


def test_run_ai_routes_every_unlabelled_item(routed):
    service, report = routed
    assert report["items"] == 300 - 165
    assert sum(report["routes"].values()) == report["items"]
    assert report["routes"]["auto"] > 0 and report["routes"]["audit"] >= 10
    assert set(report["calibration"]) >= {"knn", "classifier", "ensemble"}


def test_audits_are_served_first_with_the_ai_label_hidden(routed):
    service, report = routed
    item = service.queue.next_item("ai", "ana")
    assert item.route == "audit" and item.suggestion is None
    service.queue.submit("ai", "ana", item.item_id, [item.external_id.split("-")[0]])
    estimate = service.ai.audit_estimate("ai")
    assert estimate.audits == 1 and estimate.value in (0.0, 1.0)


def test_audit_answers_are_measured_but_are_not_random_picks_of_the_pool(routed):
    """Audits are drawn from the auto set (the most confident items), so the dataset bound and
    estimate must not treat them as a random sample of the pool; they still measure the audits."""
    service, _ = routed
    audited = set()
    for _ in range(10):
        item = service.queue.next_item("ai", "ana")
        assert item.route == "audit"
        service.queue.submit("ai", "ana", item.item_id, [item.external_id.split("-")[0]])
        audited.add(item.item_id)
    context = service.ai.label_context("ai")
    pool = service.queue.pool("ai")
    ids = pool.item_ids[pool.labelled]
    picked = {int(i) for i, r in zip(ids, context.random_pick) if r}
    assert audited <= {int(i) for i in ids} and not picked & audited
    assert service.ai.audit_estimate("ai").audits == 10


def test_dataset_card_states_the_measured_precision(routed, tmp_path):
    service, _ = routed
    for _ in range(10):
        item = service.queue.next_item("ai", "ana")
        assert item.route == "audit"
        service.queue.submit("ai", "ana", item.item_id, [item.external_id.split("-")[0]])
    estimate = service.ai.audit_estimate("ai")
    assert estimate.audits == 10 and estimate.ci_low <= estimate.value <= estimate.ci_high
    card = service.exports.export("ai", fmt="jsonl", out=tmp_path / "o").card_path.read_text()
    assert "blind audits" in card and f"{estimate.audits} audited items" in card


def test_auto_items_are_served_only_as_blind_random_picks_and_export_as_agent_labels(routed, tmp_path):
    service, report = routed
    pool = service.queue.pool("ai")
    auto_ids = {int(i) for i in pool.item_ids[pool.route == 1]}
    served = {}
    for _ in range(len(pool) - pool.n_labelled):  # one pass over every servable item
        item = service.queue.next_item("ai", "ben")
        if item is None:
            break
        served[item.item_id] = item
        if item.route == "verify":
            assert item.suggestion is not None and item.suggestion.agent.startswith("ensemble(")
        service.queue.skip("ai", "ben", item.item_id)
    # The uncertainty ranking never serves an auto item; the random calibration slice samples the
    # whole pool, so it may, blind (the AI label hidden), as an audit would.
    picked_auto = [served[i] for i in set(served) & auto_ids]
    assert all(i.strategy == "random (calibration)" and i.route == "blind" and i.suggestion is None
               for i in picked_auto)
    rows = {r["item_id"]: r for r in service.exports.final_labels("ai")}
    auto_rows = [rows[i] for i in auto_ids]
    assert all(r["label_source"] == "agent" and r["route"] == "auto" and r["confidence"] >= 0.5 for r in auto_rows)
    gold = {r["item_id"]: r["external_id"].split("-")[0] for r in rows.values()}
    precision = np.mean([r["label"][0] == gold[r["item_id"]] for r in auto_rows])
    assert precision >= 0.9


def test_run_ai_needs_two_classes_of_human_labels(service):
    service.projects.create_project("cold", list(TOPICS))
    service.imports.import_records("cold", topic_records(n_per=5))
    with pytest.raises(EmptyPoolError, match="two classes"):
        service.ai.run_ai("cold", "knn")


def test_a_higher_target_precision_shrinks_auto_coverage(routed):
    from annotator.routing import RoutingPolicy

    service, _ = routed
    counts = {}
    for target in (0.8, 0.95, 0.995):
        report = service.ai.run_ai("ai", "knn,classifier", policy=RoutingPolicy(target_precision=target))
        counts[target] = report["routes"]["auto"] + report["routes"]["audit"]
    assert counts[0.8] >= counts[0.95] >= counts[0.995]
    assert counts[0.8] > counts[0.995]


def test_run_ai_on_a_fully_labelled_pool_routes_nothing_and_keeps_the_labels(service):
    service.projects.create_project("done", list(TOPICS))
    service.imports.import_records("done", topic_records(n_per=8))
    for _ in range(24):
        item = service.queue.next_item("done", "ana")
        service.queue.submit("done", "ana", item.item_id, [item.external_id.split("-")[0]])
    report = service.ai.run_ai("done", "knn")
    assert report["items"] == 0 and sum(report["routes"].values()) == 0
    assert set(report["thresholds"]) == set(TOPICS)
    rows = list(service.exports.final_labels("done"))
    assert len(rows) == 24 and all(r["label_source"] != "agent" for r in rows)


def test_random_calibration_picks_are_known_to_the_label_context(service):
    service.projects.create_project("cal", list(TOPICS), settings={"refit_every": 10, "explore_fraction": 0.2})
    service.imports.import_records("cal", topic_records(n_per=40))
    served = []
    for _ in range(80):
        item = service.queue.next_item("cal", "ana")
        served.append(item)
        service.queue.submit("cal", "ana", item.item_id, [item.external_id.split("-")[0]])
        service.queue.wait_for_refit("cal")
    explored = {i.item_id for i in served if i.strategy == "random (calibration)"}
    assert explored and all(i.route == "blind" and i.suggestion is None for i in served if i.item_id in explored)
    context = service.ai.label_context("cal")
    pool = service.queue.pool("cal")
    ids = pool.item_ids[pool.labelled]
    assert context.random_pick is not None and len(context.random_pick) == len(ids)
    assert {int(i) for i, r in zip(ids, context.random_pick) if r} == explored


def test_items_served_in_a_batch_keep_their_route_and_strategy_when_answered(routed):
    """The page pre-fetches and simulate serves a batch before answering: provenance must hold."""
    service, _ = routed
    batch = [service.queue.next_item("ai", "ana") for _ in range(12)]
    assert batch[0].route == "audit"
    for item in batch:
        service.queue.submit("ai", "ana", item.item_id, [item.external_id.split("-")[0]])
    rows = {r["item_id"]: r for r in service.exports.final_labels("ai")}
    for item in batch:
        assert rows[item.item_id]["route"] == item.route
        assert rows[item.item_id]["query_strategy"] == item.strategy
    audits = sum(item.route == "audit" for item in batch)
    assert service.ai.audit_estimate("ai").audits == audits > 0
