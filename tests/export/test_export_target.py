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
from annotator.core.errors import ConfigError, DiskFullError, ValidationError
from annotator.export.target import MARKER, check_target

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


def test_a_file_as_the_target_is_refused(project, tmp_path):
    out = tmp_path / "data.csv"
    out.write_text("x")
    with pytest.raises(ValidationError) as err:
        project.exports.export("p", fmt="jsonl", out=out, overwrite=True)
    assert "is a file" in err.value.message and out.read_text() == "x"


@pytest.mark.parametrize("target", ["/", "home", "/usr", "/tmp"])
def test_the_root_home_and_system_folders_are_refused(target):
    # Only the check, so nothing lands in / or the home folder even where the check were missing.
    with pytest.raises(ValidationError) as err:
        check_target(Path.home() if target == "home" else Path(target), overwrite=True)
    assert "Refusing" in err.value.message and "--out" in err.value.message


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
    with pytest.raises(DiskFullError) as err:  # the disk is named, not the database
        project.exports.export("p", fmt="jsonl", out=out, overwrite=True)
    assert f"the disk of {tmp_path}" in err.value.message and "database" not in err.value.message
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


def _dead_pid() -> int:
    """The pid of a process that has ended (its number is not reused this soon)."""
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    return int(proc.stdout)


def test_a_folder_inside_a_system_tree_is_refused():
    # Only the check, so nothing is written into /etc even where the check were missing (tests may run as root).
    with pytest.raises(ValidationError) as err:
        check_target(Path("/etc/annotator-export-test"), overwrite=True)
    assert "inside a system folder" in err.value.message


@pytest.mark.parametrize("where", ["data_dir", "inside_file"])
def test_the_data_folder_and_a_path_below_a_file_are_refused(project, tmp_path, where):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("mine")
    out = {"data_dir": project.settings.data_dir, "inside_file": blocker / "out"}[where]
    with pytest.raises(ValidationError) as err:
        project.exports.export("p", fmt="jsonl", out=out, overwrite=True)
    assert {"data_dir": "data folder", "inside_file": "is a file"}[where] in err.value.message
    assert blocker.read_text() == "mine" and (project.settings.data_dir / "annotator.db").is_file()


def test_files_put_into_the_target_during_the_export_are_kept(project, tmp_path, monkeypatch):
    from annotator.export import writers

    out = tmp_path / "out"
    real = writers.json_line

    def user_drops_a_file(record):  # the user saves a file into the folder while the export runs
        out.mkdir(exist_ok=True)
        (out / "mine.txt").write_text("keep me")
        return real(record)

    monkeypatch.setattr(writers, "json_line", user_drops_a_file)
    with pytest.raises(ValidationError) as err:
        project.exports.export("p", fmt="jsonl", out=out)
    assert "mine.txt" in err.value.message and (out / "mine.txt").read_text() == "keep me"
    assert sorted(p.name for p in out.iterdir()) == ["mine.txt"]


def test_a_run_killed_between_the_two_renames_is_repaired(project, tmp_path):
    out = tmp_path / "out"
    project.exports.export("p", fmt="jsonl", out=out)
    before = _snapshot(out)
    dead = _dead_pid()
    os.rename(out, tmp_path / f".out.old-{dead}-0123abcd")  # the previous export, renamed aside
    (tmp_path / f".out.partial-{dead}-4567abcd").mkdir()  # and the new one, never renamed in
    with pytest.raises(ValidationError, match="--overwrite"):  # the previous export is back first
        project.exports.export("p", fmt="csv", out=out)
    assert _snapshot(out) == before and sorted(p.name for p in tmp_path.iterdir()) == ["data", "out"]


def test_another_running_exports_folders_are_left_alone(project, tmp_path):
    out = tmp_path / "out"
    alive = os.getppid()  # a process that runs for the whole test
    busy = tmp_path / f".out.partial-{alive}-89abcdef"
    busy.mkdir()
    (busy / "data.jsonl").write_text("half")
    stale = tmp_path / f".out.partial-{_dead_pid()}-fedcba98"
    stale.mkdir()
    project.exports.export("p", fmt="jsonl", out=out)
    assert (busy / "data.jsonl").read_text() == "half" and not stale.exists()


def test_a_link_to_a_previous_export_replaces_the_folder_not_the_link(project, tmp_path):
    real = tmp_path / "real"
    project.exports.export("p", fmt="jsonl", out=real)
    link = tmp_path / "latest"
    link.symlink_to(real, target_is_directory=True)
    result = project.exports.export("p", fmt="csv", out=link, overwrite=True)
    assert link.is_symlink() and (link / "data.csv").is_file() and result.out_dir == real
    assert not (real / "data.jsonl").exists()


def test_a_folder_that_cannot_be_written_is_a_clear_error(project, tmp_path, monkeypatch):
    from annotator.export import target

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(target.Path, "mkdir", refuse)
    with pytest.raises(ConfigError) as err:
        project.exports.export("p", fmt="jsonl", out=tmp_path / "out")
    assert "could not be written" in err.value.message and "Permission denied" in err.value.message


def test_post_training_exports_land_the_same_way(service, tmp_path):
    service.projects.create_project("rate", [], task_type="rating")
    out = tmp_path / "ratings"
    service.exports.export_posttraining("rate", fmt="ratings", out=out)
    assert (out / MARKER).is_file()
    with pytest.raises(ValidationError, match="--overwrite"):
        service.exports.export("rate", fmt="ratings", out=out)
    service.exports.export("rate", fmt="ratings", out=out, overwrite=True)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_the_cli_gets_a_clear_error_for_a_file_or_the_data_folder(tmp_path):
    runner = CliRunner()
    data = ["--data-dir", str(tmp_path / "data")]
    assert runner.invoke(app, ["init", "p", "--labels", "a,b", *data]).exit_code == 0
    afile = tmp_path / "x.csv"
    afile.write_text("mine")
    for out in (str(afile), str(tmp_path / "data")):
        res = runner.invoke(app, ["export", "-p", "p", "--out", out, "--overwrite", *data])
        # An AnnotatorError, which main() prints as "Error: ..." with exit code 2 (no traceback).
        assert isinstance(res.exception, ValidationError), res.exception
        assert "Refusing" in res.exception.message or "is a file" in res.exception.message
    assert afile.read_text() == "mine"


def test_export_jobs_land_the_same_way(settings, fake_embedder, tmp_path):
    from annotator.service import AnnotatorService

    settings.jobs_backend = "immediate"
    svc = AnnotatorService.from_settings(settings, embedder=fake_embedder)
    try:
        svc.projects.create_project("p", ["a", "b"])
        svc.imports.import_records("p", [{"text": "=1+1"}, {"text": "plain"}])
        mine = tmp_path / "mine"
        mine.mkdir()
        (mine / "data.csv").write_text("my own")
        refused = svc.jobs.submit("export", "p", out=str(mine), fmt="csv", overwrite=True)
        assert refused.status == "failed" and "no export wrote" in refused.error
        assert (mine / "data.csv").read_text() == "my own"
        out = tmp_path / "out"
        assert svc.jobs.submit("export", "p", out=str(out), fmt="csv").status == "done"
        again = svc.jobs.submit("export", "p", out=str(out), fmt="csv")
        assert again.status == "failed" and "--overwrite" in again.error
        raw = svc.jobs.submit("export", "p", out=str(out), fmt="csv", overwrite=True, csv_raw_formulas=True)
        assert raw.status == "done", raw.error
        assert ",=1+1," in (out / "data.csv").read_text() and "'=1+1" not in (out / "data.csv").read_text()
    finally:
        svc.close()
