"""Sentence embeddings with an on-disk cache. torch and sentence-transformers load lazily."""

from annotator.embeddings.base import (
    BUNDLED_MODEL, Embedder, HashingEmbedder, SentenceTransformerEmbedder, make_embedder, resolve_model_path, text_hash,
)
from annotator.embeddings.cache import EmbeddingCache, embed_with_cache

__all__ = [
    "BUNDLED_MODEL", "Embedder", "EmbeddingCache", "HashingEmbedder", "SentenceTransformerEmbedder",
    "embed_with_cache", "make_embedder", "resolve_model_path", "text_hash",
]
