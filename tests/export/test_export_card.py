"""The dataset card shows label and people's names as text: a pipe cannot break its tables and
HTML in a name is escaped, not run."""

from __future__ import annotations

from annotator.export.card import CardStats, md_text, render_card


def test_names_are_inert_in_the_card():
    stats = CardStats(project_name="p <b>x</b>", labels=["a|b", "<img src=x onerror=alert(1)>"], multi_label=False,
                      fmt="jsonl")
    stats.add_rows([{"label": ["a|b"], "label_source": "human", "annotator": "eve|<script>", "route": "manual",
                     "settled_by": "single", "verified": True}])
    card = render_card(stats, {})
    assert "<img" not in card and "<script>" not in card and "<b>" not in card
    assert "| a\\|b | 1 |" in card and "&lt;img src=x onerror=alert(1)&gt;" in card
    for line in card.splitlines():
        if line.startswith("| ") and "---" not in line:
            assert line.replace("\\|", "").count("|") in (4, 5, 7), line  # every table row keeps its columns


def test_md_text_keeps_plain_names():
    assert md_text("billing") == "billing" and md_text("zero-shot@1") == "zero-shot@1"
    assert md_text("two\nlines") == "two lines"
