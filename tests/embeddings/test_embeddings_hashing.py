"""HashingEmbedder, the in-package fake: deterministic, normalised, similarity-preserving."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.embeddings import Embedder, HashingEmbedder, make_embedder, text_hash
from annotator.embeddings.hashing import _projection
from annotator.core.errors import ConfigError

TEXTS = ["a great film with superb acting", "a great movie with superb acting", "tax law reform passed today", ""]


def test_is_an_embedder_with_stable_name():
    emb = HashingEmbedder()
    assert isinstance(emb, Embedder)
    assert (emb.name, emb.dim) == ("hashing-384", 384)
    assert HashingEmbedder(seed=1).name != emb.name


def test_deterministic_even_after_the_projection_is_redrawn():
    first = HashingEmbedder().encode(TEXTS)
    _projection.cache_clear()
    second = HashingEmbedder().encode(TEXTS)
    np.testing.assert_array_equal(first, second)


def test_shape_dtype_and_unit_norm():
    v = HashingEmbedder(dim=64).encode(TEXTS)
    assert v.shape == (4, 64) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v[:3], axis=1), 1.0, atol=1e-5)
    assert not v[3].any()  # "" has no n-grams: a zero row, not NaN
    assert HashingEmbedder().encode([]).shape == (0, 384)


def test_similar_texts_are_closer_than_unrelated():
    v = HashingEmbedder().encode(TEXTS[:3])
    assert v[0] @ v[1] > 0.3 > v[0] @ v[2]


def test_make_embedder_picks_the_fake_by_id():
    assert make_embedder("hashing").dim == 384
    assert make_embedder("hashing-128", device="cuda").dim == 128
    with pytest.raises(ConfigError):
        make_embedder("hashing-big")


def test_text_hash_is_blake2b_16_hex():
    h = text_hash("héllo")
    assert len(h) == 32 and int(h, 16) >= 0
    assert h == text_hash("héllo") != text_hash("hello")
