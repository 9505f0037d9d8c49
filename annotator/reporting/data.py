"""Figure data of the dashboard, computed from plain rows the service reads out of the store.

Every series here is something the store can be checked against (tests/reporting): route counts
per AI run, answers per hour, the audit estimate after each audit, the model versions. Two series
are computed, not read, and say so: the learning curve when no model version is recorded yet
(cross-validated accuracy of the fast classifier on the labels given so far, per label-count
snapshot), and the stopping signal (refits on the label snapshots of the last few refits, and how
many pool predictions changed between them, as ``simulate``'s KappaAverage does).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from annotator.active.classifier import fit_classifier
from annotator.core.schema import ROUTED_NAMES
from annotator.routing.audit import estimate_precision

#: Points kept per time series (coverage, audits): enough for a smooth line, small in the page.
MAX_POINTS = 300
#: Label-count snapshots of the cross-validated learning curve (when no model version exists).
CURVE_SNAPSHOTS = 6
#: Folds of that cross-validation (a learning curve, not a benchmark: 3 keeps the refresh fast).
CURVE_FOLDS = 3
#: Refits looked back on by the stopping signal ("over the last 3 refits").
STABILITY_REFITS = 3
#: Mean share of pool predictions changed per refit below which more labels change little.
STABLE_BELOW = 0.01
SETTLING_BELOW = 0.05
ROUTES = ROUTED_NAMES


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat(timespec="seconds")


@dataclass
class Dashboard:
    """Everything the dashboard tab and the report draw; plain values (JSON-ready via ``as_dict``).

    Times are ISO-8601 UTC strings. ``learning_curve["source"]`` is ``"model versions"`` (held-out
    human labels, from the ModelVersion rows) or ``"cross-validation"`` (computed; no version yet).
    """

    project: str
    generated_at: str
    items: int
    labelled: int
    human_answers: int
    model_versions: int
    learning_curve: dict[str, Any] = field(default_factory=dict)
    calibration: dict[str, Any] | None = None
    ai_run_at: str | None = None
    #: The last AI run's judge: ``auroc`` (out of fold, on the people's verdicts), ``confidence_auroc``
    #: (fused confidence), ``best_confidence`` / ``best_confidence_auroc`` (the best single raw
    #: confidence), ``n_train`` verdicts; None before any AI run.
    judge: dict[str, Any] | None = None
    #: The last AI run's estimated accuracy of the dataset's labels (``pipeline.dataset_estimate``:
    #: ``value``, ``ci_low``, ``ci_high``, ``measured_on``, ``target``, …); None before one recorded it.
    dataset_accuracy: dict[str, Any] | None = None
    route_runs: list[dict[str, Any]] = field(default_factory=list)
    coverage: list[dict[str, Any]] = field(default_factory=list)
    audits: list[dict[str, Any]] = field(default_factory=list)
    audit_estimate: dict[str, Any] = field(default_factory=dict)
    stability: dict[str, Any] = field(default_factory=dict)
    labels_per_hour: list[dict[str, Any]] = field(default_factory=list)
    jobs: list[dict[str, Any]] = field(default_factory=list)
    suspects: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------------------------- series
def learning_curve(
    versions: Sequence[dict[str, Any]], X: np.ndarray | None, y: np.ndarray | None, n_labels: int, *,
    multi_label: bool = False, seed: int = 0,
) -> dict[str, Any]:
    """Held-out accuracy by model version; without versions, cross-validated accuracy of the fast
    classifier on the first n labels (in labelling order) for a few snapshot sizes n.

    Args:
        versions: ModelVersion rows as dicts (kind, version, n_labels, metrics, promoted, created_at).
        X: (n, d) embeddings of the labelled items in labelling order; y: (n,) class indices.
    """
    points = []
    for v in versions:
        metrics = v.get("metrics") or {}
        acc = metrics.get("heldout_accuracy")
        if acc is None:
            continue
        points.append({"kind": v.get("kind"), "version": v.get("version"), "accuracy": float(acc),
                       "n_labels": int(v.get("n_labels") or metrics.get("train_n") or 0),
                       "heldout_n": metrics.get("heldout_n"), "promoted": bool(v.get("promoted")),
                       "at": v.get("created_at")})
    if points:
        return {"source": "model versions", "points": points,
                "note": "accuracy on held-out human labels that no model trained on, per model version"}
    if X is None or y is None or multi_label or len(y) == 0:
        return {"source": "none", "points": [], "note": "no model version yet and too few labels to cross-validate"}
    return {"source": "cross-validation", "points": _cv_curve(np.asarray(X), np.asarray(y), n_labels, seed),
            "note": "no model version yet: cross-validated accuracy of the fast classifier on the labels given "
                    "so far (first n in labelling order), not a fixed held-out slice"}


def _cv_curve(X: np.ndarray, y: np.ndarray, n_labels: int, seed: int) -> list[dict[str, Any]]:
    from sklearn.model_selection import StratifiedKFold

    n = len(y)
    sizes = np.unique(np.linspace(min(n, max(10, n // CURVE_SNAPSHOTS)), n, CURVE_SNAPSHOTS).astype(int))
    out = []
    for size in sizes:
        ys = y[:size]
        counts = np.bincount(ys, minlength=n_labels)
        present = counts[counts > 0]
        if len(present) < 2 or present.min() < 2:
            continue
        folds = int(min(CURVE_FOLDS, present.min()))
        correct = 0
        for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(X[:size], ys):
            probe = fit_classifier(X[:size][train], ys[train], n_labels)
            correct += int((probe.predict_proba(X[:size][test]).argmax(axis=1) == ys[test]).sum())
        out.append({"kind": "classifier (cross-validated)", "version": None, "n_labels": int(size),
                    "accuracy": round(correct / size, 4), "heldout_n": int(size), "promoted": False, "at": None})
    return out


def route_runs(routed: Sequence[tuple[int, str, datetime]]) -> list[dict[str, Any]]:
    """Route counts per AI run: suggestions stored by one run share their creation time."""
    runs: dict[datetime, Counter] = {}
    for _, route, at in routed:
        runs.setdefault(at, Counter())[route] += 1
    return [{"at": _iso(at), **{r: int(c.get(r, 0)) for r in ROUTES}, "items": int(sum(c.values()))}
            for at, c in sorted(runs.items())]


def coverage_series(
    first_labels: dict[int, datetime], routed: Sequence[tuple[int, str, datetime]], items: int,
) -> list[dict[str, Any]]:
    """Share of the pool with a label over time: an item counts from its first live answer (human)
    or the first time the router auto-accepted an AI label for it (ai), whichever came first."""
    first: dict[int, tuple[datetime, str]] = {i: (at, "human") for i, at in first_labels.items() if at is not None}
    for item_id, route, at in routed:
        if route == "auto" and (item_id not in first or at < first[item_id][0]):
            first[item_id] = (at, "ai")
    events = sorted(first.values())
    if not events:
        return []
    human = np.cumsum([kind == "human" for _, kind in events])
    ai = np.arange(1, len(events) + 1) - human
    keep = _thin(len(events))
    return [{"at": _iso(events[i][0]), "human": int(human[i]), "ai": int(ai[i]),
             "coverage": round((human[i] + ai[i]) / max(items, 1), 4)} for i in keep]


def audit_series(audits: Sequence[tuple[datetime, list[str], list[str]]]) -> list[dict[str, Any]]:
    """The audit estimate (precision of auto labels, 95 % Clopper–Pearson) after each audit."""
    agree = [sorted(person) == sorted(ai) for _, person, ai in audits]
    out = []
    for i in _thin(len(agree)):
        est = estimate_precision(agree[: i + 1])
        out.append({"at": _iso(audits[i][0]), **est.as_dict()})
    return out


def labels_per_hour(answers: Sequence[tuple[int, str, datetime]]) -> list[dict[str, Any]]:
    """Answers people gave (imports excluded) per clock hour (UTC), oldest first."""
    hours = Counter(at.replace(minute=0, second=0, microsecond=0) for _, _, at in answers if at is not None)
    return [{"hour": _iso(h), "labels": int(n)} for h, n in sorted(hours.items())]


def stopping_advice(changed: Sequence[float]) -> str:
    """Plain words from the share of pool predictions that changed at each of the last refits."""
    if not changed:
        return ("Not enough refits yet to tell whether more labels help: the signal needs the labels of "
                "at least two refits.")
    share = float(np.mean(changed))
    k = len(changed)
    head = f"predictions changed on {100 * share:.1f} % of items over the last {k} refit{'s' if k > 1 else ''}"
    if share < STABLE_BELOW:
        return f"{head}: more labels will change little."
    if share < SETTLING_BELOW:
        return f"{head}: the model is settling; more labels still help a little."
    return f"{head}: the model is still learning; keep labelling."


def stability(
    X: np.ndarray | None, targets: np.ndarray | None, pool: np.ndarray | None, n_labels: int, refit_every: int, *,
    multi_label: bool = False, refits: int = STABILITY_REFITS,
) -> dict[str, Any]:
    """The stopping signal: refit the fast classifier on the labels of each of the last ``refits``+1
    refits (the first n - j × refit_every labels in labelling order) and compare its predictions on
    the whole pool with the previous snapshot's: share changed and Cohen's kappa.

    Args:
        X: (n, d) labelled embeddings in labelling order; targets: (n, k) 0/1 label indicators;
        pool: (N, d) embeddings of every item.
    """
    from sklearn.metrics import cohen_kappa_score

    empty = {"points": [], "advice": stopping_advice([]), "refit_every": refit_every}
    if X is None or targets is None or pool is None or len(targets) == 0:
        return empty
    n = len(targets)
    step = max(1, int(refit_every))
    sizes = sorted({n - j * step for j in range(refits + 1) if n - j * step > 0})
    preds: list[tuple[int, np.ndarray]] = []
    for size in sizes:
        T = targets[:size]
        y = T.astype(np.int64) if multi_label else T.argmax(axis=1)
        if not multi_label and len(np.unique(y)) < 2:
            continue
        probe = fit_classifier(X[:size], y, n_labels, multi_label=multi_label)
        proba = probe.predict_proba(pool)
        preds.append((size, proba > 0.5 if multi_label else proba.argmax(axis=1)))
    points = []
    for (_, before), (size, after) in zip(preds, preds[1:]):
        if multi_label:
            changed = float((before != after).any(axis=1).mean())
            kappa = None
        else:
            changed = float((before != after).mean())
            kappa = 1.0 if changed == 0 else round(float(cohen_kappa_score(before, after)), 4)
        points.append({"n_labels": int(size), "changed": round(changed, 4), "kappa": kappa})
    return {"points": points, "advice": stopping_advice([p["changed"] for p in points]), "refit_every": step}


def _thin(n: int, limit: int = MAX_POINTS) -> list[int]:
    """At most ``limit`` indices of 0..n-1, evenly spread, always keeping the last."""
    if n <= limit:
        return list(range(n))
    idx = np.unique(np.linspace(0, n - 1, limit).round().astype(int))
    return [int(i) for i in idx]


# ---------------------------------------------------------------------------------- assembly
def build_dashboard(
    *, project: str, now: datetime, items: int, labelled: int, versions: Sequence[dict[str, Any]],
    jobs: Sequence[dict[str, Any]], answers: Sequence[tuple[int, str, datetime]],
    first_labels: dict[int, datetime], routed: Sequence[tuple[int, str, datetime]],
    audits: Sequence[tuple[datetime, list[str], list[str]]], label_names: Sequence[str],
    X_labelled: np.ndarray | None = None, targets: np.ndarray | None = None, pool: np.ndarray | None = None,
    multi_label: bool = False, refit_every: int = 10, seed: int = 0, ai_run: dict[str, Any] | None = None,
    suspects: dict[str, Any] | None = None,
) -> Dashboard:
    """Assemble the dashboard from the store's rows (see ``store.reports``) and the pool's arrays."""
    n_labels = len(label_names)
    y = None if targets is None or multi_label or len(targets) == 0 else targets.argmax(axis=1).astype(np.int64)
    audit_points = audit_series(audits)
    estimate = audit_points[-1] if audit_points else {"value": None, "ci_low": None, "ci_high": None, "audits": 0}
    estimate = {k: estimate[k] for k in ("value", "ci_low", "ci_high", "audits")}
    return Dashboard(
        project=project, generated_at=_iso(now), items=int(items), labelled=int(labelled),
        human_answers=len(answers), model_versions=len(versions),
        learning_curve=learning_curve(versions, X_labelled, y, n_labels, multi_label=multi_label, seed=seed),
        calibration=(ai_run or {}).get("calibration"), ai_run_at=(ai_run or {}).get("at"),
        judge=(ai_run or {}).get("judge"), dataset_accuracy=(ai_run or {}).get("dataset_accuracy"),
        route_runs=route_runs(routed), coverage=coverage_series(first_labels, routed, items),
        audits=audit_points, audit_estimate=estimate,
        stability=stability(X_labelled, targets, pool, n_labels, refit_every, multi_label=multi_label),
        labels_per_hour=labels_per_hour(answers), jobs=list(jobs), suspects=dict(suspects or {}),
    )
