"""Job and model-version rows on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from annotator.core.errors import NotFoundError
from annotator.store import jobs as jobs_q
from annotator.store import projects as project_q
from annotator.store import transaction

LABELS = [{"name": "pos", "description": "", "hotkey": "1"}, {"name": "neg", "description": "", "hotkey": "2"}]


def _pid(engine) -> int:
    with transaction(engine) as s:
        return project_q.create_project(s, name="p", task_type="single-label", labels=LABELS, guidelines="",
                                        settings={}).id


def test_job_lifecycle(engine):
    pid = _pid(engine)
    with transaction(engine) as s:
        job_id = jobs_q.create_job(s, pid, "finetune", {"max_steps": 5}).id
    with transaction(engine) as s:
        assert jobs_q.start_job(s, job_id, "host:1")
        assert not jobs_q.start_job(s, job_id, "host:2")  # a second worker cannot take it
        assert jobs_q.set_progress(s, job_id, 0.4, "step 2/5") == "running"
    with transaction(engine) as s:
        jobs_q.request_cancel(s, job_id)
        assert jobs_q.set_progress(s, job_id, 0.6, "step 3/5") == "cancelled"  # the body's signal to stop
        assert jobs_q.lock_status(s, job_id) == "cancelled"
        assert not jobs_q.finish_job(s, job_id, "done", message="done")  # a cancelled job never ends "done"
        assert jobs_q.finish_job(s, job_id, "cancelled", message="stopped", only_if=("cancelled",))
    with transaction(engine) as s:
        job = jobs_q.get_job(s, job_id)
        assert (job.status, job.progress, job.message, job.result["worker"]) == ("cancelled", 0.4, "stopped", "host:1")
        assert job.payload == {"max_steps": 5} and job.finished_at is not None
        assert [j.id for j in jobs_q.list_jobs(s, pid, statuses=["cancelled"])] == [job_id]
    with pytest.raises(NotFoundError, match="jobs list"), transaction(engine) as s:
        jobs_q.get_job(s, job_id + 100)


def test_interrupted_jobs_are_marked_failed(engine):
    pid = _pid(engine)
    with transaction(engine) as s:
        running = jobs_q.create_job(s, pid, "embed", {}).id
        queued = jobs_q.create_job(s, pid, "embed", {}).id
        jobs_q.start_job(s, running, "gone:42")
    with transaction(engine) as s:
        assert [j.id for j in jobs_q.running_jobs(s)] == [running]
        assert jobs_q.mark_interrupted(s, [running, queued], "interrupted by a restart") == 1
    with transaction(engine) as s:
        assert jobs_q.get_job(s, running).status == "failed" and jobs_q.get_job(s, queued).status == "queued"


def test_model_versions_one_promoted(engine):
    pid = _pid(engine)
    with transaction(engine) as s:
        assert jobs_q.next_version(s, pid, "finetune") == 1
        jobs_q.add_model_version(s, pid, "finetune", 1, path="/m/v1", metrics={"heldout_accuracy": 0.8},
                                 n_labels=10, promoted=True)
        jobs_q.add_model_version(s, pid, "finetune", 2, path="/m/v2", metrics={}, n_labels=20, promoted=False)
        jobs_q.add_model_version(s, pid, "classifier", 1, path=None, metrics={}, n_labels=20, promoted=True)
    with transaction(engine) as s:
        assert jobs_q.promoted_version(s, pid, "finetune").version == 1
        jobs_q.add_model_version(s, pid, "finetune", 3, path="/m/v3", metrics={}, n_labels=30, promoted=True)
    with transaction(engine) as s:
        assert [(m.version, m.promoted) for m in jobs_q.model_versions(s, pid, "finetune")] == [
            (1, False), (2, False), (3, True)]
        assert jobs_q.promoted_version(s, pid, "classifier").version == 1  # other kinds keep theirs
        assert jobs_q.next_version(s, pid, "finetune") == 4
        assert jobs_q.get_model_version(s, pid, "finetune", 1).metrics == {"heldout_accuracy": 0.8}
        with pytest.raises(NotFoundError, match="v1, v2, v3"):
            jobs_q.get_model_version(s, pid, "finetune", 9)
