"""The job runner: one huey instance per backend, one task ("run job <id>"), a consumer.

The huey task carries only the job id; ``execute(job_id)`` (the service's) loads the row, runs
the body and records the outcome. It never raises: a failing job is recorded as failed and the
consumer goes on with the next one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from annotator.core.errors import ConfigError

log = logging.getLogger("annotator.jobs")

#: Name of the one task; the same in the app and in every ``worker`` process.
TASK_NAME = "annotator_run_job"


def _sqlite(name: str, data_dir: Path, redis_url: str):  # noqa: ANN202 - huey.Huey
    from huey import SqliteHuey

    data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name=name, filename=str(data_dir / "jobs-queue.db"), results=False)


def _redis(name: str, data_dir: Path, redis_url: str):  # noqa: ANN202
    from huey import RedisHuey

    return RedisHuey(name=name, url=redis_url, results=False)


def _immediate(name: str, data_dir: Path, redis_url: str):  # noqa: ANN202
    from huey import MemoryHuey

    return MemoryHuey(name=name, immediate=True, results=False)


#: backend name → huey factory (name, data_dir, redis_url).
BACKENDS: dict[str, Callable] = {"sqlite": _sqlite, "redis": _redis, "immediate": _immediate}


def check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise ConfigError(f"Unknown jobs backend {backend!r}.", expected=" | ".join(BACKENDS),
                          fix="set jobs_backend (ANNOTATOR_JOBS_BACKEND) to one of those")
    return backend


class JobRunner:
    """Queue job ids on huey and run them with ``execute`` in a consumer.

    Args:
        backend: "sqlite" | "redis" | "immediate" (see the package docstring).
        execute: runs one job row by id and records its outcome; must not raise.
        queue_name: huey's queue name; every process sharing jobs uses the same one.
    """

    def __init__(self, backend: str, execute: Callable[[int], None], *, data_dir: Path,
                 redis_url: str = "redis://127.0.0.1:6379/0", queue_name: str = "annotator"):
        self.backend = check_backend(backend)
        self.huey = BACKENDS[backend](queue_name, Path(data_dir), redis_url)
        self._execute = execute
        self._task = self.huey.task(name=TASK_NAME)(self._run)
        self._consumer = None
        self._lock = threading.Lock()

    def _run(self, job_id: int) -> None:
        self._execute(int(job_id))

    @property
    def immediate(self) -> bool:
        return bool(self.huey.immediate)

    def enqueue(self, job_id: int) -> None:
        """Put the job on the queue (immediate backend: run it now, in this thread)."""
        if self.backend == "redis":
            from redis.exceptions import ConnectionError as RedisConnectionError

            try:
                self._task(job_id)
            except RedisConnectionError as e:
                raise ConfigError("The Redis server for jobs cannot be reached.", expected="a Redis server",
                                  got=str(e), fix="start Redis, fix redis_url, or use jobs_backend = 'sqlite'") from e
            return
        self._task(job_id)

    def pending(self) -> int:
        """Tasks waiting in the queue (0 for the immediate backend)."""
        return 0 if self.immediate else int(self.huey.pending_count())

    # ------------------------------------------------------------------ consumers
    def start(self, workers: int = 1) -> bool:
        """Start a consumer with ``workers`` threads inside this process (no signal handlers, so it
        can run beside a web server). False when there is nothing to start (immediate, or 0 workers)."""
        if self.immediate or workers <= 0:
            return False
        with self._lock:
            if self._consumer is not None:
                return True
            self._consumer = _EmbeddedConsumer(self.huey, workers=workers, worker_type="thread",
                                               periodic=False, initial_delay=0.05, max_delay=1.0,
                                               check_worker_health=False)
            self._consumer.start()
        log.info("jobs: %s consumer with %d worker thread(s) started", self.backend, workers)
        return True

    def stop(self, timeout: float = 5.0) -> None:
        with self._lock:
            consumer, self._consumer = self._consumer, None
        if consumer is None:
            return
        consumer.stop_flag.set()
        for _, thread in consumer.worker_threads:
            thread.join(timeout)
        consumer.scheduler.join(timeout)

    def run_forever(self, workers: int = 1) -> None:
        """Run a consumer in the foreground until Ctrl-C (``python -m annotator worker``)."""
        if self.immediate:
            raise ConfigError("The immediate jobs backend has no queue to consume.",
                              fix="use jobs_backend = 'redis' (or 'sqlite') for a worker")
        consumer = self.huey.create_consumer(workers=workers, worker_type="thread", periodic=False,
                                             initial_delay=0.05, max_delay=1.0)
        consumer.run()


def _consumer_class():  # noqa: ANN202 - huey is imported lazily
    from huey.consumer import Consumer

    class EmbeddedConsumer(Consumer):
        """A consumer that lives inside the app: signals stay with the web server."""

        def _set_signal_handlers(self) -> None:
            return None

    return EmbeddedConsumer


def _EmbeddedConsumer(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202, N802
    return _consumer_class()(*args, **kwargs)
