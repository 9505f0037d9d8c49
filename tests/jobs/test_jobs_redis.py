"""The Redis backend end to end: the app queues, a `python -m annotator worker` process runs."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

from jobs_helpers import PROJECT, parity_project

pytestmark = pytest.mark.redis

REDIS_URL = os.environ.get("ANNOTATOR_TEST_REDIS", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_url():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as e:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {e}")
    return REDIS_URL


def test_worker_process_runs_queued_jobs(settings, redis_url):
    from annotator.embeddings import HashingEmbedder
    from annotator.service import AnnotatorService

    queue = f"annotator-test-{uuid.uuid4().hex[:8]}"
    settings.jobs_backend, settings.redis_url, settings.jobs_queue, settings.jobs_workers = "redis", redis_url, queue, 0
    service = AnnotatorService.from_settings(settings, embedder=HashingEmbedder())
    worker = None
    try:
        parity_project(service, n=40, labelled=2)
        assert service.jobs.start() == []  # no consumer in the app (jobs_workers = 0)
        first = service.jobs.submit("embed", PROJECT)
        failing = service.jobs.submit("finetune", PROJECT)  # 2 labels: fails with advice
        last = service.jobs.submit("refit", PROJECT)
        assert service.jobs.get(first.id).status == "queued" and service.jobs.runner.pending() == 3
        env = {**os.environ, "ANNOTATOR_MODELS_DIR": str(settings.models_dir), "ANNOTATOR_DEMO": "false"}
        worker = subprocess.Popen(
            [sys.executable, "-m", "annotator", "worker", "--data-dir", str(settings.data_dir), "--jobs-backend",
             "redis", "--redis-url", redis_url, "--queue", queue, "--embedding-model", "hashing"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        first, failing, last = (service.jobs.wait_for(j.id, 120) for j in (first, failing, last))
        assert first.status == "done" and first.result["items"] == 40
        assert failing.status == "failed" and "label more items" in failing.error
        assert last.status == "done"  # the failure did not stop the worker
        assert {j.result["worker"].rsplit(":", 1)[1] for j in (first, failing, last)} == {str(worker.pid)}
        assert service.jobs.runner.pending() == 0
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(10)
        service.jobs.runner.huey.flush()
        service.close()
