"""Embeddings: the project's embedder and the on-disk vector cache."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from annotator import store
from annotator.embeddings import (
    Embedder,
    EmbeddingCache,
    embed_with_cache,
    embedder_for,
    text_hash,
)
from annotator.service.common import ProgressFn
from annotator.service.part import ServicePart
from annotator.store import items as item_q
from annotator.store import projects as project_q

if TYPE_CHECKING:
    from annotator.service.facade import AnnotatorService

log = logging.getLogger(__name__)


class EmbeddingsService(ServicePart):
    """Item vectors (``svc.embeddings``): one embedder per service, vectors cached by text hash."""

    def __init__(self, svc: AnnotatorService, *, embedder: Embedder | None = None) -> None:
        super().__init__(svc)
        self._embedder = embedder

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = embedder_for(self.settings)
        return self._embedder

    def _cache(self) -> EmbeddingCache:
        return EmbeddingCache(self.settings.embeddings_dir, self.embedder.name, self.embedder.dim)

    def embed_project(self, project: str, *, progress: ProgressFn | None = None) -> np.ndarray:
        """Embed every item of the project that is not cached yet; returns (n_items, dim) in id order."""
        with store.transaction(self.engine) as s:
            pid = project_q.get_project(s, project).id
            ids, hashes = item_q.pool_ids_and_hashes(s, pid)
        return self.embed_ids(ids, hashes, progress=progress)

    def embed_ids(self, ids: list[int], hashes: list[str], *, progress: ProgressFn | None = None) -> np.ndarray:
        cache = self._cache()
        _, found = cache.get(hashes)
        missing = [i for i, f in zip(ids, found, strict=True) if not f]
        texts: dict[int, str] = {}
        if missing:
            with store.transaction(self.engine) as s:
                texts = item_q.texts_by_ids(s, missing)
        # Found rows never reach the embedder, so their text is not needed.
        all_texts = [texts.get(i, "") for i in ids]
        return embed_with_cache(self.embedder, cache, hashes, all_texts, progress=progress)

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Embed free texts (label descriptions, search queries) through the cache."""
        return embed_with_cache(self.embedder, self._cache(), [text_hash(t) for t in texts], list(texts))
