"""Sentence embeddings with an on-disk cache. torch and sentence-transformers load lazily.

- ``Embedder``: the plug-in seam (``name``, ``dim``, ``encode``); ``HashingEmbedder`` is its fake,
  ``SentenceTransformerEmbedder`` the real one, ``LLMHiddenStateEmbedder`` (``llm:<model>``) a
  local LLM's middle layer; ``make_embedder`` picks by id, ``embedder_for`` from the Settings.
- ``EmbeddingCache`` + ``embed_with_cache``: vectors keyed by ``text_hash``, embedded once.
"""

from annotator.embeddings.base import BUNDLED_MODEL, Embedder, text_hash
from annotator.embeddings.cache import EmbeddingCache
from annotator.embeddings.embed import embed_with_cache
from annotator.embeddings.factory import embedder_for, make_embedder
from annotator.embeddings.hashing import HashingEmbedder
from annotator.embeddings.sentence_transformer import SentenceTransformerEmbedder, resolve_model_path

__all__ = [
    "BUNDLED_MODEL", "Embedder", "EmbeddingCache", "HashingEmbedder", "SentenceTransformerEmbedder",
    "embed_with_cache", "embedder_for", "make_embedder", "resolve_model_path", "text_hash",
]
