"""What every tab shares: the update-dict type, the page's header components, small builders.

A handler returns ``Updates``: ``{component: new value or gr.update(...)}`` for the outputs it
changes (Gradio leaves the others as they are).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

Updates = dict[Any, Any]
ANY = ""
ANY_CHOICE = ("any", ANY)


@dataclass
class Page:
    """The header and tab strip that every tab wires its events to.

    Attributes:
        blocks: the page (``load`` events).
        project_dd: the project picker (every event's first input).
        user_box: the annotator name (in auth mode the login, read-only).
        tabs: the ``gr.Tabs`` strip (a handler may switch to another tab).
        tab: tab id → its ``gr.Tab`` (``select`` events, role-dependent visibility).
    """

    blocks: gr.Blocks
    project_dd: gr.Dropdown
    user_box: gr.Textbox
    tabs: gr.Tabs
    tab: dict[str, gr.Tab] = field(default_factory=dict)


def no_change() -> Updates:
    """The update that leaves every output of an event as it is. (Gradio reads an empty dict as a
    single value for a multi-output event and fails: "didn't return enough output values".)"""
    return gr.skip()


def display_html(value: str = "", **kwargs: Any) -> gr.HTML:
    """A display-only HTML block (no click hook: these blocks are not clickable)."""
    return gr.HTML(value, js_on_load=None, **kwargs)


def merge_updates(first: Updates, second: Updates) -> Updates:
    """Combine two update dicts; where both update one component, their property updates merge."""
    out = dict(first)
    for key, value in second.items():
        old = out.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            out[key] = {**old, **value}
        else:
            out[key] = value
    return out


def any_of(values: Sequence[str]) -> list[tuple[str, str]]:
    """Filter choices: "any" (the empty value) first, then each value."""
    return [ANY_CHOICE, *((v, v) for v in values)]
