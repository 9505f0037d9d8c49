"""On-disk embedding cache keyed by (model, text hash): nothing is embedded twice.

Layout under ``root/<model slug>/``: ``vectors.f32`` (raw float32 rows), ``keys.txt`` (one hash
per line, row order) and ``meta.json``. Vectors are appended and flushed before their keys, so
a crash leaves at most orphan vector rows, which the loader ignores. One writing process at a
time (the app's own); readers in other processes see what was flushed.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from annotator.errors import ConfigError


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "model"


class EmbeddingCache:
    def __init__(self, root: Path, model_name: str, dim: int):
        self.dir = Path(root) / _slug(model_name)
        self.dim = dim
        self.model_name = model_name
        self._index: dict[str, int] | None = None
        self._vectors: np.ndarray | None = None
        self._lock = threading.Lock()

    @property
    def _vec_path(self) -> Path:
        return self.dir / "vectors.f32"

    @property
    def _key_path(self) -> Path:
        return self.dir / "keys.txt"

    def _load(self) -> None:
        if self._index is not None:
            return
        keys: list[str] = []
        if self._key_path.exists():
            keys = self._key_path.read_text(encoding="ascii").split()
        rows_on_disk = self._vec_path.stat().st_size // (4 * self.dim) if self._vec_path.exists() else 0
        n = min(len(keys), rows_on_disk)
        meta = self.dir / "meta.json"
        if meta.exists() and json.loads(meta.read_text()).get("dim") != self.dim:
            raise ConfigError(f"The embedding cache {self.dir} holds vectors of another size.",
                              expected=f"{self.dim}-d", fix=f"delete {self.dir} to rebuild it")
        self._vectors = (np.fromfile(self._vec_path, dtype=np.float32, count=n * self.dim).reshape(n, self.dim)
                         if n else np.zeros((0, self.dim), dtype=np.float32))
        self._index = {key: row for row, key in enumerate(keys[:n])}

    def __len__(self) -> int:
        with self._lock:
            self._load()
            return len(self._index or {})

    def get(self, hashes: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(vectors of the hashes found (m, dim), found mask (n,) bool), in input order."""
        with self._lock:
            self._load()
            assert self._index is not None and self._vectors is not None
            rows = np.fromiter((self._index.get(h, -1) for h in hashes), dtype=np.int64, count=len(hashes))
            found = rows >= 0
            return self._vectors[rows[found]], found

    def put(self, hashes: Sequence[str], vectors: np.ndarray) -> None:
        """Append new (hash, vector) pairs; hashes already cached or repeated are stored once."""
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(hashes), self.dim)
        with self._lock:
            self._load()
            assert self._index is not None and self._vectors is not None
            new_rows, new_keys, seen = [], [], set()
            for i, h in enumerate(hashes):
                if h in self._index or h in seen:
                    continue
                seen.add(h)
                new_rows.append(i)
                new_keys.append(h)
            if not new_keys:
                return
            try:
                self.dir.mkdir(parents=True, exist_ok=True)
                (self.dir / "meta.json").write_text(json.dumps({"model": self.model_name, "dim": self.dim}))
                block = np.ascontiguousarray(vectors[new_rows])
                # Trim orphan rows left by a crash so row i always matches key i.
                with self._vec_path.open("ab") as fh:
                    fh.truncate(len(self._index) * 4 * self.dim)
                    fh.seek(0, 2)
                    fh.write(block.tobytes())
                    fh.flush()
                with self._key_path.open("a", encoding="ascii") as fh:
                    fh.write("".join(k + "\n" for k in new_keys))
            except OSError as e:
                raise ConfigError(f"Cannot write the embedding cache in {self.dir}.", got=str(e),
                                  fix="free disk space or fix the data directory's permissions") from e
            start = len(self._index)
            for offset, key in enumerate(new_keys):
                self._index[key] = start + offset
            self._vectors = np.concatenate([self._vectors, block]) if len(self._vectors) else block


def embed_with_cache(
    embedder, cache: EmbeddingCache, hashes: Sequence[str], texts: Sequence[str], *,  # noqa: ANN001
    progress: Callable[[int, int], None] | None = None, batch_size: int = 1024,
) -> np.ndarray:
    """(n, dim) float32 vectors in input order; only cache misses reach the embedder."""
    n = len(hashes)
    out = np.zeros((n, cache.dim), dtype=np.float32)
    if n == 0:
        return out
    vectors, found = cache.get(hashes)
    out[found] = vectors
    missing = np.flatnonzero(~found)
    # The same text may appear twice among the misses: embed it once.
    first: dict[str, int] = {}
    for i in missing:
        first.setdefault(hashes[i], int(i))
    todo = list(first.values())
    total = len(todo)
    if progress:
        progress(0, total)
    for start in range(0, total, batch_size):
        batch = todo[start:start + batch_size]
        encoded = embedder.encode([texts[i] for i in batch])
        cache.put([hashes[i] for i in batch], encoded)
        if progress:
            progress(min(start + batch_size, total), total)
    if len(missing):
        vectors, _ = cache.get([hashes[i] for i in missing])
        out[missing] = vectors
    return out
