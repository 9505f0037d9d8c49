"""The base of every service part: one concern, sharing the facade's settings, engine and siblings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from annotator.core.config import Settings
from annotator.core.schema import ProjectSettings

if TYPE_CHECKING:
    from annotator.service.facade import AnnotatorService


class ServicePart:
    """One concern of :class:`AnnotatorService` (``svc.review``, ``svc.team`` …).

    A part holds only the state of its own concern; it reaches a sibling through the facade
    (``self._svc.queue.pool(name)``), so every part sees the same pools, caches and runner.
    """

    def __init__(self, svc: AnnotatorService) -> None:
        self._svc = svc

    @property
    def settings(self) -> Settings:
        return self._svc.settings

    @property
    def engine(self) -> Engine:
        return self._svc.engine


def project_settings(proj: object) -> ProjectSettings:
    """A project row's stored settings (a JSON dict) as the typed, validated model."""
    return ProjectSettings.model_validate(proj.settings)  # type: ignore[attr-defined]
