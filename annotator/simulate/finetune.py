"""Fine-tuning inside a simulated session, and the with / without comparison of simulate.

``FinetuneSchedule`` submits the app's own ``finetune`` job (``AnnotatorService.jobs.submit``: the
same job body, held-out slice, McNemar promotion and pool swap as in the app) every ``every``
human labels, and records what each job did. The gold test slice scores every trained version
for the report only, after its job finished: nothing in the loop reads that figure.

``compare_arms`` puts the runs of the two arms (``with_finetune``: fine-tuned model and judge in
the loop; ``without_finetune``: neither) side by side, mean and spread over seeds.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from annotator.core.schema import JobStatus

#: Arm names, as they appear in each run's ``arm`` key and in ``finetune_comparison``.
WITH, WITHOUT = "with_finetune", "without_finetune"
#: Report keys compared between the arms (means and std over seeds).
COMPARED = ("final_label_accuracy", "human_labels", "auto_labels", "coverage", "auto_label_precision",
            "judge_auroc", "confidence_auroc", "best_confidence_auroc", "classifier_accuracy", "final_model_accuracy",
            "finetune_trained", "finetune_promoted", "seconds")


class FinetuneSchedule:
    """Submit a ``finetune`` job every ``every`` human labels; keep one record per job.

    Args:
        service: the simulation's ``AnnotatorService`` (jobs backend ``immediate``: the job runs in
            the calling thread, so the next round already ranks and routes with a promoted version).
        project: the project name.
        every: human labels between two jobs (> 0).
        payload: ``FinetuneConfig`` overrides passed to the job (``epochs``, ``max_steps``, ...).
        test_texts, test_gold: the gold test slice, (t,) texts and (t,) class indices, used only to
            score each trained version for the report.
    """

    def __init__(self, service: Any, project: str, every: int, payload: dict[str, Any],
                 test_texts: Sequence[str], test_gold: np.ndarray):
        if every <= 0:
            raise ValueError(f"finetune every must be > 0 human labels, got {every}")
        self.service, self.project, self.every = service, project, every
        self.payload = {k: v for k, v in payload.items() if v is not None}
        self.test_texts, self.test_gold = list(test_texts), np.asarray(test_gold)
        self.next_at = every
        self.records: list[dict[str, Any]] = []

    def due(self, human_labels: int) -> bool:
        return human_labels >= self.next_at

    def run(self, human_labels: int) -> dict[str, Any]:
        """Run one fine-tuning job now (the app's job, inline) and record its outcome."""
        self.next_at = human_labels + self.every
        started = time.perf_counter()
        job = self.service.jobs.submit("finetune", self.project, **self.payload)
        record: dict[str, Any] = {"human_labels": human_labels, "job_id": job.id, "status": job.status,
                                  "message": job.message}
        if job.status == JobStatus.done:
            res = job.result
            record.update({k: res.get(k) for k in (
                "version", "train_n", "heldout_n", "heldout_accuracy", "baseline", "baseline_accuracy",
                "p_value", "promoted", "steps", "device")})
            record["test_accuracy"] = self._test_accuracy(Path(res["path"]))
        record["seconds"] = round(time.perf_counter() - started, 2)
        self.records.append(record)
        return record

    def _test_accuracy(self, version_dir: Path) -> float | None:
        """Accuracy of a trained version on the gold test slice (report only)."""
        if not self.test_texts:
            return None
        proba = self.service.models.finetune_trainer(**self.payload).predict(version_dir, self.test_texts)
        return round(float((proba.argmax(axis=1) == self.test_gold).mean()), 4)

    def summary(self) -> dict[str, Any]:
        """``{every, jobs, trained, promoted, promoted_version, promoted_test_accuracy}`` of this run."""
        trained = [r for r in self.records if r["status"] == JobStatus.done]
        promoted = [r for r in trained if r.get("promoted")]
        last = promoted[-1] if promoted else None
        return {"every": self.every, "payload": self.payload, "jobs": self.records, "trained": len(trained),
                "promoted": len(promoted), "promoted_version": last["version"] if last else None,
                "promoted_test_accuracy": last["test_accuracy"] if last else None}


def compare_arms(runs: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The two arms side by side: ``{arms: {with_finetune: {...}, without_finetune: {...}},
    per_seed: [...], sentence}``; None unless runs of both arms are present."""
    by_arm = {arm: [r for r in runs if r.get("arm") == arm] for arm in (WITH, WITHOUT)}
    if not all(by_arm.values()):
        return None
    arms = {}
    for arm, these in by_arm.items():
        row: dict[str, Any] = {"runs": len(these), "seeds": [r["seed"] for r in these]}
        for key in COMPARED:
            values = [float(r[key]) for r in these if r.get(key) is not None]
            row[key] = round(float(np.mean(values)), 4) if values else None
            row[f"{key}_std"] = round(float(np.std(values)), 4) if len(values) > 1 else 0.0
        arms[arm] = row
    per_seed = []
    for seed in sorted({r["seed"] for r in runs}):
        entry: dict[str, Any] = {"seed": seed}
        for arm, these in by_arm.items():
            run = next((r for r in these if r["seed"] == seed), None)
            if run is not None:
                entry[arm] = {key: run.get(key) for key in COMPARED}
        per_seed.append(entry)
    w, wo = arms[WITH], arms[WITHOUT]

    def fmt(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.4g}"

    sentence = (f"with fine-tuning and judge: final label accuracy {fmt(w['final_label_accuracy'])} with "
                f"{fmt(w['human_labels'])} human labels ({fmt(w['auto_labels'])} auto); without: "
                f"{fmt(wo['final_label_accuracy'])} with {fmt(wo['human_labels'])} ({fmt(wo['auto_labels'])} auto); "
                f"fine-tuned versions promoted per run: {fmt(w['finetune_promoted'])} of {fmt(w['finetune_trained'])} trained")
    return {"arms": arms, "per_seed": per_seed, "sentence": sentence}
