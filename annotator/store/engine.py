"""Engine creation, schema migration and transactions. The only place sessions are opened.

SQLite (the default, a file in the data directory) gets WAL mode and foreign keys on every
connection; PostgreSQL is reached through the same code by URL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

from annotator.core.errors import DatabaseUnavailableError, DiskFullError, StoreError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine for ``url`` ("sqlite://" for in-memory, a file URL, or PostgreSQL)."""
    if url.startswith("sqlite"):
        in_memory = url in ("sqlite://", "sqlite:///:memory:")
        kwargs: dict = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if in_memory:
            kwargs["poolclass"] = StaticPool  # one shared connection, or every session sees an empty DB
        engine = create_engine(url, echo=echo, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, echo=echo, pool_pre_ping=True, connect_args=_pg_connect_args(url))


def _pg_connect_args(url: str) -> dict:
    return {"connect_timeout": 5} if "psycopg" in url else {}


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001 - DBAPI types
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL, much faster commits
    cursor.close()


def check_connection(engine: Engine) -> None:
    """Open one connection, translating failures into a clear error.

    Raises:
        DatabaseUnavailableError: the server cannot be reached or refuses the login.
    """
    try:
        with engine.connect():
            pass
    except (OperationalError, DBAPIError) as e:
        raise DatabaseUnavailableError(
            f"Cannot connect to the database at {engine.url.render_as_string(hide_password=True)}.",
            expected="a reachable database server that accepts this login",
            got=str(e.orig).strip().splitlines()[0] if e.orig else str(e),
            fix="start the server (PostgreSQL: pg_ctlcluster <version> main start), check host/port/"
            "credentials in --database-url / ANNOTATOR_DATABASE_URL, or drop it to use SQLite",
        ) from e


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (creates it on an empty database)."""
    from alembic import command
    from alembic.config import Config

    check_connection(engine)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    try:
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")
    except SQLAlchemyError as e:
        raise StoreError(
            "The database schema could not be migrated to the current version.",
            got=str(e).splitlines()[0],
            fix="back up the database file, then check that no other program holds a lock on it",
        ) from e


def table_names(engine: Engine) -> list[str]:
    return sorted(inspect(engine).get_table_names())


#: SQLSTATE of PostgreSQL's disk_full; SQLite's SQLITE_FULL reads "database or disk is full".
_PG_DISK_FULL = "53100"
_DISK_FULL_WORDS = ("database or disk is full", "no space left on device", "could not extend file")


def is_disk_full(error: OperationalError) -> bool:
    """Whether a failed write ran out of disk (SQLite, PostgreSQL, or the OS underneath)."""
    if getattr(error.orig, "sqlstate", None) == _PG_DISK_FULL or getattr(error.orig, "pgcode", None) == _PG_DISK_FULL:
        return True
    text = str(error.orig or error).lower()
    return any(words in text for words in _DISK_FULL_WORDS)


def write_failure(engine: Engine, error: OperationalError) -> StoreError:
    """The clear error for a write that failed: a full disk named as such, else the database."""
    got = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
    if is_disk_full(error):
        if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
            folder = Path(engine.url.database).resolve().parent
            where, fix = f"the disk of {folder}", f"free space there (`df -h {folder}` shows how much is left)"
        else:
            where, fix = f"the database server's disk ({engine.url.host})", "free space on that server's disk"
        return DiskFullError(f"The disk is full: {where} has no space left, so nothing of this action was saved.",
                             got=got, fix=f"{fix}, then retry; earlier work is safe")
    return DatabaseUnavailableError(
        "The database stopped answering during a write; nothing of this action was saved.",
        got=got, fix="check that the database is running and retry; earlier work is safe")


#: One writer lock per SQLite database in this process (``transaction(serialized=True)``).
_WRITER_LOCKS: dict[str, threading.Lock] = {}
_WRITER_LOCKS_GUARD = threading.Lock()


def _writer_lock(engine: Engine) -> threading.Lock:
    with _WRITER_LOCKS_GUARD:
        return _WRITER_LOCKS.setdefault(str(engine.url), threading.Lock())


@contextmanager
def transaction(engine: Engine, *, serialized: bool = False) -> Iterator[Session]:
    """One unit of work: commit on success, roll back everything on any error.

    The service layer wraps each user action in one of these; the store's query functions take
    the yielded session and never commit themselves.

    ``serialized=True`` (claiming and answering items in teams): on SQLite the transaction is the
    database's only writer from its first statement (a per-database lock in this process, then
    ``BEGIN IMMEDIATE`` against other processes), so what it reads stays true until it commits; on
    PostgreSQL nothing changes here, the caller takes row locks (``store.teams``).
    """
    lock = _writer_lock(engine) if serialized and engine.dialect.name == "sqlite" else None
    if lock is not None:
        lock.acquire()
    session = Session(engine, expire_on_commit=False)
    try:
        if lock is not None:
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")
        yield session
        session.commit()
    except OperationalError as e:
        session.rollback()
        raise write_failure(engine, e) from e
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        if lock is not None:
            lock.release()
