"""The judge: P(this AI label is correct | item), learnt from the people's verdicts.

Every human-labelled item is a verdict on the fused AI label it *would* have got: the
ensemble's out-of-fold label either equals the person's answer or not. The judge is a small
classifier on features the router already has (each annotator's calibrated probability of the
fused label, their agreement, the fused margin and entropy, the neighbours' labels, the text
length). It can see what the fused confidence alone cannot, e.g. a region where the annotators
are confidently wrong together but the human-labelled neighbours say otherwise.

The judge is trained and scored out of fold, so its AUROC on held-out verdicts and its
threshold (certified like the confidence thresholds) never use an item's own verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from annotator.annotators.base import LabelContext
from annotator.core.errors import EmptyPoolError, ValidationError
from annotator.routing.calibration import Ensemble
from annotator.routing.router import RoutingPolicy, certify_thresholds

N_NEIGHBOURS = 10
MIN_VERDICTS = 50  # human-labelled items before the judge may veto anything
MIN_PER_OUTCOME = 5  # right and wrong verdicts each: fewer makes its out-of-fold AUROC noise


def _logistic(seed: int) -> object:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))


def _boosting(seed: int) -> object:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_iter=100, learning_rate=0.05, max_depth=3, min_samples_leaf=10,
                                          l2_regularization=1.0, random_state=seed)


# Named judge models. "logistic" is the default: at 50-300 verdicts (simulate, support-tickets demo,
# --ai all, seeds 0-2, every round) its out-of-fold AUROC matched or beat boosting's in 58 of 78
# rounds (means per seed 0.733 / 0.784 / 0.793 vs 0.706 / 0.757 / 0.780), at a fraction of the fit
# time; on the synthetic confidently-wrong cluster of the tests the two are within 0.03.
JUDGE_MODELS: dict[str, Callable[[int], object]] = {"logistic": _logistic, "boosting": _boosting}


def feature_names(annotator_names: Sequence[str]) -> list[str]:
    """Column names of ``judge_features``: (a + 6,) for ``a`` annotators."""
    return [f"p_{name}" for name in annotator_names] + [
        "annotator_agreement", "fused_confidence", "fused_margin", "fused_entropy", "neighbour_agreement",
        "log_length"]


def judge_features(fused: np.ndarray, calibrated: Sequence[np.ndarray], neighbour_agree: np.ndarray,
                   lengths: np.ndarray) -> np.ndarray:
    """(n, a + 6) features of the fused AI label of ``n`` items, columns as ``feature_names``.

    Args:
        fused: (n, k) fused probabilities; the AI label is the argmax.
        calibrated: a arrays (n, k), each annotator's temperature-calibrated probabilities.
        neighbour_agree: (n,) share of the nearest human-labelled items carrying the AI label.
        lengths: (n,) text lengths in characters (logged here).
    """
    n, k = fused.shape
    label = fused.argmax(axis=1)
    rows = np.arange(n)
    per = [p[rows, label] for p in calibrated]  # each annotator's P(fused label)
    agreement = np.mean([p.argmax(axis=1) == label for p in calibrated], axis=0) if calibrated else np.ones(n)
    top2 = np.sort(fused, axis=1)[:, -2:] if k > 1 else np.hstack([np.zeros((n, 1)), fused])
    p = np.clip(fused, 1e-12, 1.0)
    entropy = -(p * np.log(p)).sum(axis=1) / np.log(max(k, 2))  # 0 = certain, 1 = uniform
    cols = [*per, agreement, top2[:, 1], top2[:, 1] - top2[:, 0], entropy, neighbour_agree,
            np.log1p(np.asarray(lengths, dtype=np.float64))]
    return np.column_stack(cols).astype(np.float64)


def neighbour_agreement(query: np.ndarray, embeddings: np.ndarray, labels: np.ndarray, pred: np.ndarray, *,
                        k: int = N_NEIGHBOURS, exclude_self: bool = False) -> np.ndarray:
    """(n,) share of each query's ``k`` nearest human-labelled items whose label is ``pred``.

    Args:
        query: (n, d) L2-normalised embeddings; ``embeddings`` (m, d) those of the labelled items.
        labels: (m,) their human labels; ``pred`` (n,) the AI label of each query.
        exclude_self: the queries *are* the labelled items (row i = item i): leave each one out,
            so an item's own label never votes for it.
    """
    m = len(labels)
    k = min(k, m - 1 if exclude_self else m)
    out = np.zeros(len(query))
    if k <= 0:
        return out
    for start in range(0, len(query), 4096):  # bounded (chunk × m) similarity blocks
        sim = query[start:start + 4096] @ embeddings.T
        if exclude_self:
            sim[np.arange(len(sim)), np.arange(start, start + len(sim))] = -np.inf
        nearest = np.argpartition(-sim, k - 1, axis=1)[:, :k]
        out[start:start + len(sim)] = (labels[nearest] == pred[start:start + len(sim), None]).mean(axis=1)
    return out


def _auroc(score: np.ndarray, correct: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return round(float(roc_auc_score(correct, score)), 4)


@dataclass
class Judge:
    """A fitted judge, or the record of why there is none yet.

    Attributes:
        model: fitted sklearn classifier on ``judge_features``; None while too few verdicts.
        n_train: (m) verdicts seen; ``n_wrong`` of them said the AI label was wrong.
        correct: (m,) bool, per verdict: the out-of-fold fused label equals the human label.
        oof_score: (m,) the judge's out-of-fold P(correct) of each verdict (empty without model).
        confidence: (m,) the fused max probability of each verdict (the raw confidence).
        auroc, confidence_auroc: of ``oof_score`` and of ``confidence`` against ``correct``.
        confidence_aurocs: AUROC of every single confidence signal (``fused``, and each annotator's
            calibrated probability of the fused label) against ``correct``; the best of them is the
            baseline the dashboard shows next to the judge.
    """

    model: object | None
    kind: str
    n_train: int
    n_wrong: int
    correct: np.ndarray
    oof_score: np.ndarray
    confidence: np.ndarray
    pred: np.ndarray
    auroc: float | None = None
    confidence_auroc: float | None = None
    confidence_aurocs: dict[str, float] = field(default_factory=dict)

    @property
    def best_confidence(self) -> tuple[str | None, float | None]:
        """(name, AUROC) of the single confidence signal that best separates right from wrong."""
        if not self.confidence_aurocs:
            return None, self.confidence_auroc
        name = max(self.confidence_aurocs, key=lambda n: self.confidence_aurocs[n])
        return name, self.confidence_aurocs[name]

    @property
    def usable(self) -> bool:
        return self.model is not None

    def predict(self, features: np.ndarray) -> np.ndarray:
        """(n,) P(AI label correct) for ``features`` (n, f)."""
        if self.model is None:
            raise EmptyPoolError(f"The judge has too few verdicts to predict ({self.n_train}, {self.n_wrong} wrong).",
                                 expected=f"at least {MIN_VERDICTS} with {MIN_PER_OUTCOME} of each outcome",
                                 fix="check Judge.usable first, or label more items")
        proba = self.model.predict_proba(features)
        return proba[:, list(self.model.classes_).index(True)]

    def as_dict(self) -> dict[str, float | int | str | bool | None]:
        best, best_auroc = self.best_confidence
        return {"auroc": self.auroc, "confidence_auroc": self.confidence_auroc, "best_confidence": best,
                "best_confidence_auroc": best_auroc, "confidence_aurocs": dict(self.confidence_aurocs),
                "n_train": self.n_train, "n_wrong": self.n_wrong, "model": self.kind, "used": self.usable}


def fit_judge(features: np.ndarray, correct: np.ndarray, confidence: np.ndarray, pred: np.ndarray, *,
              kind: str = "logistic", seed: int = 0, min_verdicts: int = MIN_VERDICTS,
              min_per_outcome: int = MIN_PER_OUTCOME) -> Judge:
    """Fit the judge on ``m`` verdicts, scored out of fold; no model below the minimum evidence.

    Args:
        features: (m, f) ``judge_features`` of the human-labelled items (from out-of-fold scores).
        correct: (m,) bool target: the fused out-of-fold label equals the human label.
        confidence: (m,) fused max probability, the baseline the judge must beat.
        pred: (m,) the fused label (kept for per-label thresholds).
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    if kind not in JUDGE_MODELS:
        raise ValidationError(f"Unknown judge model {kind!r}.", expected=" | ".join(JUDGE_MODELS))
    correct = np.asarray(correct, dtype=bool)
    m, n_wrong = len(correct), int((~correct).sum())
    judge = Judge(None, kind, m, n_wrong, correct, np.zeros(0), np.asarray(confidence, dtype=np.float64),
                  np.asarray(pred))
    if m >= 2 and 0 < n_wrong < m:
        judge.confidence_auroc = _auroc(judge.confidence, correct)
    if m < min_verdicts or min(n_wrong, m - n_wrong) < min_per_outcome:
        return judge
    cv = StratifiedKFold(n_splits=int(min(5, n_wrong, m - n_wrong)), shuffle=True, random_state=seed)
    oof = cross_val_predict(JUDGE_MODELS[kind](seed), features, correct, cv=cv, method="predict_proba")
    judge.oof_score = oof[:, 1]  # classes_ sorted: [False, True]
    judge.auroc = _auroc(judge.oof_score, correct)
    judge.model = JUDGE_MODELS[kind](seed).fit(features, correct)
    return judge


def judge_thresholds(judge: Judge, n_labels: int, policy: RoutingPolicy,
                     random_pick: np.ndarray | None = None) -> np.ndarray | None:
    """(k,) per AI label, the judge score an ``auto`` item also needs, or None without a judge.

    Certified like the confidence thresholds (``certify_thresholds``) on the judge's out-of-fold
    scores of the human-labelled items; where the random picks (an unbiased sample of the pool)
    certify a lower one, that one, as ``run_ai`` does for the confidence.
    """
    if not judge.usable:
        return None
    thresholds = certify_thresholds(judge.pred, judge.oof_score, judge.correct, n_labels, policy)
    if random_pick is not None and random_pick.any():
        thresholds = np.minimum(thresholds, certify_thresholds(
            judge.pred[random_pick], judge.oof_score[random_pick], judge.correct[random_pick], n_labels, policy))
    return thresholds


def fit_ensemble_judge(ensemble: Ensemble, context: LabelContext, *, kind: str = "logistic", seed: int = 0,
                       min_verdicts: int = MIN_VERDICTS) -> Judge:
    """The judge of ``ensemble``'s labels, trained on the human labels in ``context`` (out of fold).

    Uses only what the people answered: ``ensemble.oof_proba`` / ``oof_calibrated`` (each item's
    own label held out) and the human labels of the other items as neighbours.
    """
    fused = ensemble.oof_proba
    pred = fused.argmax(axis=1)
    labels = np.asarray(context.labels)
    agree = neighbour_agreement(context.embeddings, context.embeddings, labels, pred, exclude_self=True)
    lengths = np.fromiter((len(t) for t in context.texts), dtype=np.float64, count=len(context.texts))
    feats = judge_features(fused, ensemble.oof_calibrated, agree, lengths)
    judge = fit_judge(feats, pred == labels, fused.max(axis=1), pred, kind=kind, seed=seed,
                      min_verdicts=min_verdicts)
    rows = np.arange(len(pred))
    signals = {"fused": fused.max(axis=1), **{
        a.name: cal[rows, pred] for a, cal in zip(ensemble.annotators, ensemble.oof_calibrated, strict=True)}}
    judge.confidence_aurocs = confidence_aurocs(signals, pred == labels)
    return judge


def confidence_aurocs(signals: dict[str, np.ndarray], correct: np.ndarray) -> dict[str, float]:
    """AUROC of each (m,) confidence signal against the (m,) verdicts ``correct``; empty while the
    verdicts are all of one kind (AUROC undefined)."""
    correct = np.asarray(correct, dtype=bool)
    if len(correct) < 2 or correct.all() or not correct.any():
        return {}
    return {name: _auroc(np.asarray(score, dtype=np.float64), correct) for name, score in signals.items()}


def score_items(judge: Judge, fused: np.ndarray, calibrated: Sequence[np.ndarray], embeddings: np.ndarray,
                context: LabelContext, lengths: np.ndarray) -> np.ndarray:
    """(n,) the judge's P(correct) for unlabelled items with fused (n, k), per-annotator calibrated
    probabilities, embeddings (n, d) and text lengths (n,) in characters."""
    agree = neighbour_agreement(embeddings, context.embeddings, np.asarray(context.labels), fused.argmax(axis=1))
    return judge.predict(judge_features(fused, calibrated, agree, lengths))
