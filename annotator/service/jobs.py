"""Jobs: long work persisted as rows, queued, run, cancelled and recovered after a restart."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from annotator import store
from annotator.core.errors import (
    AnnotatorError,
    JobCancelled,
    ValidationError,
)
from annotator.core.schema import (
    JobInfo,
    JobStatus,
)
from annotator.jobs import JobContext, JobRunner, worker_id, worker_is_dead
from annotator.jobs.kinds import JOB_KINDS, RESTART_KINDS, VERSION_FOLDER_KINDS, job_kind
from annotator.service.common import _job_json
from annotator.service.part import ServicePart
from annotator.store import jobs as jobs_q
from annotator.store import projects as project_q
from annotator.training import VersionDirs

if TYPE_CHECKING:
    from annotator.service.facade import AnnotatorService

log = logging.getLogger(__name__)


class JobsService(ServicePart):
    """Background jobs (``svc.jobs``): submit, run here, cancel, wait for and list jobs; the body
    of each kind is a plain method of the part that owns the work (see ``kinds``)."""

    def __init__(self, svc: AnnotatorService) -> None:
        super().__init__(svc)
        # built on first use: the CLI's one-shot commands never start a consumer
        self._job_runner: JobRunner | None = None

    @property
    def kinds(self) -> dict[str, Callable[..., dict[str, Any]]]:
        """Each registered job kind (``annotator.jobs.kinds.JOB_KINDS``) → its body:
        (ctx, project, payload) → result dict."""
        models = self._svc.models
        bodies = {"embed": self._job_embed, "refit": models.job_refit, "run_ai": self._job_run_ai,
                  "finetune": models.job_finetune, "export": self._job_export, "judge": models.job_judge}
        return {name: bodies[name] for name in JOB_KINDS}

    def stop(self) -> None:
        """Stop the in-process consumer, when one was started."""
        if self._job_runner is not None:
            self._job_runner.stop()

    @property
    def runner(self) -> JobRunner:
        """The job runner of ``settings.jobs_backend`` (built on first use; no consumer yet)."""
        with self._svc.queue.pool_lock:
            if self._job_runner is None:
                s = self.settings
                self._job_runner = JobRunner(s.jobs_backend, self.execute, data_dir=s.data_dir,
                                             redis_url=s.redis_url, queue_name=s.jobs_queue)
            return self._job_runner

    def start(self, workers: int | None = None) -> list[int]:
        """Recover jobs a dead process left behind, then start the in-process consumer
        (``settings.jobs_workers`` threads). Returns the ids of the jobs marked interrupted."""
        recovered = self.recover()
        self.runner.start(self.settings.jobs_workers if workers is None else workers)
        return recovered

    def recover(self) -> list[int]:
        """Jobs left ``running`` (or cancelling) by a process on this host that is gone are marked
        failed ("interrupted by a restart"): nothing of them was applied, since results are
        committed atomically at the end. Their half-written model folders are removed. An
        interrupted job of a restartable kind (``JobKind.restartable``) that was not itself a restart is queued again
        as a new job (payload ``restart_of``: the old id), and the old row names it; a cancelled
        one, a second interruption and the ``immediate`` backend (no queue) are not restarted.
        Returns the ids of the jobs marked interrupted."""

        base = "interrupted by a restart: the process running it stopped; nothing was applied."
        requeue: list[int] = []
        ids: list[int] = []
        with store.transaction(self.engine) as s:
            stale = [j for j in jobs_q.running_jobs(s) + jobs_q.cancelled_unfinished(s)
                     if worker_is_dead((j.result or {}).get("worker"))]
            for job in stale:
                restart = (job.status == JobStatus.running and job.kind in RESTART_KINDS
                           and "restart_of" not in (job.payload or {}) and not self.runner.immediate)
                if restart:
                    new = jobs_q.create_job(s, job.project_id, job.kind, {**(job.payload or {}), "restart_of": job.id})
                    new.message = f"queued again: restart of job {job.id}, interrupted by a restart"
                    note = f"{base} Restarted as job {new.id}."
                else:
                    new = None
                    note = f"{base} Submit it again to rerun." if job.status == JobStatus.running else \
                        f"{base} It had been cancelled."
                # one conditional update per job: a second process recovering at once changes nothing
                if jobs_q.mark_interrupted(s, [job.id], note) == 1:
                    ids.append(job.id)
                    if new is not None:
                        requeue.append(new.id)
                elif new is not None:
                    s.delete(new)
            active = {j.id for j in jobs_q.running_jobs(s)}
            projects = {p.id: p.name for p in project_q.list_projects(s)}
            known = {(pid, k): [m.version for m in jobs_q.model_versions(s, pid, k)]
                     for pid in projects for k in VERSION_FOLDER_KINDS}
        for (pid, kind), versions in known.items():
            VersionDirs(self.settings.resolved_models_dir, projects[pid], kind=kind).cleanup(versions, active)
        for job_id in requeue:
            try:
                self.runner.enqueue(job_id)
            except AnnotatorError as e:
                with store.transaction(self.engine) as s:
                    jobs_q.finish_job(s, job_id, JobStatus.failed, message="could not be queued again", error=e.message,
                                      only_if=(JobStatus.queued,))
        if ids:
            log.warning("jobs %s were interrupted by a restart; marked failed (queued again: %s)", ids, requeue)
        return ids

    def submit(self, kind: str, project: str | None, **payload: Any) -> JobInfo:
        """Persist a job and queue it (the immediate backend runs it before returning)."""
        job_kind(kind)
        with store.transaction(self.engine) as s:
            pid = project_q.get_project(s, project).id if project else None
            job_id = jobs_q.create_job(s, pid, kind, _job_json(payload)).id
        try:
            self.runner.enqueue(job_id)
        except AnnotatorError as e:
            with store.transaction(self.engine) as s:
                jobs_q.finish_job(s, job_id, JobStatus.failed, message="could not be queued", error=e.message,
                                  only_if=(JobStatus.queued,))
            raise
        return self.get(job_id)

    def run(self, kind: str, project: str | None, *, on_progress: Callable[[float, str | None], None] | None = None,
                **payload: Any) -> JobInfo:
        """Create a job and run it here, in the calling thread (the CLI's ``jobs run``); recorded like any job."""
        job_kind(kind)
        with store.transaction(self.engine) as s:
            pid = project_q.get_project(s, project).id if project else None
            job_id = jobs_q.create_job(s, pid, kind, _job_json(payload)).id
        self.execute(job_id, on_progress=on_progress)
        return self.get(job_id)

    def execute(self, job_id: int, on_progress: Callable[[float, str | None], None] | None = None) -> None:
        """Run one queued job and record its outcome. Never raises: a failing job is marked failed
        and the consumer goes on with the next."""
        with store.transaction(self.engine) as s:
            if not jobs_q.start_job(s, job_id, worker_id()):
                return  # cancelled before it started, or taken by another worker
            job = jobs_q.get_job(s, job_id)
            project = project_q.get_project(s, job.project_id).name if job.project_id else None
            kind, payload = job.kind, dict(job.payload or {})
        ctx = JobContext(job_id, report=lambda p, m: self._report_job(job_id, p, m), on_progress=on_progress)
        try:
            body = self.kinds[kind]
            result = _job_json(body(ctx, project, payload))
        except JobCancelled as e:
            outcome = (JobStatus.cancelled, f"cancelled ({e.got}); nothing was applied", None, None)
        except AnnotatorError as e:
            outcome = (JobStatus.failed, e.what, None, e.message)
        except Exception as e:  # noqa: BLE001 - any failure of one job is recorded; the consumer must go on
            log.exception("job %s (%s) failed", job_id, kind)
            outcome = (JobStatus.failed, f"{type(e).__name__}: {e}", None, traceback.format_exc(limit=20))
        else:
            outcome = (JobStatus.done, str(result.pop("message", "done")), result, None)
        status, message, result, error = outcome
        with store.transaction(self.engine) as s:
            if not jobs_q.finish_job(s, job_id, status, message=message, result=result, error=error):
                # cancelled while its last step ran: the body checked before applying anything
                jobs_q.finish_job(s, job_id, JobStatus.cancelled, message="cancelled; nothing was applied",
                                  only_if=(JobStatus.cancelled,))

    def _report_job(self, job_id: int, progress: float, message: str | None) -> str:
        with store.transaction(self.engine) as s:
            return jobs_q.set_progress(s, job_id, progress, message)

    def cancel(self, job_id: int) -> JobInfo:
        """Cancel a queued job at once, a running one at its next progress checkpoint (it applies nothing)."""
        with store.transaction(self.engine) as s:
            jobs_q.request_cancel(s, int(job_id))
        return self.get(job_id)

    def get(self, job_id: int) -> JobInfo:
        with store.transaction(self.engine) as s:
            return self._job_info(s, jobs_q.get_job(s, int(job_id)))

    def list_jobs(self, project: str | None = None, limit: int = 50) -> list[JobInfo]:
        """Jobs newest first (of one project, or all)."""
        with store.transaction(self.engine) as s:
            pid = project_q.get_project(s, project).id if project else None
            return [self._job_info(s, j) for j in jobs_q.list_jobs(s, pid, limit=limit)]

    def wait_for(self, job_id: int, timeout: float = 600, poll_s: float = 0.1) -> JobInfo:
        """Poll until the job is done, failed or cancelled-and-stopped (or ``timeout`` s passed)."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.get(job_id)
            if job.finished_at is not None or time.monotonic() > deadline:
                return job
            time.sleep(poll_s)

    @staticmethod
    def _job_info(s, job) -> JobInfo:  # noqa: ANN001
        name = project_q.get_project(s, job.project_id).name if job.project_id else None
        return JobInfo(id=job.id, project=name, kind=job.kind, status=job.status, progress=job.progress,
                       message=job.message, payload=job.payload or {}, result=job.result or {}, error=job.error,
                       created_at=job.created_at, started_at=job.started_at, finished_at=job.finished_at)

    def _job_embed(self, ctx, project: str, payload: dict[str, Any]) -> dict[str, Any]:  # noqa: ANN001
        vectors = self._svc.embeddings.embed_project(project, progress=ctx.scaled(0.0, 1.0, "embedding"))
        return {"items": int(len(vectors)), "message": f"embedded {len(vectors)} items"}

    def _job_run_ai(self, ctx, project: str, payload: dict[str, Any]) -> dict[str, Any]:  # noqa: ANN001
        ctx.checkpoint(0.05, "fitting the AI annotators", force=True)
        out = self._svc.ai.run_ai(project, payload.get("annotators", "knn,zero-shot"))
        return {**out, "message": f"routed {out['items']} items: {out['routes']}"}

    def _job_export(self, ctx, project: str, payload: dict[str, Any]) -> dict[str, Any]:  # noqa: ANN001
        if "out" not in payload:
            raise ValidationError("An export job needs an output folder.", expected="payload out=DIR, fmt=FORMAT")
        ctx.checkpoint(0.05, "exporting", force=True)
        res = self._svc.exports.export(project, fmt=payload.get("fmt", "jsonl"), out=payload["out"], only=payload.get("only"),
                                       overwrite=bool(payload.get("overwrite", False)),
                                       csv_raw_formulas=bool(payload.get("csv_raw_formulas", False)))
        return {"rows": res.n_rows, "data_path": str(res.data_path), "card_path": str(res.card_path),
                "message": f"exported {res.n_rows} rows to {res.data_path}"}
