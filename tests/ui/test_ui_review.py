"""The Review tab without a browser: its events carry api names (and a policy entry), and each
handler shows the right item, answers and buttons and settles through the service."""

from __future__ import annotations

import pytest

from annotator.ui import AnnotatorUI
from annotator.ui.render import HOTKEY_SEP

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
def disputed(ui_service):
    """Three items: t0 split ana a / ben b (with an XSS comment), t1 split 2:1, t2 agreed."""
    svc = ui_service
    svc.projects.create_project("rev", ["a", "b", "c"])
    svc.imports.import_records("rev", [{"text": f"text {k} {XSS}", "external_id": f"t{k}"} for k in range(3)])
    ids = {r["external_id"]: r["item_id"] for r in svc.exports.final_labels("rev")}
    svc.queue.submit("rev", "ana", ids["t0"], ["a"])
    svc.queue.submit("rev", "ben", ids["t0"], ["b"], comment=XSS)
    for person, value in (("ana", "a"), ("ben", "a"), ("cy", "c")):
        svc.queue.submit("rev", person, ids["t1"], [value])
    for person in ("ana", "ben"):
        svc.queue.submit("rev", person, ids["t2"], ["b"])
    svc.accounts.add_user("rita", role="reviewer")
    return ids


@pytest.fixture
def ui(ui_service):
    ui = AnnotatorUI(ui_service)
    ui.build()
    return ui


def _inputs(ui, out, user="rita", passed=None, comment=""):
    tab = ui.review
    return ["rev", user, out[tab.item_state], out[tab.choices_state],
            out[tab.passed_state] if passed is None else passed, comment]


def test_review_events_have_api_names_and_a_policy_entry(ui_service):
    ui = AnnotatorUI(ui_service)
    blocks = ui.build()
    fns = {fn.api_name: fn for fn in blocks.fns.values() if fn.api_name}
    for name in ("review_queue", "review_choice_0", "review_choice_8", "review_correct", "review_send_back",
                 "review_skip"):
        assert name in fns, name
    assert fns["review_choice_0"].queue is False and fns["review_send_back"].show_progress == "hidden"
    from annotator.ui import auth

    assert not [k for k in auth.unlisted(blocks) if "review" in k.lower()]
    for key in ("review_queue", "review_choice_3", "review_send_back"):
        assert set(auth.roles_for(key)) == {"admin", "reviewer"}, key


def test_refresh_shows_the_top_item_with_every_answer_side_by_side(ui, disputed):
    tab = ui.review
    out = tab.on_refresh("rev", [])
    assert out[tab.item_state] == disputed["t0"]  # 1:1 (p 0.5) before 2:1 (p 0.33)
    assert 'data-queue="2"' in out[tab.summary_html] and "disagreement 2" in out[tab.summary_html]
    answers = out[tab.answers_html]
    assert 'data-user="ana"' in answers and 'data-user="ben"' in answers
    assert XSS not in answers and "&lt;img" in answers  # the comment is escaped
    assert XSS not in out[tab.item_html]
    assert "disagreement: a × 1, b × 1" in out[tab.reasons_html]
    assert out[tab.choices_state] == [["a"], ["b"], ["c"]]  # given values, then the other label
    captions = [out[b]["value"] for b in tab.choice_buttons[:3]]
    assert captions[0] == f"1{HOTKEY_SEP}a (ana)" and captions[1] == f"2{HOTKEY_SEP}b (ben)"
    assert captions[2] == f"3{HOTKEY_SEP}c (correct)"
    assert out[tab.choice_buttons[3]]["visible"] is False


def test_a_numbered_choice_accepts_and_moves_on(ui, ui_service, disputed):
    tab = ui.review
    out = tab.on_refresh("rev", [])
    out = tab.on_choice(1, *_inputs(ui, out, comment="ben read it right"))
    assert "accepted b" in out[tab.status_html]
    assert out[tab.item_state] == disputed["t1"]
    row = next(r for r in ui_service.exports.final_labels("rev") if r["item_id"] == disputed["t0"])
    assert (row["label"], row["annotator"], row["route"], row["comment"]) == (["b"], "rita", "review",
                                                                          "ben read it right")


def test_a_label_nobody_gave_corrects(ui, ui_service, disputed):
    tab = ui.review
    out = tab.on_refresh("rev", [])
    out = tab.on_choice(2, *_inputs(ui, out))
    assert "corrected to c" in out[tab.status_html]
    out = tab.on_correct(*_inputs(ui, out), ["b"])  # the picker: t1 corrected to b
    assert "corrected to b" in out[tab.status_html] and out[tab.item_state] is None
    assert "Nothing to review" in out[tab.item_html]
    labels = {r["item_id"]: r["label"] for r in ui_service.exports.final_labels("rev")}
    assert labels[disputed["t0"]] == ["c"] and labels[disputed["t1"]] == ["b"]


def test_send_back_and_next(ui, ui_service, disputed):
    tab = ui.review
    out = tab.on_refresh("rev", [])
    skipped = tab.on_skip(*_inputs(ui, out))
    assert skipped[tab.item_state] == disputed["t1"] and skipped[tab.passed_state] == [disputed["t0"]]
    out = tab.on_send_back(*_inputs(ui, skipped))
    assert "sent back" in out[tab.status_html]
    assert out[tab.item_state] == disputed["t0"]  # everything else passed over: from the top again
    assert [e.item_id for e in ui_service.review.queue("rev")] == [disputed["t0"]]


def test_an_annotator_gets_an_error_box_and_nothing_changes(ui, ui_service, disputed):
    tab = ui.review
    out = tab.on_refresh("rev", [])
    refused = tab.on_choice(0, *_inputs(ui, out, user="ana"))
    assert set(refused) == {tab.status_html} and "may not review" in refused[tab.status_html]
    assert len(ui_service.review.queue("rev")) == 2
    nothing = tab.on_choice(0, "rev", "rita", None, [], [], "")
    assert "No item is shown" in nothing[tab.status_html]


def test_a_settled_item_never_shows_again_and_another_processs_disagreement_shows_on_refresh(ui, ui_service,
                                                                                           disputed):
    """The tab keeps the queue between decisions (the service re-assesses only what changed): each
    decision moves on to an item not yet settled, and a disagreement written by another app process
    (its own service on the same database) is in the queue on the next refresh."""
    from annotator.service import AnnotatorService

    tab = ui.review
    out = tab.on_refresh("rev", [])
    settled = []
    while out[tab.item_state] is not None:
        assert out[tab.item_state] not in settled
        settled.append(out[tab.item_state])
        out = tab.on_choice(0, *_inputs(ui, out))
    assert settled == [disputed["t0"], disputed["t1"]] and "Nothing to review" in out[tab.item_html]
    other = AnnotatorService.from_settings(ui_service.settings, embedder=ui_service.embeddings.embedder)
    try:
        other.queue.submit("rev", "cy", disputed["t2"], ["c"])  # t2 was agreed (b, b): now 2:1
    finally:
        other.close()
    out = tab.on_refresh("rev", [])
    assert out[tab.item_state] == disputed["t2"] and 'data-queue="1"' in out[tab.summary_html]
    out = tab.on_choice(0, *_inputs(ui, out))
    assert out[tab.item_state] is None  # settled: not shown again
