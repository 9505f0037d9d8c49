"""The Team tab's handlers without a server: agreement (pairwise Cohen's kappa, Fleiss' kappa,
Krippendorff's alpha, per label, per person, AI annotators as raters on request), each person's
figures, and the overlap settings; in auth mode an annotator is refused all of it and a reviewer
may look but not change the overlap (the request Gradio would set is put in its context by hand)."""

from __future__ import annotations

import gradio as gr
import pytest
from gradio.context import LocalContext

from annotator import store
from annotator.store import projects as project_q
from annotator.ui import AnnotatorUI, auth
from annotator.ui.tabs.team import LABEL_COLUMNS, PAIR_COLUMNS, PEOPLE_COLUMNS

ANSWERS = {  # items i0..i5: who answered what (None: not answered)
    "ana": ["a", "b", "c", "a", "b", "c"],
    "ben": ["a", "b", "c", "b", "b", "c"],
    "cy": ["a", "b", "a", None, "c", "c"],
}
AI = ["a", "a", "c", "b", "b", "a"]  # an AI agent's suggestions for i0..i5


@pytest.fixture
def team(service):
    service.projects.create_project("t", ["a", "b", "c"])
    service.imports.import_records("t", [{"text": f"item {k}", "external_id": f"i{k}", "labels": [AI[k]]} for k in range(6)],
                           labels_as="suggestion", agent="gpt")
    ids = {row["external_id"]: row["item_id"] for row in service.exports.final_labels("t")}
    for person, values in ANSWERS.items():
        for k, value in enumerate(values):
            if value is not None:
                service.queue.submit("t", person, ids[f"i{k}"], [value])
    service.queue.skip("t", "cy", ids["i3"])
    with store.transaction(service.engine) as s:
        project_q.get_or_create_user(s, "rita", role="reviewer")
    service.queue.submit("t", "rita", ids["i3"], ["b"])  # the reviewer settles the disputed item
    return service


@pytest.fixture
def ui(team):
    ui = AnnotatorUI(team, project="t", refresh_every=60, auth_mode=False)
    ui.build()
    return ui


def _fmt(value: float | None, fmt: str = ".3f") -> str:
    return "–" if value is None else format(value, fmt)


def test_the_tab_shows_what_the_service_measures(ui, team):
    out = ui.team.on_refresh("t", False)
    report = team.quality.agreement("t")
    people = {p["person"]: p for p in team.team.person_stats("t")}
    headline = out[ui.team.headline]
    assert f'data-overlap-items="{report["overlap_items"]}"' in headline
    for key in ("krippendorff_alpha", "fleiss_kappa", "mean_pairwise_kappa"):
        assert f'data-measure="{key}">{_fmt(report[key])}<' in headline
    assert "by a reviewer 1" in headline and "Overlap is off" in headline

    table = out[ui.team.people_table]
    assert list(table.columns) == PEOPLE_COLUMNS
    rows = table.set_index("rater")
    assert set(rows.index) == set(people) == {"ana", "ben", "cy", "rita"}  # people only: no AI row unasked
    for name, p in people.items():
        assert rows.loc[name, "labels"] == p["labels"] and rows.loc[name, "skips"] == p["skips"]
        assert rows.loc[name, "agreement"] == _fmt(p["agreement"], ".1%")
        assert rows.loc[name, "accuracy"] == _fmt(p["accuracy"], ".1%")
    assert rows.loc["cy", "skips"] == 1 and rows.loc["rita", "role"] == "reviewer"

    pairs = out[ui.team.pairs_table]
    assert list(pairs.columns) == PAIR_COLUMNS
    expected = {(p["rater_a"], p["rater_b"]): _fmt(p["kappa"]) for p in report["pairwise"]}
    assert {(r["rater A"], r["rater B"]): r["Cohen's kappa"] for _, r in pairs.iterrows()} == expected
    labels = out[ui.team.labels_table]
    assert list(labels.columns) == LABEL_COLUMNS and list(labels["label"]) == ["a", "b", "c"]
    assert list(labels["Krippendorff's alpha"]) == [_fmt(r["krippendorff_alpha"]) for r in report["per_label"]]


def test_ai_annotators_as_raters_on_request(ui, team):
    without = ui.team.on_refresh("t", False)
    with_ai = ui.team.on_refresh("t", True)
    report = team.quality.agreement("t", include_ai=True)
    rows = with_ai[ui.team.people_table].set_index("rater")
    assert rows.loc["ai:gpt", "role"] == "AI"
    ai = next(r for r in report["per_rater"] if r["rater"] == "ai:gpt")
    assert rows.loc["ai:gpt", "agreement"] == _fmt(ai["agreement"], ".1%")
    pairs = with_ai[ui.team.pairs_table]
    assert ((pairs["rater A"] == "ai:gpt") | (pairs["rater B"] == "ai:gpt")).sum() == 3  # with ana, ben, cy
    assert f'data-measure="krippendorff_alpha">{_fmt(report["krippendorff_alpha"])}<' in with_ai[ui.team.headline]
    # A person's agreement now counts the AI among the others.
    ana = next(r for r in report["per_rater"] if r["rater"] == "ana")
    assert rows.loc["ana", "agreement"] == _fmt(ana["agreement"], ".1%")
    assert rows.loc["ana", "agreement"] != without[ui.team.people_table].set_index("rater").loc["ana", "agreement"]


def test_without_overlap_the_tab_says_why_and_still_lists_people(service):
    service.projects.create_project("solo", ["a", "b"])
    service.imports.import_records("solo", [{"text": f"t {k}"} for k in range(3)])
    item = service.queue.next_item("solo", "ana")
    service.queue.submit("solo", "ana", item.item_id, ["a"])
    ui = AnnotatorUI(service, project="solo", refresh_every=60, auth_mode=False)
    ui.build()
    out = ui.team.on_refresh("solo", False)
    assert "at least two raters" in out[ui.team.headline] and 'data-overlap-items="0"' in out[ui.team.headline]
    assert list(out[ui.team.people_table]["rater"]) == ["ana"]
    assert out[ui.team.pairs_table].empty
    assert "No project" in ui.team.on_refresh(None, False)[ui.team.status_html]


def test_an_admin_changes_the_overlap_in_the_tab(ui, team):
    out = ui.team.on_save_overlap("t", False, 0.5, 2)
    settings = team.projects.project_details("t")[2]
    assert (settings.overlap_fraction, settings.overlap_k) == (0.5, 2)
    assert (out[ui.team.fraction], out[ui.team.k]) == (0.5, 2)
    assert "50% of items get 2 answers" in out[ui.team.status_html]
    needing = team.team.required_answers("t")
    assert needing and set(needing.values()) == {2}
    for fraction, k, words in ((1.5, 3, "overlap fraction in [0, 1]"), (0.2, 2.5, "whole number"),
                               (0.2, 1, "2..20"), (None, None, "Nothing to save")):
        bad = ui.team.on_save_overlap("t", False, fraction, k)
        assert words in bad[ui.team.status_html] and set(bad) == {ui.team.status_html}
        settings = team.projects.project_details("t")[2]
        assert (settings.overlap_fraction, settings.overlap_k) == (0.5, 2)  # unchanged
    off = ui.team.on_save_overlap("t", False, 0, None)
    assert "overlap off" in off[ui.team.status_html] and team.team.required_answers("t") == {}


def test_an_admin_assigns_a_slice_and_takes_it_back(ui, team):
    ids = {row["external_id"]: row["item_id"] for row in team.exports.final_labels("t")}
    shown = ui.team.on_refresh("t", False)
    assert set(shown[ui.team.assign_people]["choices"]) == {"ana", "ben", "cy", "rita"}  # no 'import' user
    assert "No item is assigned" in shown[ui.team.assign_html]
    out = ui.team.on_assign("t", False, ["ana", "cy"], "", "item 1", False)
    assert team.team.assignments("t") == {ids["i1"]: ["ana", "cy"]}
    assert "1 matching items assigned to ana, cy" in out[ui.team.status_html]
    assert "1 items are assigned" in out[ui.team.assign_html]
    for people, query, undo, words in (([], "item 2", False, "Whom should"), (["nobody"], "", False, "No user named"),
                                       ([], "", True, "Take back which items"),
                                       (["ana"], "no such text", False, "No item matches")):
        bad = ui.team.on_assign("t", False, people, "", query, undo)
        assert words in bad[ui.team.status_html] and set(bad) == {ui.team.status_html}
    assert team.team.assignments("t") == {ids["i1"]: ["ana", "cy"]}  # unchanged by the refused ones
    back = ui.team.on_assign("t", False, [], "", "item 1", True)
    assert team.team.assignments("t") == {} and "taken back from everyone" in back[ui.team.status_html]


class _Request:
    def __init__(self, username: str):
        self.username = username


def _call_as(blocks: gr.Blocks, key: str, name: str, *args):
    fn = next(f.fn for f in blocks.fns.values() if f.fn is not None and auth.event_key(f) == key)
    token = LocalContext.request.set(_Request(name))
    try:
        return fn(*args)
    finally:
        LocalContext.request.reset(token)


def test_in_auth_mode_annotators_are_refused_and_reviewers_only_look(team):
    team.accounts.add_user("root", "admin", "root password")
    team.accounts.reset_password("ana", "ana password")  # ana answered, so her account exists (an annotator)
    assert team.accounts.get_user("ana").role == "annotator" and team.accounts.get_user("rita").role == "reviewer"
    ui = AnnotatorUI(team, project="t", refresh_every=60, auth_mode=True)
    blocks = ui.build()
    keys = set(auth.event_keys(blocks))
    assert {"team_stats", "TeamTab.on_refresh", "save_overlap", "assign_slice"} <= keys and not auth.unlisted(blocks)
    for key in ("team_stats", "TeamTab.on_refresh"):
        with pytest.raises(gr.Error, match="may not do this"):
            _call_as(blocks, key, "ana", "t", False)
        out = _call_as(blocks, key, "rita", "t", True)
        assert "ai:gpt" in set(out[ui.team.people_table]["rater"])
    with pytest.raises(gr.Error, match=r"rita \(reviewer\) may not do this \(save_overlap\)"):
        _call_as(blocks, "save_overlap", "rita", "t", False, 0.3, 3)
    with pytest.raises(gr.Error, match="may not do this"):
        _call_as(blocks, "save_overlap", "ana", "t", False, 0.3, 3)
    for name in ("ana", "rita"):
        with pytest.raises(gr.Error, match=r"may not do this \(assign_slice\)"):
            _call_as(blocks, "assign_slice", name, "t", False, [name], "", "", False)
    assert team.team.assignments("t") == {}
    assert team.projects.project_details("t")[2].overlap_fraction == 0.0
    _call_as(blocks, "save_overlap", "root", "t", False, 0.3, 3)
    assert team.projects.project_details("t")[2].overlap_fraction == 0.3
