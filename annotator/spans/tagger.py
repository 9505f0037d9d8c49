"""A small token tagger fitted on the people's spans: what ranks span items for active learning.

Hashed lexical features of each token and its neighbours (lower case, shape, affixes) feed a
multinomial logistic regression over IOB2 tags. It fits in well under a second on a few hundred
labelled texts on a CPU, so it can be refit in the background after every few answers, as the
classification project's fast classifier is. Its token-level margin says how unsure the current
model is about an item; its disagreement with a suggester's spans says where a suggestion is
likely wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from annotator.spans.model import Span
from annotator.spans.tokens import Token, from_iob, to_iob, tokenize

N_FEATURES = 2**18


def _shape(word: str) -> str:
    shape = "".join("X" if c.isupper() else "x" if c.islower() else "d" if c.isdigit() else c for c in word)
    # collapse runs ("Xxxxx" → "Xx") so the shape generalises across lengths
    return "".join(c for k, c in enumerate(shape) if k == 0 or c != shape[k - 1])


def token_features(tokens: Sequence[Token]) -> list[dict[str, float]]:
    """One sparse feature dict per token: itself, its shape and affixes, and its two neighbours."""
    words = [t.text for t in tokens]
    out = []
    for k, w in enumerate(words):
        low = w.lower()
        feats = {"b": 1.0, f"w={low}": 1.0, f"s={_shape(w)}": 1.0, f"p3={low[:3]}": 1.0, f"x3={low[-3:]}": 1.0,
                 f"first={k == 0}": 1.0}
        for d in (-2, -1, 1, 2):
            j = k + d
            near = words[j].lower() if 0 <= j < len(words) else ("<s>" if j < 0 else "</s>")
            feats[f"{d}w={near}"] = 1.0
            if 0 <= j < len(words):
                feats[f"{d}s={_shape(words[j])}"] = 1.0
        out.append(feats)
    return out


@dataclass
class TokenTagger:
    """IOB2 tagger over the project's span ``labels``.

    Attributes:
        labels: span label names; tags are ``O`` and ``B-``/``I-`` of each.
        C: inverse regularisation strength of the logistic regression.
    """

    labels: Sequence[str]
    C: float = 1.0
    tags: list[str] = field(init=False)
    _model: Any = field(default=None, init=False, repr=False)
    _hasher: Any = field(default=None, init=False, repr=False)
    _columns: np.ndarray | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.tags = ["O", *[f"{p}-{lab}" for lab in self.labels for p in ("B", "I")]]

    @property
    def fitted(self) -> bool:
        return self._model is not None

    def _matrix(self, texts: Sequence[str]) -> tuple[Any, list[int]]:
        from sklearn.feature_extraction import FeatureHasher

        if self._hasher is None:
            self._hasher = FeatureHasher(n_features=N_FEATURES, alternate_sign=False)
        rows, lengths = [], []
        for text in texts:
            feats = token_features(tokenize(text))
            rows.extend(feats)
            lengths.append(len(feats))
        return self._hasher.transform(rows), lengths

    def fit(self, texts: Sequence[str], spans: Sequence[Sequence[Span]]) -> TokenTagger:
        """Fit on texts and their people's spans ((n,) each). Needs at least two distinct tags."""
        from sklearn.linear_model import LogisticRegression

        tag_ids = {t: k for k, t in enumerate(self.tags)}
        y = [tag_ids[tag] for text, sp in zip(texts, spans, strict=True) for tag in to_iob(text, sp)[1]]
        if len(set(y)) < 2:
            raise ValueError("the tagger needs at least one span and one token outside spans")
        X, _ = self._matrix(texts)
        # Only the hashed features seen in training: an L2-regularised weight of a feature that is
        # zero on every training row is exactly zero, so dropping the others changes no prediction,
        # and the optimiser works on thousands of weights per tag instead of 2**18.
        self._columns = np.unique(X.indices)
        self._model = LogisticRegression(C=self.C, max_iter=300).fit(X[:, self._columns], np.asarray(y))
        return self

    def token_proba(self, texts: Sequence[str]) -> list[np.ndarray]:
        """(n,) arrays of shape (tokens of text i, len(tags)): each token's tag probabilities."""
        if not self.fitted:
            raise ValueError("fit the tagger first")
        X, lengths = self._matrix(texts)
        X = X[:, self._columns]
        proba = np.zeros((X.shape[0], len(self.tags)), dtype=np.float64)
        if X.shape[0]:
            proba[:, self._model.classes_] = self._model.predict_proba(X)
        return np.split(proba, np.cumsum(lengths)[:-1]) if lengths else []

    def predict_spans(self, texts: Sequence[str]) -> list[list[Span]]:
        """(n,) lists of the spans the tagger's most likely tags describe."""
        return [from_iob(text, [self.tags[k] for k in p.argmax(axis=1)]) if len(p) else []
                for text, p in zip(texts, self.token_proba(texts), strict=True)]


def item_uncertainty(token_proba: Sequence[np.ndarray]) -> np.ndarray:
    """(n,) in [0, 1]: one minus the smallest token margin (top tag minus runner-up) of each item;
    the item whose least certain token is least certain ranks first. Items without tokens get 0."""
    out = np.zeros(len(token_proba))
    for k, p in enumerate(token_proba):
        if len(p):
            top2 = np.sort(p, axis=1)[:, -2:]
            out[k] = 1.0 - float((top2[:, 1] - top2[:, 0]).min())
    return out


def disagreement(a: Sequence[Sequence[Span]], b: Sequence[Sequence[Span]]) -> np.ndarray:
    """(n,) share of spans in either list without an exact partner in the other (0: same spans)."""
    out = np.zeros(len(a))
    for k, (sa, sb) in enumerate(zip(a, b, strict=True)):
        union = set(sa) | set(sb)
        out[k] = len(set(sa) ^ set(sb)) / len(union) if union else 0.0
    return out
