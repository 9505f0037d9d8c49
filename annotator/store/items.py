"""Query functions for items: bulk insert for imports, pool reads for ranking, paging."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import func, insert, or_
from sqlmodel import Session, select

from annotator.core.errors import NotFoundError
from annotator.store.tables import Item, utcnow


def existing_hashes(session: Session, project_id: int) -> set[str]:
    """Content hashes already stored in the project (for duplicate detection on import)."""
    return set(session.exec(select(Item.text_hash).where(Item.project_id == project_id)).all())


def items_with_metadata(session: Session, project_id: int) -> tuple[list[int], list[dict[str, Any]]]:
    """(item ids in id order, records {"text": text, **metadata as strings}) of every item of the project."""
    rows = session.exec(select(Item.id, Item.text, Item.meta).where(Item.project_id == project_id)
                        .order_by(Item.id)).all()
    return [r[0] for r in rows], [{"text": r[1], **{k: str(v) for k, v in (r[2] or {}).items()}} for r in rows]


def ids_of(session: Session, project_id: int, *, external_ids: Sequence[str] = (),
           text_hashes: Sequence[str] = ()) -> tuple[dict[str, int], dict[str, int]]:
    """({external id: item id}, {text hash: item id}) of the project's items among those given."""
    by_ext: dict[str, int] = {}
    by_hash: dict[str, int] = {}
    wanted_ext, wanted_hash = list(dict.fromkeys(external_ids)), list(dict.fromkeys(text_hashes))
    for start in range(0, max(len(wanted_ext), len(wanted_hash)), 5000):
        if part := wanted_ext[start:start + 5000]:
            by_ext.update(session.exec(select(Item.external_id, Item.id).where(
                Item.project_id == project_id, Item.external_id.in_(part))).all())
        if part := wanted_hash[start:start + 5000]:
            for text_hash, item_id in session.exec(select(Item.text_hash, Item.id).where(
                    Item.project_id == project_id, Item.text_hash.in_(part)).order_by(Item.id)).all():
                by_hash.setdefault(text_hash, item_id)
    return by_ext, by_hash


def existing_external_ids(session: Session, project_id: int) -> set[str]:
    rows = session.exec(
        select(Item.external_id).where(Item.project_id == project_id, Item.external_id.is_not(None))
    ).all()
    return set(rows)


def insert_items(session: Session, project_id: int, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert many items in one statement; returns their ids in input order.

    Args:
        rows: dicts with keys text, text_hash, external_id, metadata, split.
    """
    if not rows:
        return []
    now = utcnow()
    values = [
        {
            "project_id": project_id, "text": r["text"], "text_hash": r["text_hash"],
            "external_id": r.get("external_id"), "metadata": r.get("metadata") or {},
            "split": r.get("split"), "created_at": now,
        }
        for r in rows
    ]
    table = Item.__table__
    result = session.execute(insert(table).returning(table.c.id, table.c.text_hash, sort_by_parameter_order=True), values)
    return [row[0] for row in result.all()]


def pool_ids_and_hashes(session: Session, project_id: int) -> tuple[list[int], list[str]]:
    """Every item of the project in id order, as (ids, text hashes)."""
    rows = session.exec(select(Item.id, Item.text_hash).where(Item.project_id == project_id).order_by(Item.id)).all()
    return [r[0] for r in rows], [r[1] for r in rows]


def texts_by_ids(session: Session, item_ids: Sequence[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for start in range(0, len(item_ids), 5000):  # stay under SQLite's bound-parameter limit
        chunk = list(item_ids[start:start + 5000])
        out.update(dict(session.exec(select(Item.id, Item.text).where(Item.id.in_(chunk))).all()))
    return out


def text_lengths_by_ids(session: Session, item_ids: Sequence[int]) -> dict[int, int]:
    """Text length in characters per item id, without loading the texts."""
    out: dict[int, int] = {}
    for start in range(0, len(item_ids), 5000):  # stay under SQLite's bound-parameter limit
        chunk = list(item_ids[start:start + 5000])
        out.update(dict(session.exec(select(Item.id, func.length(Item.text)).where(Item.id.in_(chunk))).all()))
    return out


def get_item(session: Session, item_id: int) -> Item:
    item = session.get(Item, item_id)
    if item is None:
        raise NotFoundError(f"No item with id {item_id}.", fix="reload the page or check the id")
    return item


def count_items(session: Session, project_id: int) -> int:
    return int(session.exec(select(func.count()).select_from(Item).where(Item.project_id == project_id)).one())


def iter_items(session: Session, project_id: int, *, chunk: int = 10_000) -> Iterator[list[Item]]:
    """All items of a project in id order, ``chunk`` at a time (keyset paging, constant memory)."""
    last_id = 0
    while True:
        batch = list(
            session.exec(
                select(Item).where(Item.project_id == project_id, Item.id > last_id).order_by(Item.id).limit(chunk)
            ).all()
        )
        if not batch:
            return
        yield batch
        last_id = batch[-1].id


def search_items(
    session: Session, project_id: int, *, query: str = "", item_ids: Sequence[int] | None = None,
    offset: int = 0, limit: int = 50,
) -> tuple[list[Item], int]:
    """A page of items whose text contains ``query`` (case-insensitive), and the total count."""
    conditions = [Item.project_id == project_id]
    if query:
        conditions.append(or_(Item.text.ilike(f"%{query}%"), Item.external_id == query))
    if item_ids is not None:
        conditions.append(Item.id.in_(list(item_ids)))
    total = int(session.exec(select(func.count()).select_from(Item).where(*conditions)).one())
    page = list(session.exec(select(Item).where(*conditions).order_by(Item.id).offset(offset).limit(limit)).all())
    return page, total
