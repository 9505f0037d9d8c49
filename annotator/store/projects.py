"""Query functions for projects and users."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from annotator.core.errors import ConflictError, NotFoundError
from annotator.store.tables import Item, Project, Response, User

IMPORT_USER = "import"


def create_project(
    session: Session, *, name: str, task_type: str, labels: list[dict[str, Any]], guidelines: str,
    settings: dict[str, Any],
) -> Project:
    if session.exec(select(Project).where(Project.name == name)).first() is not None:
        raise ConflictError(
            f"A project named {name!r} already exists.",
            fix="pick another name, or import into the existing project with --project " + name,
        )
    project = Project(name=name, task_type=task_type, labels=labels, guidelines=guidelines, settings=settings)
    session.add(project)
    session.flush()
    return project


def get_project(session: Session, name_or_id: str | int) -> Project:
    if isinstance(name_or_id, int):
        project = session.get(Project, name_or_id)
    else:
        project = session.exec(select(Project).where(Project.name == name_or_id)).first()
    if project is None:
        names = [p for p in session.exec(select(Project.name).order_by(Project.name)).all()]
        raise NotFoundError(
            f"No project named {name_or_id!r}.",
            expected="one of: " + (", ".join(names) if names else "(no projects yet)"),
            fix="create it with `python -m annotator init NAME --labels a,b`, or check the spelling",
        )
    return project


def list_projects(session: Session) -> list[Project]:
    return list(session.exec(select(Project).order_by(Project.created_at)).all())


def update_project(session: Session, project: Project, **fields: Any) -> Project:
    for key, value in fields.items():
        setattr(project, key, value)
    session.add(project)
    session.flush()
    return project


def project_counts(session: Session, project_id: int) -> dict[str, int]:
    """Items, and items with at least one submitted response."""
    n_items = session.exec(select(func.count()).select_from(Item).where(Item.project_id == project_id)).one()
    n_labelled = session.exec(
        select(func.count(func.distinct(Response.item_id)))
        .join(Item, Item.id == Response.item_id)
        .where(Item.project_id == project_id, Response.status == "submitted")
    ).one()
    return {"items": int(n_items), "labelled": int(n_labelled)}


def get_or_create_user(session: Session, name: str, *, role: str = "annotator", is_system: bool = False) -> User:
    user = session.exec(select(User).where(User.name == name)).first()
    if user is None:
        user = User(name=name, role=role, is_system=is_system)
        session.add(user)
        session.flush()
    return user


def user_id(session: Session, name: str) -> int | None:
    """The id of user ``name``, None when there is no such user (nothing is created)."""
    return session.exec(select(User.id).where(User.name == name)).first()


def user_names(session: Session, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = session.exec(select(User.id, User.name).where(User.id.in_(user_ids))).all()
    return {uid: name for uid, name in rows}
