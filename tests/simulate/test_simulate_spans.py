"""simulate --task spans: the manual arm counts every gold span as a human edit; a suggester that is
partly right saves the edits of its right spans and costs the deletion of its wrong ones."""

from __future__ import annotations

import json

import pytest

from annotator.core.errors import ValidationError
from annotator.simulate.spans import SpanSimConfig, load_span_gold, simulate_spans
from annotator.spans import Span

NAMES = ["Ada", "Alan", "Grace", "Marie", "Tim", "Linus", "Barbara", "Edsger", "Donald", "Frances"]
CITIES = ["London", "Paris", "Berlin", "Rome", "Oslo"]


def _gold(tmp_path, n=40):
    rows = []
    for k in range(n):
        name, city = NAMES[k % len(NAMES)], CITIES[k % len(CITIES)]
        text = f"{name} moved to {city} in year {k}."
        rows.append({"text": text, "spans": [[0, len(name), "PER"], [text.index(city), text.index(city) + len(city),
                                                                      "LOC"]]})
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


class FirstWordSuggester:
    """Marks the first word PER (right) and the last word LOC (wrong: it is the year)."""

    agent = "first-word"

    def suggest(self, texts):
        out = []
        for t in texts:
            last = t.rstrip(".").rsplit(" ", 1)[1]
            out.append([Span(0, t.index(" "), "PER"), Span(t.rindex(last), t.rindex(last) + len(last), "LOC")])
        return out


def test_span_simulation_counts_human_edits_with_and_without_a_suggester(tmp_path):
    gold = load_span_gold(_gold(tmp_path))
    assert gold.labels == ["LOC", "PER"]
    cfg = SpanSimConfig(human_budget=20, batch_size=5, test_fraction=0.25, target_f1=0.5)
    report = simulate_spans(gold, cfg, [0], FirstWordSuggester(), gold_note="built in the test")
    manual, suggested = report["arms"]["manual"], report["arms"]["first-word"]
    assert manual["items_labelled"] == suggested["items_labelled"] == 20
    assert manual["span_edits"] == manual["gold_spans"] == 40  # every gold span drawn by hand
    # each item: the PER span kept, the wrong LOC deleted, the city drawn: 2 edits, as without help
    assert suggested["span_edits"] == 40 and suggested["items_unchanged"] == 0
    assert report["human_labels_saved"] == 0.0
    run = next(r for r in report["runs"] if r["arm"] == "first-word")
    assert run["suggester"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    assert [p["items"] for p in run["curve"]] == [5, 10, 15, 20]
    assert manual["final_test_f1"] is not None and manual["final_test_f1"] > 0.5  # the tagger learns the pattern
    assert report["gold_note"] == "built in the test"


def test_a_file_without_spans_is_refused(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"text": "no spans"}\n', encoding="utf-8")
    with pytest.raises(ValidationError, match="no gold spans"):
        load_span_gold(path)
