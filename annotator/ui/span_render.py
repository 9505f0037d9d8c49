"""HTML of the span page: the item's text as token ``<span>``s with their character offsets, the
spans painted on them with a colour and a badge per label, the label legend and the keys.

Everything from the data (the text, label names, agent names) is escaped here: the text is split
into tokens by ``annotator.spans.tokenize`` and each piece is written with ``html.escape``, so an
item's text is always shown as text. The card carries what the keyboard script
(``annotator.ui.span_keys``) needs as data attributes: ``data-item-id``, ``data-labels`` (JSON list
of label names, in key order), ``data-spans`` (JSON ``[{start, end, label}]`` pre-filled spans) and
``data-overlap`` ("1" when the project allows overlapping spans) and ``data-view`` (new on every
render). Every token is
``<span class="sp-tok" data-i=K data-start=S data-end=E>`` and every run of whitespace between
tokens ``<span class="sp-gap" data-start=S data-end=E>``; offsets are code points of the text,
end exclusive, as ``annotator.spans.Span`` counts them. No gradio import.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from typing import Any

from annotator.spans import Span, tokenize
from annotator.ui.render import esc

#: One background colour per label position (the n-th label gets ``PALETTE[n % len]``).
PALETTE: tuple[str, ...] = ("#fde68a", "#bfdbfe", "#bbf7d0", "#fbcfe8", "#ddd6fe", "#fed7aa", "#a5f3fc",
                            "#e9d5ff", "#fecaca", "#d9f99d")

#: The page's keys, in the order the help lists them: (keys, what they do).
SPAN_KEYS: tuple[tuple[str, str], ...] = (
    ("← / →", "move the token cursor"),
    ("Shift+← / Shift+→", "extend the selection token by token (or drag with the mouse)"),
    ("1 … 9", "give the selection that label"),
    ("Backspace", "remove the span under the cursor"),
    ("Esc", "clear the selection"),
    ("Enter", "accept the item with the spans shown"),
    ("S", "skip this item"),
    ("U / Ctrl+Z", "undo the last accepted item"),
)

SPAN_STYLE = (
    "<style>"
    "#span-card .sp-card{padding:14px 18px;border:1px solid var(--border-color-primary,#ddd);border-radius:10px;"
    "outline:none}"
    "#span-card .sp-text{font-size:1.2rem;line-height:2.3;white-space:pre-wrap;word-wrap:break-word}"
    "#span-card .sp-tok{border-radius:3px;padding:1px 0;cursor:text}"
    "#span-card .sp-in{padding:2px 1px}"
    "#span-card .sp-multi{text-decoration:underline wavy}"
    "#span-card .sp-sel{background:#a5b4fc !important}"
    "#span-card .sp-cursor{outline:2px solid var(--color-accent,#6366f1);outline-offset:1px}"
    "#span-card .sp-badge{font-size:.68rem;font-weight:700;letter-spacing:.02em;padding:1px 4px;margin:0 2px;"
    "border-radius:4px;vertical-align:middle;user-select:none;-webkit-user-select:none;border:1px solid #0002}"
    "#span-card .sp-empty{opacity:.7;text-align:center;padding:24px}"
    "#span-card .sp-note{min-height:1.2em;font-size:.9rem;color:#b91c1c;margin-top:6px}"
    ".sp-legend{display:flex;flex-wrap:wrap;gap:6px;margin-bottom:8px}"
    ".sp-legend .sp-key{padding:2px 8px;border-radius:6px;border:1px solid #0002}"
    ".sp-why{font-size:.9rem;opacity:.85;margin-bottom:6px}"
    + "".join(f".sp-l{k}{{background:{c}}}" for k, c in enumerate(PALETTE))
    + ".sp-lx{background:#e5e7eb}"
    "</style>"
)


#: A fresh ``data-view`` per card: Gradio morphs an HTML block in place (the card element stays),
#: so the script knows a new item (or the same item again after undo) by this attribute.
_VIEWS = itertools.count(1)


def label_class(label: str, labels: Sequence[str]) -> str:
    """The colour class of ``label`` (``sp-l<k>`` by its position in ``labels``; ``sp-lx`` if unknown)."""
    return f"sp-l{labels.index(label) % len(PALETTE)}" if label in labels else "sp-lx"


def _as_spans(spans: Sequence[Mapping[str, Any] | Span]) -> list[Span]:
    return sorted(s if isinstance(s, Span) else Span(int(s["start"]), int(s["end"]), str(s["label"])) for s in spans)


def span_card(item_id: int | None, text: str | None, spans: Sequence[Mapping[str, Any] | Span], labels: Sequence[str],
              *, allow_overlap: bool = False, empty_message: str = "") -> str:
    """The item card: the text as tokens with ``spans`` (``[{start, end, label}]`` or ``Span``) painted on.

    A token a span touches gets ``sp-in`` and the span's colour class (``sp-multi`` as well when two
    spans share it); a gap inside a span is painted the same; the span's label follows its last
    token as a badge. With no item (``item_id`` None) the card shows ``empty_message``.
    """
    if item_id is None or text is None:
        return (SPAN_STYLE + '<div class="sp-card" data-item-id="none"><div class="sp-empty">'
                f'{esc(empty_message or "Nothing to label.")}</div></div>')
    chosen = _as_spans(spans)
    tokens = tokenize(text)
    ends: dict[int, list[Span]] = {}  # token index → spans whose last touched token it is
    for span in chosen:
        touched = [k for k, t in enumerate(tokens) if t.start < span.end and span.start < t.end]
        if touched:
            ends.setdefault(touched[-1], []).append(span)
    parts: list[str] = []
    pos = 0

    def gap(start: int, end: int) -> None:
        inside = [s for s in chosen if s.start <= start and end <= s.end]
        cls = "sp-gap" + (f" sp-in {label_class(inside[0].label, labels)}" if inside else "")
        parts.append(f'<span class="{cls}" data-start="{start}" data-end="{end}">{esc(text[start:end])}</span>')

    for k, tok in enumerate(tokens):
        if tok.start > pos:
            gap(pos, tok.start)
        over = [s for s in chosen if tok.start < s.end and s.start < tok.end]
        cls = "sp-tok"
        if over:
            cls += f" sp-in {label_class(over[0].label, labels)}" + (" sp-multi" if len(over) > 1 else "")
        parts.append(f'<span class="{cls}" data-i="{k}" data-start="{tok.start}" data-end="{tok.end}">'
                     f"{esc(tok.text)}</span>")
        for span in ends.get(k, []):
            parts.append(f'<span class="sp-badge {label_class(span.label, labels)}" data-start="{span.start}" '
                         f'data-end="{span.end}">{esc(span.label)}</span>')
        pos = tok.end
    if pos < len(text):
        gap(pos, len(text))
    data = json.dumps([s.as_dict() for s in chosen], ensure_ascii=False)
    return (SPAN_STYLE + f'<div class="sp-card" tabindex="0" data-item-id="{int(item_id)}" data-view="{next(_VIEWS)}" '
            f'data-labels="{esc(json.dumps(list(labels), ensure_ascii=False))}" data-spans="{esc(data)}" '
            f'data-overlap="{1 if allow_overlap else 0}"><div class="sp-text">{"".join(parts)}</div>'
            '<div class="sp-note" aria-live="polite"></div></div>')


def legend(labels: Sequence[tuple[str, str | None]]) -> str:
    """The label legend, ``1 PER  2 ORG  3 LOC`` in the labels' colours, and the keys of the page.

    Args:
        labels: ``(name, hotkey)`` in key order (the n-th label answers to key ``n``).
    """
    names = [name for name, _ in labels]
    keys = "".join(f'<span class="sp-key {label_class(name, names)}" data-label="{esc(name)}">'
                   f'<kbd>{k + 1}</kbd> {esc(name)}</span>' for k, (name, _) in enumerate(labels[:9]))
    rows = "".join(f"<tr><td>{' '.join(f'<kbd>{esc(p.strip())}</kbd>' for p in key.split(' / '))}</td>"
                   f"<td>{esc(what)}</td></tr>" for key, what in SPAN_KEYS)
    return (SPAN_STYLE + f'<div class="sp-legend" id="span-legend-keys">{keys}</div>'
            f'<table class="ann-keys sp-help">{rows}</table>')


def why_line(route: str, strategy: str | None, score: float | None, *, suggested: int, agent: str | None,
             undo: bool) -> str:
    """Why the item is shown and what is pre-filled. Blind and audit items say nothing about the AI
    (the service gives them no suggested spans)."""
    hidden = route in ("blind", "audit")
    shown = "random sample" if route == "audit" or strategy == "audit" else (strategy or "queue order")
    parts = [f"<b>Why this item</b> {esc(shown)}"]
    if score is not None:
        parts.append(f"score {score:.3f}")
    if undo:
        parts.append("<b>undone</b>: your previous spans are back; change them or press Enter")
    elif suggested and not hidden:
        by = (agent or "AI").split("@", 1)[0]
        parts.append(f"<b>{suggested} span{'s' if suggested != 1 else ''} suggested</b> by {esc(by)}: "
                     "correct them, Enter keeps what is shown")
    return f'<div class="sp-why" data-route="{esc(route)}">{" · ".join(parts)}</div>'


def saved_line(item_id: int, spans: Sequence[Span]) -> str:
    """After an answer: "Saved item #12: 2 spans (LOC, PER)"."""
    labels = ", ".join(sorted({s.label for s in spans}))
    what = f"{len(spans)} span{'s' if len(spans) != 1 else ''}" + (f" ({esc(labels)})" if labels else "")
    return f'<div class="ann-note" data-saved="{int(item_id)}">Saved item #{int(item_id)}: {what}</div>'
