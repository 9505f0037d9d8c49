"""Background jobs: a huey task queue whose one task runs a persisted ``Job`` row by id.

Three backends (``Settings.jobs_backend``): ``sqlite`` (huey's SQLite storage in the data
directory, a consumer thread inside the app: no extra server), ``redis`` (a Redis server; run
``python -m annotator worker`` on any machine that shares the database) and ``immediate`` (the job
runs in the caller's thread when submitted: tests, scripts).

The job row, not the queue, is the truth about a job; see ``annotator.store.jobs``.
"""

from annotator.jobs.context import JobContext, worker_id, worker_is_dead
from annotator.jobs.runner import BACKENDS, JobRunner

__all__ = ["BACKENDS", "JobContext", "JobRunner", "worker_id", "worker_is_dead"]
