"""`python -m annotator assign` and `stats`: slices for named people, per-person figures."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from annotator.cli import app
from annotator.core.config import Settings
from annotator.embeddings import HashingEmbedder
from annotator.service import AnnotatorService

runner = CliRunner()


def _setup(data):
    svc = AnnotatorService.from_settings(Settings(data_dir=data, demo=False), embedder=HashingEmbedder())
    svc.projects.create_project("t", ["pos", "neg"])
    svc.imports.import_records("t", [{"text": f"text {i}", "metadata": {"channel": "email" if i < 4 else "chat"}}
                             for i in range(10)])
    svc.accounts.add_user("ana")
    return svc


def test_assign_and_unassign_by_metadata(tmp_path):
    data = tmp_path / "d"
    svc = _setup(data)
    out = runner.invoke(app, ["assign", "--project", "t", "--user", "ana", "--metadata", "channel=email",
                              "--data-dir", str(data)])
    assert out.exit_code == 0, out.output
    assert "Assigned 4 items" in out.output and "to ana" in out.output
    assert len(svc.team.assignments("t")) == 4
    out = runner.invoke(app, ["assign", "--project", "t", "--unassign", "--metadata", "channel=email",
                              "--data-dir", str(data)])
    assert out.exit_code == 0, out.output and "Took back 4 items" in out.output
    assert svc.team.assignments("t") == {}
    bad = runner.invoke(app, ["assign", "--project", "t", "--user", "zed", "--data-dir", str(data)])
    assert bad.exit_code != 0 and "user add zed" in str(bad.exception) + bad.output
    svc.close()


def test_stats_prints_a_table_and_json(tmp_path):
    data = tmp_path / "d"
    svc = _setup(data)
    item = svc.queue.next_item("t", "ana")
    svc.queue.submit("t", "ana", item.item_id, ["pos"])
    svc.queue.skip("t", "ana", svc.queue.next_item("t", "ana").item_id)
    svc.close()
    out = runner.invoke(app, ["stats", "--project", "t", "--data-dir", str(data)])
    assert out.exit_code == 0, out.output
    assert out.output.splitlines()[1].startswith("ana\tannotator\t1\t")
    out = runner.invoke(app, ["stats", "--project", "t", "--json", "--data-dir", str(data)])
    rows = json.loads(out.output)
    assert rows[0]["person"] == "ana" and rows[0]["labels"] == 1 and rows[0]["skips"] == 1


def test_overlap_shows_and_sets_the_setting(tmp_path):
    data = tmp_path / "d"
    _setup(data).close()
    out = runner.invoke(app, ["overlap", "--project", "t", "--data-dir", str(data)])
    assert out.exit_code == 0, out.output
    assert "0% of items get 3 answers" in out.output and "(0 items now)" in out.output
    out = runner.invoke(app, ["overlap", "--project", "t", "--fraction", "1", "--k", "2", "--data-dir", str(data)])
    assert out.exit_code == 0, out.output
    assert "100% of items get 2 answers" in out.output and "(10 items now)" in out.output
