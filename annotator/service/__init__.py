"""The service layer: :class:`AnnotatorService` and its parts, the one API the UI and the CLI call."""

from annotator.service.facade import AnnotatorService
from annotator.service.projects import parse_labels

__all__ = ["AnnotatorService", "parse_labels"]
