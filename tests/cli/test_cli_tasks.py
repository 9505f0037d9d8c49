"""The post-training commands: init --task, import of the demo files, judge (routed), export dpo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from annotator.cli import app
from annotator.core.config import Settings
from annotator.core.errors import ValidationError
from annotator.llm.pairwise import KnownAnswerScorer
from annotator.service import AnnotatorService
from annotator.service.tasks import TasksService
from annotator.tasks.demo_pairs import preference_pairs

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _invoke(*args: str, data_dir: Path) -> str:
    result = runner.invoke(app, [*args, "--data-dir", str(data_dir)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_preference_project_from_the_readme_commands(tmp_path, monkeypatch):
    data = tmp_path / "d"
    assert "A [1], B [2], tie [3], both-bad [4]" in _invoke("init", "prefs", "--task", "preference", data_dir=data)
    out = _invoke("import", str(ROOT / "assets/demo/preferences.jsonl"), "--project", "prefs", "--text-column",
                  "prompt", data_dir=data)
    imported = json.loads(out)
    # The demo set repeats some questions with the same answers (a "(question N)" suffix): those are
    # dropped as near-duplicates on import, each reported with the item it repeats.
    assert imported["rows_read"] == 60 and imported["near_duplicate_threshold"] == 0.95
    assert imported["near_duplicates_dropped"] >= 1
    assert imported["items_added"] + imported["near_duplicates_dropped"] == 60
    for dup in imported["near_duplicates"]:
        assert dup["text"].split(" (question")[0] == dup["duplicate_of_text"].split(" (question")[0]
        assert dup["similarity"] >= 0.95
    truth = {p["prompt"]: p for p in preference_pairs(60, 0)}  # the demo file is this set, gold left out
    service = AnnotatorService.from_settings(Settings(data_dir=data))
    try:
        for _ in range(30):
            view = service.tasks.next_task("prefs", "ana")
            pair = truth[view.prompt]
            good = pair["response_a"] if pair["better"] == "A" else pair["response_b"]
            service.tasks.submit_task("prefs", "ana", view.item_id, choice="left" if view.left == good else "right")
    finally:
        service.close()
    good = {p["response_a"] if p["better"] == "A" else p["response_b"] for p in truth.values()}
    monkeypatch.setattr(TasksService, "option_scorer", lambda self, name, progress=None: KnownAnswerScorer(good))
    report = json.loads(_invoke("judge", "--project", "prefs", "--target-precision", "0.85", "--audit-fraction", "0.1",
                                data_dir=data))
    assert report["agent"] == "ensemble(llm-judge)" and report["routes"]["auto"] > 0
    out = _invoke("export", "--project", "prefs", "--format", "dpo", "--out", str(tmp_path / "dpo"), data_dir=data)
    rows = [json.loads(line) for line in (tmp_path / "dpo" / "data.jsonl").read_text().splitlines()]
    assert f"Wrote {len(rows)} rows" in out and len(rows) == 30 + report["routes"]["auto"] + report["routes"]["audit"]
    assert all(r["chosen"] in good and r["rejected"] not in good for r in rows)
    assert {r["decided_by"].split("@")[0] for r in rows} == {"ana", "ensemble(llm-judge)"}


def test_task_flags_are_checked(tmp_path):
    data = tmp_path / "d"
    with pytest.raises(ValidationError, match="Bad --scale"):
        _invoke("init", "r", "--task", "rating", "--scale", "5-1", data_dir=data)
    assert "helpfulness [1], correctness [2]" in _invoke("init", "r", "--task", "rating", data_dir=data)
    _invoke("init", "f", "--task", "correction", data_dir=data)
    with pytest.raises(ValidationError, match="score preference and rating projects"):
        _invoke("judge", "--project", "f", data_dir=data)
    with pytest.raises(ValidationError, match="at least one label"):  # classification still needs labels
        _invoke("init", "c", data_dir=data)
