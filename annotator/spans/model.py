"""One span: ``[start, end)`` in Python string offsets (code points) of the item's text, and its label.

``parse_spans`` reads what an import row or an AI annotator gives (``[{start, end, label}]``, also
``[start, end, label]`` triples as spaCy's training data has them) and ``check_spans`` says, per span,
what is wrong with it against the text and the project's labels: outside the text, empty or
reversed, an unknown label, overlapping another span (unless the project allows it), or an offset
that cuts a character (inside a surrogate pair, or before a combining mark, so the span's text would
not be what a person sees).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from annotator.core.errors import ValidationError


@dataclass(frozen=True, order=True)
class Span:
    """``text[start:end]`` carries ``label``. Offsets are code points, ``0 <= start < end <= len(text)``."""

    start: int
    end: int
    label: str

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end

    def as_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "label": self.label}


@dataclass(frozen=True)
class SpanProblem:
    """What is wrong with span number ``index`` (0-based, in the order given) and how to fix it."""

    index: int
    span: Span | None
    what: str
    fix: str

    def line(self) -> str:
        where = f"span {self.index + 1}" + (f" {self.span.as_dict()}" if self.span else "")
        return f"{where}: {self.what} ({self.fix})"


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value.strip()) <= 18:
        return int(value)
    return None


def parse_spans(value: Any, *, row: int | None = None) -> list[Span]:
    """Spans from a row's value: a list of ``{start, end, label}`` objects or ``[start, end, label]``.

    Raises:
        ValidationError: the value is not such a list, naming the row and the expected shape.
    """
    where = f" in row {row}" if row is not None else ""
    expected = 'a list of {"start": int, "end": int, "label": str} (character offsets into the text)'
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise ValidationError(f"The spans{where} are not a list.", expected=expected, got=type(value).__name__,
                              fix="write spans as a JSON list, [] for none")
    spans: list[Span] = []
    for k, entry in enumerate(value):
        if isinstance(entry, Mapping):
            # doccano's JSONL export names the offsets start_offset / end_offset
            start = entry.get("start", entry.get("start_offset"))
            end = entry.get("end", entry.get("end_offset"))
            label = entry.get("label")
        elif isinstance(entry, (list, tuple)) and len(entry) == 3:
            start, end, label = entry
        else:
            raise ValidationError(f"Span {k + 1}{where} is neither an object nor a [start, end, label] triple.",
                                  expected=expected, got=repr(entry)[:80], fix="give start, end and label")
        s, e = _as_int(start), _as_int(end)
        if s is None or e is None or not isinstance(label, str) or not label.strip():
            raise ValidationError(f"Span {k + 1}{where} needs integer start and end and a label name.",
                                  expected=expected, got=repr(entry)[:80], fix="give start, end and label")
        spans.append(Span(s, e, label.strip()))
    return spans


def _cuts_a_character(text: str, offset: int) -> bool:
    """An offset strictly inside the text that splits a surrogate pair or precedes a combining mark."""
    if offset <= 0 or offset >= len(text):
        return False
    before, after = text[offset - 1], text[offset]
    if "\ud800" <= before <= "\udbff" and "\udc00" <= after <= "\udfff":
        return True
    return unicodedata.combining(after) != 0 or after in "\u200d\ufe0f"


def check_spans(text: str, spans: Sequence[Span], labels: Iterable[str], *,
                allow_overlap: bool = False) -> list[SpanProblem]:
    """Every problem of ``spans`` against ``text`` and the project's ``labels``; empty when all are fine.

    Spans are judged in the order given; an overlap is reported on the later span of the two."""
    known = set(labels)
    problems: list[SpanProblem] = []
    kept: list[Span] = []
    for k, span in enumerate(spans):
        if not 0 <= span.start < span.end <= len(text):
            problems.append(SpanProblem(k, span, f"offsets outside the text of {len(text)} characters "
                                        "or start not before end", "use 0 <= start < end <= len(text)"))
            continue
        if span.label not in known:
            problems.append(SpanProblem(k, span, f"unknown label {span.label!r}",
                                        f"use one of {', '.join(sorted(known))}, or add the label to the project"))
            continue
        cut = [o for o in (span.start, span.end) if _cuts_a_character(text, o)]
        if cut:
            problems.append(SpanProblem(k, span, f"offset {cut[0]} cuts a character in two",
                                        "move the offset to a character boundary (offsets count code points)"))
            continue
        other = next((s for s in kept if s.overlaps(span)), None) if not allow_overlap else None
        if other is not None:
            problems.append(SpanProblem(k, span, f"overlaps {other.as_dict()}",
                                        "remove one of the two, or allow overlapping spans in the project"))
            continue
        kept.append(span)
    return problems


def validate_spans(text: str, spans: Sequence[Span], labels: Iterable[str], *, allow_overlap: bool = False,
                   row: int | None = None) -> list[Span]:
    """``spans`` sorted by position, or one ValidationError listing every problem (with the row)."""
    problems = check_spans(text, spans, labels, allow_overlap=allow_overlap)
    if problems:
        where = f"Row {row}: " if row is not None else ""
        raise ValidationError(f"{where}{len(problems)} span(s) do not fit the text.",
                              got="; ".join(p.line() for p in problems[:5]) + (" …" if len(problems) > 5 else ""),
                              fix=problems[0].fix)
    return sorted(spans)
