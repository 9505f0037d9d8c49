"""Span suggestions from an LLM: "llm-local" (the offline GGUF model in-process) and "llm-endpoint"
(any OpenAI-compatible server), with the interface of ``spans.SpacySpanSuggester`` (``agent`` and
``suggest(texts) -> [[Span]]``).

The prompt (``assets/prompts/spans.txt``) names the labels, shows up to ``n_demos`` of the
people's answered items as demonstrations (``Text: …`` / ``Spans: [{"text", "label"}]``) and asks
for one line of JSON. Quoting the span's text, not its offsets, is what models get right; the
answer may still give ``start`` / ``end`` (``spans.parse_llm_spans`` reads both). Every answer
goes through ``parse_llm_spans``: a span whose text is not in the item, with an unknown label or
overlapping a kept one (unless the project allows it) is dropped and *counted*; an answer with no
JSON list counts as unparsed. ``suggest_parsed`` returns those counts per item; the service adds
them up in its report.

The local model's ``score`` of an item is the geometric mean probability of the tokens it
generated (how sure it was of its own answer, in (0, 1]); the endpoint gives none. torch,
transformers and openai are imported inside functions.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from annotator.llm.prompts import PROMPTS_DIR, prompt_hash
from annotator.spans.model import Span
from annotator.spans.suggest import parse_llm_spans

SPAN_TEMPLATE = "spans"
DEFAULT_SPAN_DEMOS = 3
#: Characters of an item's text shown to the model; a span past the cut cannot be suggested.
DEFAULT_SPAN_MAX_CHARS = 2000
DEFAULT_MAX_NEW_TOKENS = 96


def load_span_template(name: str = SPAN_TEMPLATE) -> str:
    """The text of ``assets/prompts/<name>.txt`` (or of a path ending in .txt)."""
    path = Path(name) if str(name).endswith(".txt") else PROMPTS_DIR / f"{name}.txt"
    return path.read_text(encoding="utf-8")


@dataclass(frozen=True)
class SuggestedSpans:
    """One item's answer: the spans kept, how many the model gave that were dropped (and why),
    whether the answer held a JSON list at all, and the model's confidence (None: unknown)."""

    spans: list[Span]
    dropped: int = 0
    reasons: tuple[str, ...] = ()
    parsed: bool = True
    score: float | None = None


def _one_line(text: str) -> str:
    return " ".join(text.split("\n"))


@dataclass
class SpanPrompt:
    """Renders the span prompt for a project's labels with the people's answered items as demos.

    Attributes:
        labels: the project's span labels.
        descriptions: label → description (optional).
        demos: (text, spans) of answered items, shown in order (the service picks them).
    """

    labels: Sequence[str]
    descriptions: Mapping[str, str] = field(default_factory=dict)
    demos: Sequence[tuple[str, Sequence[Span]]] = ()
    n_demos: int = DEFAULT_SPAN_DEMOS
    max_chars: int = DEFAULT_SPAN_MAX_CHARS
    template: str = field(default_factory=load_span_template)

    def render(self, text: str) -> str:
        lines = "\n".join(f"- {lab}: {self.descriptions[lab]}" if self.descriptions.get(lab) else f"- {lab}"
                          for lab in self.labels)
        blocks = []
        for demo_text, spans in list(self.demos)[: self.n_demos]:
            answer = json.dumps([{"text": demo_text[s.start:s.end], "label": s.label} for s in sorted(spans)],
                                ensure_ascii=False)
            blocks.append(f"Text: {_one_line(demo_text[: self.max_chars])}\nSpans: {answer}\n\n")
        # str.format does not re-read braces inside substituted values, so any text is safe here
        return self.template.format(label_names=", ".join(self.labels), label_lines=lines, demos="".join(blocks),
                                    text=_one_line(text[: self.max_chars])).rstrip()


class _LLMSpanSuggester:
    """The shared part: prompt, parse and count. Subclasses answer one prompt in ``_complete``."""

    labels: Sequence[str]
    allow_overlap: bool
    prompt: SpanPrompt
    name: str
    model_id: str
    on_progress: Any

    def _setup(self) -> None:
        self.prompt_sha = prompt_hash(self.prompt.template, self.model_id)
        self.version = f"{self.model_id}@{self.prompt_sha[:8]}"
        self.stats: dict[str, float] = {"items": 0, "unparsed": 0, "kept": 0, "dropped": 0, "seconds": 0.0}

    @property
    def agent(self) -> str:
        return f"{self.name}:{self.model_id}"

    def _complete(self, prompt: str) -> tuple[str, float | None]:
        raise NotImplementedError

    def suggest_parsed(self, texts: Sequence[str]) -> list[SuggestedSpans]:
        """(n,) answers, one per text, in text order, each validated against its text."""
        out: list[SuggestedSpans] = []
        for i, text in enumerate(texts):
            t0 = time.perf_counter()
            answer, score = self._complete(self.prompt.render(text))
            self.stats["seconds"] += time.perf_counter() - t0
            parsed = parse_llm_spans(text, answer, self.labels, allow_overlap=self.allow_overlap)
            has_list = not (parsed.dropped == 0 and parsed.reasons[:1] == ["the answer holds no JSON list"])
            out.append(SuggestedSpans(parsed.spans, parsed.dropped, tuple(parsed.reasons), has_list, score))
            self.stats["items"] += 1
            self.stats["unparsed"] += not has_list
            self.stats["kept"] += len(parsed.spans)
            self.stats["dropped"] += parsed.dropped
            if self.on_progress is not None:
                self.on_progress(i + 1, len(texts))
        return out

    def suggest(self, texts: Sequence[str]) -> list[list[Span]]:
        """(n,) lists of spans, one per text, in text order."""
        return [s.spans for s in self.suggest_parsed(texts)]


@dataclass
class LocalLLMSpanSuggester(_LLMSpanSuggester):
    """Span suggester "llm-local": greedy generation by the offline model (``llm.local.load_llm``).

    Attributes:
        model: "smollm2" | "gemma3-270m" | a transformers model directory | a .gguf file.
        models_dir: where the converted copy lives.
        max_new_tokens: the answer's length limit (a cut answer is not JSON and counts as unparsed).
    """

    labels: Sequence[str]
    prompt: SpanPrompt
    model: str = "smollm2"
    models_dir: Path = Path("models")
    allow_overlap: bool = False
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    device: str = "cpu"
    on_progress: Any = None
    name: str = "llm-local"

    def __post_init__(self) -> None:
        from annotator.llm.local import model_id_for

        self.model_id = model_id_for(self.model)
        self._llm: Any = None
        self._setup()

    def _complete(self, prompt: str) -> tuple[str, float | None]:
        import torch

        from annotator.llm.local import load_llm

        if self._llm is None:
            self._llm = load_llm(self.model, self.models_dir, device=self.device)
        llm = self._llm
        with llm.lock, torch.inference_mode():
            ids = llm.tokenizer(prompt, return_tensors="pt").input_ids.to(llm.model.device)
            out = llm.model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=self.max_new_tokens,
                                     do_sample=False, stop_strings=["\n"], tokenizer=llm.tokenizer,
                                     pad_token_id=llm.tokenizer.pad_token_id, output_scores=True,
                                     return_dict_in_generate=True)
            new = out.sequences[0, ids.shape[1]:]
            logps = llm.model.compute_transition_scores(out.sequences, out.scores, normalize_logits=True)[0]
        answer = llm.tokenizer.decode(new, skip_special_tokens=True)
        finite = [float(v) for v in logps if torch.isfinite(v)]
        score = float(torch.tensor(finite).mean().exp()) if finite else None
        return answer.split("\n", 1)[0], None if score is None else round(score, 5)


@dataclass
class EndpointLLMSpanSuggester(_LLMSpanSuggester):
    """Span suggester "llm-endpoint": chat completions of an OpenAI-compatible server (the
    completions API when the server has no chat), through ``llm.endpoint``'s client and its error
    translation (unreachable, timeout, key, 5xx: one ``EndpointError`` before anything is stored).

    Attributes:
        base_url, model, api_key, timeout_s, max_retries: as ``EndpointLLMAnnotator``'s.
        max_tokens: the answer's length limit.
    """

    labels: Sequence[str]
    prompt: SpanPrompt
    base_url: str = "http://127.0.0.1:8001/v1"
    model: str = "smollm2"
    api_key: str | None = None
    timeout_s: float = 60.0
    max_retries: int = 2
    allow_overlap: bool = False
    max_tokens: int = 256
    on_progress: Any = None
    name: str = "llm-endpoint"

    def __post_init__(self) -> None:
        from annotator.llm.endpoint import EndpointLLMAnnotator

        # the classification annotator owns the client, the URL checks and the error messages
        self._endpoint = EndpointLLMAnnotator(base_url=self.base_url, model=self.model, api_key=self.api_key,
                                              timeout_s=self.timeout_s, max_retries=self.max_retries, cache=None)
        self.model_id = self.model
        self.api: str | None = None  # "chat" or "completions", settled by the first answer
        self._setup()

    def _complete(self, prompt: str) -> tuple[str, float | None]:
        from annotator.core.errors import EndpointError
        from annotator.llm.endpoint import _Unsupported

        tried: list[str] = []
        for api in ([self.api] if self.api else ["chat", "completions"]):
            try:
                text = self._ask(api, prompt)
            except _Unsupported as e:
                tried.append(f"{api}: {e.reason}")
                continue
            self.api = api
            return text, None
        raise EndpointError(f"The endpoint {self._endpoint.base_url} answers neither chat nor completions for "
                            f"{self.model!r}.", expected="POST /chat/completions or /completions answering",
                            got="; ".join(tried), fix=self._endpoint._fix_for_404())

    def _ask(self, api: str, prompt: str) -> str:
        ep = self._endpoint
        if api == "chat":
            messages = [{"role": "system", "content": "You mark spans of text. Answer with JSON only."},
                        {"role": "user", "content": prompt}]
            resp = ep._call(api, lambda c: c.chat.completions.create(
                model=self.model, messages=messages, max_tokens=self.max_tokens, temperature=0))
            text = getattr(getattr(ep._first_choice(resp, api), "message", None), "content", None)
        else:
            resp = ep._call(api, lambda c: c.completions.create(
                model=self.model, prompt=prompt, max_tokens=self.max_tokens, temperature=0, stop=["\n"]))
            text = getattr(ep._first_choice(resp, api), "text", None)
        if not isinstance(text, str):
            raise ep._garbage(api, f"a choice without text ({type(text).__name__})")
        return text
