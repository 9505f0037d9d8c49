"""The AI tab and the routed label page without a browser: run the AI annotators on a project
that people have labelled, read routes, thresholds, calibration and the reliability diagram, and
see a verify item's suggestion (and nothing of the AI on blind and audit items)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from ai_data import CHEAP, LABELS, make_project, route_counts, tickets
from annotator.ui import AnnotatorUI


@pytest.fixture
def ui(ui_service) -> AnnotatorUI:
    ui = AnnotatorUI(ui_service)
    ui.build()
    return ui


@pytest.fixture
def routed(ui, ui_service) -> tuple[dict, dict[int, str]]:
    """A project with 150 human labels, after one run of the cheap annotators through the AI tab."""
    gold = make_project(ui_service, "tickets", labelled=150)
    ui._on_page_load(None, "ana")
    out = ui.ai.on_run("tickets", CHEAP, 0.95, 0.05)
    return out, gold


def _answer_inputs(out: dict, ui: AnnotatorUI) -> list:
    return ["tickets", "ana", out[ui.label.item_state], LABELS, False, False, "", False]


# ------------------------------------------------------------------ the tab
def test_ai_tab_builds_with_its_events_and_the_projects_settings(ui, ui_service):
    fns = {fn.api_name: fn for fn in ui.blocks.fns.values() if fn.api_name}
    assert {"run_ai", "save_ai_settings"} <= set(fns)
    tabs = [b for b in ui.blocks.blocks.values() if type(b).__name__ == "Tab"]
    labels = [t.label for t in tabs]
    assert labels[:5] == ["Label", "Browse", "AI", "New project", "Export"]  # the single-user tabs come first
    assert {"Review", "Admin", "Dashboard", "Jobs", "Post-training"} <= set(labels[5:])
    choices = [value for _, value in ui.ai.ai_annotators.choices]
    assert choices == ["classifier", "knn", "zero-shot", "llm-probe", "llm-local", "llm-endpoint"]
    assert ui.ai.ai_annotators.value == CHEAP
    assert "slow on CPU" in dict((v, k) for k, v in ui.ai.ai_annotators.choices)["llm-local"]

    ui_service.projects.create_project("tickets", LABELS, settings={"target_precision": 0.97, "audit_fraction": 0.1})
    ui_service.imports.import_records("tickets", [{"text": r["text"]} for r in tickets(40)])
    out = ui._on_page_load(None, "ana")
    assert out[ui.ai.ai_target] == 0.97 and out[ui.ai.ai_audit_fraction] == 0.1
    assert "~40" in out[ui.ai.ai_estimate] and "cheap annotators" in out[ui.ai.ai_estimate]
    assert "llm-local" in out[ui.ai.ai_estimate] and "~20 s" in out[ui.ai.ai_estimate]  # 40 items × 0.5 s
    assert route_counts(out[ui.ai.ai_routes]) == {"auto": 0, "audit": 0, "verify": 0, "blind": 0}
    assert "40 not routed yet" in out[ui.ai.ai_routes]
    assert "no audits answered yet" in out[ui.ai.ai_audit]
    assert ui.ai.ai_plot in out and out[ui.ai.ai_plot] is None  # a project switch clears the last run's results


def test_saving_the_policy_updates_the_project(ui, ui_service):
    ui_service.projects.create_project("tickets", LABELS)
    ui_service.imports.import_records("tickets", [{"text": r["text"]} for r in tickets(12)])
    out = ui.ai.on_save("tickets", 0.98, 0.1)
    assert "Saved" in out[ui.ai.status_html] and out[ui.ai.ai_target] == 0.98
    settings = ui_service.projects.project_details("tickets")[2]
    assert settings.target_precision == 0.98 and settings.audit_fraction == 0.1
    assert "Nothing changed" in ui.ai.on_save("tickets", 0.98, 0.1)[ui.ai.status_html]


# ------------------------------------------------------------------ a run
def test_run_fills_routes_thresholds_calibration_and_the_reliability_diagram(ui, ui_service, routed):
    import plotly.graph_objects as go

    out, _ = routed
    assert 'class="ann-error"' not in out[ui.ai.status_html] and "Routed 180 items" in out[ui.ai.status_html]
    counts = route_counts(out[ui.ai.ai_routes])
    assert sum(counts.values()) == 180 and counts == ui_service.queue.pool("tickets").route_counts()
    assert counts["auto"] > 0 and counts["audit"] >= 10 and counts["verify"] > 0
    assert "150 labelled by people" in out[ui.ai.ai_routes] and "not routed" not in out[ui.ai.ai_routes]

    table = out[ui.ai.ai_calibration]
    assert list(table.columns) == ["annotator", "temperature", "OOF accuracy", "ECE raw → calibrated"]
    assert list(table["annotator"]) == [*CHEAP, "ensemble (fused)"]
    knn = table.iloc[0]
    assert float(knn["temperature"]) > 0 and knn["OOF accuracy"].endswith("%")
    assert re.fullmatch(r"\d\.\d{3} → \d\.\d{3}", knn["ECE raw → calibrated"])

    for label in LABELS:
        assert label in out[ui.ai.ai_thresholds]
    assert "confidence ≥" in out[ui.ai.ai_thresholds]

    fig = out[ui.ai.ai_plot]
    assert isinstance(fig, go.Figure)
    names = [trace.name for trace in fig.data]
    assert names[0] == "perfect calibration" and list(fig.data[0].x) == [0, 1] and list(fig.data[0].y) == [0, 1]
    assert set(names[1:]) == {*CHEAP, "ensemble (fused)"}
    assert all(0 <= y <= 1 for trace in fig.data[1:] for y in trace.y)

    assert "no audits answered yet" in out[ui.ai.ai_audit] and f"{counts['audit']} audit items wait" in out[ui.ai.ai_audit]


def test_answered_audits_give_the_precision_estimate(ui, ui_service, routed):
    _, gold = routed
    for _ in range(10):  # audits are served first, with the AI label hidden
        item = ui_service.queue.next_item("tickets", "ben")
        assert item.route == "audit" and item.suggestion is None
        ui_service.queue.submit("tickets", "ben", item.item_id, [gold[item.item_id]])
    line = ui.ai.on_open("tickets")[ui.ai.ai_audit]
    estimate = ui_service.ai.audit_estimate("tickets")
    assert estimate.audits == 10
    expected = (f"auto-label precision <b>{100 * estimate.value:.1f} %</b> "
                f"[{100 * estimate.ci_low:.1f}–{100 * estimate.ci_high:.1f}], 10 audits")
    assert expected in line


def test_a_project_with_one_labelled_class_gets_a_clear_error(ui, ui_service):
    make_project(ui_service, "one-class", labelled=90, classes=["billing"])
    out = ui.ai.on_run("one-class", CHEAP, 0.95, 0.05)
    assert 'class="ann-error"' in out[ui.ai.status_html] and "at least two classes" in out[ui.ai.status_html]
    assert "label a few items of each class" in out[ui.ai.status_html]
    assert set(out) == {ui.ai.status_html}  # nothing else changes, nothing was routed
    assert sum(ui_service.queue.pool("one-class").route_counts().values()) == 0


def test_no_annotator_or_no_project_is_explained(ui, ui_service):
    assert "No AI annotator selected" in ui.ai.on_run("x", [], 0.95, 0.05)[ui.ai.status_html]
    assert "No project" in ui.ai.on_run(None, CHEAP, 0.95, 0.05)[ui.ai.status_html]


# ------------------------------------------------------------------ the label page after a run
def test_verify_item_shows_the_suggestion_and_enter_accepts_it(ui, ui_service, routed):
    _, gold = routed
    shown = ui.label.on_rerouted("tickets", "ana", LABELS, False, False)
    # Audits come first: nothing about the AI shows before the answer.
    for _ in range(40):
        if shown[ui.label.item_state] is None or ui_service.queue.pool("tickets").route_of(shown[ui.label.item_state]) == "verify":
            break
        assert "AI" not in shown[ui.label.details_html] and "AI" not in shown[ui.label.why_html]
        assert shown[ui.label.selected_state] == []
        index = LABELS.index(gold[shown[ui.label.item_state]])
        shown = ui.label.label_handler(index)(*_answer_inputs(shown, ui))
    item_id = shown[ui.label.item_state]
    assert item_id is not None and ui_service.queue.pool("tickets").route_of(item_id) == "verify"
    assert "AI suggests:" in shown[ui.label.details_html] and "press its key" in shown[ui.label.details_html]
    assert re.search(r"\(0\.\d\d\)", shown[ui.label.details_html])
    assert "AI suggestion to verify" in shown[ui.label.why_html]
    suggested = shown[ui.label.selected_state]
    assert len(suggested) == 1 and suggested[0] in LABELS  # pre-selected: Enter accepts it
    assert shown[ui.label.label_buttons[LABELS.index(suggested[0])]]["variant"] == "primary"

    ui.label.on_submit(*_answer_inputs(shown, ui), shown[ui.label.selected_state], [])
    row = next(r for r in ui_service.exports.final_labels("tickets") if r["item_id"] == item_id)
    assert row["label"] == suggested and row["route"] == "verify"


def test_blind_and_audit_answers_reveal_the_ai_label_only_afterwards(ui, ui_service, routed):
    _, gold = routed
    suggested = {r["item_id"]: r["suggestion"] for r in ui_service.browse.browse("tickets", page_size=500).rows}
    shown = ui.label.on_rerouted("tickets", "ana", LABELS, False, False)
    assert "ann-reveal" not in shown[ui.label.status_html]  # nothing answered yet: nothing to reveal
    seen: dict[str, int] = {}
    for _ in range(60):
        item_id = shown[ui.label.item_state]
        route = ui_service.queue.pool("tickets").route_of(item_id)
        seen[route] = seen.get(route, 0) + 1
        ai = suggested[item_id][0]
        if route in ("audit", "blind"):  # the AI label exists, but the page shows none of it
            assert "AI" not in shown[ui.label.details_html] and "AI" not in shown[ui.label.why_html]
            assert f'data-item-id="{item_id}"' not in shown[ui.label.status_html]
        # Every other blind / audit answer disagrees with the AI, so both verdicts show.
        answer = gold[item_id]
        if route != "verify" and seen[route] % 2 == 0:
            answer = next(lab for lab in LABELS if lab != ai)
        shown = ui.label.label_handler(LABELS.index(answer))(*_answer_inputs(shown, ui))
        status = shown[ui.label.status_html]
        if route in ("audit", "blind"):
            assert f'class="ann-note ann-reveal" data-item-id="{item_id}"' in status
            assert f"AI had suggested <b>{ai}</b> (" in status and f"you said <b>{answer}</b>" in status
            assert ("same answer" in status) == (answer == ai)
            assert re.search(r"\(\d\.\d\d\)", status)
        else:
            assert "ann-reveal" not in status  # a verify item showed its suggestion before the answer
        if seen.get("blind") and seen.get("verify") or shown[ui.label.item_state] is None:
            break
    assert seen.get("audit", 0) >= 2 and seen.get("blind") and seen.get("verify")
    routes = {r["route"] for r in ui_service.exports.final_labels("tickets") if r["annotator"] == "ana"}
    assert {"audit", "blind", "verify"} <= routes


def test_reveal_line_escapes_and_is_empty_without_a_suggestion():
    from annotator.ui import render

    line = render.reveal_line(7, ["<b>x</b>"], 0.871, ["a&b"])
    assert "&lt;b&gt;x&lt;/b&gt;" in line and "a&amp;b" in line and "<b>x</b>" not in line
    assert "(0.87)" in line and 'data-item-id="7"' in line and 'data-agree="false"' in line
    assert 'data-agree="true"' in render.reveal_line(7, ["bug"], None, ["bug"])
    assert render.reveal_line(7, [], 0.5, ["bug"]) == "" and render.reveal_line(7, None, 0.5, ["bug"]) == ""


def test_verify_banner_escapes_and_blind_items_say_nothing(ui):
    from annotator.core.schema import QueuedItem, SuggestionView

    evil = "<img src=x onerror=alert(1)>"
    sugg = SuggestionView(agent=f"ensemble({evil})@v1", value=["bug"], score=0.934)
    verify = ui.label.item_view(QueuedItem(item_id=1, text="x", strategy="margin", score=0.2, route="verify",
                                      suggestion=sugg), LABELS, False, False)
    assert "AI suggests:" in verify[ui.label.details_html] and "(0.93)" in verify[ui.label.details_html]
    assert "<img" not in verify[ui.label.details_html] and "@v1" not in verify[ui.label.details_html]
    assert verify[ui.label.selected_state] == ["bug"]
    blind = ui.label.item_view(QueuedItem(item_id=2, text="y", strategy="margin", route="blind"), LABELS, False, False)
    assert "AI" not in blind[ui.label.details_html] and "AI" not in blind[ui.label.why_html] and blind[ui.label.selected_state] == []


def test_calibration_frame_handles_the_ensemble_row():
    from annotator.ui.tabs.ai import calibration_frame

    frame = calibration_frame({"knn": {"temperature": 0.5, "oof_accuracy": 0.9, "ece_raw": 0.2, "ece_calibrated": 0.05},
                               "ensemble": {"oof_accuracy": 0.95, "ece_calibrated": 0.01}})
    assert frame.to_dict("records") == [
        {"annotator": "knn", "temperature": "0.50", "OOF accuracy": "90.0%", "ECE raw → calibrated": "0.200 → 0.050"},
        {"annotator": "ensemble (fused)", "temperature": "—", "OOF accuracy": "95.0%",
         "ECE raw → calibrated": "— → 0.010"},
    ]
    assert isinstance(frame, pd.DataFrame)


def test_run_shows_which_fusion_rule_made_the_score(ui, routed):
    out, _ = routed
    html = out[ui.ai.ai_thresholds]
    assert "Fused score:" in html and "out-of-fold log loss" in html
    chosen = re.search(r'data-choice="(\w+)"', html).group(1)
    assert chosen in {"best", "mean", "stacker"} and f'data-rule="{chosen}" data-chosen="1"' in html
    assert "confidence ≥" in html  # the thresholds follow, for the chosen rule's score


# ------------------------------------------------------------------ the dataset-accuracy target
def _random_labelled(service, name: str, n: int = 150) -> None:  # noqa: ANN001
    """``name`` with ``n`` tickets labelled through the queue, half of its picks random (the
    calibration slice the dataset-accuracy estimate is measured on)."""
    rows = tickets(300)
    gold = {r["external_id"]: r["gold"] for r in rows}
    service.projects.create_project(name, LABELS, settings={"refit_every": 1000, "explore_fraction": 0.5})
    service.imports.import_records(name, [{"text": r["text"], "external_id": r["external_id"]} for r in rows])
    for k in range(n):
        if k and k % 30 == 0:
            service.queue.refit_now(name)
        item = service.queue.next_item(name, "ana")
        service.queue.submit(name, "ana", item.item_id, [gold[item.external_id]])


def test_target_accuracy_field_shows_saves_checks_and_turns_off(ui, ui_service):
    ui_service.projects.create_project("tickets", LABELS, settings={"target_accuracy": 0.9})
    ui_service.imports.import_records("tickets", [{"text": r["text"]} for r in tickets(12)])
    out = ui._on_page_load(None, "ana")
    assert out[ui.ai.ai_target_accuracy] == 0.9
    assert "no AI run has recorded one" in out[ui.ai.ai_dataset] and 'data-state="none"' in out[ui.ai.ai_dataset]

    saved = ui.ai.on_save("tickets", 0.95, 0.05, 0.97)
    assert "target dataset accuracy 97.0%" in saved[ui.ai.status_html] and saved[ui.ai.ai_target_accuracy] == 0.97
    assert ui_service.projects.project_details("tickets")[2].target_accuracy == 0.97
    assert "Nothing changed" in ui.ai.on_save("tickets", 0.95, 0.05, 0.97)[ui.ai.status_html]
    assert "Nothing changed" in ui.ai.on_save("tickets", 0.95, 0.05)[ui.ai.status_html]  # no field: kept
    for bad in (1.0, 0.5, 1.2, 95):
        refused = ui.ai.on_save("tickets", 0.95, 0.05, bad)
        assert 'class="ann-error"' in refused[ui.ai.status_html]
        assert "strictly between 0.5 and 1" in refused[ui.ai.status_html]
        assert ui_service.projects.project_details("tickets")[2].target_accuracy == 0.97  # nothing saved
    off = ui.ai.on_save("tickets", 0.95, 0.05, None)  # the field emptied
    assert "target dataset accuracy off" in off[ui.ai.status_html] and off[ui.ai.ai_target_accuracy] is None
    assert ui_service.projects.project_details("tickets")[2].target_accuracy is None


def test_dataset_bound_and_background_finetune_show_save_and_refuse_bad_input(ui, ui_service):
    ui_service.projects.create_project("tickets", LABELS, settings={"finetune_every": 150})
    ui_service.imports.import_records("tickets", [{"text": r["text"]} for r in tickets(12)])
    out = ui._on_page_load(None, "ana")
    assert out[ui.ai.ai_dataset_bound] == "anytime" and out[ui.ai.ai_finetune_every] == 150
    saved = ui.ai.on_save("tickets", 0.95, 0.05, None, "clopper-pearson", 200)
    assert "(clopper-pearson bound), background fine-tune every 200 new labels" in saved[ui.ai.status_html]
    assert saved[ui.ai.ai_dataset_bound] == "clopper-pearson" and saved[ui.ai.ai_finetune_every] == 200
    settings = ui_service.projects.project_details("tickets")[2]
    assert (settings.dataset_bound, settings.finetune_every) == ("clopper-pearson", 200)
    assert "Nothing changed" in ui.ai.on_save("tickets", 0.95, 0.05, None, "clopper-pearson", 200.0)[
        ui.ai.status_html]
    for bad in (-5, 2.5, "many", float("inf"), float("nan")):
        refused = ui.ai.on_save("tickets", 0.95, 0.05, None, "clopper-pearson", bad)
        assert 'class="ann-error"' in refused[ui.ai.status_html] and "whole number of new labels" in \
            refused[ui.ai.status_html]
    assert ui_service.projects.project_details("tickets")[2].finetune_every == 200  # nothing saved
    off = ui.ai.on_save("tickets", 0.95, 0.05, None, "anytime", None)
    assert "background fine-tune off" in off[ui.ai.status_html]
    assert ui_service.projects.project_details("tickets")[2].finetune_every == 0


def test_run_with_a_target_accuracy_states_the_estimate_and_its_interval(ui, ui_service):
    _random_labelled(ui_service, "rand")
    out = ui.ai.on_run("rand", ["knn"], 0.95, 0.05, 0.95)
    assert 'class="ann-error"' not in out[ui.ai.status_html]
    assert out[ui.ai.ai_target_accuracy] == 0.95 and ui_service.projects.project_details("rand")[2].target_accuracy == 0.95
    est = ui_service.ai.dataset_accuracy("rand")
    assert est["target"] == 0.95 and est["measured_on"] > 0 and est["auto"] > 0 and est["value"] is not None
    line = out[ui.ai.ai_dataset]
    assert (f"Estimated dataset accuracy {est['value']:.3f} (95 % interval {est['ci_low']:.3f}–{est['ci_high']:.3f}, "
            f"from {est['measured_on']} random human-labelled items") in line
    assert "target 0.95)" in line and f'data-value="{est["value"]}"' in line
    state = "ok" if est["ci_low"] >= 0.95 else "low" if est["ci_high"] < 0.95 else "open"
    assert f'data-state="{state}"' in line
    assert "Fused score:" in out[ui.ai.ai_thresholds]  # beside the fused rule's record of the same run
    assert ui.ai.on_open("rand")[ui.ai.ai_dataset] == line  # the tab shows it again when opened


def test_run_without_random_labels_says_why_there_is_no_estimate(ui, routed):
    out, _ = routed  # bulk labels: none of them a random pick
    line = out[ui.ai.ai_dataset]
    assert "No estimate of the dataset accuracy: none of the random human-labelled items falls where" in line
    assert "no target set" in line and 'data-state="none"' in line


def test_dataset_accuracy_line_marks_the_target_and_escapes():
    from annotator.ui import render

    est = {"value": 0.968, "ci_low": 0.944, "ci_high": 0.984, "human": 1200, "auto": 561, "human_accuracy": 1.0,
           "confidence": 0.95, "measured_on": 120, "target": 0.95}
    assert 'data-state="open"' in render.dataset_accuracy_line(est)
    assert 'data-state="ok"' in render.dataset_accuracy_line({**est, "target": 0.9})
    assert 'data-state="low"' in render.dataset_accuracy_line({**est, "target": 0.99})
    assert 'data-state="none"' in render.dataset_accuracy_line({**est, "target": None})
    line = render.dataset_accuracy_line(est)
    assert "0.968 (95 % interval 0.944–0.984, from 120 random human-labelled items; 1,200 people&#x27;s" in line
