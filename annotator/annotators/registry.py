"""The registry of AI annotators by name: ``make_annotators("knn,zero-shot")``.

Cheap annotators (``annotator.annotators``) are always there; LLM annotators
(``annotator.llm``) are imported only when asked for, so their heavy dependencies stay lazy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine

from annotator.annotators import AIAnnotator, ClassifierAnnotator, KnnAnnotator, ZeroShotAnnotator
from annotator.annotators.imported import PREFIX, ImportedSuggestions
from annotator.core.config import Settings
from annotator.core.errors import ValidationError


def _llm_local(**kwargs) -> AIAnnotator:  # noqa: ANN003
    from annotator.llm.local import LocalLLMAnnotator

    return LocalLLMAnnotator(**kwargs)


def _llm_probe(**kwargs) -> AIAnnotator:  # noqa: ANN003
    from annotator.annotators.llm_probe import LLMProbeAnnotator

    return LLMProbeAnnotator(**kwargs)


def _llm_endpoint(**kwargs) -> AIAnnotator:  # noqa: ANN003
    from annotator.llm.endpoint import EndpointLLMAnnotator

    return EndpointLLMAnnotator(**kwargs)


ANNOTATORS: dict[str, Callable[..., AIAnnotator]] = {
    "classifier": ClassifierAnnotator,
    "knn": KnnAnnotator,
    "zero-shot": ZeroShotAnnotator,
    "llm-local": _llm_local,
    "llm-endpoint": _llm_endpoint,
    "llm-probe": _llm_probe,
}
CHEAP = ("classifier", "knn", "zero-shot")


def parse_annotator_names(spec: str) -> list[str]:
    """"none" → []; else a comma list of registered names, where "all" stands for every cheap one
    (``all,llm-probe``: the cheap ones and the LLM probe)."""
    spec = (spec or "none").strip()
    if spec == "none":
        return []
    names: list[str] = []
    for token in (s.strip() for s in spec.split(",")):
        for name in (CHEAP if token == "all" else (token,) if token else ()):
            if name not in names:
                names.append(name)
    unknown = [n for n in names if n not in ANNOTATORS and not (n.startswith(PREFIX) and len(n) > len(PREFIX))]
    if unknown:
        raise ValidationError(f"Unknown AI annotator {unknown[0]!r}.",
                              expected="none | all | " + ", ".join(ANNOTATORS) + f" | {PREFIX}AGENT (a comma list)",
                              fix="pass a comma-separated list of those names, e.g. --ai knn,zero-shot "
                                  f"({PREFIX}AGENT: suggestions imported with --agent AGENT)")
    return names


def make_annotators(spec: str, **kwargs) -> list[AIAnnotator]:  # noqa: ANN003
    """Build the named annotators; ``kwargs[name]`` holds keyword arguments for one of them
    (``imported:AGENT`` needs ``table``, the service's ``ai.annotator_options`` gives it)."""
    out: list[AIAnnotator] = []
    for name in parse_annotator_names(spec):
        if name.startswith(PREFIX):
            if "table" not in kwargs.get(name, {}):
                raise ValidationError(f"{name} needs the project's imported suggestions.",
                                      fix="run it through the service (python -m annotator ai --annotators ...)")
            out.append(ImportedSuggestions(name[len(PREFIX):], **kwargs[name]))
        else:
            out.append(ANNOTATORS[name](**kwargs.get(name, {})))
    return out


#: The annotators that call a language model: they take options from Settings and cache their scores.
LLM_ANNOTATORS = ("llm-local", "llm-endpoint")


def llm_options(settings: Settings, names: list[str],
                progress_for: Callable[[str], Callable[[int, int], None] | None] | None = None,
                engine: Engine | None = None) -> dict[str, dict[str, Any]]:
    """Keyword arguments of the LLM annotators among ``names``, for ``make_annotators``.

    Each gets its options from ``settings`` (models folder; endpoint URL, model, key, timeout,
    retries, mode and price), a score cache (a re-run costs nothing): the project database's
    ``llm_score`` table when ``engine`` is given, else ``<data_dir>/llm-cache/<name>.jsonl``, and
    ``progress_for(name)`` as its (done, total) callback.
    """
    from annotator.llm.cache import JsonlCache
    from annotator.store.llm_cache import StoreLLMCache

    kwargs: dict[str, dict[str, Any]] = {}
    if "llm-probe" in names:  # vectors, not prompts: the embedding cache keeps them
        from annotator.embeddings import make_embedder

        # the summary prompt's last token beside the middle-layer mean: the probe's job is tone
        embedder = make_embedder(f"llm:{settings.llm_probe_model}", models_dir=settings.resolved_models_dir,
                                 device=settings.embedding_device, max_seq_length=settings.max_seq_length,
                                 prompted=True)
        kwargs["llm-probe"] = {"embedder": embedder, "cache_dir": settings.embeddings_dir,
                               "on_progress": progress_for("llm-probe") if progress_for else None}
    for name in names:
        if name not in LLM_ANNOTATORS:
            continue
        cache = StoreLLMCache(engine) if engine is not None else \
            JsonlCache(settings.data_dir / "llm-cache" / f"{name}.jsonl")
        common = {"cache": cache, "on_progress": progress_for(name) if progress_for else None}
        if name == "llm-local":
            kwargs[name] = {"model": settings.llm_local_model, "models_dir": settings.resolved_models_dir,
                            "backend": settings.llm_backend, **common}
        else:
            key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
            kwargs[name] = {"base_url": settings.llm_endpoint_url, "model": settings.llm_endpoint_model, "api_key": key,
                            "timeout_s": settings.llm_timeout_s, "max_retries": settings.llm_max_retries,
                            "mode": settings.llm_mode, "usd_per_1m_tokens": settings.llm_usd_per_1m_tokens, **common}
    return kwargs
