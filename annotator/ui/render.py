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
    label = '<span class="ann-why-label">Why this item</span>'
    if route == "verify":  # blind and audit items say nothing that could hint at the AI's answer
        parts = [f"{label} <b>AI suggestion to verify</b>", f"ranked by {esc(strategy)}"]
    else:
        parts = [f"{label} <b>{esc(strategy)}</b>"]
    if score is not None:
        parts.append(f'<span title="how informative the strategy rates this item: higher is more">'
                     f"score {score:.3f}</span>")
    parts.append(f"model v{int(model_version or 0)}" if model_version else "no model yet (cold start)")
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


def verify_banner(agent: str | None, value: Sequence[str] | None, score: float | None) -> str:
    """The AI suggestion of a ``verify`` item, shown prominently: one key accepts it, another corrects it."""
    if not value:
        return ""
    labels = " ".join(f'<span class="ann-verify-label">{esc(v)}</span>' for v in value)
    score_text = f' <span class="ann-verify-score">({score:.2f})</span>' if score is not None else ""
    by = (agent or "").split("@", 1)[0]  # the agent's name; its version string is for the record
    by_text = f'<div class="ann-verify-by ann-muted">suggested by {esc(by)}</div>' if by else ""
    return (f'<div class="ann-verify" data-route="verify"><div class="ann-verify-head">'
            f'<span class="ann-verify-lead">AI suggests:</span> {labels}{score_text}'
            f' <span class="ann-verify-hint">— press its key (or <kbd>Enter</kbd>) to accept, '
            f'or another to correct</span></div>{by_text}</div>')


def reveal_line(item_id: int, suggested: Sequence[str] | None, score: float | None, answered: Sequence[str]) -> str:
    """After a blind or audit answer is stored, the AI label that was hidden, for the record:
    "Item #12, for the record: AI had suggested billing (0.87) — you said bug." Never shown before
    the answer (the service only returns it from ``submit``)."""
    if not suggested:
        return ""
    agree = sorted(suggested) == sorted(answered)
    ai = ", ".join(esc(v) for v in suggested)
    you = ", ".join(esc(v) for v in answered)
    score_text = f" ({score:.2f})" if score is not None else ""
    verdict = "same answer" if agree else "you disagreed"
    return (f'<div class="ann-note ann-reveal" data-item-id="{int(item_id)}" data-agree="{str(agree).lower()}">'
            f'<span class="ann-why-label">For the record</span> item #{int(item_id)}: AI had suggested '
            f'<b>{ai}</b>{score_text} — you said <b>{you}</b> <span class="ann-muted">({verdict})</span></div>')


def progress_panel(total: int, labelled: int, by_label: Mapping[str, int], by_user: Mapping[str, int], *,
                   model_version: int = 0, refitting: bool = False, labels_since_refit: int = 0,
                   own: bool = False) -> str:
    """Labelled / total with a bar, counts by label and by person, and the model's state.

    ``own``: the counts are one person's own answers (an annotator's page in a team); the headings
    say so."""
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
        f'<div class="ann-sub">{"Your answers by label" if own else "By label"}</div>{label_rows}'
        f'<div class="ann-sub">{"You" if own else "By person"}</div>{user_rows}'
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


# ---------------------------------------------------------------------- AI tab
#: The four routes in page order: (name, what happens, why).
ROUTES: list[tuple[str, str, str]] = [
    ("auto", "AI label accepted", "no person needed"),
    ("audit", "auto labels checked blind", "a random slice; AI label hidden"),
    ("verify", "person checks the AI", "one key accepts the suggestion"),
    ("blind", "person labels, no hint", "the AI is unsure or weak here"),
]


def duration(seconds: float) -> str:
    """A rough, readable duration: "under a second", "~4 s", "~2 min", "~1.5 h"."""
    if seconds < 1:
        return "under a second"
    if seconds < 90:
        return f"~{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"~{seconds / 60:.0f} min"
    return f"~{seconds / 3600:.1f} h"


def ai_estimate(n_unlabelled: int, n_labelled: int, *, cheap_seconds: float, llm_seconds: float | None) -> str:
    """What a run will cost before it starts: items to label and the time per kind of annotator.

    ``llm_seconds`` covers every item (the labelled ones are scored too, out of fold, to calibrate)."""
    parts = [f"<b>~{int(n_unlabelled):,}</b> unlabelled item{'s' if n_unlabelled != 1 else ''} to route",
             f"calibrated on <b>{int(n_labelled):,}</b> human label{'s' if n_labelled != 1 else ''}",
             f"cheap annotators (classifier, kNN, zero-shot): <b>{esc(duration(cheap_seconds))}</b>"]
    if llm_seconds is not None:
        parts.append(f"llm-local: <b>{esc(duration(llm_seconds))}</b> on CPU "
                     f"(~0.5 s per item, {int(n_unlabelled + n_labelled):,} items; cached items are free)")
    return f'<div class="ann-estimate">{" · ".join(parts)}</div>'


def route_cards(counts: Mapping[str, int], *, labelled: int, unrouted: int) -> str:
    """How many open items each route holds, as four cards, plus what people labelled."""
    total = max(1, sum(int(counts.get(name, 0)) for name, _, _ in ROUTES) + int(unrouted))
    cards = []
    for name, what, why in ROUTES:
        n = int(counts.get(name, 0))
        cards.append(
            f'<div class="ann-route ann-route-{name}" data-route="{name}" data-count="{n}">'
            f'<div class="ann-route-name">{name}</div><div class="ann-route-n">{n:,}</div>'
            f'<div class="ann-route-bar"><span style="width:{100.0 * n / total:.1f}%"></span></div>'
            f'<div class="ann-route-what">{esc(what)}</div><div class="ann-muted">{esc(why)}</div></div>')
    foot = [f"{int(labelled):,} labelled by people"]
    if unrouted:
        foot.append(f"{int(unrouted):,} not routed yet (run the AI annotators)")
    return (f'<div class="ann-routes">{"".join(cards)}</div>'
            f'<div class="ann-routes-foot ann-muted">{" · ".join(foot)}</div>')


def _pct(value: float) -> str:
    return f"{100.0 * value:.1f}"


def audit_line(value: float | None, ci_low: float | None, ci_high: float | None, audits: int, *,
               target: float, pending: int = 0) -> str:
    """The measured precision of auto-accepted labels: "auto-label precision 96.0 % [91.2–98.8], 25 audits"."""
    if not audits or value is None:
        wait = (f" {int(pending):,} audit item{'s' if pending != 1 else ''} wait at the front of the Label queue."
                if pending else "")
        return (f'<div class="ann-audit ann-audit-none"><span class="ann-why-label">Audit</span> '
                f"no audits answered yet.{esc(wait)}</div>")
    low, high = ci_low if ci_low is not None else 0.0, ci_high if ci_high is not None else 1.0
    if low >= target:
        state, verdict = "ok", f"meets the {_pct(target)} % target"
    elif high < target:
        state, verdict = "low", f"below the {_pct(target)} % target: raise the target or label more"
    else:
        state, verdict = "open", f"target {_pct(target)} % is inside the interval: more audits will tell"
    return (f'<div class="ann-audit ann-audit-{state}"><span class="ann-why-label">Audit</span> '
            f"auto-label precision <b>{_pct(value)} %</b> [{_pct(low)}–{_pct(high)}], "
            f"{int(audits):,} audit{'s' if audits != 1 else ''}"
            f' <span class="ann-muted">· 95 % interval · {esc(verdict)}</span></div>')


def dataset_accuracy_line(estimate: Mapping[str, Any] | None) -> str:
    """The last AI run's estimated accuracy of the whole dataset (people's and auto-accepted AI
    labels) with its interval (``routing.accuracy_text.estimate_sentence``), marked against the
    target: met when the interval's low end clears it, low when its high end is under it."""
    from annotator.routing.accuracy_text import estimate_sentence

    sentence = estimate_sentence(dict(estimate) if estimate is not None else None)
    target = (estimate or {}).get("target")
    state = "none"
    if estimate is not None and estimate.get("value") is not None and target is not None:
        state = "ok" if estimate["ci_low"] >= target else "low" if estimate["ci_high"] < target else "open"
    return (f'<div class="ann-audit ann-audit-{state} ann-dataset-accuracy" data-state="{state}" '
            f'data-value="{esc((estimate or {}).get("value"))}"><span class="ann-why-label">Dataset</span> '
            f"{esc(sentence[:1].upper() + sentence[1:])}</div>")


def thresholds_table(thresholds: Mapping[str, float | None]) -> str:
    """Per label, the confidence at or above which the AI label is auto-accepted (None: never yet)."""
    if not thresholds:
        return ""
    rows = []
    for name, tau in thresholds.items():
        if tau is None:
            cell = '<span class="ann-muted">never yet: too few confident, correct labelled examples</span>'
        else:
            cell = f"confidence ≥ <b>{tau:.3f}</b>"
        rows.append(f'<tr><td class="ann-th-label">{esc(name)}</td><td>{cell}</td></tr>')
    return (f'<table class="ann-thresholds"><thead><tr><th>label</th><th>auto-accept when</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def error_box(message: str) -> str:
    """An AnnotatorError message (what / expected / got / fix lines) as an escaped block."""
    lines = [esc(line) for line in message.splitlines() if line.strip()]
    if not lines:
        return ""
    head, rest = lines[0], lines[1:]
    return f'<div class="ann-error"><b>{head}</b>{"".join(f"<div>{r}</div>" for r in rest)}</div>'


def note_box(message: str) -> str:
    return f'<div class="ann-note">{esc(message)}</div>' if message else ""
