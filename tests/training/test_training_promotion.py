"""Fine-tuning jobs with the fake trainer: held-out slice, promotion rule, pool swap, export."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "jobs"))
from jobs_helpers import PROJECT, anti_rule, parity_project, parity_rule  # noqa: E402

from annotator.training import RuleTrainer, decide_promotion, heldout_mask  # noqa: E402
from annotator.training.heldout import mcnemar_one_sided  # noqa: E402


@pytest.fixture
def svc(settings):
    from annotator.embeddings import HashingEmbedder
    from annotator.service import AnnotatorService

    settings.jobs_backend = "immediate"
    service = AnnotatorService.from_settings(settings, embedder=HashingEmbedder())
    yield service
    service.close()


def test_heldout_slice_is_fixed_and_about_a_fifth():
    ids = np.arange(1, 5001)
    mask = heldout_mask(ids, seed=3)
    assert 0.17 < mask.mean() < 0.23
    assert (heldout_mask(ids[::-1], seed=3) == mask[::-1]).all()  # membership depends on the id only
    assert (heldout_mask(ids[:100], seed=3) == mask[:100]).all()  # and never changes as items are added
    assert (heldout_mask(ids, seed=4) != mask).any()


def test_mcnemar_needs_a_real_margin():
    assert mcnemar_one_sided(5, 0) == pytest.approx(1 / 32)
    assert mcnemar_one_sided(0, 0) == 1.0
    base = np.ones(40, dtype=bool)
    base[:8] = False  # baseline 80 %
    cand = base.copy()
    cand[:2] = True  # candidate 85 %: 2 wins, 0 losses, p = 0.25
    d = decide_promotion(cand, base, baseline="b")
    assert not d.promoted and "not significantly" in d.reason and d.heldout_accuracy > d.baseline_accuracy
    cand[:8] = True  # 8 wins: p = 1/256
    assert decide_promotion(cand, base, baseline="b").promoted
    assert not decide_promotion(cand[:10], base[:10], baseline="b").promoted  # too few held-out items


def test_a_better_model_is_promoted_and_ranks_the_queue(svc, settings):
    """The rule model reads the parity the hashing probe cannot: it wins on the held-out slice, its
    version folder holds config, metrics, label snapshot and pool probabilities, and the pool ranks
    with them."""
    parity_project(svc, n=200, labelled=150)
    svc.models.trainer = RuleTrainer(parity_rule)
    job = svc.jobs.submit("finetune", PROJECT)
    assert job.status == "done", job.error
    [mv] = svc.models.model_versions(PROJECT, "finetune")
    m = mv.metrics
    assert mv.promoted and m["promoted"] and m["heldout_accuracy"] == 1.0
    assert m["baseline"] == "the fast classifier" and m["baseline_accuracy"] < 0.8
    assert m["heldout_n"] + m["train_n"] == 150 and m["heldout_n"] >= 20
    d = Path(mv.path)
    assert d.name == "v1" and {"config.json", "metrics.json", "labels.jsonl", "finetune.json", "proba.npy",
                               "item_ids.npy"} <= {p.name for p in d.iterdir()}
    snapshot = [json.loads(line) for line in (d / "labels.jsonl").read_text().splitlines()]
    held = {r["item_id"] for r in snapshot if r["split"] == "heldout"}
    train = {r["item_id"] for r in snapshot if r["split"] == "train"}
    assert len(held) == m["heldout_n"] and not held & train
    pool = svc.queue.pool(PROJECT)
    assert pool.external is not None and pool.external[2] == "finetune v1"
    proba = pool.predict()
    texts = {i: f"case number {int(i) - 1} filed today" for i in pool.item_ids}  # ids follow import order
    expected = np.asarray([parity_rule(texts[i]) for i in pool.item_ids])
    assert (proba.argmax(1) == expected).all()
    pool.refit()  # the probe refits: the promoted model still decides the ranking
    assert (pool.predict().argmax(1) == expected).all()


def test_a_worse_model_is_never_promoted(svc):
    parity_project(svc, n=200, labelled=150)
    svc.models.trainer = RuleTrainer(anti_rule)
    job = svc.jobs.submit("finetune", PROJECT)
    [mv] = svc.models.model_versions(PROJECT, "finetune")
    assert job.status == "done" and not mv.promoted
    assert mv.metrics["heldout_accuracy"] == 0.0 and "not better" in mv.metrics["reason"]
    assert not (Path(mv.path) / "proba.npy").exists()
    assert svc.queue.pool(PROJECT).external is None


def test_the_next_version_must_beat_the_promoted_one(svc):
    parity_project(svc, n=200, labelled=150)
    svc.models.trainer = RuleTrainer(parity_rule)
    svc.jobs.submit("finetune", PROJECT)
    svc.models.trainer = RuleTrainer(lambda t: 0)  # says "even" to everything: worse than v1
    svc.jobs.submit("finetune", PROJECT)
    v1, v2 = svc.models.model_versions(PROJECT, "finetune")
    assert v1.promoted and not v2.promoted
    assert v2.metrics["baseline"] == "fine-tuned v1" and v2.metrics["baseline_accuracy"] == 1.0
    assert svc.queue.pool(PROJECT).external[2] == "finetune v1"


def test_refit_job_records_a_classifier_version(svc):
    parity_project(svc, n=120, labelled=100)
    job = svc.jobs.submit("refit", PROJECT)
    assert job.status == "done", job.error
    [mv] = svc.models.model_versions(PROJECT, "classifier")
    assert set(mv.metrics) >= {"heldout_accuracy", "heldout_n", "train_n"}
    assert mv.metrics["heldout_n"] + mv.metrics["train_n"] == 100 and mv.n_labels == 100


def test_too_few_labels_fail_with_advice(svc):
    parity_project(svc, n=30, labelled=3)
    svc.models.trainer = RuleTrainer(parity_rule)
    job = svc.jobs.submit("finetune", PROJECT)
    assert job.status == "failed" and "label more items" in job.error
    assert svc.models.model_versions(PROJECT) == []


def test_model_export_writes_a_card(svc, tmp_path):
    from annotator.core.errors import NotFoundError

    parity_project(svc, n=200, labelled=150)
    svc.models.trainer = RuleTrainer(parity_rule)
    svc.jobs.submit("finetune", PROJECT)
    out = svc.models.export_model(PROJECT, 1, tmp_path / "exported")
    names = {p.name for p in out.iterdir()}
    assert {"config.json", "README.md", "labels.jsonl", "metrics.json"} <= names and "proba.npy" not in names
    card = (out / "README.md").read_text()
    assert "`even`, `odd`" in card and "Held-out accuracy | 100.0%" in card and "Promoted in the app: yes" in card
    with pytest.raises(NotFoundError, match="v1"):
        svc.models.export_model(PROJECT, 7, tmp_path / "x")


def test_the_classifier_annotator_answers_with_the_promoted_model(svc):
    """run_ai's `classifier` uses the promoted version's stored probabilities for items it did not
    train on: the unlabelled parity items get the right label, which the hashing probe cannot give."""
    from annotator import store
    from annotator.store import responses as response_q

    parity_project(svc, n=200, labelled=150)
    svc.models.trainer = RuleTrainer(parity_rule)
    svc.jobs.submit("finetune", PROJECT)
    from annotator.annotators.registry import make_annotators

    [classifier] = svc.ai._with_promoted_classifier(PROJECT, make_annotators("classifier"))
    assert classifier.version == "finetune-v1"
    out = svc.ai.run_ai(PROJECT, "classifier")
    assert out["items"] == 50
    pool = svc.queue.pool(PROJECT)
    open_ids = pool.item_ids[~pool.labelled].tolist()
    with store.transaction(svc.engine) as s:
        suggestions = response_q.latest_suggestions(s, open_ids)
    right = [suggestions[i].value == [["even", "odd"][(i - 1) % 2]] for i in open_ids]
    assert all(right) and "finetune-v1" in suggestions[open_ids[0]].agent_version


def test_auto_accepted_labels_join_training_down_weighted(svc):
    """With auto_weight > 0, auto-routed AI labels of unlabelled items are trained on at that weight
    (recorded in the label snapshot); they never enter the held-out slice."""
    from annotator import store
    from annotator.store import responses as response_q

    parity_project(svc, n=200, labelled=150)
    pool = svc.queue.pool(PROJECT)
    open_ids = pool.item_ids[~pool.labelled].tolist()[:30]
    with store.transaction(svc.engine) as s:
        response_q.insert_suggestions(s, [
            {"item_id": i, "agent": "ensemble(knn)", "agent_version": "1", "value": ["even"],
             "scores": {"even": 0.99, "odd": 0.01}, "score": 0.99, "route": "auto" if k < 20 else "verify"}
            for k, i in enumerate(open_ids)])
    seen = {}

    class Spy(RuleTrainer):
        def train(self, texts, y, weights, label_names, out_dir, progress=None):  # noqa: ANN001, ANN201
            seen["weights"] = weights.tolist()
            return super().train(texts, y, weights, label_names, out_dir, progress)

    svc.models.trainer = Spy(parity_rule)
    job = svc.jobs.submit("finetune", PROJECT, auto_weight=0.3)
    assert job.status == "done", job.error
    m = job.result
    assert m["auto_train_n"] == 20 and m["train_n"] == m["human_train_n"] + 20
    assert sorted(set(seen["weights"])) == [pytest.approx(0.3), 1.0] and seen["weights"].count(1.0) == m["human_train_n"]
    snapshot = [json.loads(line) for line in (Path(m["path"]) / "labels.jsonl").read_text().splitlines()]
    auto_rows = [r for r in snapshot if r.get("weight") == pytest.approx(0.3)]
    assert len(auto_rows) == 20 and {r["item_id"] for r in auto_rows} <= set(open_ids[:20])
    assert all(r["split"] == "train" for r in auto_rows)
