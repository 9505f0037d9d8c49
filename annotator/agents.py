"""The registry of AI annotators by name: ``make_annotators("knn,zero-shot")``.

Cheap annotators (``annotator.annotators``) are always there; LLM annotators
(``annotator.llm``) are imported only when asked for, so their heavy dependencies stay lazy.
"""

from __future__ import annotations

from collections.abc import Callable

from annotator.annotators import AIAnnotator, ClassifierAnnotator, KnnAnnotator, ZeroShotAnnotator
from annotator.errors import ValidationError


def _llm_local(**kwargs) -> AIAnnotator:  # noqa: ANN003
    from annotator.llm.local import LocalLLMAnnotator

    return LocalLLMAnnotator(**kwargs)


def _llm_endpoint(**kwargs) -> AIAnnotator:  # noqa: ANN003
    from annotator.llm.endpoint import EndpointLLMAnnotator

    return EndpointLLMAnnotator(**kwargs)


ANNOTATORS: dict[str, Callable[..., AIAnnotator]] = {
    "classifier": ClassifierAnnotator,
    "knn": KnnAnnotator,
    "zero-shot": ZeroShotAnnotator,
    "llm-local": _llm_local,
    "llm-endpoint": _llm_endpoint,
}
CHEAP = ("classifier", "knn", "zero-shot")


def parse_annotator_names(spec: str) -> list[str]:
    """"none" → []; "all" → every cheap one; else a comma list of registered names."""
    spec = (spec or "none").strip()
    if spec == "none":
        return []
    names = list(CHEAP) if spec == "all" else [s.strip() for s in spec.split(",") if s.strip()]
    unknown = [n for n in names if n not in ANNOTATORS]
    if unknown:
        raise ValidationError(f"Unknown AI annotator {unknown[0]!r}.", expected="none | all | " + ", ".join(ANNOTATORS),
                              fix="pass a comma-separated list of those names, e.g. --ai knn,zero-shot")
    return names


def make_annotators(spec: str, **kwargs) -> list[AIAnnotator]:  # noqa: ANN003
    """Build the named annotators; ``kwargs[name]`` holds keyword arguments for one of them."""
    return [ANNOTATORS[name](**kwargs.get(name, {})) for name in parse_annotator_names(spec)]
