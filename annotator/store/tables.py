"""SQLModel tables: the whole persistent data model in one module.

A person's answer is a ``Response``; a machine's answer is a ``Suggestion``. They are never
merged: an item's final label is derived from both at read time (see ``store.labels``).
JSON columns hold small structured values (labels, metadata, per-label scores).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from annotator.core.schema import JobStatus


def utcnow() -> datetime:
    """Timezone-aware UTC now (SQLModel stores it as UTC on SQLite and PostgreSQL)."""
    return datetime.now(UTC)


class Project(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=200)
    task_type: str = Field(default="single-label", max_length=32)
    labels: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    guidelines: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class Item(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("project_id", "text_hash", name="uq_item_project_text_hash"),
        UniqueConstraint("project_id", "external_id", name="uq_item_project_external_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    external_id: str | None = Field(default=None, max_length=512)
    text: str = Field(sa_column=Column(Text, nullable=False))
    text_hash: str = Field(max_length=64)
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=Column("metadata", JSON, nullable=False))
    split: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=200)
    # admin | annotator | reviewer (schema.Role); the server default keeps rows written outside the app valid.
    role: str = Field(default="annotator", max_length=32)
    # An argon2id hash (store.users), never the password; None = no login (the local single user).
    password_hash: str | None = Field(default=None, max_length=512)
    is_system: bool = Field(default=False, description="The 'import' pseudo-user and similar.")
    created_at: datetime = Field(default_factory=utcnow)
    # Bumped by a password reset or a role change: a login made under an older value is ended at its
    # next request, whichever process serves it (migration 0007).
    session_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class Response(SQLModel, table=True):
    """A person's answer to one item. ``value`` is a list of label names."""

    __table_args__ = (Index("ix_response_item_status", "item_id", "status"),)
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    value: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="submitted", max_length=16)
    source: str = Field(default="human", max_length=16)
    route: str = Field(default="manual", max_length=16)
    comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    flagged: bool = False
    # The AI suggestion this answer verifies (shown) or audits / labels blind (hidden until answered).
    shown_suggestion_id: int | None = Field(default=None, foreign_key="suggestion.id")
    query_strategy: str | None = Field(default=None, max_length=64, description="Why the queue served this item.")
    query_score: float | None = None
    started_at: datetime | None = None
    submitted_at: datetime | None = None
    seconds_spent: float | None = None
    # Post-training answers (annotator.tasks): shown order, per-criterion ratings, edited text and diff,
    # rationale. None for classification answers.
    payload: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Suggestion(SQLModel, table=True):
    """A machine's answer to one item: value, per-label scores, and who made it."""

    __table_args__ = (Index("ix_suggestion_item_agent", "item_id", "agent"),)
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    agent: str = Field(max_length=200)
    agent_version: str = Field(default="", max_length=200)
    value: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    scores: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    score: float | None = Field(default=None, description="Confidence of ``value`` in [0, 1].")
    route: str | None = Field(default=None, max_length=16, description="Set when the router decided.")
    prompt_hash: str | None = Field(default=None, max_length=64)
    # The judge's P(value is correct | item) when the router had a judge (review: low scores are checked).
    judge_score: float | None = None
    # Span projects: the suggested spans, {"spans": [{start, end, label}]} (migration 0008); None otherwise.
    payload: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)


class ModelVersion(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    kind: str = Field(max_length=64)
    version: int = 1
    path: str | None = Field(default=None, max_length=1024)
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    n_labels: int = 0
    promoted: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class Job(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    project_id: int | None = Field(default=None, foreign_key="project.id", index=True)
    kind: str = Field(max_length=64)
    status: str = Field(default=JobStatus.queued.value, max_length=16)
    progress: float = 0.0
    message: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    result: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None


class LLMScore(SQLModel, table=True):
    """One LLM call's result, so that a re-run costs nothing: per-label probabilities of one item.

    ``key`` is ``annotator.llm.prompts.cache_key`` (model id, prompt hash, rendered-prompt hash);
    ``model`` and ``prompt_hash`` are kept beside it for inspection and clean-up.
    """

    __tablename__ = "llm_score"

    key: str = Field(primary_key=True, max_length=255)
    model: str = Field(default="", max_length=200, index=True)
    prompt_hash: str = Field(default="", max_length=64)
    value: list[float] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


# ---- teams: leases and assignments (migration 0004) ------------------------------------------

class Lease(SQLModel, table=True):
    """An item handed to a person, reserved for them until ``expires_at`` (the cross-process arbiter).

    One row per (item, person). An answer or a release deletes it; an expired row no longer counts
    (the item is free again) but is kept until then, so a late answer can be told from a direct one.
    """

    __table_args__ = (
        UniqueConstraint("item_id", "user_id", name="uq_lease_item_user"),
        Index("ix_lease_project_user", "project_id", "user_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    item_id: int = Field(foreign_key="item.id", index=True)
    user_id: int = Field(foreign_key="user.id")
    expires_at: datetime
    created_at: datetime = Field(default_factory=utcnow)


class Assignment(SQLModel, table=True):
    """An admin gave this item to this person: it is served to its assignees only (first)."""

    __table_args__ = (
        UniqueConstraint("item_id", "user_id", name="uq_assignment_item_user"),
        Index("ix_assignment_project_user", "project_id", "user_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    item_id: int = Field(foreign_key="item.id", index=True)
    user_id: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


# ---- review ------------------------------------------------------------------------------------
class ReviewRequest(SQLModel, table=True):
    """An item put in front of a reviewer by code or a person, or sent back by a reviewer.

    ``kind``: ``flag`` (a request with a ``reason`` shown to the reviewer, e.g. a suspect label;
    ``score`` is how likely the label is wrong, when known) or ``send_back`` (the reviewer wants one
    more answer: open until a person answers after ``after_response_id``). A reviewer's decision
    closes the open requests of the item (``resolved_at``).
    """

    __tablename__ = "review_request"

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    kind: str = Field(default="flag", max_length=16)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    score: float | None = None
    requested_by: str = Field(default="", max_length=200)
    after_response_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    resolved_at: datetime | None = None


# ---- logins ------------------------------------------------------------------------------------
class LoginFailure(SQLModel, table=True):
    """Failed logins in a row under one throttle key (``name:<login>`` or ``address:<client>``), shared
    by every process of the app and kept across restarts (``annotator.auth.throttle`` decides the
    delays and locks; ``store.throttle`` reads and writes rows under a lock). Wall-clock UTC times."""

    __tablename__ = "login_failure"

    key: str = Field(primary_key=True, max_length=300)
    failures: int = Field(default=0)
    last_failure: datetime = Field(index=True)  # indexed: old rows are purged by it
    locked_until: datetime
