"""Tokens of a text and the spans' IOB tags: what span selection snaps to, and what the
Hugging Face export writes (``tokens`` + ``ner_tags``).

The tokenizer is deliberately simple and deterministic (words with inner hyphens/apostrophes,
numbers, and each other non-space character on its own), so the same text always gives the same
tokens in the browser, the import and the export.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from annotator.spans.model import Span

_TOKEN = re.compile(r"\w+(?:['’\-]\w+)*|[^\w\s]", re.UNICODE)


@dataclass(frozen=True)
class Token:
    """``text[start:end]``; offsets in code points."""

    start: int
    end: int
    text: str


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text`` in order; whitespace belongs to no token."""
    return [Token(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]


def snap_to_tokens(span: Span, tokens: Sequence[Token]) -> Span | None:
    """The smallest run of whole tokens that covers every token ``span`` touches; None when it
    touches none (only whitespace)."""
    touched = [t for t in tokens if t.start < span.end and span.start < t.end]
    if not touched:
        return None
    return Span(touched[0].start, touched[-1].end, span.label)


def to_iob(text: str, spans: Sequence[Span]) -> tuple[list[str], list[str]]:
    """``(tokens, tags)``: one IOB2 tag per token (``B-LABEL``, ``I-LABEL``, ``O``).

    Spans are snapped to tokens first; they must not overlap once snapped (IOB cannot say so).

    Raises:
        ValueError: two spans share a token.
    """
    tokens = tokenize(text)
    tags = ["O"] * len(tokens)
    for span in sorted(spans):
        snapped = snap_to_tokens(span, tokens)
        if snapped is None:
            continue
        inside = [k for k, t in enumerate(tokens) if snapped.start <= t.start and t.end <= snapped.end]
        if any(tags[k] != "O" for k in inside):
            raise ValueError(f"span {span.as_dict()} shares a token with another span; IOB tags cannot hold both")
        for n, k in enumerate(inside):
            tags[k] = ("B-" if n == 0 else "I-") + span.label
    return [t.text for t in tokens], tags


def from_iob(text: str, tags: Sequence[str]) -> list[Span]:
    """The spans that IOB2 ``tags`` (one per token of ``tokenize(text)``) describe; an ``I-`` tag
    after ``O`` or after another label starts a new span (the lenient IOB1 reading)."""
    tokens = tokenize(text)
    if len(tags) != len(tokens):
        raise ValueError(f"{len(tags)} tags for {len(tokens)} tokens")
    spans: list[Span] = []
    start = end = -1
    label = ""
    for token, tag in zip(tokens, tags, strict=True):
        kind, _, name = tag.partition("-")
        if kind == "I" and name == label and start >= 0:
            end = token.end
            continue
        if start >= 0:
            spans.append(Span(start, end, label))
            start, label = -1, ""
        if kind in ("B", "I") and name:
            start, end, label = token.start, token.end, name
    if start >= 0:
        spans.append(Span(start, end, label))
    return spans
