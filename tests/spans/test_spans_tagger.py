"""The token tagger learns spans from a few labelled texts, and its uncertainty ranks an unseen
kind of text above the kind it was taught."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.spans import Span
from annotator.spans.tagger import TokenTagger, disagreement, item_uncertainty

NAMES = ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra", "Barbara Liskov", "Donald Knuth"]
CITIES = ["London", "Paris", "Berlin", "Madrid", "Vienna", "Prague"]


def _example(name: str, city: str) -> tuple[str, list[Span]]:
    text = f"Yesterday {name} gave a talk in {city} about computing."
    s = text.index(name)
    c = text.index(city)
    return text, [Span(s, s + len(name), "PER"), Span(c, c + len(city), "LOC")]


def test_the_tagger_learns_the_pattern_and_predicts_spans():
    train = [_example(n, c) for n in NAMES[:4] for c in CITIES[:4]]
    tagger = TokenTagger(["PER", "LOC"]).fit([t for t, _ in train], [s for _, s in train])
    text, gold = _example(NAMES[5], CITIES[5])
    assert tagger.predict_spans([text]) == [gold]


def test_uncertainty_ranks_an_unfamiliar_text_first():
    train = [_example(n, c) for n in NAMES[:4] for c in CITIES[:4]]
    tagger = TokenTagger(["PER", "LOC"]).fit([t for t, _ in train], [s for _, s in train])
    familiar, _ = _example(NAMES[4], CITIES[4])
    odd = "zx qq Vrrrp Blorgh 42 @@ plonk"
    u = item_uncertainty(tagger.token_proba([familiar, odd, ""]))
    assert u[1] > u[0] and u[2] == 0.0 and ((0 <= u) & (u <= 1)).all()


def test_fit_needs_spans():
    with pytest.raises(ValueError, match="at least one span"):
        TokenTagger(["PER"]).fit(["no names here"], [[]])


def test_disagreement_between_span_lists():
    a = [[Span(0, 3, "PER")], [], [Span(0, 3, "PER"), Span(5, 8, "LOC")]]
    b = [[Span(0, 3, "PER")], [], [Span(0, 3, "PER")]]
    assert np.allclose(disagreement(a, b), [0.0, 0.0, 0.5])


def test_fitting_on_the_seen_features_only_changes_no_probability():
    from sklearn.linear_model import LogisticRegression

    from annotator.spans.tokens import to_iob

    train = [_example(n, c) for n in NAMES[:4] for c in CITIES[:4]]
    texts, spans = [t for t, _ in train], [s for _, s in train]
    tagger = TokenTagger(["PER", "LOC"]).fit(texts, spans)
    unseen = ["Zora flew to Quito yesterday.", "nothing to see here"]
    full_X, _ = tagger._matrix(texts)
    tag_ids = {t: k for k, t in enumerate(tagger.tags)}
    y = [tag_ids[t] for text, sp in zip(texts, spans, strict=True) for t in to_iob(text, sp)[1]]
    full = LogisticRegression(C=tagger.C, max_iter=300).fit(full_X, np.asarray(y))
    X, _ = tagger._matrix(unseen)
    want = full.predict_proba(X)
    got = np.concatenate(tagger.token_proba(unseen))[:, full.classes_]
    assert len(tagger._columns) < 5_000 and np.allclose(got, want, atol=1e-3)
