"""Slow down password guessing: an exponential delay per failed login, then a lockout.

Plain domain logic (no gradio, no sessions). The service records every failed and successful
login under a key (the lower-cased user name); the caller waits ``delay_s`` before it answers a
failed login (the app awaits it, so a waiting login holds no thread), and a key with
``lock_after`` failures in a row is refused outright, even with the right password, until
``lock_s`` seconds have passed. The clock is injectable, so tests need no wall-clock waits.

The service keeps two: one keyed by name (a guesser of one name pays 1, 2, 4, 8 … seconds and
then meets the lockout) and one keyed by client address (a guesser spraying one password over many
names pays the same, with a higher lockout threshold since a team may share an address).

The policy is the pure functions ``current``, ``after_failure`` and ``delay_for``; where the
records live is a ``ThrottleState``: ``MemoryThrottleState`` (one process, the default and the
tests' fake) or the service's database-backed one (``annotator.service.throttle_state``: every
process of the app and every restart share the counts). Times are seconds on the throttle's clock,
wall-clock epoch seconds (``time.time``) by default, so that processes agree on them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol


@dataclass(frozen=True)
class ThrottleRecord:
    """Failed logins in a row under one key.

    Attributes:
        failures: how many in a row.
        last_failure: clock seconds of the latest one.
        locked_until: clock seconds until which the key is refused (0.0 or past: not locked).
    """

    failures: int = 0
    last_failure: float = 0.0
    locked_until: float = 0.0


#: A change of one key's record: the stored record (None: there is none) → the record to store
#: (None: delete it).
Change = Callable[[ThrottleRecord | None], ThrottleRecord | None]


class ThrottleState(Protocol):
    """Where the records live. ``update`` must be atomic per key: a concurrent update of the same
    key (another thread or process) waits, so no failure is lost."""

    def read(self, key: str) -> ThrottleRecord | None:
        """The stored record of ``key``, or None."""

    def update(self, key: str, change: Change) -> ThrottleRecord | None:
        """Apply ``change`` to the record of ``key`` atomically; returns what was stored."""

    def purge(self, before: float) -> None:
        """Forget every record whose last failure is older than ``before`` (clock seconds)."""


@dataclass
class MemoryThrottleState:
    """Records in a dict of this process (lost at exit; one process only): tests and the default."""

    _records: dict[str, ThrottleRecord] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def read(self, key: str) -> ThrottleRecord | None:
        with self._lock:
            return self._records.get(key)

    def update(self, key: str, change: Change) -> ThrottleRecord | None:
        with self._lock:
            new = change(self._records.get(key))
            if new is None:
                self._records.pop(key, None)
            else:
                self._records[key] = new
            return new

    def purge(self, before: float) -> None:
        with self._lock:
            for key in [k for k, r in self._records.items() if r.last_failure < before]:
                del self._records[key]


def current(record: ThrottleRecord | None, now: float, lock_s: float) -> ThrottleRecord:
    """``record`` as it counts at ``now``: an empty one when there is none, or when its last failure
    is more than ``lock_s`` old and no lock is running (old failures are forgiven)."""
    if record is None or (now - record.last_failure > lock_s and now >= record.locked_until):
        return ThrottleRecord()
    return record


def after_failure(record: ThrottleRecord | None, now: float, *, lock_after: int, lock_s: float) -> ThrottleRecord:
    """The record after one more failed login at ``now``: one more failure in a row, and a lock of
    ``lock_s`` seconds from ``now`` once there are ``lock_after`` of them (0: never lock)."""
    rec = current(record, now, lock_s)
    failures = rec.failures + 1
    locked_until = now + lock_s if lock_after and failures >= lock_after else rec.locked_until
    return replace(rec, failures=failures, last_failure=now, locked_until=locked_until)


def delay_for(failures: int, base_delay_s: float, max_delay_s: float) -> float:
    """Seconds the ``failures``-th failed login in a row waits: base · 2^(failures−1), capped."""
    if failures <= 0:
        return 0.0
    return min(max_delay_s, base_delay_s * 2.0 ** (failures - 1))


@dataclass
class LoginThrottle:
    """Failed-login bookkeeping per key.

    Args:
        base_delay_s: seconds the first failed login waits; each further failure doubles it.
        max_delay_s: the longest wait of one failed login.
        lock_after: failures in a row after which the key is locked (0: never lock).
        lock_s: seconds a lock lasts; failures older than this are forgotten.
        clock: seconds (``time.time``, wall clock, so that processes sharing a state agree;
            tests pass a fake).
        state: where the records live (``MemoryThrottleState`` unless given).
    """

    base_delay_s: float = 1.0
    max_delay_s: float = 30.0
    lock_after: int = 5
    lock_s: float = 300.0
    clock: Callable[[], float] = time.time
    state: ThrottleState = field(default_factory=MemoryThrottleState)

    @staticmethod
    def key(name: str) -> str:
        return (name or "").strip().lower()

    def _current(self, name: str) -> tuple[ThrottleRecord, float]:
        now = self.clock()
        return current(self.state.read(self.key(name)), now, self.lock_s), now

    def locked_for(self, name: str) -> float:
        """Seconds until ``name`` may try again (0.0 when it is not locked)."""
        rec, now = self._current(name)
        return max(0.0, rec.locked_until - now)

    def failures(self, name: str) -> int:
        """Failed logins of ``name`` in a row (forgotten ``lock_s`` after the last one)."""
        return self._current(name)[0].failures

    def delay_for(self, failures: int) -> float:
        """Seconds the ``failures``-th failed login in a row waits: base · 2^(failures−1), capped."""
        return delay_for(failures, self.base_delay_s, self.max_delay_s)

    def record_failure(self, name: str) -> float:
        """Count a failed login of ``name``; returns the seconds to wait before answering it."""
        now = self.clock()
        rec = self.state.update(self.key(name), lambda old: after_failure(
            old, now, lock_after=self.lock_after, lock_s=self.lock_s))
        # Failures are rare, so this is where the records of guessers long gone are dropped.
        self.state.purge(now - self.lock_s)
        return self.delay_for(rec.failures if rec is not None else 1)

    def record_success(self, name: str) -> None:
        """A right password: forget the failures of ``name``."""
        if self.state.read(self.key(name)) is not None:  # most logins have none: no write then
            self.state.update(self.key(name), lambda _old: None)
