"""The trained preference judge as a versioned background job (kind ``judge``, versions ``bt-judge``):
fitted outside the held-out slice, promoted only on a significant held-out gain, answering as
``bt-judge`` once promoted (not on its own training items)."""

from __future__ import annotations

import numpy as np
import pytest
from sqlmodel import Session, select

from annotator.annotators import ItemBatch, LabelContext
from annotator.annotators.preference import BradleyTerryJudge, PromotedPreferenceJudge
from annotator.core.errors import EmptyPoolError
from annotator.store.tables import Suggestion
from annotator.training.judge import train_judge


def _pairs(n: int, seed: int = 0, start: int = 0) -> tuple[list[dict], dict[str, str]]:
    """Pairs whose better side says "helpful good" and the worse "useless bad"; A/B by a seeded coin."""
    rng = np.random.default_rng(seed)
    records, truth = [], {}
    for i in range(start, start + n):
        prompt = f"Question number {i} about topic {i % 7}?"
        good, bad = f"A helpful good answer to question {i}.", f"A useless bad answer to question {i}."
        a_better = bool(rng.random() < 0.5)
        records.append({"text": prompt, "metadata": {"response_a": good if a_better else bad,
                                                     "response_b": bad if a_better else good}})
        truth[prompt] = "A" if a_better else "B"
    return records, truth


def _answer_all(service, project: str, truth: dict[str, str]) -> None:
    while (view := service.tasks.next_task(project, "ana")) is not None:
        better = truth[view.prompt]
        service.tasks.submit_task(project, "ana", view.item_id, choice="left" if view.shown_order[0] == better else "right")


def _word_embed(texts):
    """Fake embedder: good / bad / other words on three axes, L2-normalised."""
    out = np.zeros((len(texts), 3))
    for i, t in enumerate(texts):
        out[i] = [t.count("good") + 0.1, t.count("bad") + 0.1, 1.0]
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_train_judge_promotes_a_real_gain_and_not_a_copy():
    records, truth = _pairs(100)
    judge = BradleyTerryJudge({r["text"]: (r["metadata"]["response_a"], r["metadata"]["response_b"]) for r in records},
                              embed=_word_embed)
    texts = list(truth)
    a = np.array([truth[t] == "A" for t in texts], dtype=np.int64)
    held = np.arange(len(texts)) % 4 == 0
    first = train_judge(judge, texts, a, held)
    assert first.decision.promoted and first.metrics["heldout_accuracy"] == 1.0
    assert first.metrics["heldout_n"] == int(held.sum()) and first.metrics["train_n"] == int((~held).sum())
    again = train_judge(judge, texts, a, held, incumbent=first.weights, incumbent_name="bt-judge v1")
    assert not again.decision.promoted and (again.decision.wins, again.decision.losses) == (0, 0)
    with pytest.raises(EmptyPoolError, match="Too few people's verdicts"):
        train_judge(judge, texts[:3], a[:3], np.zeros(3, dtype=bool))  # < 2 verdicts of one side


def test_promoted_judge_defers_on_its_own_training_items():
    records, truth = _pairs(20)
    pairs = {r["text"]: (r["metadata"]["response_a"], r["metadata"]["response_b"]) for r in records}
    fallback = BradleyTerryJudge(pairs, embed=_word_embed)
    texts = list(truth)
    weights = -fallback.fit_weights(texts, np.array([truth[t] == "A" for t in texts]))  # deliberately inverted
    promoted = PromotedPreferenceJudge(weights, frozenset(texts[:10]), fallback, "bt-v1")
    context = LabelContext(label_names=["A", "B", "tie", "both-bad"], texts=texts[:10],
                           embeddings=np.zeros((10, 3)),
                           labels=np.array([0 if truth[t] == "A" else 1 for t in texts[:10]]))
    proba = promoted.predict_proba(ItemBatch(texts=texts, embeddings=np.zeros((20, 3))), context)
    said_a = proba.argmax(axis=1) == 0
    is_a = np.array([truth[t] == "A" for t in texts])
    assert (said_a[:10] == is_a[:10]).all()  # own items: the context-refitted fallback, right
    assert (said_a[10:] != is_a[10:]).all()  # others: the (inverted) version's weights
    assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)


def test_judge_job_versions_promotes_and_answers(service):
    records, truth = _pairs(120)
    service.projects.create_project("p", [], task_type="preference")
    service.imports.import_records("p", records, near_duplicates="off")  # the fake embedder sees these as near-copies
    _answer_all(service, "p", truth)
    job = service.jobs.run("judge", "p")
    assert job.status == "done", job.message
    assert job.result["promoted"] and job.result["heldout_n"] >= 20 and job.result["heldout_accuracy"] == 1.0
    versions = service.models.model_versions("p", "bt-judge")
    assert [(v.version, v.promoted) for v in versions] == [(1, True)]
    assert versions[0].metrics["train_n"] + versions[0].metrics["heldout_n"] == 120

    again = service.jobs.run("judge", "p")  # the same verdicts: no better than v1, kept but not promoted
    assert again.status == "done" and not again.result["promoted"]
    assert [(v.version, v.promoted) for v in service.models.model_versions("p", "bt-judge")] == [(1, True), (2, False)]

    more, more_truth = _pairs(40, seed=1, start=1000)
    service.imports.import_records("p", more, near_duplicates="off")
    result = service.tasks.run_judge("p", "bt-judge")
    assert result["items"] == 40
    with Session(service.engine) as s:
        versions_used = set(s.exec(select(Suggestion.agent_version).where(Suggestion.agent == result["agent"])).all())
    assert versions_used == {"bt-judge:bt-v1"}


def test_judge_job_needs_verdicts_and_a_preference_project(service):
    records, truth = _pairs(10)
    service.projects.create_project("few", [], task_type="preference")
    service.imports.import_records("few", records, near_duplicates="off")
    for view in [service.tasks.next_task("few", "ana") for _ in range(2)]:
        service.tasks.submit_task("few", "ana", view.item_id, choice="left")
    job = service.jobs.run("judge", "few")
    assert job.status == "failed" and "Too few" in job.message
    assert service.models.model_versions("few", "bt-judge") == []
    service.projects.create_project("fix", [], task_type="correction")
    assert "preference projects" in service.jobs.run("judge", "fix").message
