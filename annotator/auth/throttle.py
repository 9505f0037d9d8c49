"""Slow down password guessing: an exponential delay per failed login, then a lockout.

Plain domain logic (no gradio, no sessions). The service records every failed and successful
login under a key (the lower-cased user name); the caller waits ``delay_s`` before it answers a
failed login (the app awaits it, so a waiting login holds no thread), and a key with
``lock_after`` failures in a row is refused outright, even with the right password, until
``lock_s`` seconds have passed. The clock is injectable, so tests need no wall-clock waits.

The service keeps two: one keyed by name (a guesser of one name pays 1, 2, 4, 8 … seconds and
then meets the lockout) and one keyed by client address (a guesser spraying one password over many
names pays the same, with a higher lockout threshold since a team may share an address).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class _Record:
    failures: int = 0
    last_failure: float = 0.0
    locked_until: float = 0.0


@dataclass
class LoginThrottle:
    """Failed-login bookkeeping per key.

    Args:
        base_delay_s: seconds the first failed login waits; each further failure doubles it.
        max_delay_s: the longest wait of one failed login.
        lock_after: failures in a row after which the key is locked (0: never lock).
        lock_s: seconds a lock lasts; failures older than this are forgotten.
        clock: monotonic seconds (``time.monotonic``; tests pass a fake).
    """

    base_delay_s: float = 1.0
    max_delay_s: float = 30.0
    lock_after: int = 5
    lock_s: float = 300.0
    clock: Callable[[], float] = time.monotonic
    _records: dict[str, _Record] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @staticmethod
    def key(name: str) -> str:
        return (name or "").strip().lower()

    def _record(self, name: str, now: float) -> _Record:
        rec = self._records.get(self.key(name))
        if rec is None:
            return _Record()
        if now - rec.last_failure > self.lock_s and now >= rec.locked_until:
            self._records.pop(self.key(name), None)  # old failures are forgiven
            return _Record()
        return rec

    def locked_for(self, name: str) -> float:
        """Seconds until ``name`` may try again (0.0 when it is not locked)."""
        with self._lock:
            now = self.clock()
            return max(0.0, self._record(name, now).locked_until - now)

    def failures(self, name: str) -> int:
        """Failed logins of ``name`` in a row (forgotten ``lock_s`` after the last one)."""
        with self._lock:
            return self._record(name, self.clock()).failures

    def delay_for(self, failures: int) -> float:
        """Seconds the ``failures``-th failed login in a row waits: base · 2^(failures−1), capped."""
        if failures <= 0:
            return 0.0
        return min(self.max_delay_s, self.base_delay_s * 2.0 ** (failures - 1))

    def record_failure(self, name: str) -> float:
        """Count a failed login of ``name``; returns the seconds to wait before answering it."""
        with self._lock:
            now = self.clock()
            rec = self._record(name, now)
            rec.failures += 1
            rec.last_failure = now
            if self.lock_after and rec.failures >= self.lock_after:
                rec.locked_until = now + self.lock_s
            self._records[self.key(name)] = rec
            return self.delay_for(rec.failures)

    def record_success(self, name: str) -> None:
        """A right password: forget the failures of ``name``."""
        with self._lock:
            self._records.pop(self.key(name), None)
