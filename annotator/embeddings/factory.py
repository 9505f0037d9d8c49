"""``make_embedder``: a model id from Settings → an ``Embedder``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from annotator.core.config import Settings
from annotator.core.errors import ConfigError
from annotator.embeddings.base import Embedder
from annotator.embeddings.hashing import HashingEmbedder
from annotator.embeddings.llm_hidden import PREFIX as LLM_PREFIX
from annotator.embeddings.sentence_transformer import SentenceTransformerEmbedder


def make_embedder(model_id: str, *, models_dir: str | Path | None = None, **kwargs: Any) -> Embedder:
    """A model id → its ``Embedder``:

    - ``"hashing"`` or ``"hashing-<dim>"``: the fake (other kwargs ignored);
    - ``"llm:<model>"``: the middle-layer states of a local LLM (``gemma3-270m``, ``smollm2``, a
      model folder or a .gguf file), converted copies kept under ``models_dir``;
    - anything else: ``SentenceTransformerEmbedder(model_id, **kwargs)`` (package name, local
      folder or hub id).
    """
    if model_id == "hashing" or model_id.startswith("hashing-"):
        suffix = model_id.partition("-")[2]
        if suffix and not suffix.isdigit():
            raise ConfigError(f"Unknown embedding model {model_id!r}.", expected="'hashing' or 'hashing-<dim>'",
                              fix="e.g. hashing-384")
        return HashingEmbedder(int(suffix) if suffix else 384)
    if model_id.startswith(LLM_PREFIX):
        from annotator.embeddings.llm_hidden import LLMHiddenStateEmbedder

        model = model_id[len(LLM_PREFIX):].strip()
        if not model:
            raise ConfigError(f"Unknown embedding model {model_id!r}.", expected="llm:<model>",
                              fix="e.g. llm:gemma3-270m")
        return LLMHiddenStateEmbedder(model, models_dir=Path(models_dir or "models"), **kwargs)
    return SentenceTransformerEmbedder(model_id, **kwargs)


def embedder_for(settings: Settings) -> Embedder:
    """The embedder the app's settings ask for (model, device, batch size, token limit, models dir)."""
    return make_embedder(settings.embedding_model, device=settings.embedding_device,
                         batch_size=settings.embedding_batch_size, max_seq_length=settings.max_seq_length,
                         models_dir=settings.resolved_models_dir)
