"""Jobs: persisted rows, progress, cancel, failures that do not stop the next job, restart recovery."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from jobs_helpers import PROJECT, parity_project, parity_rule

from annotator.training import RuleTrainer


@pytest.fixture
def immediate(settings):
    settings.jobs_backend = "immediate"
    return settings


def _service(settings):
    from annotator.embeddings import HashingEmbedder
    from annotator.service import AnnotatorService

    return AnnotatorService.from_settings(settings, embedder=HashingEmbedder())


def test_embed_job_is_recorded_with_progress_and_result(immediate):
    service = _service(immediate)
    try:
        parity_project(service, n=30, labelled=0)
        job = service.jobs.submit("embed", PROJECT)
        assert job.status == "done" and job.progress == 1.0
        assert job.result["items"] == 30 and job.result["worker"].endswith(f":{__import__('os').getpid()}")
        assert job.started_at is not None and job.finished_at is not None
        assert [j.id for j in service.jobs.list_jobs(PROJECT)] == [job.id]
    finally:
        service.close()


def test_unknown_kind_says_which_exist(immediate):
    from annotator.core.errors import ValidationError

    service = _service(immediate)
    try:
        with pytest.raises(ValidationError, match="finetune"):
            service.jobs.submit("train-everything", None)
    finally:
        service.close()


def test_a_failing_job_does_not_stop_the_next(settings):
    """On the embedded SQLite queue with one consumer thread: a fine-tune that raises is marked
    failed with its error, and the embed job queued after it still runs."""
    settings.jobs_backend = "sqlite"
    service = _service(settings)
    try:
        parity_project(service, n=60)
        service.models.trainer = RuleTrainer(parity_rule, steps=3, fail_at=2)
        service.jobs.start(workers=1)
        bad = service.jobs.submit("finetune", PROJECT)
        good = service.jobs.submit("embed", PROJECT)
        bad, good = service.jobs.wait_for(bad.id, 60), service.jobs.wait_for(good.id, 60)
        assert bad.status == "failed" and "told to fail at step 2" in bad.error
        assert good.status == "done" and good.result["items"] == 60
        assert service.models.model_versions(PROJECT) == []
        assert not any((Path(settings.resolved_models_dir) / PROJECT / "finetune").glob("*"))
    finally:
        service.close()


def test_cancel_a_running_job_applies_nothing(settings):
    settings.jobs_backend = "sqlite"
    service = _service(settings)
    try:
        parity_project(service, n=60)
        service.models.trainer = RuleTrainer(parity_rule, steps=200, sleep_s=0.02)
        service.jobs.start(workers=1)
        job = service.jobs.submit("finetune", PROJECT, min_heldout=5)
        deadline = time.monotonic() + 30
        while service.jobs.get(job.id).progress < 0.1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert service.jobs.get(job.id).status == "running"
        service.jobs.cancel(job.id)
        done = service.jobs.wait_for(job.id, 30)
        assert done.status == "cancelled" and done.finished_at is not None
        assert "nothing was applied" in done.message
        assert done.progress < 0.9  # it stopped at a checkpoint, long before the end
        assert service.models.model_versions(PROJECT) == []
        assert not any((Path(settings.resolved_models_dir) / PROJECT / "finetune").glob("*"))
    finally:
        service.close()


def test_cancel_a_queued_job_never_runs_it(immediate):
    from annotator import store
    from annotator.store import jobs as jobs_q

    service = _service(immediate)
    try:
        parity_project(service, n=20, labelled=0)
        with store.transaction(service.engine) as s:
            job_id = jobs_q.create_job(s, service.projects.project(PROJECT).id, "embed", {}).id
        assert service.jobs.cancel(job_id).status == "cancelled"
        service.jobs.execute(job_id)  # what the consumer would do when it reaches it
        job = service.jobs.get(job_id)
        assert job.status == "cancelled" and job.started_at is None and job.result == {}
    finally:
        service.close()


KILL_SCRIPT = textwrap.dedent("""
    import sys
    from annotator.core.config import Settings
    from annotator.embeddings import HashingEmbedder
    from annotator.service import AnnotatorService
    from annotator.training import RuleTrainer
    sys.path.insert(0, {tests!r})
    from jobs_helpers import PROJECT, parity_project, parity_rule

    settings = Settings(data_dir={data!r}, models_dir={models!r}, demo=False, jobs_backend="immediate")
    service = AnnotatorService.from_settings(settings, embedder=HashingEmbedder())
    parity_project(service, n=60)
    service.models.trainer = RuleTrainer(parity_rule, steps=10_000, sleep_s=0.01)
    service.jobs.run("finetune", PROJECT)
""")


def test_killed_mid_finetune_restart_marks_it_interrupted_and_runs_it_again(settings, tmp_path):
    """kill -9 in the middle of a fine-tune (fake trainer, slow steps): after a restart the job row
    says failed / interrupted, there is no ModelVersion row and no model folder left behind, and
    the fine-tune is queued again as a new job (the list shows both) that then runs cleanly."""
    script = KILL_SCRIPT.format(tests=str(Path(__file__).parent), data=str(settings.data_dir),
                                models=str(settings.models_dir))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        watcher = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(0.2)
            if proc.poll() is not None:
                raise AssertionError(proc.stderr.read().decode())
            # the temp folder appears once the job runs (the schema is migrated by then)
            if any((Path(settings.models_dir) / PROJECT / "finetune").glob(".tmp-*")):
                watcher = watcher or _service(settings)
                jobs = watcher.jobs.list_jobs()
                if jobs and jobs[0].status == "running" and jobs[0].progress > 0.05:
                    break
        tmp_dirs = list((Path(settings.models_dir) / PROJECT / "finetune").glob(".tmp-*"))
        assert tmp_dirs, "the job should be writing its temp folder"
        proc.kill()
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    watcher.close()
    service = _service(settings)
    try:
        assert service.jobs.list_jobs()[0].status == "running"  # what the dead process left behind
        recovered = service.jobs.start(workers=0)
        again, job = service.jobs.list_jobs()[:2]  # newest first
        assert recovered == [job.id]
        assert job.status == "failed" and "interrupted by a restart" in job.message
        assert f"Restarted as job {again.id}" in job.message
        assert again.kind == "finetune" and again.status == "queued" and again.payload["restart_of"] == job.id
        assert f"restart of job {job.id}" in again.message
        assert service.models.model_versions(PROJECT) == []
        assert list((Path(settings.models_dir) / PROJECT / "finetune").iterdir()) == []
        assert service.jobs.start(workers=0) == []  # a second start finds nothing to recover
        assert service.jobs.runner.pending() == 1  # and queues nothing twice
        service.models.trainer = RuleTrainer(parity_rule, steps=3)
        service.jobs.runner.start(1)
        done = service.jobs.wait_for(again.id, 60)
        assert done.status == "done", done.error
        [mv] = service.models.model_versions(PROJECT, "finetune")
        assert mv.metrics["job_id"] == again.id and Path(mv.path).is_dir()
        assert [p.name for p in (Path(settings.models_dir) / PROJECT / "finetune").iterdir()] == ["v1"]
    finally:
        service.close()


def _dead_worker() -> str:
    """A "host:pid" of a process on this host that has ended."""
    import os
    import socket

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(30)
    assert not os.path.exists(f"/proc/{proc.pid}")
    return f"{socket.gethostname()}:{proc.pid}"


def _leave_running(service, job_id: int, worker: str) -> None:
    """What a process killed while running ``job_id`` leaves in the database."""
    from annotator import store
    from annotator.store import jobs as jobs_q

    with store.transaction(service.engine) as s:
        assert jobs_q.start_job(s, job_id, worker)


def test_a_restarted_fine_tune_is_restarted_once_and_other_kinds_not_at_all(settings):
    from annotator import store
    from annotator.store import jobs as jobs_q

    settings.jobs_backend = "sqlite"
    service = _service(settings)
    try:
        parity_project(service, n=20)
        pid = service.projects.project(PROJECT).id
        with store.transaction(service.engine) as s:
            again = jobs_q.create_job(s, pid, "finetune", {"restart_of": 1}).id
            embed = jobs_q.create_job(s, pid, "embed", {}).id
            cancelled = jobs_q.create_job(s, pid, "finetune", {}).id
        dead = _dead_worker()
        for job_id in (again, embed, cancelled):
            _leave_running(service, job_id, dead)
        service.jobs.cancel(cancelled)  # cancel requested, then the process died before the checkpoint
        assert sorted(service.jobs.recover()) == sorted([again, embed, cancelled])
        jobs = {j.id: j for j in service.jobs.list_jobs(PROJECT)}
        assert set(jobs) == {again, embed, cancelled}  # nothing queued again
        assert "Submit it again" in jobs[again].message and "Submit it again" in jobs[embed].message
        assert "cancelled" in jobs[cancelled].message
        assert all(j.status == "failed" for j in jobs.values()) and service.jobs.runner.pending() == 0
    finally:
        service.close()


def test_the_immediate_backend_does_not_restart_at_start_up(immediate):
    service = _service(immediate)
    try:
        parity_project(service, n=20)
        from annotator import store
        from annotator.store import jobs as jobs_q

        with store.transaction(service.engine) as s:
            job_id = jobs_q.create_job(s, service.projects.project(PROJECT).id, "finetune", {}).id
        _leave_running(service, job_id, _dead_worker())
        assert service.jobs.recover() == [job_id]
        assert [j.id for j in service.jobs.list_jobs(PROJECT)] == [job_id]
        assert "Submit it again" in service.jobs.get(job_id).message
    finally:
        service.close()


def test_jobs_cli_lists_and_runs(settings, monkeypatch):
    from typer.testing import CliRunner

    from annotator.cli import app

    service = _service(settings)
    parity_project(service, n=20, labelled=0)
    service.close()
    monkeypatch.setenv("ANNOTATOR_EMBEDDING_MODEL", "hashing")
    monkeypatch.setenv("ANNOTATOR_DEMO", "false")
    runner = CliRunner()
    args = ["--data-dir", str(settings.data_dir)]
    res = runner.invoke(app, ["jobs", "run", "embed", "--project", PROJECT, *args])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["jobs", "list", "--json", *args])
    rows = json.loads(res.output)
    assert [(r["kind"], r["status"], r["result"]["items"]) for r in rows] == [("embed", "done", 20)]


def test_a_queued_job_survives_a_restart_and_runs(settings):
    """SQLite backend: a job queued while no consumer ran (the app stopped) runs after the next start."""
    settings.jobs_backend = "sqlite"
    service = _service(settings)
    parity_project(service, n=25, labelled=0)
    job = service.jobs.submit("embed", PROJECT)
    service.close()  # the app stops before any consumer took the job
    service = _service(settings)
    try:
        assert service.jobs.get(job.id).status == "queued" and service.jobs.runner.pending() == 1
        service.jobs.start(workers=1)
        done = service.jobs.wait_for(job.id, 60)
        assert done.status == "done" and done.result["items"] == 25
    finally:
        service.close()


def test_export_and_run_ai_jobs(immediate, tmp_path):
    service = _service(immediate)
    try:
        parity_project(service, n=60, labelled=40)
        exported = service.jobs.submit("export", PROJECT, out=str(tmp_path / "out"), fmt="jsonl")
        assert exported.status == "done", exported.error
        assert exported.result["rows"] == 60 and Path(exported.result["data_path"]).is_file()
        routed = service.jobs.submit("run_ai", PROJECT, annotators="knn")
        assert routed.status == "done", routed.error
        assert routed.result["items"] == 20 and sum(routed.result["routes"].values()) == 20
        missing = service.jobs.submit("export", PROJECT)
        assert missing.status == "failed" and "output folder" in missing.error
    finally:
        service.close()
