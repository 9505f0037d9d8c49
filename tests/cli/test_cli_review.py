"""`python -m annotator review`: counts by reason, the top items, --json, and a clear error for a
project that does not exist."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from annotator.cli import app
from annotator.core.config import Settings
from annotator.embeddings import HashingEmbedder
from annotator.service import AnnotatorService

runner = CliRunner()


def _project(data_dir: Path) -> dict[str, int]:
    svc = AnnotatorService.from_settings(Settings(data_dir=data_dir, demo=False), embedder=HashingEmbedder())
    try:
        svc.projects.create_project("t", ["a", "b"])
        svc.imports.import_records("t", [{"text": f"item {k}", "external_id": f"i{k}"} for k in range(4)])
        ids = {row["external_id"]: row["item_id"] for row in svc.exports.final_labels("t")}
        svc.queue.submit("t", "ana", ids["i0"], ["a"])
        svc.queue.submit("t", "ben", ids["i0"], ["b"])
        svc.queue.submit("t", "ana", ids["i1"], ["a"], flagged=True, comment="not sure")
        svc.review.flag("t", [ids["i2"]], "suspect label: model says 'b' with p=0.91", score=0.91)
        return ids
    finally:
        svc.close()


def test_review_lists_counts_and_the_top_items(tmp_path):
    ids = _project(tmp_path / "d")
    result = runner.invoke(app, ["review", "-p", "t", "--data-dir", str(tmp_path / "d")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "t: 3 items to review"
    assert "  disagreement\t1" in lines and "  flagged\t1" in lines and "  suspect label\t1" in lines
    first = next(line for line in lines if line.startswith(f"{ids['i2']}\t"))
    assert first.startswith(f"{ids['i2']}\t0.91\t-\t-\tsuspect label")  # highest priority first
    assert lines.index(first) < next(i for i, line in enumerate(lines) if line.startswith(f"{ids['i0']}\t"))
    assert any(line.startswith(f"{ids['i0']}\t0.50\tb\tana=a, ben=b\tdisagreement") for line in lines)

    result = runner.invoke(app, ["review", "-p", "t", "--json", "--top", "1", "--data-dir", str(tmp_path / "d")],
                           catch_exceptions=False)
    report = json.loads(result.output)
    assert report["items"] == 3 and report["by_reason"]["flagged"] == 1
    assert [row["item_id"] for row in report["top"]] == [ids["i2"]]


def test_review_of_an_unknown_project_exits_with_a_message(tmp_path):
    _project(tmp_path / "d")
    result = runner.invoke(app, ["review", "-p", "nope", "--data-dir", str(tmp_path / "d")])
    assert result.exit_code != 0  # main() prints AnnotatorErrors and exits 2 (tests/cli/test_cli_commands.py)
    assert "No project named 'nope'" in str(result.exception) and "Fix:" in str(result.exception)


def test_review_help_has_an_example():
    result = runner.invoke(app, ["review", "--help"])
    assert result.exit_code == 0 and "python -m annotator review --project" in result.output
