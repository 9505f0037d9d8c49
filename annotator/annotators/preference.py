"""A judge model learnt from people's preference verdicts: Bradley–Terry on sentence embeddings.

Each response r to a prompt q is scored s(q, r) = w · φ(q, r) with φ = [e(r), e(q) ⊙ e(r), cos(q, r)]
(``e`` the project's sentence embedder, L2-normalised); P(a better than b) = σ(s(q, a) − s(q, b)).
``w`` is a logistic regression without intercept on the differences φ(q, a) − φ(q, b), fitted on
the human A / B verdicts in the context, each pair also added swapped (b, a → 1 − y) so the model
is antisymmetric: it has no position bias by construction. tie / both-bad verdicts do not train it.

As an ``AIAnnotator`` ("bt-judge") over the preference labels it is refitted on whatever
context it is given, so the service's out-of-fold calibration, routing and audits apply as for
any annotator, and every new verdict makes the next run's judge better (the flywheel).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from annotator.annotators.base import ItemBatch, LabelContext
from annotator.core.errors import ValidationError
from annotator.tasks.definitions import PREFERENCE_LABELS

EPS = 1e-3
#: Fewest A and B verdicts (each) before the model is fitted; below it every pair gets 0.5 / 0.5.
MIN_PER_SIDE = 2


@dataclass
class BradleyTerryJudge:
    """AI annotator "bt-judge" (see the module docstring).

    Attributes:
        pairs: item text (the prompt) → (response_a, response_b).
        embed: texts → (n, d) L2-normalised embeddings (the service's cached embedder).
        C: inverse L2 strength of the logistic regression.
    """

    pairs: Mapping[str, tuple[str, str]]
    embed: Callable[[Sequence[str]], np.ndarray]
    C: float = 1.0
    name: str = "bt-judge"
    version: str = "bt-1"
    needs_text: bool = True

    def features(self, prompts: Sequence[str], responses: Sequence[str]) -> np.ndarray:
        """(n, 2d + 1) φ(q, r) per (prompt, response)."""
        q = np.asarray(self.embed(list(prompts)), dtype=np.float64)
        r = np.asarray(self.embed(list(responses)), dtype=np.float64)
        return np.hstack([r, q * r, (q * r).sum(axis=1, keepdims=True)])

    def differences(self, texts: Sequence[str]) -> np.ndarray:
        """(n, 2d + 1) φ(q, a) − φ(q, b) of each item's pair."""
        missing = [t for t in texts if t not in self.pairs]
        if missing:
            raise ValidationError(f"{len(missing)} items have no response pair for the judge model.",
                                  got=repr(missing[0][:80]), fix="import response_a and response_b for every item")
        a = self.features(texts, [self.pairs[t][0] for t in texts])
        b = self.features(texts, [self.pairs[t][1] for t in texts])
        return a - b

    def fit_weights(self, train_texts: Sequence[str], train_a: np.ndarray) -> np.ndarray | None:
        """(2d + 1,) w fitted on (train_texts, train_a ∈ {0, 1}: 1 when a is better); None with
        fewer than ``MIN_PER_SIDE`` verdicts of either side."""
        from sklearn.linear_model import LogisticRegression

        train_a = np.asarray(train_a, dtype=np.int64)
        if min(int(train_a.sum()), int(len(train_a) - train_a.sum())) < MIN_PER_SIDE:
            return None
        x = self.differences(train_texts)
        model = LogisticRegression(C=self.C, fit_intercept=False, max_iter=1000)
        model.fit(np.vstack([x, -x]), np.concatenate([train_a, 1 - train_a]))
        return model.coef_[0].astype(np.float64)

    def predict_with(self, weights: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """(n,) P(a better) = σ(w · (φ(q, a) − φ(q, b))) for the items ``texts``."""
        if len(texts) == 0:
            return np.zeros(0)
        return 1.0 / (1.0 + np.exp(-(self.differences(texts) @ np.asarray(weights, dtype=np.float64))))

    def p_a_better(self, batch_texts: Sequence[str], train_texts: Sequence[str], train_a: np.ndarray) -> np.ndarray:
        """(n,) P(a better) for ``batch_texts`` from a model fitted on (train_texts, train_a ∈ {0, 1});
        0.5 everywhere while the verdicts are too few to fit."""
        if len(batch_texts) == 0:
            return np.zeros(0)
        weights = self.fit_weights(train_texts, train_a)
        return np.full(len(batch_texts), 0.5) if weights is None else self.predict_with(weights, batch_texts)

    def predict_proba(self, batch: ItemBatch, context: LabelContext) -> np.ndarray:
        """(n, k) over ``context.label_names`` (a subset of A, B, tie, both-bad); rows sum to 1."""
        names = list(context.label_names)
        _check_names(names)
        labels = np.asarray(context.labels, dtype=np.int64)
        decided = np.isin(labels, [names.index("A"), names.index("B")])
        train_texts = [context.texts[i] for i in np.flatnonzero(decided)]
        p = self.p_a_better(list(batch.texts), train_texts, (labels[decided] == names.index("A")).astype(np.int64))
        return preference_proba(p, names)


def _check_names(names: Sequence[str]) -> None:
    if any(n not in PREFERENCE_LABELS for n in names) or "A" not in names or "B" not in names:
        raise ValidationError("The judge model answers preference projects only.", got=", ".join(names),
                              expected=" | ".join(PREFERENCE_LABELS))


def preference_proba(p_a: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """(n,) P(a better) → (n, k) over ``names`` (A and B get p and 1 − p, the others ``EPS``), rows sum to 1."""
    names = list(names)
    out = np.full((len(p_a), len(names)), EPS)
    out[:, names.index("A")] = np.maximum(p_a, EPS)
    out[:, names.index("B")] = np.maximum(1.0 - p_a, EPS)
    return (out / out.sum(axis=1, keepdims=True)).astype(np.float32)


@dataclass
class PromotedPreferenceJudge:
    """AI annotator "bt-judge" answering with a promoted, versioned Bradley–Terry model (the
    ``judge`` background job's weights) for every item it did not train on; for its own training
    items, whose scores are in-sample, it defers to ``fallback`` (refitted on the context, out of
    fold in the service's calibration), as ``training.annotator.PromotedClassifierAnnotator`` does.

    Attributes:
        weights: (2d + 1,) the version's w.
        trained: prompts (item texts) of the version's training verdicts.
        fallback: the context-refitted ``BradleyTerryJudge`` (its ``differences`` also serve here).
        version: e.g. "bt-v3".
    """

    weights: np.ndarray
    trained: frozenset[str]
    fallback: BradleyTerryJudge
    version: str
    name: str = "bt-judge"
    needs_text: bool = True

    def predict_proba(self, batch: ItemBatch, context: LabelContext) -> np.ndarray:
        """(n, k) over ``context.label_names``; rows sum to 1."""
        names = list(context.label_names)
        _check_names(names)
        texts = list(batch.texts)
        own = np.fromiter((t in self.trained for t in texts), dtype=bool, count=len(texts))
        out = np.zeros((len(texts), len(names)), dtype=np.float32)
        if (~own).any():
            out[~own] = preference_proba(self.fallback.predict_with(self.weights, [t for t, o in zip(texts, own) if not o]),
                                         names)
        if own.any():
            emb = None if batch.embeddings is None else batch.embeddings[own]
            rest = ItemBatch(texts=[t for t, o in zip(texts, own) if o], embeddings=emb)
            out[own] = self.fallback.predict_proba(rest, context)
        return out


def heldout_accuracy(judge: BradleyTerryJudge, test_texts: Sequence[str], test_a: np.ndarray,
                     train_texts: Sequence[str], train_a: np.ndarray) -> float | None:
    """Share of held-out pairs whose better side the judge, fitted on (train_texts, train_a ∈ {0, 1}),
    gets right (P(a better) > 0.5 ⇔ a better; 0.5 exactly counts wrong). None without test pairs.

    Shared by ``simulate --task preference`` (the judge's curve as verdicts accumulate) and
    ``bench/bench_bt_judge.py``.
    """
    if len(test_texts) == 0:
        return None
    p_a = judge.p_a_better(list(test_texts), list(train_texts), np.asarray(train_a, dtype=np.int64))
    truth = np.asarray(test_a, dtype=bool)
    right = np.where(p_a == 0.5, False, (p_a > 0.5) == truth)
    return round(float(right.mean()), 4)
