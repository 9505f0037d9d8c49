"""The failed-login throttle: exponential delay per name, lockout, forgiveness (a fake clock, no waits).

Every behaviour is checked with the records in memory and in the database (``login_failure`` on
SQLite and PostgreSQL), which is where the app keeps them.
"""

from __future__ import annotations

import pytest

from annotator.auth.throttle import LoginThrottle, MemoryThrottleState, ThrottleRecord, after_failure, current


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def state(request):
    """A fresh ThrottleState: in memory, or the database-backed one on a migrated engine."""
    if request.param == "memory":
        yield MemoryThrottleState()
        return
    from sqlalchemy import text

    from annotator.service.throttle_state import DbThrottleState
    from annotator.store import make_engine, migrate

    if request.param == "sqlite":
        engine = make_engine("sqlite://")
    else:
        engine = make_engine(request.getfixturevalue("pg_database_url"))
        with engine.begin() as c:
            c.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    migrate(engine)
    yield DbThrottleState(engine, "name:")
    engine.dispose()


def test_delay_doubles_per_failure_and_is_capped(state):
    t = LoginThrottle(base_delay_s=0.5, max_delay_s=3.0, lock_after=0, clock=Clock(), state=state)
    assert [t.record_failure("ana") for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert t.locked_for("ana") == 0.0  # lock_after=0 never locks
    assert t.record_failure("bo") == 0.5  # counted per name
    assert t.record_failure("ANA ") == 3.0  # names compare trimmed and lower-cased


def test_lockout_after_n_failures_then_forgiven_after_lock_s(state):
    clock = Clock()
    t = LoginThrottle(base_delay_s=1.0, lock_after=3, lock_s=60.0, clock=clock, state=state)
    t.record_failure("ana")
    t.record_failure("ana")
    assert t.locked_for("ana") == 0.0
    t.record_failure("ana")
    assert t.locked_for("ana") == 60.0
    clock.now += 59.0
    assert 0.0 < t.locked_for("ana") <= 1.0 and t.failures("ana") == 3
    clock.now += 2.0
    assert t.locked_for("ana") == 0.0 and t.failures("ana") == 0
    assert t.record_failure("ana") == 1.0  # a fresh start


def test_success_forgets_failures(state):
    t = LoginThrottle(base_delay_s=1.0, lock_after=5, clock=Clock(), state=state)
    t.record_failure("ana")
    t.record_failure("ana")
    t.record_success("ana")
    assert t.failures("ana") == 0 and t.record_failure("ana") == 1.0
    t.record_success("nobody")  # nothing to forget: no error, nothing stored
    assert state.read("nobody") is None


def test_two_throttles_on_one_state_share_the_counts(state):
    """What two processes (or a restart) see: a second throttle over the same records."""
    clock = Clock()
    first = LoginThrottle(base_delay_s=1.0, lock_after=3, lock_s=60.0, clock=clock, state=state)
    for _ in range(3):
        first.record_failure("ana")
    second = LoginThrottle(base_delay_s=1.0, lock_after=3, lock_s=60.0, clock=clock, state=state)
    assert second.locked_for("ana") == 60.0 and second.failures("ana") == 3
    assert second.record_failure("ana") == 8.0  # the 4th in a row, wherever the first three were counted


def test_old_records_are_purged_at_the_next_failure(state):
    clock = Clock()
    t = LoginThrottle(base_delay_s=1.0, lock_after=2, lock_s=60.0, clock=clock, state=state)
    t.record_failure("ana")
    clock.now += 61.0
    t.record_failure("bo")
    assert state.read("ana") is None and state.read("bo") is not None


def test_policy_functions_are_pure():
    rec = after_failure(None, 10.0, lock_after=2, lock_s=30.0)
    assert rec == ThrottleRecord(failures=1, last_failure=10.0, locked_until=0.0)
    rec = after_failure(rec, 11.0, lock_after=2, lock_s=30.0)
    assert rec == ThrottleRecord(failures=2, last_failure=11.0, locked_until=41.0)
    assert current(rec, 40.0, 30.0) == rec  # still locked
    assert current(rec, 42.0, 30.0) == ThrottleRecord()  # lock over, failures older than lock_s: forgiven
