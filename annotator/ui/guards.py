"""The one place where a tab's handler turns a refused action into a message on the page.

Every tab derives from ``Tab``: a handler either runs its work through ``self.guarded(fn)`` or is
decorated with ``@guard``; an ``AnnotatorError`` (bad input, a missing project, a refused role)
becomes the tab's error box instead of a trace, and nothing else is changed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from annotator.core.errors import AnnotatorError, ValidationError
from annotator.ui import render
from annotator.ui.components import Updates

if TYPE_CHECKING:
    from annotator.service import AnnotatorService

T = TypeVar("T", bound="Tab")


def need_project(project: str | None, what: str = "No project selected.",
                 fix: str = "create or pick a project first") -> str:
    """``project``, or a ValidationError saying how to get one."""
    if not project:
        raise ValidationError(what, fix=fix)
    return project


def need_item(project: str | None, item_id: int | None, *, none_shown: str, fix: str) -> tuple[str, int]:
    """``(project, item_id)`` of the item on screen, or a ValidationError: no project, or
    ``none_shown`` with ``fix`` when no item is shown."""
    project = need_project(project, fix="pick a project at the top of the page")
    if item_id is None:
        raise ValidationError(none_shown, fix=fix)
    return project, int(item_id)


class Tab:
    """A tab of the page: its components, its handlers and its status box.

    Subclasses set ``status_html`` (where errors are shown) in ``render`` and may widen
    ``error_updates`` (e.g. to stop a timer as well).
    """

    status_html: Any

    def __init__(self, service: AnnotatorService):
        self.service = service

    def error_updates(self, message: str) -> Updates:
        """What the page shows when an action of this tab is refused."""
        return {self.status_html: render.error_box(message)}

    def guarded(self, fn: Callable[[], Updates]) -> Updates:
        """``fn()``, or the error box when it raises an ``AnnotatorError``."""
        try:
            return fn()
        except AnnotatorError as e:
            return self.error_updates(e.message)


def guard(handler: Callable[..., Updates]) -> Callable[..., Updates]:
    """Decorate a ``Tab`` method so an ``AnnotatorError`` it raises becomes the tab's error box."""

    @functools.wraps(handler)
    def wrapper(self: Tab, *args: Any, **kwargs: Any) -> Updates:
        return self.guarded(lambda: handler(self, *args, **kwargs))

    return wrapper
