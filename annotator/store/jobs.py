"""Job and ModelVersion rows: the persistent side of background jobs and trained model versions.

A job row is the single source of truth about a job (the task queue only carries its id):
status ``queued → running → done | failed | cancelled``, ``progress`` in [0, 1], a message, the
payload it was given and the result it produced. ``result["worker"]`` names the process that ran
it ("host:pid"), so a restart can tell a job whose process died from one still running elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, select

from annotator.core.errors import NotFoundError
from annotator.core.schema import JobStatus
from annotator.store.tables import Job, ModelVersion, utcnow

ACTIVE = (JobStatus.queued, JobStatus.running)


def create_job(session: Session, project_id: int | None, kind: str, payload: dict[str, Any]) -> Job:
    job = Job(project_id=project_id, kind=kind, status=JobStatus.queued, payload=dict(payload), message="queued")
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFoundError(f"No job {job_id}.", fix="list the jobs: python -m annotator jobs list --project P")
    return job


def list_jobs(session: Session, project_id: int | None = None, *, limit: int = 100,
              statuses: Sequence[str] | None = None) -> list[Job]:
    """Jobs newest first (of one project when ``project_id`` is given)."""
    q = select(Job)
    if project_id is not None:
        q = q.where(Job.project_id == project_id)
    if statuses:
        q = q.where(Job.status.in_(list(statuses)))
    return list(session.exec(q.order_by(Job.id.desc()).limit(limit)).all())


def latest_job(session: Session, project_id: int, kind: str) -> Job | None:
    """The project's newest job of ``kind`` (any status), or None."""
    return session.exec(select(Job).where(Job.project_id == project_id, Job.kind == kind)
                        .order_by(Job.id.desc()).limit(1)).first()


def start_job(session: Session, job_id: int, worker: str) -> bool:
    """queued → running, recording the worker; False when the job is no longer queued (cancelled)."""
    res = session.execute(
        update(Job).where(Job.id == job_id, Job.status == JobStatus.queued)
        .values(status=JobStatus.running, started_at=utcnow(), message="started", progress=0.0, result={"worker": worker})
    )
    return res.rowcount == 1


def set_progress(session: Session, job_id: int, progress: float, message: str | None) -> str:
    """Record progress of a running job; returns the job's status (``cancelled`` tells it to stop)."""
    values: dict[str, Any] = {"progress": max(0.0, min(1.0, float(progress)))}
    if message is not None:
        values["message"] = message[:2000]
    session.execute(update(Job).where(Job.id == job_id, Job.status == JobStatus.running).values(**values))
    status = session.exec(select(Job.status).where(Job.id == job_id)).one()
    return status


def job_status(session: Session, job_id: int) -> str:
    return session.exec(select(Job.status).where(Job.id == job_id)).one()


def finish_job(session: Session, job_id: int, status: str, *, message: str, result: dict[str, Any] | None = None,
               error: str | None = None, only_if: Sequence[str] = (JobStatus.running,)) -> bool:
    """Set the final status when the job is still in one of ``only_if``; False otherwise."""
    job = session.get(Job, job_id)
    if job is None or job.status not in only_if:
        return False
    job.status = status
    job.message = message[:2000]
    job.error = error
    job.finished_at = utcnow()
    if status == JobStatus.done:
        job.progress = 1.0
    if result is not None:
        job.result = {**(job.result or {}), **result}
    session.add(job)
    return True


def request_cancel(session: Session, job_id: int) -> Job:
    """Cancel a queued job at once, a running one at its next checkpoint. Finished jobs stay as they are."""
    job = get_job(session, job_id)
    if job.status in ACTIVE:
        was_running = job.status == JobStatus.running
        job.status = JobStatus.cancelled
        job.message = "cancel requested; stops at the next checkpoint" if was_running else "cancelled before it started"
        if not was_running:
            job.finished_at = utcnow()
        session.add(job)
    return job


def running_jobs(session: Session) -> list[Job]:
    return list(session.exec(select(Job).where(Job.status == JobStatus.running)).all())


def cancelled_unfinished(session: Session) -> list[Job]:
    return list(session.exec(select(Job).where(Job.status == JobStatus.cancelled, Job.finished_at.is_(None))).all())


def mark_interrupted(session: Session, job_ids: Sequence[int], message: str) -> int:
    if not job_ids:
        return 0
    res = session.execute(
        update(Job).where(Job.id.in_(list(job_ids)), Job.status.in_((JobStatus.running, JobStatus.cancelled)))
        .values(status=JobStatus.failed, message=message, error=message, finished_at=utcnow())
    )
    return res.rowcount


# ---- model versions -------------------------------------------------------------------------

def model_versions(session: Session, project_id: int, kind: str | None = None) -> list[ModelVersion]:
    """Versions oldest first (of one kind when given)."""
    q = select(ModelVersion).where(ModelVersion.project_id == project_id)
    if kind is not None:
        q = q.where(ModelVersion.kind == kind)
    return list(session.exec(q.order_by(ModelVersion.version, ModelVersion.id)).all())


def get_model_version(session: Session, project_id: int, kind: str, version: int) -> ModelVersion:
    mv = session.exec(select(ModelVersion).where(
        ModelVersion.project_id == project_id, ModelVersion.kind == kind, ModelVersion.version == version)).first()
    if mv is None:
        have = [m.version for m in model_versions(session, project_id, kind)]
        raise NotFoundError(f"No {kind} model version {version} in this project.",
                            expected="one of " + (", ".join(f"v{v}" for v in have) or "(none trained yet)"),
                            fix="list them: python -m annotator model list --project P")
    return mv


def next_version(session: Session, project_id: int, kind: str) -> int:
    top = session.exec(select(func.max(ModelVersion.version)).where(
        ModelVersion.project_id == project_id, ModelVersion.kind == kind)).one()
    return int(top or 0) + 1


def promoted_version(session: Session, project_id: int, kind: str) -> ModelVersion | None:
    return session.exec(select(ModelVersion).where(
        ModelVersion.project_id == project_id, ModelVersion.kind == kind, ModelVersion.promoted.is_(True))
        .order_by(ModelVersion.version.desc())).first()


def add_model_version(session: Session, project_id: int, kind: str, version: int, *, path: str | None,
                      metrics: dict[str, Any], n_labels: int, promoted: bool,
                      created_at: datetime | None = None) -> ModelVersion:
    """Insert a version; when ``promoted``, every other version of that kind loses the flag (same transaction)."""
    if promoted:
        session.execute(update(ModelVersion).where(
            ModelVersion.project_id == project_id, ModelVersion.kind == kind).values(promoted=False))
    mv = ModelVersion(project_id=project_id, kind=kind, version=version, path=path, metrics=metrics,
                      n_labels=n_labels, promoted=promoted, created_at=created_at or utcnow())
    session.add(mv)
    session.flush()
    return mv


def lock_status(session: Session, job_id: int) -> str:
    """The job's status, row-locked until the transaction ends (PostgreSQL; SQLite serialises
    writers anyway), so a cancel cannot slip between this check and the caller's write."""
    return session.exec(select(Job.status).where(Job.id == job_id).with_for_update()).one()
