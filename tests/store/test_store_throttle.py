"""Failed-login rows on SQLite and PostgreSQL: lock-and-change, purge by prefix, and concurrent
writers (threads with their own connections; processes on one SQLite file) losing no failure."""

from __future__ import annotations

import multiprocessing as mp
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from annotator.store import make_engine, migrate, transaction
from annotator.store import throttle as throttle_q

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_missing_row_is_made_empty_then_changed_and_deleted(engine):
    with transaction(engine, serialized=True) as s:
        row = throttle_q.locked_failure(s, "name:ana")
        assert (row.failures, row.last_failure) == (0, throttle_q.EPOCH)
        throttle_q.save_failure(s, row, failures=2, last_failure=T0, locked_until=T0 + timedelta(seconds=60))
    with transaction(engine) as s:
        row = throttle_q.get_failure(s, "name:ana")
        assert row.failures == 2 and row.last_failure == T0 and row.locked_until == T0 + timedelta(seconds=60)
        assert row.last_failure.tzinfo is not None  # aware UTC on both databases
    with transaction(engine) as s:
        throttle_q.delete_failure(s, "name:ana")
        assert throttle_q.get_failure(s, "name:ana") is None


def test_purge_drops_old_rows_of_one_prefix(engine):
    with transaction(engine, serialized=True) as s:
        for key, when in (("name:old", T0), ("name:new", T0 + timedelta(hours=1)), ("address:old", T0)):
            throttle_q.save_failure(s, throttle_q.locked_failure(s, key), failures=1, last_failure=when,
                                    locked_until=when)
    with transaction(engine) as s:
        assert throttle_q.purge_failures(s, T0 + timedelta(minutes=1), "name:") == 1
    with transaction(engine) as s:
        assert throttle_q.get_failure(s, "name:old") is None
        assert throttle_q.get_failure(s, "name:new") is not None
        assert throttle_q.get_failure(s, "address:old") is not None  # another throttle's rows stay


def _count_failures(engine, key: str, n: int) -> None:
    for _ in range(n):
        with transaction(engine, serialized=True) as s:
            row = throttle_q.locked_failure(s, key)
            # A read-change-write: without the lock, two writers would both write the same count.
            throttle_q.save_failure(s, row, failures=row.failures + 1, last_failure=T0, locked_until=T0)


def test_concurrent_writers_lose_no_failure(engine):
    """Threads, each with its own connection on PostgreSQL (the row lock serialises them)."""
    threads = [threading.Thread(target=_count_failures, args=(engine, "name:ana", 15)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with transaction(engine) as s:
        assert throttle_q.get_failure(s, "name:ana").failures == 90


def _process_writer(url: str, n: int) -> None:
    engine = make_engine(url)
    _count_failures(engine, "address:10.0.0.9", n)
    engine.dispose()


def test_processes_on_one_sqlite_file_lose_no_failure(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'annotator.db'}"
    engine = make_engine(url)
    migrate(engine)
    ctx = mp.get_context("spawn")
    workers = [ctx.Process(target=_process_writer, args=(url, 25)) for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    with transaction(engine) as s:
        assert throttle_q.get_failure(s, "address:10.0.0.9").failures == 75
    engine.dispose()
