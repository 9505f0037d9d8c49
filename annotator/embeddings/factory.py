"""``make_embedder``: a model id from Settings → an ``Embedder``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from annotator.core.config import Settings
from annotator.core.errors import ConfigError
from annotator.embeddings.base import Embedder
from annotator.embeddings.hashing import HashingEmbedder
from annotator.embeddings.llm_hidden import PREFIX as LLM_PREFIX
from annotator.embeddings.llm_hidden import PROMPTED_PREFIX as LLM_PROMPTED_PREFIX
from annotator.embeddings.sentence_transformer import SentenceTransformerEmbedder


def make_embedder(model_id: str, *, models_dir: str | Path | None = None, **kwargs: Any) -> Embedder:
    """A model id → its ``Embedder``:

    - ``"hashing"`` or ``"hashing-<dim>"``: the fake (other kwargs ignored);
    - ``"llm:<model>"``: the middle-layer states of a local LLM (``gemma3-270m``, ``smollm2``, a
      model folder or a .gguf file), converted copies kept under ``models_dir``;
    - ``"llm-prompted:<model>"``: the same, plus the last token of a one-word summary prompt
      around each text (``prompted=True``): better on tone-like labels, a little worse on topics;
    - anything else: ``SentenceTransformerEmbedder(model_id, **kwargs)`` (package name, local
      folder or hub id).
    """
    if model_id == "hashing" or model_id.startswith("hashing-"):
        suffix = model_id.partition("-")[2]
        if suffix and not suffix.isdigit():
            raise ConfigError(f"Unknown embedding model {model_id!r}.", expected="'hashing' or 'hashing-<dim>'",
                              fix="e.g. hashing-384")
        return HashingEmbedder(int(suffix) if suffix else 384)
    for prefix, prompted in ((LLM_PREFIX, False), (LLM_PROMPTED_PREFIX, True)):
        if model_id.startswith(prefix):
            from annotator.embeddings.llm_hidden import LLMHiddenStateEmbedder

            model = model_id[len(prefix):].strip()
            if not model:
                raise ConfigError(f"Unknown embedding model {model_id!r}.", expected=f"{prefix}<model>",
                                  fix=f"e.g. {prefix}gemma3-270m")
            kwargs.setdefault("prompted", prompted)
            return LLMHiddenStateEmbedder(model, models_dir=Path(models_dir or "models"), **kwargs)
    return SentenceTransformerEmbedder(model_id, **kwargs)


def embedder_for(settings: Settings) -> Embedder:
    """The embedder the app's settings ask for (model, device, batch size, token limit, models dir)."""
    return make_embedder(settings.embedding_model, device=settings.embedding_device,
                         batch_size=settings.embedding_batch_size, max_seq_length=settings.max_seq_length,
                         models_dir=settings.resolved_models_dir)
