"""embed_with_cache: only misses reach the embedder; order, duplicates, progress, resume."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from annotator.embeddings import EmbeddingCache, HashingEmbedder, embed_with_cache, text_hash
from annotator.core.errors import ConfigError, JobCancelled, ValidationError


class Counting:
    """Wraps an embedder and records every text it is asked to encode."""

    def __init__(self, inner: HashingEmbedder):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.calls: list[list[str]] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return self.inner.encode(texts)

    @property
    def encoded(self) -> list[str]:
        return [t for call in self.calls for t in call]


@pytest.fixture
def emb() -> Counting:
    return Counting(HashingEmbedder(dim=32))


def run(emb, root, texts, **kw):
    cache = EmbeddingCache(root, emb.name, emb.dim)
    return embed_with_cache(emb, cache, [text_hash(t) for t in texts], texts, **kw)


def test_cold_then_warm(tmp_path, emb):
    texts = [f"review number {i} was {'good' if i % 2 else 'bad'}" for i in range(10)]
    cold = run(emb, tmp_path, texts)
    np.testing.assert_array_equal(cold, emb.inner.encode(texts))
    assert sorted(emb.encoded) == sorted(texts)
    emb.calls.clear()
    warm = run(emb, tmp_path, texts[::-1])
    assert emb.calls == []
    np.testing.assert_array_equal(warm, cold[::-1])


def test_only_misses_and_each_text_once(tmp_path, emb):
    run(emb, tmp_path, ["a", "b"])
    emb.calls.clear()
    out = run(emb, tmp_path, ["b", "c", "a", "c", "d"])
    assert sorted(emb.encoded) == ["c", "d"]
    np.testing.assert_array_equal(out, emb.inner.encode(["b", "c", "a", "c", "d"]))


def test_texts_of_hits_are_not_read(tmp_path, emb):
    real = run(emb, tmp_path, ["cached text"])
    emb.calls.clear()
    cache = EmbeddingCache(tmp_path, emb.name, emb.dim)
    out = embed_with_cache(emb, cache, [text_hash("cached text")], [""])
    assert emb.calls == [] and np.array_equal(out, real)


def test_batches_and_progress(tmp_path, emb):
    texts = [f"t{i} " * (i % 7 + 1) for i in range(25)]
    seen: list[tuple[int, int]] = []
    run(emb, tmp_path, texts, batch_size=10, progress=lambda d, t: seen.append((d, t)))
    assert [len(c) for c in emb.calls] == [10, 10, 5]
    assert seen == [(0, 25), (10, 25), (20, 25), (25, 25)]
    seen.clear()
    run(emb, tmp_path, texts, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(0, 0)]


def test_cancelled_run_resumes_from_the_cache(tmp_path, emb):
    texts = [f"item {i}" for i in range(30)]

    def cancel_after_first_batch(done: int, total: int) -> None:
        if done >= 10:
            raise JobCancelled("cancelled")

    with pytest.raises(JobCancelled):
        run(emb, tmp_path, texts, batch_size=10, progress=cancel_after_first_batch)
    emb.calls.clear()
    run(emb, tmp_path, texts, batch_size=10)
    assert len(emb.encoded) == 20


def test_empty_input(tmp_path, emb):
    assert run(emb, tmp_path, []).shape == (0, 32)
    assert emb.calls == []


def test_mismatches_are_errors(tmp_path, emb):
    cache = EmbeddingCache(tmp_path, emb.name, emb.dim)
    with pytest.raises(ValidationError, match="one text per hash"):
        embed_with_cache(emb, cache, ["h1", "h2"], ["only one"])
    with pytest.raises(ConfigError, match="another embedder"):
        embed_with_cache(emb, EmbeddingCache(tmp_path, "other", emb.dim), ["h1"], ["x"])
