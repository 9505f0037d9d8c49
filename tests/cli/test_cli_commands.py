"""The CLI end to end: init → import → projects → export, and errors as messages with exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from annotator.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _invoke(*args: str, data_dir: Path):
    result = runner.invoke(app, [*args, "--data-dir", str(data_dir)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_init_import_projects_export(tmp_path):
    data = tmp_path / "d"
    csv = tmp_path / "tickets.csv"
    pd.DataFrame({"text": [f"ticket {i}" for i in range(12)], "label": ["a", "b", "", "c"] * 3}).to_csv(csv, index=False)
    out = _invoke("init", "tickets", "--labels", "a,b,c", data_dir=data)
    assert "a [1], b [2], c [3]" in out
    out = _invoke("import", str(csv), "--project", "tickets", "--text-column", "text", "--label-column", "label",
                  data_dir=data)
    assert '"items_added": 12' in out and '"labels_imported": 9' in out
    assert "9/12 labelled" in _invoke("projects", data_dir=data)
    out = _invoke("export", "--project", "tickets", "--format", "csv", "--out", str(tmp_path / "x"), data_dir=data)
    assert "Wrote 12 rows" in out
    frame = pd.read_csv(tmp_path / "x" / "data.csv")
    assert frame["label"].notna().sum() == 9 and set(frame["label_source"].dropna()) == {"import"}
    assert (tmp_path / "x" / "README.md").is_file()


def test_every_command_has_help_with_an_example():
    for command in ("init", "import", "export", "projects", "settings", "embed", "serve", "simulate", "ai", "agreement",
                    "user add", "user list", "user set-role", "user reset-password"):
        result = runner.invoke(app, [*command.split(), "--help"])
        assert result.exit_code == 0
        assert "Example" in result.output, command


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "annotator", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), "PYTHONPATH": str(ROOT)})


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("import", "missing.csv", "--project", "nope"), "File not found: missing.csv"),
        (("projects", "--database-url", "postgresql+psycopg://nobody@127.0.0.1:1/x"), "Cannot connect"),
        (("export", "--project", "nope", "--format", "csv"), "python -m annotator init"),
        (("init", "x", "--labels", "a,a"), "each named once"),
    ],
)
def test_errors_exit_2_with_a_message_not_a_traceback(tmp_path, args, needle):
    result = _run(*args, "--data-dir", str(tmp_path / "d"), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert needle in result.stderr and "Traceback" not in result.stderr
