"""``embed_with_cache``: vectors for many texts, embedding only what the cache lacks."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from annotator.core.errors import ConfigError, ValidationError
from annotator.embeddings.base import Embedder
from annotator.embeddings.cache import EmbeddingCache


def embed_with_cache(
    embedder: Embedder, cache: EmbeddingCache, hashes: Sequence[str], texts: Sequence[str], *,
    progress: Callable[[int, int], None] | None = None, batch_size: int = 1024,
) -> np.ndarray:
    """(n, dim) float32 L2-normalised vectors in input order; only cache misses reach the embedder.

    Misses are embedded ``batch_size`` texts per ``encode`` call and cached after each call, so an
    interrupted run (crash, ``JobCancelled`` raised from ``progress``) resumes where it stopped.
    Texts of hits are never read: callers may pass "" for them. A hash repeated among the misses
    is embedded once.

    Args:
        hashes: (n,) ``text_hash`` of each text.
        texts: (n,) the texts.
        progress: called as ``progress(done, total)`` in texts to embed, first with (0, total).
        batch_size: texts per ``encode`` call (and per cache append).
    """
    n = len(hashes)
    if len(texts) != n:
        raise ValidationError("embed_with_cache needs one text per hash.",
                              expected=f"{n} texts, one per hash", got=f"{len(texts)} texts",
                              fix="pass hashes and texts of the same items, in the same order")
    if embedder.name != cache.model_name or embedder.dim != cache.dim:
        raise ConfigError("The embedding cache belongs to another embedder.",
                          expected=f"cache for {embedder.name!r} ({embedder.dim}-d)",
                          got=f"cache for {cache.model_name!r} ({cache.dim}-d)",
                          fix="build the cache as EmbeddingCache(root, embedder.name, embedder.dim)")
    out = np.empty((n, cache.dim), dtype=np.float32)
    vectors, found = cache.get(hashes)
    out[found] = vectors
    missing = np.flatnonzero(~found)
    first: dict[str, int] = {}
    for i in missing.tolist():
        first.setdefault(hashes[i], i)
    # Longest first, so each encode call gets texts of similar length (less padding) even when
    # the misses span many calls; sentence-transformers only sorts within one call.
    todo = sorted(first.values(), key=lambda i: len(texts[i]), reverse=True)
    total = len(todo)
    if progress:
        progress(0, total)
    if total == 0:
        return out
    fresh = np.empty((total, cache.dim), dtype=np.float32)  # row k ↔ todo[k]
    for start in range(0, total, batch_size):
        batch = todo[start:start + batch_size]
        encoded = np.asarray(embedder.encode([texts[i] for i in batch]), dtype=np.float32)
        if encoded.shape != (len(batch), cache.dim):
            raise ValidationError(f"The embedder {embedder.name!r} returned vectors of the wrong shape.",
                                  expected=f"({len(batch)}, {cache.dim})", got=str(encoded.shape),
                                  fix="Embedder.encode must return one dim-long row per text")
        cache.put([hashes[i] for i in batch], encoded)
        fresh[start:start + len(batch)] = encoded
        if progress:
            progress(start + len(batch), total)
    row_of = {hashes[i]: k for k, i in enumerate(todo)}
    out[missing] = fresh[[row_of[hashes[i]] for i in missing.tolist()]]
    return out
