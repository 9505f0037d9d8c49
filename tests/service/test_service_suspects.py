"""service.quality.find_suspects: injected slips among people's labels are flagged with a reason, recorded,
and the report counts how many a person then changed."""

from __future__ import annotations

import random

import pytest

from annotator.core.errors import ValidationError

TOPICS = {
    "billing": ["refund", "invoice", "charged", "payment", "card", "price", "receipt", "subscription", "vat", "plan"],
    "bug": ["crash", "error", "freezes", "broken", "fails", "blank", "slow", "glitch", "exception", "hangs"],
    "account": ["password", "login", "email", "profile", "delete", "locked", "username", "2fa", "signin", "reset"],
}
LABELS = list(TOPICS)


def _project_with_slips(service, name="t", n=150, flips=10, seed=0):  # noqa: ANN001
    """Clean topic tickets, all labelled by 'ana' in bulk, ``flips`` of them with a wrong label."""
    rng = random.Random(seed)
    rows = [{"external_id": f"r{i}", "text": f"{' '.join(rng.sample(TOPICS[LABELS[i % 3]], 4))} #{i}"}
            for i in range(n)]
    service.projects.create_project(name, LABELS)
    service.imports.import_records(name, rows)
    page = service.browse.browse(name, page_size=500).rows
    gold = {r["item_id"]: LABELS[int(r["external_id"][1:]) % 3] for r in page}
    flipped = set(rng.sample(sorted(gold), flips))
    given = {i: (LABELS[(LABELS.index(g) + 1) % 3] if i in flipped else g) for i, g in gold.items()}
    for label in LABELS:
        service.browse.bulk_label(name, "ana", [i for i, v in given.items() if v == label], [label])
    service.queue.wait_for_refit(name)
    return gold, given, flipped


def test_injected_slips_are_found_and_recorded(service):
    gold, given, flipped = _project_with_slips(service)
    suspects = service.quality.find_suspects("t")
    found = {s.item_id for s in suspects}
    precision = len(found & flipped) / max(len(found), 1)
    recall = len(found & flipped) / len(flipped)
    assert precision >= 0.7 and recall >= 0.7, (precision, recall, len(found))
    for s in suspects:
        assert s.given == given[s.item_id]
        assert s.reason.startswith(f"suspect label: model says '{s.model_label}' with p=")
    report = service.quality.suspect_report("t")
    assert report["found"] == len(suspects) and report["checked"] == len(gold)
    assert report["pending"] == len(suspects) and report["changed"] == report["confirmed"] == 0
    assert [r["item_id"] for r in report["suspects"]] == [s.item_id for s in suspects]


def test_changed_count_follows_people(service):
    gold, given, flipped = _project_with_slips(service)
    suspects = service.quality.find_suspects("t")
    assert len(suspects) >= 3
    first, second = suspects[0], suspects[1]
    service.accounts.add_user("rita", role="reviewer")
    # A reviewer corrects the first suspect to the model's label; another person keeps the second.
    service.queue.submit("t", "rita", first.item_id, [first.model_label])
    service.queue.submit("t", "bo", second.item_id, [second.given])
    report = service.quality.suspect_report("t")
    by_id = {r["item_id"]: r for r in report["suspects"]}
    assert report["changed"] == 1 and by_id[first.item_id]["status"] == "changed"
    assert report["confirmed"] == 1 and by_id[second.item_id]["status"] == "confirmed"
    assert report["pending"] == len(suspects) - 2
    # The dashboard shows the same counts.
    assert service.quality.dashboard("t").suspects["changed"] == 1


def test_suspects_go_to_the_review_queue_with_their_reason(service):
    _project_with_slips(service)
    suspects = service.quality.find_suspects("t")
    queue = {e.item_id: e for e in service.review.queue("t")}
    for s in suspects:
        assert s.item_id in queue and s.reason in queue[s.item_id].reasons
    # A second search with the same findings adds no second request per item.
    service.quality.find_suspects("t")
    assert sum(s.reason in r for e in service.review.queue("t") for r in e.reasons for s in suspects[:1]) == 1


def test_multi_label_is_refused_with_a_fix(service):
    service.projects.create_project("m", ["a", "b"], task_type="multi-label")
    service.imports.import_records("m", [{"text": f"x {i}"} for i in range(4)])
    with pytest.raises(ValidationError, match="single-label"):
        service.quality.find_suspects("m")


def test_a_reviewer_correction_in_the_review_queue_counts_as_changed(service):
    _project_with_slips(service)
    suspects = service.quality.find_suspects("t")
    service.accounts.add_user("rita", role="reviewer")
    service.review.correct("t", "rita", suspects[0].item_id, [suspects[0].model_label])
    report = service.quality.suspect_report("t")
    assert report["changed"] == 1
    assert {r["item_id"]: r["status"] for r in report["suspects"]}[suspects[0].item_id] == "changed"
