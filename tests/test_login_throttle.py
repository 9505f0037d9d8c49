"""The failed-login throttle: exponential delay per name, lockout, forgiveness (a fake clock, no waits)."""

from __future__ import annotations

from annotator.auth.throttle import LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_delay_doubles_per_failure_and_is_capped():
    t = LoginThrottle(base_delay_s=0.5, max_delay_s=3.0, lock_after=0, clock=Clock())
    assert [t.record_failure("ana") for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert t.locked_for("ana") == 0.0  # lock_after=0 never locks
    assert t.record_failure("bo") == 0.5  # counted per name
    assert t.record_failure("ANA ") == 3.0  # names compare trimmed and lower-cased


def test_lockout_after_n_failures_then_forgiven_after_lock_s():
    clock = Clock()
    t = LoginThrottle(base_delay_s=1.0, lock_after=3, lock_s=60.0, clock=clock)
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


def test_success_forgets_failures():
    t = LoginThrottle(base_delay_s=1.0, lock_after=5, clock=Clock())
    t.record_failure("ana")
    t.record_failure("ana")
    t.record_success("ana")
    assert t.failures("ana") == 0 and t.record_failure("ana") == 1.0
