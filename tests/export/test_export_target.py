"""Where an export lands: a previous export survives an interrupted re-export (an exception, and a
real kill -9), is replaced only with --overwrite, a folder of the user's own files is never touched,
and a file, the root or the home folder as the target is a clear error."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from annotator.cli import app
from annotator.core.errors import ValidationError
from annotator.export.target import MARKER

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(service):
    service.projects.create_project("p", ["a", "b"])
    service.imports.import_records("p", [{"text": f"item {k}", "labels": ["a" if k % 2 else "b"]} for k in range(50)])
    return service


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_previous_export_needs_overwrite_and_is_then_replaced(project, tmp_path):
    out = tmp_path / "out"
    first = project.exports.export("p", fmt="jsonl", out=out)
    assert first.out_dir == out.absolute() and (out / MARKER).is_file() and first.data_path.is_file()
    with pytest.raises(ValidationError) as err:
        project.exports.export("p", fmt="csv", out=out)
    assert "not empty" in err.value.message and "--overwrite" in err.value.message
    second = project.exports.export("p", fmt="csv", out=out, overwrite=True)
    assert second.data_path == out.absolute() / "data.csv" and not (out / "data.jsonl").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging folders left


def test_the_users_own_files_are_never_replaced(project, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "data.csv").write_text("my own spreadsheet")
    (out / "README.md").write_text("my notes")
    for overwrite in (False, True):
        with pytest.raises(ValidationError) as err:
            project.exports.export("p", fmt="csv", out=out, overwrite=overwrite)
        assert "data.csv" in err.value.message
    assert (out / "data.csv").read_text() == "my own spreadsheet" and (out / "README.md").read_text() == "my notes"


@pytest.mark.parametrize("target", ["file", "/", "home"])
def test_a_file_the_root_or_home_is_refused(project, tmp_path, target):
    out = {"file": tmp_path / "data.csv", "/": Path("/"), "home": Path.home()}[target]
    if target == "file":
        out.write_text("x")
    with pytest.raises(ValidationError) as err:
        project.exports.export("p", fmt="jsonl", out=out, overwrite=True)
    assert ("is a file" in err.value.message) if target == "file" else ("Refusing" in err.value.message)
    if target == "file":
        assert out.read_text() == "x"


def test_an_export_that_fails_midway_leaves_the_previous_one(project, tmp_path, monkeypatch):
    from annotator.export import writers

    out = tmp_path / "out"
    project.exports.export("p", fmt="jsonl", out=out)
    before = _snapshot(out)
    calls = {"n": 0}
    real = writers.json_line

    def crash_after_ten(record):
        calls["n"] += 1
        if calls["n"] > 10:
            raise OSError(28, "No space left on device")
        return real(record)

    monkeypatch.setattr(writers, "json_line", crash_after_ten)
    with pytest.raises(OSError):
        project.exports.export("p", fmt="jsonl", out=out, overwrite=True)
    assert _snapshot(out) == before and [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


KILLED_EXPORT = textwrap.dedent("""
    import sys, time
    from annotator.core.config import Settings
    from annotator.embeddings import HashingEmbedder
    from annotator.export import writers
    from annotator.service import AnnotatorService

    real = writers.json_line
    def slow(record):  # a big export: slow enough to be killed midway
        time.sleep(0.002)
        return real(record)
    writers.json_line = slow
    svc = AnnotatorService.from_settings(Settings(data_dir=sys.argv[1], demo=False), embedder=HashingEmbedder())
    svc.exports.export("p", fmt="jsonl", out=sys.argv[2], overwrite=True)
""")


def test_kill_9_during_a_re_export_leaves_the_previous_one(settings, fake_embedder, tmp_path):
    from annotator.service import AnnotatorService

    svc = AnnotatorService.from_settings(settings, embedder=fake_embedder)
    svc.projects.create_project("p", ["a", "b"])
    svc.imports.import_records("p", [{"text": f"row number {k}"} for k in range(5_000)])
    out = tmp_path / "out"
    svc.exports.export("p", fmt="jsonl", out=out)
    svc.close()
    before = _snapshot(out)
    proc = subprocess.Popen([sys.executable, "-c", KILLED_EXPORT, str(settings.data_dir), str(out)], cwd=ROOT,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})
    deadline = time.monotonic() + 120
    partial: list[Path] = []
    while time.monotonic() < deadline and proc.poll() is None:
        partial = [p for p in tmp_path.glob(".out.partial-*/data.jsonl") if p.stat().st_size > 10_000]
        if partial:
            break
        time.sleep(0.05)
    assert partial, "the export never got going"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert _snapshot(out) == before  # the previous export, byte for byte
    # The next export clears what the killed one left and lands normally.
    svc = AnnotatorService.from_settings(settings, embedder=fake_embedder)
    svc.exports.export("p", fmt="csv", out=out, overwrite=True)
    svc.close()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out")) == []


def test_the_cli_asks_for_overwrite(tmp_path):
    runner = CliRunner()
    data = ["--data-dir", str(tmp_path / "data")]
    csv = tmp_path / "d.csv"
    csv.write_text("text,label\n=HYPERLINK(\"http://x\"),a\nplain,b\n")
    assert runner.invoke(app, ["init", "p", "--labels", "a,b", *data]).exit_code == 0
    assert runner.invoke(app, ["import", str(csv), "--project", "p", "--label-column", "label", *data]).exit_code == 0
    out = str(tmp_path / "out")
    assert runner.invoke(app, ["export", "-p", "p", "--format", "csv", "--out", out, *data]).exit_code == 0
    again = subprocess.run([sys.executable, "-m", "annotator", "export", "-p", "p", "--format", "csv", "--out", out,
                            *data], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and "--overwrite" in again.stderr and "Traceback" not in again.stderr
    assert runner.invoke(app, ["export", "-p", "p", "--format", "csv", "--out", out, "--overwrite", *data]).exit_code == 0
    assert "'=HYPERLINK" in (tmp_path / "out" / "data.csv").read_text()
    raw = runner.invoke(app, ["export", "-p", "p", "--format", "csv", "--out", out, "--overwrite",
                              "--csv-raw-formulas", *data])
    assert raw.exit_code == 0 and '"=HYPERLINK' in (tmp_path / "out" / "data.csv").read_text()
