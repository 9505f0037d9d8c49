"""One exception tree for the whole package.

Every error says three things: what was expected, what came instead, and how to fix it.
Catch library exceptions at the boundary and translate them once, with ``raise ... from e``.
"""

from __future__ import annotations


class AnnotatorError(Exception):
    """Root of every error the annotator raises on purpose.

    Args:
        what: one line saying what went wrong, e.g. "Column 'txt' not found in reviews.csv".
        expected: what the annotator expected instead.
        got: what it actually found.
        fix: how the user can fix it.
    """

    exit_code: int = 2

    def __init__(self, what: str, *, expected: str | None = None, got: str | None = None, fix: str | None = None):
        self.what = what
        self.expected = expected
        self.got = got
        self.fix = fix
        super().__init__(self.message)

    @property
    def message(self) -> str:
        parts = [self.what]
        if self.expected:
            parts.append(f"Expected: {self.expected}")
        if self.got:
            parts.append(f"Got: {self.got}")
        if self.fix:
            parts.append(f"Fix: {self.fix}")
        return "\n".join(parts)

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message


class ConfigError(AnnotatorError):
    """Settings that cannot work: a bad value, a data directory that cannot be written."""


class InputFileError(AnnotatorError):
    """A file to import is missing, empty, malformed, badly encoded or lacks a column."""


class ValidationError(AnnotatorError):
    """A value that breaks the project's rules: an unknown label, a duplicate id, a text too long."""


class UnknownLabelError(ValidationError):
    """A label that is not one of the project's labels."""


class NotFoundError(AnnotatorError):
    """A project, item, user or model version that does not exist."""


class ConflictError(AnnotatorError):
    """Something that already exists, e.g. a project name taken."""


class StoreError(AnnotatorError):
    """The database failed: unreachable, locked, or its schema is out of date."""


class DatabaseUnavailableError(StoreError):
    """The database server cannot be reached."""


class DiskFullError(StoreError):
    """The disk that holds the database (or an output) has no space left."""


class ModelLoadError(AnnotatorError):
    """A model (embedder, classifier, LLM) cannot be loaded."""


class EmptyPoolError(AnnotatorError):
    """There is nothing left to label, or nothing to train on."""


class JobCancelled(AnnotatorError):
    """A long task was cancelled by the user."""


class AgreementError(AnnotatorError):
    """Agreement between raters cannot be measured on the answers there are."""


class NotEnoughRatersError(AgreementError):
    """Fewer than two raters answered in the project (or in the ratings table)."""


class NoOverlapError(AgreementError):
    """No item was answered by two raters, so there is nothing to compare."""


class EndpointError(AnnotatorError):
    """An LLM endpoint (OpenAI-compatible) cannot be used: unreachable, too slow, rejecting the key,
    not serving the model, or answering something that is not a label."""


class AuthenticationError(AnnotatorError):
    """A login refused: unknown user, no password set, or a wrong password."""


class LoginRefusedError(AuthenticationError):
    """A login refused by the password check or the failed-login throttle.

    ``delay_s``: seconds the caller should wait before it answers (slows down password guessing);
    ``locked_s``: seconds until the name may try again when the throttle locked it, else 0.
    """

    def __init__(self, what: str, *, delay_s: float = 0.0, locked_s: float = 0.0, **kwargs: str | None):
        super().__init__(what, **kwargs)
        self.delay_s = delay_s
        self.locked_s = locked_s


class PermissionDeniedError(AnnotatorError):
    """The user's role does not allow the action (an annotator exporting, changing settings...)."""
