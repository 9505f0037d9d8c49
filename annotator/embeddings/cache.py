"""On-disk embedding cache keyed by (model name, text hash): nothing is embedded twice.

Layout under ``root/<slug(model_name)>/``:

- ``vectors.f32``: raw float32 rows, ``dim`` values each (row i ↔ line i of keys.txt);
- ``keys.txt``: one hash per line, ASCII, ``\\n``-terminated;
- ``meta.json``: ``{"model": ..., "dim": ...}``, checked on open;
- ``.lock``: advisory lock file held while appending.

Crash safety: a put appends and flushes the vectors before their keys, so a crash leaves at
worst vector rows without a key, or a half-written last key line. The loader uses
``min(complete key lines, vector rows)`` rows and ignores the rest; the next put cuts the
leftovers off before appending, so rows and keys stay aligned.

Concurrency: one ``EmbeddingCache`` object is thread-safe. Several objects or processes on the
same directory are safe too on POSIX: appends happen under an exclusive ``fcntl.flock`` after
re-reading any keys others appended, and every ``get`` picks up new keys with one ``stat``.
Without ``fcntl`` (Windows) only one writing object at a time is safe.

Cost: the hash → row dict is built lazily on first use (about 1 s per million keys); vectors
stay on disk behind an ``np.memmap`` and only the requested rows are read.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from annotator.core.errors import ConfigError, ValidationError

try:  # POSIX only; see the module docstring for what is lost without it.
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

#: A key is printable ASCII without spaces, so one line of keys.txt always holds exactly one key.
_KEY = re.compile(r"[!-~]+\Z")


def slug(name: str) -> str:
    """A model name as a folder name: runs of characters other than ``A-Za-z0-9_.-`` become ``_``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_.") or "model"


class EmbeddingCache:
    """Append-only store of float32 vectors of one model, keyed by text hash.

    Args:
        root: folder holding one subfolder per model (``Settings.embeddings_dir``).
        model_name: ``Embedder.name``; vectors of different names never mix.
        dim: vector length; must match what the folder holds.
    """

    def __init__(self, root: Path, model_name: str, dim: int):
        self.dir = Path(root) / slug(model_name)
        self.model_name = model_name
        self.dim = int(dim)
        self._row_bytes = 4 * self.dim
        self._lock = threading.RLock()
        self._checked = False
        self._index: dict[str, int] = {}   # hash → row
        self._rows = 0                     # rows in use (= key lines accepted, duplicates included)
        self._keys_offset = 0              # bytes of keys.txt accepted; always at a line end
        self._mmap: np.ndarray | None = None

    @property
    def _vec_path(self) -> Path:
        return self.dir / "vectors.f32"

    @property
    def _key_path(self) -> Path:
        return self.dir / "keys.txt"

    @property
    def _meta_path(self) -> Path:
        return self.dir / "meta.json"

    # ------------------------------------------------------------------ reading
    def _check_meta(self) -> None:
        if self._checked:
            return
        if self._meta_path.exists():
            try:
                meta = json.loads(self._meta_path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as e:
                raise ConfigError(f"The embedding cache {self.dir} has an unreadable meta.json.", got=str(e),
                                  fix=f"delete {self.dir} to rebuild the cache") from e
            if meta.get("dim") != self.dim or meta.get("model") != self.model_name:
                raise ConfigError(
                    f"The embedding cache {self.dir} belongs to another model.",
                    expected=f"model {self.model_name!r}, {self.dim}-d vectors",
                    got=f"model {meta.get('model')!r}, {meta.get('dim')}-d vectors",
                    fix=f"delete {self.dir} to rebuild it, or point Settings.embedding_cache_dir elsewhere",
                )
        self._checked = True

    def _reset(self) -> None:
        self._index, self._rows, self._keys_offset, self._mmap = {}, 0, 0, None

    def _refresh(self) -> None:
        """Read key lines appended since the last call (by us or anyone); caller holds ``_lock``."""
        self._check_meta()
        try:
            key_size = self._key_path.stat().st_size
        except FileNotFoundError:
            key_size = 0
        if key_size < self._keys_offset:  # the folder was deleted or rebuilt behind our back
            self._reset()
        if key_size == self._keys_offset:
            return
        with self._key_path.open("rb") as fh:
            fh.seek(self._keys_offset)
            chunk = fh.read(key_size - self._keys_offset)
        end = chunk.rfind(b"\n") + 1  # a half-written last line is not a key yet
        if end == 0:
            return
        keys = chunk[:end - 1].decode("ascii", errors="replace").split("\n")
        vec_rows = self._vec_path.stat().st_size // self._row_bytes if self._vec_path.exists() else 0
        accept = max(0, min(len(keys), vec_rows - self._rows))
        if accept < len(keys):  # keys without vectors (only after a crash that lost unflushed data)
            keys = keys[:accept]
            end = sum(len(k) + 1 for k in keys)
        # dict.update over zip runs in C: ~1 s for a million keys.
        self._index.update(zip(keys, range(self._rows, self._rows + accept), strict=True))
        self._rows += accept
        self._keys_offset += end

    def _vectors(self) -> np.ndarray:
        """(rows, dim) float32 read-only view of vectors.f32, re-mapped when rows were added."""
        if self._mmap is None or len(self._mmap) != self._rows:
            self._mmap = (np.memmap(self._vec_path, dtype=np.float32, mode="r", shape=(self._rows, self.dim))
                          if self._rows else np.zeros((0, self.dim), dtype=np.float32))
        return self._mmap

    def __len__(self) -> int:
        """Number of distinct hashes cached."""
        with self._lock:
            self._refresh()
            return len(self._index)

    def __contains__(self, text_hash: object) -> bool:
        with self._lock:
            self._refresh()
            return text_hash in self._index

    def get(self, hashes: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Look up vectors.

        Returns:
            vectors: (m, dim) float32 of the hashes found, in input order (m = found.sum()).
            found: (n,) bool, True where ``hashes[i]`` is cached.
        """
        with self._lock:
            self._refresh()
            index = self._index
            rows = np.fromiter((index.get(h, -1) for h in hashes), dtype=np.int64, count=len(hashes))
            found = rows >= 0
            if not found.any():
                return np.zeros((0, self.dim), dtype=np.float32), found
            return np.asarray(self._vectors()[rows[found]]), found

    # ------------------------------------------------------------------ writing
    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        """Exclusive advisory lock on ``.lock`` across processes (no-op without fcntl)."""
        if fcntl is None:  # pragma: no cover - Windows
            yield
            return
        with (self.dir / ".lock").open("a") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def _write_meta(self) -> None:
        if self._meta_path.exists():
            return
        tmp = self._meta_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"model": self.model_name, "dim": self.dim}), encoding="utf-8")
        os.replace(tmp, self._meta_path)  # atomic: readers never see half a meta.json

    def put(self, hashes: Sequence[str], vectors: np.ndarray) -> None:
        """Append (hash, vector) pairs; hashes already cached, or repeated here, are stored once.

        Args:
            hashes: (n,) keys, printable ASCII without spaces (``text_hash`` output).
            vectors: (n, dim) finite floats, stored as float32.

        Raises:
            ValidationError: wrong shape, non-finite values or a malformed key.
            ConfigError: the folder cannot be written.
        """
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.shape != (len(hashes), self.dim):
            raise ValidationError("Embedding cache put with mismatched shapes.",
                                  expected=f"vectors of shape ({len(hashes)}, {self.dim})",
                                  got=f"shape {vectors.shape}", fix="pass one vector per hash from the same model")
        if not np.isfinite(vectors).all():
            raise ValidationError("Embedding vectors contain NaN or inf.", expected="finite values",
                                  fix="check the embedder; nothing was cached")
        with self._lock:
            try:
                self.dir.mkdir(parents=True, exist_ok=True)
                with self._file_lock():
                    self._refresh()  # others may have appended since our last look
                    new_rows, new_keys, seen = [], [], set()
                    for i, h in enumerate(hashes):
                        if h in self._index or h in seen:
                            continue
                        if not isinstance(h, str) or not _KEY.match(h):
                            raise ValidationError(f"Bad embedding cache key {h!r}.",
                                                  expected="printable ASCII without spaces, e.g. text_hash(text)",
                                                  fix="key the cache with annotator.embeddings.text_hash")
                        seen.add(h)
                        new_rows.append(i)
                        new_keys.append(h)
                    if not new_keys:
                        return
                    self._write_meta()
                    block = np.ascontiguousarray(vectors[new_rows])
                    key_bytes = "".join(k + "\n" for k in new_keys).encode("ascii")
                    # Cut leftovers of a crash (orphan rows, a half key line) so row i ↔ line i.
                    with self._vec_path.open("ab") as fh:
                        fh.truncate(self._rows * self._row_bytes)
                        fh.write(block.tobytes())
                        fh.flush()
                    with self._key_path.open("ab") as fh:
                        fh.truncate(self._keys_offset)
                        fh.write(key_bytes)
                        fh.flush()
            except OSError as e:
                raise ConfigError(f"Cannot write the embedding cache in {self.dir}.", got=str(e),
                                  fix="free disk space or fix the data directory's permissions") from e
            self._index.update(zip(new_keys, range(self._rows, self._rows + len(new_keys)), strict=True))
            self._rows += len(new_keys)
            self._keys_offset += len(key_bytes)
