"""`python -m annotator agreement`: the table, --json, --include-ai, and a clear exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from annotator.cli import app
from annotator.core.config import Settings
from annotator.embeddings import HashingEmbedder
from annotator.service import AnnotatorService

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _project(data_dir: Path, *, people: dict[str, list[str]]) -> None:
    svc = AnnotatorService.from_settings(Settings(data_dir=data_dir, demo=False), embedder=HashingEmbedder())
    try:
        svc.projects.create_project("t", ["a", "b"])
        svc.imports.import_records("t", [{"text": f"item {k}", "external_id": f"i{k}", "labels": ["a"]} for k in range(4)],
                           labels_as="suggestion", agent="gpt")
        ids = {row["external_id"]: row["item_id"] for row in svc.exports.final_labels("t")}
        for person, values in people.items():
            for k, value in enumerate(values):
                svc.queue.submit("t", person, ids[f"i{k}"], [value])
    finally:
        svc.close()


def test_agreement_prints_a_table_and_json(tmp_path):
    data = tmp_path / "d"
    _project(data, people={"ana": ["a", "b", "a", "b"], "ben": ["a", "b", "b", "b"]})
    result = runner.invoke(app, ["agreement", "--project", "t", "--data-dir", str(data)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "t: 4 items answered by 2+ of 2 raters (ana, ben)" in result.output
    assert "Mean pairwise Cohen's kappa: 0.500" in result.output  # po 3/4, pe 1/2
    assert "ana / ben\t4\t0.500\t0.750" in result.output
    result = runner.invoke(app, ["agreement", "-p", "t", "--include-ai", "--json", "--data-dir", str(data)],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["raters"] == ["ana", "ben", "ai:gpt"] and report["rater_kinds"]["ai:gpt"] == "ai"


def test_agreement_help_has_an_example():
    result = runner.invoke(app, ["agreement", "--help"])
    assert result.exit_code == 0 and "Example" in result.output and "--include-ai" in result.output


def test_agreement_with_one_person_exits_2_with_a_message(tmp_path):
    data = tmp_path / "d"
    _project(data, people={"ana": ["a", "b", "a", "b"]})
    result = subprocess.run(
        [sys.executable, "-m", "annotator", "agreement", "--project", "t", "--data-dir", str(data)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 2, result.stderr
    assert "Agreement needs at least two raters" in result.stderr and "Traceback" not in result.stderr
