"""Failed-login rows (``LoginFailure``): read, lock-and-change, delete, purge.

The throttle's policy lives in ``annotator.auth.throttle``; these functions only persist its
records so that every process of the app, and the next start, see the same counts. Query functions
take a session and never commit.

Concurrent updates of one key serialise: ``locked_failure`` makes sure the row exists (an insert
that does nothing on a conflict) and then locks it, ``SELECT … FOR UPDATE`` on PostgreSQL; on
SQLite the caller's ``transaction(serialized=True)`` already holds the database's write lock
(``BEGIN IMMEDIATE``) from its first statement. So a read–change–write in one transaction never
loses a failure counted by another process in between.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete
from sqlmodel import Session, select

from annotator.store.tables import LoginFailure

#: The time of a row that has never failed (what a fresh insert holds until the change is written).
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def get_failure(session: Session, key: str) -> LoginFailure | None:
    """The row of ``key``, unlocked (a plain read), or None."""
    return session.get(LoginFailure, key)


def locked_failure(session: Session, key: str) -> LoginFailure:
    """The row of ``key``, created empty (0 failures, times at the epoch) when missing, and locked
    against concurrent writers until the transaction ends."""
    dialect = session.get_bind().dialect.name
    values = {"key": key, "failures": 0, "last_failure": EPOCH, "locked_until": EPOCH}
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        session.execute(pg_insert(LoginFailure).values(**values).on_conflict_do_nothing(index_elements=["key"]))
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        session.execute(sqlite_insert(LoginFailure).values(**values).on_conflict_do_nothing(index_elements=["key"]))
    # populate_existing: a row this session saw earlier is read again, as the lock found it.
    query = select(LoginFailure).where(LoginFailure.key == key).with_for_update()
    return session.exec(query.execution_options(populate_existing=True)).one()


def save_failure(session: Session, row: LoginFailure, *, failures: int, last_failure: datetime,
                 locked_until: datetime) -> LoginFailure:
    """Write new counts into ``row`` (from ``locked_failure``). Times: aware UTC datetimes."""
    row.failures, row.last_failure, row.locked_until = failures, last_failure, locked_until
    session.add(row)
    session.flush()
    return row


def delete_failure(session: Session, key: str) -> None:
    """Forget ``key`` (a right password, or a record the policy forgave)."""
    session.execute(delete(LoginFailure).where(LoginFailure.key == key))


def purge_failures(session: Session, before: datetime, prefix: str = "") -> int:
    """Delete the rows of keys starting with ``prefix`` whose last failure is older than ``before``
    (forgiven by the policy anyway, so the table holds only recent guessers). Returns how many went."""
    query = delete(LoginFailure).where(LoginFailure.last_failure < before)
    if prefix:
        query = query.where(LoginFailure.key.startswith(prefix, autoescape=True))
    result = session.execute(query)
    return int(result.rowcount or 0)
