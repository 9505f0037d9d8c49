"""Who holds which item, and how many people must answer it: the team side of the label pool.

``Leases`` keeps the rows handed to people until they answer, skip or leave (or the lease runs
out); ``required_answers`` chooses the overlap items that K people answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

__all__ = ["Leases", "required_answers"]


class Leases:
    """Rows handed to people: row → {user: expiry on a monotonic clock}.

    An item shown to a person is theirs until they answer, skip or leave, or until the lease
    runs out (a closed tab, a lunch break): then it returns to the queue for everyone.
    ``seconds=None`` never expires. With overlap (k answers per item) up to k people hold a row at
    once; ``row in leases`` says whether anyone does.
    """

    def __init__(self, seconds: float | None = None, clock: Callable[[], float] = time.monotonic):
        self.seconds = seconds
        self.clock = clock
        self._by_row: dict[int, dict[str, float]] = {}

    def holders(self, row: int) -> dict[str, float]:
        """The people holding ``row`` now (user → expiry); expired leases are dropped on the way."""
        held = self._by_row.get(row)
        if not held:
            return {}
        now = self.clock()
        expired = [u for u, until in held.items() if until <= now]
        for user in expired:  # the item is free again
            del held[user]
        if not held:
            del self._by_row[row]
            return {}
        return held

    def __contains__(self, row: int) -> bool:
        return bool(self.holders(row))

    def __setitem__(self, row: int, user: str) -> None:
        self.hold(row, user, self.seconds)

    def hold(self, row: int, user: str, seconds: float | None) -> None:
        expires = self.clock() + seconds if seconds else float("inf")
        self._by_row.setdefault(row, {})[user] = expires

    def __len__(self) -> int:
        return sum(len(self.holders(row)) for row in list(self._by_row))

    def holder(self, row: int) -> str | None:
        held = self.holders(row)
        return next(iter(held)) if held else None

    def pop(self, row: int, default: str | None = None) -> str | None:
        """Drop every lease on ``row``; returns one of its holders."""
        held = self._by_row.pop(row, None)
        return next(iter(held)) if held else default

    def drop(self, row: int, user: str) -> None:
        """Drop ``user``'s lease on ``row`` (they answered or skipped it)."""
        held = self._by_row.get(row)
        if held is not None:
            held.pop(user, None)
            if not held:
                del self._by_row[row]

    def release(self, user: str) -> None:
        for row in [r for r, held in self._by_row.items() if user in held]:
            self.drop(row, user)


def required_answers(item_ids: np.ndarray, *, seed: int, fraction: float, k: int) -> np.ndarray:
    """How many people must answer each item: ``k`` for a ``fraction`` of items, 1 for the rest.

    The choice hashes (seed, item id) (splitmix64), so it is deterministic, the same in every
    process, and an item keeps its count as the project grows. Returns (n,) int16.
    """
    ids = np.asarray(item_ids, dtype=np.uint64)
    if fraction <= 0 or k <= 1 or len(ids) == 0:
        return np.ones(len(ids), dtype=np.int16)
    with np.errstate(over="ignore"):
        z = ids + np.uint64((seed * 0x9E3779B97F4A7C15 + 0x9E3779B97F4A7C15) % 2**64)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    u = (z >> np.uint64(11)).astype(np.float64) / float(2**53)  # uniform in [0, 1)
    return np.where(u < fraction, k, 1).astype(np.int16)
