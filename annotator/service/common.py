"""Helpers shared by several service parts."""

from __future__ import annotations

import contextlib
import gc
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from annotator.active.leases import required_answers
from annotator.active.pool import LabelPool
from annotator.core.schema import (
    ProjectSettings,
)

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]


def _job_json(value: Any) -> Any:
    """``value`` as plain JSON types for a job row: numpy scalars/arrays → Python, non-finite floats
    → None (PostgreSQL's JSON has no NaN), paths and other objects → str."""
    if isinstance(value, dict):
        return {str(k): _job_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_job_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return _job_json(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


class _TeamSync:
    """Per project and process: when the pool last looked at the store, up to which response id
    it knows the answers, the people's user ids, and the lease length."""

    def __init__(self, synced_to: int = 0):
        self.at = float("-inf")
        self.synced_to = synced_to
        self.people: dict[str, int] = {}
        self.lease_s = 1800.0
        self.lock = threading.Lock()


def _required_answers(item_ids: np.ndarray, settings: ProjectSettings) -> np.ndarray:
    """Answers each item needs under the project's overlap settings ((n,) int16, see pool.required_answers)."""

    return required_answers(item_ids, seed=settings.seed, fraction=settings.overlap_fraction, k=settings.overlap_k)


def _load_assignments(pool: LabelPool, assigned: dict[int, list[str]]) -> None:
    """Hand the store's assignments (item → names) to the pool, grouped by the same people."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for item_id, names in assigned.items():
        groups.setdefault(tuple(names), []).append(item_id)
    known = set(int(i) for i in pool.item_ids)
    for names, ids in groups.items():
        pool.set_assignees([i for i in ids if i in known], list(names))


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a figure is built from tens of thousands of
    rows. Those reads allocate ~10 containers per row and free none, so the collector kept walking
    the growing heap: a third of the Team tab's time at 60k answers. Reference counting still frees
    everything meanwhile; the few cycles made (sessions) are collected once the collector runs
    again, after the block (unless it was off before). Process-wide, for about a second at most."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
