"""simulate --out: one row per pool item with its final label, route, source, confidence and
whether it is right, agreeing with the report's own figures."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from annotator.simulate import SimulationConfig, run_simulation
from annotator.simulate.decisions import DECISION_COLUMNS, DECISION_HELP
from annotator.simulate.runner import LabelledData

TOPICS = {
    "sport": ["match", "goal", "team", "coach", "league", "score", "player", "season"],
    "food": ["recipe", "bake", "flavour", "kitchen", "dinner", "spice", "oven", "salad"],
    "tech": ["laptop", "software", "update", "battery", "screen", "app", "server", "code"],
}


def _topic_data(n_per_class: int, seed: int = 0) -> LabelledData:
    rng = np.random.default_rng(seed)
    filler = ["the", "a", "today", "really", "new", "my", "our", "great", "bad", "very", "about", "again"]
    texts, labels = [], []
    for label, words in TOPICS.items():
        for i in range(n_per_class):
            bag = list(rng.choice(words, size=3)) + list(rng.choice(filler, size=4))
            rng.shuffle(bag)
            texts.append(" ".join(bag) + f" {label[0]}{i}")
            labels.append(label)
    return LabelledData(texts=texts, labels=labels, label_names=sorted(TOPICS))


def test_decisions_file_has_a_row_per_pool_item_and_agrees_with_the_report(fake_embedder, tmp_path):
    data = _topic_data(100)
    cfg = SimulationConfig(human_budget=180, batch_size=30, seed=0, ai="knn,classifier", target_precision=0.9,
                           human_error=0.05)
    report = run_simulation(data, cfg, cache_dir=tmp_path / "cache", embedder=fake_embedder, out_dir=tmp_path / "out")
    files = report["decisions"]
    frame = pd.read_csv(files["csv"], keep_default_na=False, na_values=[""])
    rows = [json.loads(line) for line in open(files["jsonl"], encoding="utf-8")]
    assert list(frame.columns) == DECISION_COLUMNS == list(rows[0]) and set(DECISION_HELP) == set(DECISION_COLUMNS)
    assert len(frame) == len(rows) == report["pool_size"] == files["rows"]
    assert frame["item_id"].is_unique

    labelled = frame[frame["final_label"].notna()]
    assert len(labelled) == report["human_labels"] + report["auto_labels"]  # an audit is a person's label
    right = labelled["right"].astype(bool)
    assert right.mean() == pytest.approx(report["final_label_accuracy"], abs=1e-4)
    assert (right == (labelled["final_label"] == labelled["gold_label"])).all()
    assert frame.loc[frame["final_label"].isna(), "right"].isna().all()
    assert sum(r["right"] is None for r in rows) == len(frame) - len(labelled)  # JSON null, never NaN

    auto = frame[frame["route"] == "auto"]
    assert len(auto) == report["auto_labels"] > 0  # the AI took some items
    assert (auto["source_kind"] == "model").all() and auto["source"].str.startswith("ensemble(").all()
    assert auto["confidence"].between(0, 1).all()
    assert auto["right"].astype(bool).mean() == pytest.approx(report["auto_label_precision"], abs=1e-4)
    people = labelled[labelled["source_kind"] == "person"]
    assert (people["source"] == "simulated-person").all() and people["confidence"].isna().all()
    assert set(people["route"]) - {"auto"} == set(people["route"])
    assert (~people["right"].astype(bool)).any()  # the simulated person slips (human_error), and the file shows it
    assert frame["ai_label"].notna().any() and frame.loc[frame["ai_label"].notna(), "ai_confidence"].between(0, 1).all()


def test_cli_help_documents_out_and_rejects_it_for_preferences(tmp_path):
    from annotator.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["simulate", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "--out" in result.output and "final_label" in result.output
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text('{"prompt": "p", "response_a": "a", "response_b": "b", "better": "A"}\n')
    result = runner.invoke(app, ["simulate", str(pairs), "--task", "preference", "--out", str(tmp_path / "o")])
    assert result.exit_code != 0 and "classification runs only" in str(result.exception or result.output)
