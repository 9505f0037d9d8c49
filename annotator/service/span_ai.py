"""The LLM span suggesters of a span project (reached through ``svc.spans.suggester``):
"llm-local[:MODEL]" or "llm-endpoint" for the project's labels, the endpoint options from
Settings, up to three of the people's answered items as demonstrations (``llm.span_suggest``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from annotator import store
from annotator.core.errors import ValidationError
from annotator.spans import Span
from annotator.store import spans as span_q

if TYPE_CHECKING:
    from annotator.service.spans import SpansService

LLM_SUGGESTERS = ("llm-local", "llm-endpoint")


def _spans(raw: list[dict[str, Any]]) -> list[Span]:
    return [Span(int(s["start"]), int(s["end"]), str(s["label"])) for s in raw]


def _demos(part: SpansService, project_id: int, n: int) -> list[tuple[str, list[Span]]]:
    """Up to ``n`` answered items as demonstrations: items with spans first, shortest first."""
    with store.transaction(part.engine) as s:
        newest: dict[int, Any] = {}
        for a in span_q.span_answers(s, project_id):
            if a.item_id not in newest or a.response_id > newest[a.item_id].response_id:
                newest[a.item_id] = a
        texts = span_q.texts_of(s, list(newest))
    order = sorted(newest, key=lambda i: (not newest[i].spans, len(texts[i]), i))
    return [(texts[i], _spans(newest[i].spans)) for i in order[:n]]


def llm_suggester(part: SpansService, project: str, name: str) -> Any:
    """The LLM span suggester ``name`` ("llm-local", "llm-local:MODEL", "llm-endpoint") for ``project``."""
    from annotator.llm.span_suggest import (
        DEFAULT_SPAN_DEMOS,
        EndpointLLMSpanSuggester,
        LocalLLMSpanSuggester,
        SpanPrompt,
    )

    proj, labels, overlap = part._rules(project)
    descriptions = {lab["name"]: lab.get("description") or "" for lab in proj.labels}
    prompt = SpanPrompt(labels, descriptions, _demos(part, proj.id, DEFAULT_SPAN_DEMOS))
    settings = part.settings
    if name == "llm-local" or name.startswith("llm-local:"):
        model = name.split(":", 1)[1] if ":" in name else "smollm2"
        return LocalLLMSpanSuggester(labels, prompt, model=model, models_dir=settings.resolved_models_dir,
                                     allow_overlap=overlap)
    if name == "llm-endpoint":
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        return EndpointLLMSpanSuggester(labels, prompt, base_url=settings.llm_endpoint_url,
                                        model=settings.llm_endpoint_model, api_key=key,
                                        timeout_s=settings.llm_timeout_s, max_retries=settings.llm_max_retries,
                                        allow_overlap=overlap)
    raise ValidationError(f"Unknown span suggester {name!r}.", expected="spacy | spacy:MODEL | llm-local | "
                          "llm-local:MODEL | llm-endpoint", fix="pass --annotators spacy, llm-local or llm-endpoint")
