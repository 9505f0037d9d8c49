"""Value types shared by every layer: task types, label specs, statuses, routes, provenance.

These are plain enums and pydantic models with no database or UI dependency.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, field_validator

from annotator.core.errors import ValidationError


class TaskType(StrEnum):
    single_label = "single-label"
    multi_label = "multi-label"
    # Post-training data (annotator.tasks): the item text is the prompt, responses are metadata.
    rating = "rating"
    preference = "preference"
    correction = "correction"


class ResponseStatus(StrEnum):
    """A person's answer moves draft → submitted, or is discarded (skipped / undone)."""

    draft = "draft"
    submitted = "submitted"
    discarded = "discarded"


class ResponseSource(StrEnum):
    """How a response came to exist."""

    human = "human"  # a person answered one item in the app or CLI
    bulk = "bulk"  # a person labelled a selection at once (browse page)
    imported = "import"  # a label column of an imported file
    skip = "skip"  # a person skipped the item (status discarded, no value): kept for the per-person figures


class Route(StrEnum):
    """Where an item's label came from on its way to a person or past one (``annotator.routing``)."""

    manual = "manual"  # served by the active-learning queue, no AI involved
    auto = "auto"  # AI label accepted without a person
    verify = "verify"  # a person saw the AI suggestion and accepted or corrected it
    blind = "blind"  # a person labelled with no suggestion shown
    audit = "audit"  # a random auto-accepted item re-labelled blind to measure precision
    imported = "import"
    review = "review"  # a reviewer settled the item (accepted one of the answers, or corrected it)


#: The routes the router gives an unlabelled item, in the order reports list them.
ROUTED: tuple[Route, ...] = (Route.auto, Route.audit, Route.verify, Route.blind)
#: The same as names (plain strings, for JSON reports and counts).
ROUTED_NAMES: tuple[str, ...] = tuple(r.value for r in ROUTED)
#: Route name → the pool's int8 code (0: not routed).
ROUTE_CODES: dict[str, int] = {"": 0, **{name: code for code, name in enumerate(ROUTED_NAMES, start=1)}}


class Role(StrEnum):
    admin = "admin"
    annotator = "annotator"
    reviewer = "reviewer"


#: The role names, in the order the UI and the CLI list them.
ROLES: tuple[str, ...] = tuple(r.value for r in Role)

def check_role(role: str) -> str:
    """``role`` if it is one of admin | annotator | reviewer, else a ValidationError."""
    if role not in ROLES:
        raise ValidationError(
            f"Unknown role {role!r}.", expected=" | ".join(ROLES), got=repr(role),
            fix="use admin (projects, users, exports, settings), annotator (labels their queue) or reviewer "
            "(settles disagreements)",
        )
    return role


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"


class LabelSpec(BaseModel):
    """One label of a project: its name, what it means, and the key that picks it."""

    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    hotkey: str | None = None

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("a label name cannot be blank")
        return value


class ProjectSettings(BaseModel):
    """Per-project knobs, stored as JSON on the project row."""

    strategy: str = "margin"
    refit_every: int = Field(default=10, ge=1, description="Refit the classifier after this many new labels.")
    batch_size: int = Field(default=10, ge=1, description="Items diversified together at the head of the queue.")
    seed: int = 0
    preselect_suggestion: bool = False
    target_precision: float = Field(default=0.95, gt=0, le=1)
    audit_fraction: float = Field(default=0.05, ge=0, le=1)
    lease_minutes: float = Field(
        default=30.0, gt=0,
        description="An item shown to a person is reserved for them this long; then it returns to the queue.")
    explore_fraction: float = Field(
        default=0.1, ge=0, le=0.5,
        description="Share of the uncertainty queue drawn at random and served blind: the router "
                    "calibrates its auto-accept thresholds on these unbiased answers.")
    overlap_fraction: float = Field(
        default=0.0, ge=0, le=1,
        description="Share of items (chosen from the seed and item id, stable as the project grows) that "
                    "overlap_k different people answer, to measure agreement; the others get one answer.")
    overlap_k: int = Field(default=3, ge=2, le=20, description="Answers per overlap item, from different people.")
    judge_veto: bool = Field(
        default=True,
        description="The router sends an item auto only if the judge's P(AI label correct) also clears its "
                    "certified threshold (once the judge has enough verdicts). Off: confidence alone decides "
                    "(the judge is still fitted and its AUROC reported); simulate's baseline arm turns it off.")
    rating_min: int = Field(default=1, description="Rating projects: the lowest score of the scale.")
    rating_max: int = Field(default=5, description="Rating projects: the highest score of the scale (at most 9 keys).")
    near_duplicate_threshold: float | None = Field(
        default=0.95, gt=0, le=1,
        description="Post-training projects: an imported record whose prompt and responses all have an embedding "
                    "cosine at least this high with an item already there (or an earlier row) is dropped and "
                    "reported; None keeps near-duplicates (annotator.tasks.near_duplicates).")


class FinalLabel(BaseModel):
    """The label an item ends with, and where it came from. Derived, never stored.

    ``value`` is a list of label names: exactly one for single-label projects.
    """

    item_id: int
    value: list[str]
    source: str  # "human" | "bulk" | "import" | "agent"
    annotator: str  # a user name, or "agent-name@version"
    route: str
    confidence: float | None = None
    status: str  # "submitted" for people, "auto" for unverified AI labels
    verified: bool  # True when a person gave or confirmed the label
    labelled_at: datetime | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


class ProjectSummary(BaseModel):
    """What the project list shows."""

    id: int
    name: str
    task_type: TaskType
    labels: list[LabelSpec]
    items: int
    labelled: int


class NearDuplicate(BaseModel):
    """One imported row dropped as a near-duplicate, and the item it duplicates."""

    row: int  # the row number the importer reports in its errors (a CSV line number, header = 1; a JSONL line)
    text: str  # the dropped row's prompt
    duplicate_of_item_id: int
    duplicate_of_text: str
    similarity: float  # min over prompt and responses of the embedding cosine


class ImportReport(BaseModel):
    """What one import did. ``duplicates_skipped`` counts texts already in the project or file;
    ``near_duplicates_dropped`` (post-training projects) the rows dropped by embedding similarity,
    each listed in ``near_duplicates`` with the item it duplicates."""

    project: str
    source: str
    rows_read: int = 0
    items_added: int = 0
    duplicates_skipped: int = 0
    labels_imported: int = 0
    suggestions_imported: int = 0
    #: of those, suggestions attached to items already in the project (matched by id, else by text)
    suggestions_attached: int = 0
    labels_added: list[str] = Field(default_factory=list)
    near_duplicate_threshold: float | None = None
    near_duplicates_dropped: int = 0
    near_duplicates: list[NearDuplicate] = Field(default_factory=list)
    #: rows whose values held characters no store or export can keep (unpaired surrogates, NUL and
    #: other control characters), cleaned on the way in; ``cleaned`` says what, for the first 20
    rows_cleaned: int = 0
    cleaned: list[str] = Field(default_factory=list)
    seconds: float = 0.0


class SuggestionView(BaseModel):
    agent: str
    value: list[str]
    score: float | None
    scores: dict[str, float] = Field(default_factory=dict)


class QueuedItem(BaseModel):
    """One item served to a person, with why it was chosen."""

    item_id: int
    external_id: str | None = None
    text: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    strategy: str
    score: float | None = None
    model_version: int = 0
    suggestion: SuggestionView | None = None
    previous_value: list[str] | None = None  # set when the item comes back through undo
    route: str = "manual"


class Progress(BaseModel):
    total: int
    labelled: int
    by_label: dict[str, int]
    by_user: dict[str, int]
    model_version: int = 0
    labels_since_refit: int = 0
    refitting: bool = False


class UserInfo(BaseModel):
    """One account as the UI, API and CLI see it: never the password hash."""

    id: int
    name: str
    role: Role
    has_password: bool
    is_system: bool = False
    created_at: datetime | None = None


# ---- background jobs and model versions (annotator.jobs, annotator.training) -------------------

class JobInfo(BaseModel):
    """One background job as the job list shows it."""

    id: int
    project: str | None = None
    kind: str
    status: JobStatus
    progress: float = 0.0
    message: str = ""
    payload: dict[str, Any] = Field(default_factory=dict)
    result: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


class ModelVersionInfo(BaseModel):
    """A trained model version: metrics hold heldout_accuracy, heldout_n, train_n (and more)."""

    id: int
    project: str
    kind: str
    version: int
    path: str | None = None
    metrics: dict[str, Any] = Field(default_factory=dict)
    n_labels: int = 0
    promoted: bool = False
    created_at: datetime | None = None
