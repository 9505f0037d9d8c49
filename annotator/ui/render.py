"""Pure functions that turn service values into small HTML fragments for the page.

Everything a user or a file supplied (item text, metadata, label names, agent names, people's
names) goes through ``html.escape`` here, so it is always shown as text and never interpreted as
HTML or script. No gradio import: these are plain, testable string functions.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import Any

#: Separates a hotkey from the label name in button captions; the keyboard script splits on it.
HOTKEY_SEP = "\u2002"

COMMAND_KEYS: list[tuple[str, str]] = [
    ("Enter", "submit the selected label(s)"),
    ("S", "skip this item"),
    ("U / Backspace", "undo the last answer"),
    ("F", "flag the item for review"),
    ("C", "write a comment (Esc leaves the box)"),
]


def esc(value: Any) -> str:
    """Escape any value for HTML text and attributes (quotes included)."""
    return html.escape("" if value is None else str(value), quote=True)


def caption(name: str, hotkey: str | None) -> str:
    """Button caption: ``"1\u2002billing"`` (the CSS turns the first letter into a key badge)."""
    return f"{hotkey}{HOTKEY_SEP}{name}" if hotkey else name


def item_card(item_id: int | None, text: str | None, *, empty_message: str = "") -> str:
    """The item's text in a card; ``data-item-id`` lets the keyboard script notice a new item."""
    if item_id is None:
        return (f'<div class="ann-item ann-empty" data-item-id="none">'
                f'<div class="ann-text">{esc(empty_message or "Nothing to label.")}</div></div>')
    return (f'<div class="ann-item" data-item-id="{int(item_id)}">'
            f'<div class="ann-text">{esc(text)}</div></div>')


def metadata_chips(item_id: int | None, external_id: str | None, metadata: Mapping[str, Any] | None) -> str:
    if item_id is None:
        return ""
    chips = [f'<span class="ann-chip"><b>item</b> #{int(item_id)}</span>']
    if external_id:
        chips.append(f'<span class="ann-chip"><b>id</b> {esc(external_id)}</span>')
    for key, value in (metadata or {}).items():
        shown = json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value
        chips.append(f'<span class="ann-chip"><b>{esc(key)}</b> {esc(shown)}</span>')
    return f'<div class="ann-meta">{"".join(chips)}</div>'


def why_line(strategy: str | None, score: float | None, model_version: int | None, *, route: str | None = None,
             undo: bool = False) -> str:
    """Why the queue served this item: strategy, its score and the model version that ranked it."""
    if strategy is None:
        return ""
    if route == "audit" or strategy == "audit":
        strategy = "random sample"  # truthful, and no hint that an AI already labelled it
    parts = [f'<span class="ann-why-label">Why this item</span> <b>{esc(strategy)}</b>']
    if score is not None:
        parts.append(f'<span title="how informative the strategy rates this item: higher is more">'
                     f"score {score:.3f}</span>")
    parts.append(f"model v{int(model_version or 0)}" if model_version else "no model yet (cold start)")
    if route == "verify":  # blind and audit items say nothing that could hint at the AI's answer
        parts.append("check the AI suggestion")
    if undo:
        parts.append("<b>undone</b>: your previous answer is pre-selected; change it or press Enter")
    return f'<div class="ann-why">{" · ".join(parts)}</div>'


def suggestion_box(agent: str | None, value: Sequence[str] | None, score: float | None, *,
                   preselected: bool) -> str:
    if not agent or not value:
        return ""
    score_text = f" · confidence {score:.2f}" if score is not None else ""
    note = "pre-selected" if preselected else "not pre-selected"
    labels = " ".join(f'<span class="ann-sugg-label">{esc(v)}</span>' for v in value)
    return (f'<div class="ann-suggestion"><span class="ann-why-label">AI suggestion</span> {labels}'
            f' <span class="ann-muted">by {esc(agent)}{score_text} ({note})</span></div>')


def progress_panel(total: int, labelled: int, by_label: Mapping[str, int], by_user: Mapping[str, int], *,
                   model_version: int = 0, refitting: bool = False, labels_since_refit: int = 0) -> str:
    """Labelled / total with a bar, counts by label and by person, and the model's state."""
    pct = 100.0 * labelled / total if total else 0.0
    top = max([1, *by_label.values()])
    label_rows = "".join(
        f'<div class="ann-row"><span class="ann-row-name">{esc(name)}</span>'
        f'<span class="ann-minibar"><span style="width:{100.0 * n / top:.1f}%"></span></span>'
        f'<span class="ann-row-n">{int(n)}</span></div>'
        for name, n in by_label.items()
    )
    user_rows = "".join(
        f'<div class="ann-row"><span class="ann-row-name">{esc(name)}</span>'
        f'<span class="ann-row-n">{int(n)}</span></div>'
        for name, n in sorted(by_user.items(), key=lambda kv: -kv[1])
    ) or '<div class="ann-muted">nobody yet</div>'
    model = f"model v{model_version}" if model_version else "no model yet"
    if refitting:
        model += " · refitting…"
    elif labels_since_refit:
        model += f" · {labels_since_refit} new label{'s' if labels_since_refit != 1 else ''} since refit"
    return (
        f'<div class="ann-progress" data-labelled="{int(labelled)}" data-total="{int(total)}">'
        f'<div class="ann-progress-head"><span class="ann-big">{int(labelled)}</span> / {int(total)} labelled'
        f' <span class="ann-muted">({pct:.0f}%)</span></div>'
        f'<div class="ann-bar"><span style="width:{pct:.1f}%"></span></div>'
        f'<div class="ann-sub">By label</div>{label_rows}'
        f'<div class="ann-sub">By person</div>{user_rows}'
        f'<div class="ann-model ann-muted">{esc(model)}</div></div>'
    )


def hotkey_help(labels: Sequence[tuple[str, str | None]], *, multi_label: bool) -> str:
    """The list of keys shown on the page."""
    rows = [
        f'<tr><td><kbd>{esc(key)}</kbd></td><td>{"toggle" if multi_label else "label as"} <b>{esc(name)}</b></td></tr>'
        for name, key in labels if key
    ]
    for key, what in COMMAND_KEYS:
        keys = " ".join(f"<kbd>{esc(k.strip())}</kbd>" for k in key.split("/"))
        rows.append(f"<tr><td>{keys}</td><td>{esc(what)}</td></tr>")
    return f'<table class="ann-keys">{"".join(rows)}</table>'


def hotkey_line(labels: Sequence[tuple[str, str | None]], *, multi_label: bool) -> str:
    """One compact line of keys under the buttons, so the keys are always in sight."""
    keys = [key for _, key in labels if key]
    if not keys:
        label_part = ""
    elif keys == [str(i + 1) for i in range(len(keys))] and len(keys) > 1:
        label_part = f"<span><kbd>1</kbd>–<kbd>{esc(keys[-1])}</kbd> {'toggle' if multi_label else 'label'}</span>"
    else:
        label_part = "<span>" + " ".join(f"<kbd>{esc(k)}</kbd>" for k in keys) + \
            f" {'toggle' if multi_label else 'label'}</span>"
    return (f'<div class="ann-keyline">{label_part}<span><kbd>Enter</kbd> submit</span>'
            '<span><kbd>S</kbd> skip</span><span><kbd>U</kbd>/<kbd>Backspace</kbd> undo</span>'
            '<span><kbd>F</kbd> flag</span><span><kbd>C</kbd> comment</span></div>')


def error_box(message: str) -> str:
    """An AnnotatorError message (what / expected / got / fix lines) as an escaped block."""
    lines = [esc(line) for line in message.splitlines() if line.strip()]
    if not lines:
        return ""
    head, rest = lines[0], lines[1:]
    return f'<div class="ann-error"><b>{head}</b>{"".join(f"<div>{r}</div>" for r in rest)}</div>'


def note_box(message: str) -> str:
    return f'<div class="ann-note">{esc(message)}</div>' if message else ""
