"""The page's HTML fragments escape everything a user or a file supplied."""

from __future__ import annotations

from annotator.ui import render
from annotator.ui.keyboard import HEAD, KEYBOARD_JS

EVIL = '<img src=x onerror=alert(1)>"\'&'


def test_every_fragment_escapes_user_values():
    fragments = [
        render.item_card(1, EVIL),
        render.metadata_chips(1, EVIL, {EVIL: EVIL, "nested": {"k": EVIL}}),
        render.why_line(EVIL, 0.5, 2, route="verify"),
        render.suggestion_box(EVIL, [EVIL], 0.7, preselected=True),
        render.progress_panel(3, 1, {EVIL: 1}, {EVIL: 1}),
        render.hotkey_help([(EVIL, "1")], multi_label=False),
        render.hotkey_line([(EVIL, "<")], multi_label=True),
        render.error_box(f"What {EVIL}\nExpected: {EVIL}\nFix: {EVIL}"),
        render.note_box(EVIL),
        render.verify_banner(EVIL, [EVIL], 0.9),
        render.thresholds_table({EVIL: 0.9, "b": None}),
    ]
    for html in fragments:
        assert "<img" not in html and "onerror=alert(1)>" not in html.replace("&gt;", ""), html
        assert "&lt;img" in html or "&lt;" in html, html


def test_item_card_keeps_text_verbatim_for_the_browser():
    html = render.item_card(7, "line one\n  line two ${x} {{y}}")
    assert 'data-item-id="7"' in html and "line one\n  line two ${x} {{y}}" in html  # pre-wrap keeps it
    assert 'data-item-id="none"' in render.item_card(None, None, empty_message="done")


def test_captions_carry_the_hotkey_for_the_keyboard_script():
    assert render.caption("billing", "1") == f"1{render.HOTKEY_SEP}billing"
    assert render.caption("other", None) == "other"
    assert render.HOTKEY_SEP in KEYBOARD_JS and "__SEP__" not in KEYBOARD_JS
    assert HEAD.startswith("<script>") and "keydown" in HEAD


def test_progress_panel_counts_and_model_state():
    html = render.progress_panel(40, 10, {"a": 6, "b": 4}, {"ana": 7, "ben": 3}, model_version=2, refitting=True)
    assert 'data-labelled="10"' in html and "/ 40 labelled" in html and "(25%)" in html
    assert "model v2 · refitting" in html and html.index("ana") < html.index("ben")


def test_audit_and_blind_items_do_not_hint_at_the_ai():
    assert "AI" in render.why_line("margin", 0.4, 1, route="verify")
    for route in ("audit", "blind"):
        line = render.why_line("audit", 0.4, 1, route=route)
        assert "AI" not in line and "route" not in line


def test_verify_banner_route_cards_and_audit_line():
    banner = render.verify_banner("ensemble(knn+zero-shot)@knn:1|zero-shot:1", ["billing"], 0.934)
    assert "AI suggests:" in banner and "billing" in banner and "(0.93)" in banner and "press its key" in banner
    assert "suggested by ensemble(knn+zero-shot)" in banner and "knn:1" not in banner
    assert render.verify_banner("x", None, 0.5) == ""
    assert "AI suggestion to verify" in render.why_line("margin", 0.4, 1, route="verify")

    cards = render.route_cards({"auto": 120, "audit": 10, "verify": 30, "blind": 40}, labelled=150, unrouted=0)
    assert [name for name in ("auto", "audit", "verify", "blind") if f'data-route="{name}"' in cards] == \
        ["auto", "audit", "verify", "blind"]
    assert 'data-count="120"' in cards and "150 labelled by people" in cards and "not routed" not in cards
    assert "5 not routed yet" in render.route_cards({}, labelled=0, unrouted=5)

    line = render.audit_line(0.96, 0.912, 0.988, 25, target=0.95)
    assert "auto-label precision <b>96.0 %</b> [91.2–98.8], 25 audits" in line and "ann-audit-open" in line
    assert "ann-audit-ok" in render.audit_line(1.0, 0.96, 1.0, 90, target=0.95)
    assert "below the 95.0 % target" in render.audit_line(0.8, 0.7, 0.9, 40, target=0.95)
    assert "no audits answered yet" in render.audit_line(None, None, None, 0, target=0.95, pending=3)
    assert "3 audit items wait" in render.audit_line(None, None, None, 0, target=0.95, pending=3)

    est = render.ai_estimate(1200, 300, cheap_seconds=0.4, llm_seconds=750.0)
    assert "~1,200" in est and "under a second" in est and "~12 min" in est and "0.5 s per item" in est
    assert [render.duration(s) for s in (0.2, 4, 150, 7200)] == ["under a second", "~4 s", "~2 min", "~2.0 h"]
