"""What a running job sees: a progress checkpoint that also delivers cancellation."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from annotator.core.errors import JobCancelled
from annotator.core.schema import JobStatus

#: Writes (progress 0..1, message or None) to the job row and returns the row's status.
ReportFn = Callable[[float, str | None], str]


def worker_id() -> str:
    """"host:pid" of this process: recorded on the job row while it runs."""
    return f"{socket.gethostname()}:{os.getpid()}"


def worker_is_dead(worker: str | None) -> bool:
    """True when ``worker`` ("host:pid") was a process on this host that no longer runs.

    A worker on another host cannot be checked from here: it counts as alive (its own restart
    recovers its jobs). A row without a worker (written before one was recorded) counts as dead.
    """
    if not worker:
        return True
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by someone else
        return False
    return False


@dataclass
class JobContext:
    """Handed to a job's body. Call ``checkpoint`` often: it records progress (at most every
    ``min_interval_s``, always when ``force``) and raises ``JobCancelled`` once the job was cancelled.

    ``on_progress`` (optional) also sees every call, unthrottled: the CLI draws its tqdm bar with it.
    """

    job_id: int
    report: ReportFn
    min_interval_s: float = 0.5
    on_progress: Callable[[float, str | None], None] | None = None
    _last: float = field(default=-1e9, init=False)
    _message: str | None = field(default=None, init=False)

    def checkpoint(self, progress: float, message: str | None = None, *, force: bool = False) -> None:
        if message is not None:
            self._message = message
        if self.on_progress is not None:
            self.on_progress(progress, self._message)
        now = time.monotonic()
        if not force and now - self._last < self.min_interval_s:
            return
        self._last = now
        status = self.report(progress, self._message)
        if status == JobStatus.cancelled:
            raise JobCancelled(f"Job {self.job_id} was cancelled.", got=f"stopped at {progress:.0%}",
                               fix="nothing was applied; submit it again to rerun")

    def scaled(self, start: float, end: float, message: str) -> Callable[[int, int], None]:
        """A (done, total) callback mapping onto [start, end] of this job's progress."""

        def update(done: int, total: int) -> None:
            frac = done / total if total else 0.0
            self.checkpoint(start + (end - start) * frac, f"{message} {done}/{total}" if total else message)

        return update
