"""``make_embedder``: a model id from Settings → an ``Embedder``."""

from __future__ import annotations

from typing import Any

from annotator.core.errors import ConfigError
from annotator.embeddings.base import Embedder
from annotator.embeddings.hashing import HashingEmbedder
from annotator.embeddings.sentence_transformer import SentenceTransformerEmbedder


def make_embedder(model_id: str, **kwargs: Any) -> Embedder:
    """``"hashing"`` or ``"hashing-<dim>"`` → the fake (other kwargs ignored); anything else →
    ``SentenceTransformerEmbedder(model_id, **kwargs)`` (package name, local folder or hub id)."""
    if model_id == "hashing" or model_id.startswith("hashing-"):
        suffix = model_id.partition("-")[2]
        if suffix and not suffix.isdigit():
            raise ConfigError(f"Unknown embedding model {model_id!r}.", expected="'hashing' or 'hashing-<dim>'",
                              fix="e.g. hashing-384")
        return HashingEmbedder(int(suffix) if suffix else 384)
    return SentenceTransformerEmbedder(model_id, **kwargs)
