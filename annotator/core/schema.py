"""Value types shared by every layer: task types, label specs, statuses, routes, provenance.

These are plain enums and pydantic models with no database or UI dependency.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from annotator.core.errors import ValidationError


class TaskType(StrEnum):
    single_label = "single-label"
    multi_label = "multi-label"
    # Post-training data (annotator.tasks): the item text is the prompt, responses are metadata.
    rating = "rating"
    preference = "preference"
    correction = "correction"
    # Spans of the item text with a label (entities, PII, evidence): annotator.spans, service.spans.
    spans = "spans"


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


#: The longest label name a new label may have (the UI's buttons and the card's tables stay readable).
LABEL_NAME_MAX = 100
#: Characters a new label name may not hold, with why: each breaks the dataset card's Markdown
#: tables or reads as HTML / code where the name is shown.
LABEL_NAME_FORBIDDEN = {
    "|": "a pipe (it splits the dataset card's table cells)",
    "<": "a '<' (it starts an HTML tag where the name is shown)",
    ">": "a '>' (it ends an HTML tag where the name is shown)",
    "`": "a backtick (it starts Markdown code where the name is shown)",
}
# Bidirectional overrides and isolates make a name display differently from what it is.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _bad_char(ch: str) -> str | None:
    """Why ``ch`` may not be in a new label name, or None when it may."""
    if ch in LABEL_NAME_FORBIDDEN:
        return LABEL_NAME_FORBIDDEN[ch]
    category = unicodedata.category(ch)
    if category == "Cc":
        return f"a control character (U+{ord(ch):04X}, e.g. a newline or tab)"
    if category in ("Cs", "Zl", "Zp") or ch in _BIDI_CONTROLS:
        return f"an invisible or direction-changing character (U+{ord(ch):04X})"
    return None


def validate_label_name(name: str) -> str:
    """A new label's name, stripped, after checking it can be shown everywhere (UI, card, exports).

    Checked where labels are created (a new project, labels added by an import), not where a
    stored project is read back, so a project made before these rules still opens.
    Rules: 1..``LABEL_NAME_MAX`` characters after stripping; none of ``| < > ` ``; no control,
    bidirectional or line-separator characters. ``& ' " , ; / -`` and any letters or emoji are fine.

    Raises:
        ValidationError: naming the offending character and its position, with a cleaned name to use.
    """
    if not isinstance(name, str):
        raise ValidationError("A label name must be text.", got=f"{type(name).__name__} {name!r}",
                              fix="pass the name as a string, e.g. --labels positive,negative")
    stripped = name.strip()
    if not stripped:
        raise ValidationError("A label name cannot be blank.", got=repr(name),
                              fix="give every label a name, e.g. --labels positive,negative")
    for pos, ch in enumerate(stripped, start=1):
        why = _bad_char(ch)
        if why is not None:
            cleaned = " ".join("".join("-" if _bad_char(c) else c for c in stripped).split()).strip("-") or "label"
            raise ValidationError(
                f"The label name {stripped!r} holds {why} at position {pos}.",
                expected="a name without | < > ` and without control characters",
                got=repr(stripped), fix=f"rename the label, e.g. {cleaned!r}")
    if len(stripped) > LABEL_NAME_MAX:
        raise ValidationError(
            f"The label name {stripped[:40]!r}… is {len(stripped)} characters long.",
            expected=f"at most {LABEL_NAME_MAX} characters",
            got=f"{len(stripped)} characters",
            fix="use a short name and put the explanation in the label's description")
    return stripped


class ProjectSettings(BaseModel):
    """Per-project knobs, stored as JSON on the project row."""

    strategy: str = "margin"
    refit_every: int = Field(default=10, ge=1, description="Refit the classifier after this many new labels.")
    batch_size: int = Field(default=10, ge=1, description="Items diversified together at the head of the queue.")
    seed: int = 0
    preselect_suggestion: bool = False
    target_precision: float = Field(default=0.95, gt=0, le=1)
    target_accuracy: float | None = Field(
        default=None, gt=0, le=1,
        description="Accuracy the whole finished dataset must keep (None: off). AI labels may then be "
                    "auto-accepted below target_precision while the certified lower bound of the pool's "
                    "expected accuracy, people's labels included, stays at or above it.")
    human_accuracy: float = Field(
        default=1.0, gt=0, le=1,
        description="Probability a person's label is right, as the dataset-accuracy bound and estimate "
                    "assume it (1.0: people are right; e.g. 0.99 where people disagree now and then).")
    dataset_bound: Literal["clopper-pearson", "anytime"] = Field(
        default="anytime",
        description="How the dataset-accuracy bound treats its random calibration items: clopper-pearson "
                    "(exact for each AI run on its own) or anytime (a confidence sequence: it stays a bound "
                    "although every AI run looks again at the growing sample; wider, so fewer auto labels).")
    audit_fraction: float = Field(default=0.05, ge=0, le=1)
    lease_minutes: float = Field(
        default=30.0, gt=0,
        description="An item shown to a person is reserved for them this long; then it returns to the queue.")
    explore_fraction: float | None = Field(
        default=None, ge=0, le=0.5,
        description="Share of the uncertainty queue drawn at random and served blind: the router "
                    "calibrates its auto-accept thresholds on these unbiased answers, and the dataset "
                    "bound is measured on them. None: 0.1, or 0.2 while target_accuracy is set (the "
                    "dataset bound needs the larger sample; see random_share).")
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
    finetune_every: int = Field(
        default=0, ge=0,
        description="Start a fine-tuning job in the background each time this many new human labels arrived "
                    "since the last one started (0: only when started by hand). It never blocks labelling; a "
                    "promoted version re-ranks the queue and re-routes the items (unless the last AI run "
                    "used a paid endpoint).")
    rating_min: int = Field(default=1, description="Rating projects: the lowest score of the scale.")
    rating_max: int = Field(default=5, description="Rating projects: the highest score of the scale (at most 9 keys).")
    allow_overlapping_spans: bool = Field(
        default=False,
        description="Span projects: two spans of an item may share characters (nested or crossing entities). "
                    "Off: an answer or import with overlapping spans is refused.")
    near_duplicate_threshold: float | None = Field(
        default=0.95, gt=0, le=1,
        description="Post-training projects: an imported record whose prompt and responses all have an embedding "
                    "cosine at least this high with an item already there (or an earlier row) is dropped and "
                    "reported; None keeps near-duplicates (annotator.tasks.near_duplicates).")

    @property
    def random_share(self) -> float:
        """The share of the queue served at random: ``explore_fraction`` where set, else
        ``DEFAULT_EXPLORE`` (0.1), or ``DEFAULT_EXPLORE_WITH_TARGET`` (0.2) while a dataset target
        is set. Measured with the anytime bound (docs/benchmarks.md), the larger sample let the
        router take as many or more AI labels on hard text at the same guarantee, while without a
        target the random items are only the per-label thresholds' calibration."""
        if self.explore_fraction is not None:
            return self.explore_fraction
        return DEFAULT_EXPLORE_WITH_TARGET if self.target_accuracy is not None else DEFAULT_EXPLORE


#: ``ProjectSettings.random_share`` without an explicit ``explore_fraction``.
DEFAULT_EXPLORE = 0.1
DEFAULT_EXPLORE_WITH_TARGET = 0.2


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
