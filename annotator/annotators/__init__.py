"""AI annotators: each labels a batch of items with per-label probabilities.

Registered by name; ``make_annotators("knn,zero-shot")`` builds the list the router fuses.
LLM annotators live in ``annotator.llm`` and register themselves here lazily.
"""

from __future__ import annotations

from collections.abc import Callable

from annotator.annotators.base import AIAnnotator, ItemBatch, LabelContext
from annotator.annotators.embedding_based import ClassifierAnnotator, KnnAnnotator, ZeroShotAnnotator
from annotator.errors import ValidationError

ANNOTATORS: dict[str, Callable[..., AIAnnotator]] = {
    "classifier": ClassifierAnnotator,
    "knn": KnnAnnotator,
    "zero-shot": ZeroShotAnnotator,
}
CHEAP = ("classifier", "knn", "zero-shot")


def _llm_local(**kwargs) -> AIAnnotator:  # noqa: ANN003
    from annotator.llm.local import LocalLLMAnnotator

    return LocalLLMAnnotator(**kwargs)


ANNOTATORS["llm-local"] = _llm_local


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
    return [ANNOTATORS[name](**kwargs.get(name, {})) for name in parse_annotator_names(spec)]


__all__ = ["ANNOTATORS", "AIAnnotator", "ClassifierAnnotator", "ItemBatch", "KnnAnnotator", "LabelContext",
           "ZeroShotAnnotator", "make_annotators", "parse_annotator_names"]
