"""Many simulated annotators labelling one project at once, each through its own service (what
separate app processes are), on one database. Used by the team load test and
``bench/bench_team_load.py``.

Each annotator loops: next item → (sometimes skip it, sometimes abandon it so its lease runs
out, sometimes release everything as a page reload does) → submit an answer. It records every
answer the service accepted, every answer it refused (``ConflictError``: the lease ran out and
others filled the item) and the time from the start of a submit to the next item in hand.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from annotator.core.errors import ConflictError


@dataclass
class TeamRun:
    """What the annotators did. ``accepted``: (item_id, person, value) the service stored;
    ``latencies_ms``: submit → next item in hand, per answer; ``errors``: unexpected exceptions."""

    accepted: list[tuple[int, str, list[str]]] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)
    skipped: int = 0
    abandoned: int = 0
    releases: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    finished: bool = False


def run_team(
    services: Sequence, project: str, names: Sequence[str], *, labels: Sequence[str], target_answers: int,
    deadline_s: float = 120.0, skip_p: float = 0.04, abandon_p: float = 0.04, release_p: float = 0.01,
    seed: int = 0, answer: Callable[[object], list[str]] | None = None,
) -> TeamRun:
    """Run one thread per (service, name) until ``target_answers`` answers are stored or the deadline.

    Args:
        services: one AnnotatorService per annotator (on the same database), already built.
        target_answers: the answers the project needs in all (sum of the items' required answers).
        skip_p, abandon_p, release_p: per served item, the chance to skip it, to leave it (its lease
            runs out), or to release every lease of the person (a page reload).
    """
    run = TeamRun()
    lock = threading.Lock()
    stop = threading.Event()
    start = time.perf_counter()

    def worker(k: int) -> None:
        svc, name = services[k], names[k]
        rng = random.Random(seed * 1000 + k)
        pending_since: float | None = None
        while not stop.is_set() and time.perf_counter() - start < deadline_s:
            try:
                item = svc.queue.next_item(project, name)
            except Exception as e:  # noqa: BLE001 - a load test records every failure, then fails
                with lock:
                    run.errors.append(f"{name} next_item: {type(e).__name__}: {e}")
                return
            if pending_since is not None and item is not None:
                with lock:
                    run.latencies_ms.append((time.perf_counter() - pending_since) * 1000)
            pending_since = None
            if item is None:
                time.sleep(0.05)
                continue
            roll = rng.random()
            try:
                if roll < skip_p:
                    svc.queue.skip(project, name, item.item_id)
                    with lock:
                        run.skipped += 1
                    continue
                if roll < skip_p + abandon_p:
                    with lock:
                        run.abandoned += 1
                    continue  # the lease runs out on its own
                if roll < skip_p + abandon_p + release_p:
                    svc.queue.release(project, name)
                    with lock:
                        run.releases += 1
                    continue
                value = answer(item) if answer else [labels[rng.randrange(len(labels))]]
                pending_since = time.perf_counter()
                svc.queue.submit(project, name, item.item_id, value)
            except ConflictError:
                with lock:
                    run.refused.append((item.item_id, name))
                continue
            except Exception as e:  # noqa: BLE001
                with lock:
                    run.errors.append(f"{name} submit {item.item_id}: {type(e).__name__}: {e}")
                return
            with lock:
                run.accepted.append((item.item_id, name, value))
                if len(run.accepted) >= target_answers:
                    stop.set()

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(len(services))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(deadline_s + 60)
    run.seconds = time.perf_counter() - start
    run.finished = len(run.accepted) >= target_answers
    return run
