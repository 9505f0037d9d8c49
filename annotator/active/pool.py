"""The in-memory label pool of one project: vectors, labels, model and ranking as numpy arrays.

The service keeps one ``LabelPool`` per open project. Serving the next item only walks the
current ranking (microseconds); refitting the classifier and re-ranking the pool run in the
background and swap the new ranking in atomically, so a person never waits for a refit.

Shapes: ``item_ids`` (n,) int64 sorted; ``embeddings`` (n, d) float32 L2-normalised;
``targets`` (n, k) float32 0/1 label indicators of labelled rows; ``labelled`` (n,) bool.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from annotator.active.classifier import fit_classifier
from annotator.active.leases import Leases
from annotator.active.ranking import Ranking, rank_cold_start, rank_pool
from annotator.active.scored_ranking import rank_by_item_scores, rank_by_judges, spread_to_rows
from annotator.core.errors import EmptyPoolError
from annotator.core.schema import ROUTE_CODES

#: Route codes kept per pool row (int8): what the router decided for the item, if anything.
ROUTE_NAMES = {code: name for name, code in ROUTE_CODES.items()}


@dataclass(frozen=True)
class Served:
    """One item the queue hands out, and why."""

    item_id: int
    strategy: str
    score: float | None
    model_version: int
    route: str = "manual"


#: Open overlap rows looked at per ``next`` call before the ranking (a person who answered all of
#: the first ones gets fresh items instead; the full list is scanned once the ranking is used up).
OPEN_SCAN = 256


class LabelPool:
    """Labels, model and ranking of one project's items.

    Thread-safe: UI handlers call ``next``/``record`` from many threads while a refit runs.
    """

    def __init__(
        self, item_ids: np.ndarray, embeddings: np.ndarray, label_names: Sequence[str], *,
        multi_label: bool = False, strategy: str = "margin", batch_size: int = 10,
        label_embeddings: np.ndarray | None = None, seed: int = 0, explore_fraction: float = 0.0,
        lease_seconds: float | None = None, required: np.ndarray | None = None,
    ):
        if len(item_ids) != len(embeddings):
            raise ValueError(f"{len(item_ids)} item ids but {len(embeddings)} embedding rows")
        order = np.argsort(item_ids)
        self.item_ids = np.asarray(item_ids, dtype=np.int64)[order]
        self.embeddings = np.ascontiguousarray(embeddings[order], dtype=np.float32)
        self.label_names = list(label_names)
        self.multi_label = multi_label
        self.strategy = strategy
        self.batch_size = batch_size
        self.explore_fraction = explore_fraction
        self.label_embeddings = label_embeddings
        self.rng = np.random.default_rng(seed)
        n, k = len(self.item_ids), len(self.label_names)
        self.targets = np.zeros((n, k), dtype=np.float32)
        self.labelled = np.zeros(n, dtype=bool)
        self.skipped = np.zeros(n, dtype=bool)
        self.reserved = Leases(lease_seconds)  # row → the person it is handed to, until the lease ends
        self.route = np.zeros(n, dtype=np.int8)  # ROUTE_CODES; auto rows are not served to people
        # ---- teams: overlap (k answers from k people for some rows) and admin assignments
        self.required = np.ones(n, dtype=np.int16) if required is None else np.asarray(required, np.int16)[order]
        self.answers = np.zeros(n, dtype=np.int16)  # distinct people who answered each row
        self.done = np.zeros(n, dtype=bool)  # enough answers (or an import / bulk label): never served
        self._answerers: dict[int, set[str]] = {}  # row → people who answered it
        self._answered_by: dict[str, set[int]] = {}  # person → rows they answered
        self._open: dict[int, None] = {}  # overlap rows begun but short of answers, oldest first
        self._assigned: dict[int, frozenset[str]] = {}  # row → the only people it may go to
        self._assigned_queue: dict[str, list[int]] = {}  # person → their assigned rows, served first
        self.model = None
        self.model_version = 0
        self.proba: np.ndarray | None = None  # (n, k) under the current model
        self.labels_since_refit = 0
        # A promoted fine-tuned model's probabilities, computed in a job: (rows (n,) bool, proba (n, k), name).
        self.external: tuple[np.ndarray, np.ndarray, str] | None = None
        # Judges' verdicts (preference projects): (n, k) probabilities of their stored suggestions,
        # NaN rows where no judge has answered; when set they rank the queue (``set_judge_proba``).
        self.judge_proba: np.ndarray | None = None
        # Span projects: (n,) per-item uncertainty from the span tagger or the suggesters' disagreement
        # (NaN: not scored) and its strategy name; when set it ranks the queue (``set_item_scores``).
        self.item_scores: tuple[np.ndarray, str] | None = None
        self._ranking: Ranking | None = None
        self._cursor = 0
        self._lock = threading.RLock()
        self._refit_lock = threading.Lock()

    # ------------------------------------------------------------------ lookups
    def __len__(self) -> int:
        return len(self.item_ids)

    def row_of(self, item_id: int) -> int:
        row = int(np.searchsorted(self.item_ids, item_id))
        if row >= len(self.item_ids) or self.item_ids[row] != item_id:
            raise KeyError(item_id)
        return row

    @property
    def n_labelled(self) -> int:
        return int(self.labelled.sum())

    @property
    def is_cold(self) -> bool:
        """Fewer than two labels for some class: the classifier cannot rank yet."""
        if self.multi_label:
            counts = self.targets[self.labelled].sum(axis=0)
        else:
            counts = np.bincount(self.targets[self.labelled].argmax(axis=1), minlength=len(self.label_names)) \
                if self.labelled.any() else np.zeros(len(self.label_names))
        return bool((counts < 2).any())

    # ------------------------------------------------------------------ labels
    def set_label(self, item_id: int, value: Sequence[str] | None) -> None:
        """Record (or with ``None`` clear) an item's label in the pool."""
        with self._lock:
            row = self.row_of(item_id)
            self._set_target(row, value)
            # a label from no particular person (import, bulk, undo with nobody left) settles the row
            self.done[row] = value is not None or self.answers[row] >= self.required[row]
            if self.done[row]:
                self._open.pop(row, None)
            self.skipped[row] = False
            self.reserved.pop(row, None)
            self.labels_since_refit += 1

    def _set_target(self, row: int, value: Sequence[str] | None) -> None:
        self.targets[row] = 0
        if value is None:
            self.labelled[row] = False
        else:
            for name in value:
                self.targets[row, self.label_names.index(name)] = 1
            self.labelled[row] = True

    # ------------------------------------------------------------------ teams: answers per person
    def add_answer(self, item_id: int, user: str, value: Sequence[str] | None) -> None:
        """Record ``user``'s answer: the row's label becomes ``value`` (newest wins, for training)
        and it counts towards the row's required answers; ``value=None`` only counts it."""
        with self._lock:
            row = self.row_of(item_id)
            users = self._answerers.setdefault(row, set())
            if value is not None:
                self._set_target(row, value)
                if user not in users:  # the store sync re-reports answers this pool has seen: count once
                    self.labels_since_refit += 1
            users.add(user)
            self._answered_by.setdefault(user, set()).add(row)
            self.answers[row] = len(users)
            self.done[row] = self.answers[row] >= self.required[row]
            if self.done[row]:
                self._open.pop(row, None)
            elif self.required[row] > 1:
                self._open[row] = None
            self.skipped[row] = False
            self.reserved.drop(row, user)

    def load_answers(self, labelled: dict[int, Sequence[str]], answerers: Sequence[tuple[int, str]]) -> None:
        """Rebuild from the store: ``labelled`` item → current value (training target), ``answerers``
        (item, user) pairs of submitted answers (an imported label is the ``import`` user's answer)."""
        with self._lock:
            for item_id, user in answerers:
                row = self.row_of(item_id)
                users = self._answerers.setdefault(row, set())
                users.add(user)
                self._answered_by.setdefault(user, set()).add(row)
            for row, users in self._answerers.items():
                self.answers[row] = len(users)
            for item_id, value in labelled.items():
                self._set_target(self.row_of(item_id), [v for v in value if v in self.label_names])
            self.done = self.answers >= self.required
            self._open = {int(r): None for r in np.flatnonzero((self.answers > 0) & ~self.done)}

    def remove_answer(self, item_id: int, user: str, value_left: Sequence[str] | None) -> None:
        """Take back ``user``'s answer (undo); ``value_left`` is the item's label without it."""
        with self._lock:
            row = self.row_of(item_id)
            self._set_target(row, value_left)
            users = self._answerers.get(row, set())
            users.discard(user)
            self._answered_by.get(user, set()).discard(row)
            self.answers[row] = len(users)
            self.done[row] = self.answers[row] >= self.required[row] or (value_left is not None and not users)
            if not self.done[row] and self.required[row] > 1 and users:
                self._open[row] = None
            self.labels_since_refit += 1

    def mark_done(self, item_id: int) -> None:
        """Another process filled this row's answers: stop serving it here."""
        with self._lock:
            row = self.row_of(item_id)
            self.done[row] = True
            self._open.pop(row, None)

    def hold_elsewhere(self, item_id: int, seconds: float | None) -> None:
        """Another process holds the row's free slots: keep it out of this pool's queue for a while."""
        with self._lock:
            row = self.row_of(item_id)
            for slot in range(int(self.required[row])):  # every slot, or the row comes straight back
                self.reserved.hold(row, f"\x00elsewhere{slot}", seconds)

    def clear_elsewhere(self) -> int:
        """Forget the rows held by other processes (to ask the store again); how many rows."""
        with self._lock:
            rows = [r for r, held in self.reserved._by_row.items() if any(u.startswith("\x00") for u in held)]
            for row in rows:
                for user in [u for u in self.reserved._by_row[row] if u.startswith("\x00")]:
                    self.reserved.drop(row, user)
            return len(rows)

    def sync_elsewhere(self, held: Sequence[tuple[int, str, float]]) -> None:
        """Replace the rows held by other processes with ``held``: (item_id, person, seconds left)
        of the store's live leases. A lease this pool already holds for that person is not doubled."""
        with self._lock:
            self.clear_elsewhere()
            for item_id, user, seconds in held:
                try:
                    row = self.row_of(item_id)
                except KeyError:
                    continue  # an item imported after this pool was built
                if user in self.reserved.holders(row):
                    continue
                self.reserved.hold(row, "\x00" + user, seconds)

    def set_required(self, required: np.ndarray) -> None:
        """New answers-per-row counts (the overlap settings changed), in ``item_ids`` order."""
        with self._lock:
            self.required = np.asarray(required, dtype=np.int16)
            answered = self.answers > 0
            self.done[answered] = self.answers[answered] >= self.required[answered]
            self._open = {int(r): None for r in np.flatnonzero(answered & ~self.done & (self.required > 1))}

    def answered_by(self, user: str) -> set[int]:
        """Item ids ``user`` has answered (as this pool knows)."""
        with self._lock:
            return {int(self.item_ids[r]) for r in self._answered_by.get(user, ())}

    def set_assignees(self, item_ids: Sequence[int], users: Sequence[str] | None) -> None:
        """Serve ``item_ids`` only to ``users`` (and to them first); ``users=None`` lifts that."""
        with self._lock:
            for item_id in item_ids:
                row = self.row_of(int(item_id))
                if users is None:
                    self._assigned.pop(row, None)
                else:
                    self._assigned[row] = frozenset(users)
            self._assigned_queue = {}
            for row in sorted(self._assigned):
                for user in self._assigned[row]:
                    self._assigned_queue.setdefault(user, []).append(row)
            for rows in self._assigned_queue.values():
                rows.reverse()  # popped from the end: lowest id first

    def clear_assignees(self) -> None:
        """Lift every assignment (before loading them again from the store)."""
        with self._lock:
            self._assigned = {}
            self._assigned_queue = {}

    def _open_for(self, row: int, user: str) -> bool:
        """Whether ``row`` may go to ``user`` now: short of answers, a free slot (answers plus
        other people's leases below the required count), not answered by them, not held by them,
        and not assigned to other people."""
        if self.done[row]:
            return False
        held = self.reserved.holders(row)
        if user in held or len(held) + self.answers[row] >= self.required[row]:
            return False
        if self.answers[row] and row in self._answered_by.get(user, ()):
            return False
        if self._assigned:
            assignees = self._assigned.get(row)
            if assignees is not None and user not in assignees:
                return False
        return True

    # ---- review: a reviewer sent the row back for one more answer
    def need_another_answer(self, item_id: int) -> None:
        """Serve the row again until one more person (not one who answered it) answers it; its
        current label stays for training until then."""
        with self._lock:
            row = self.row_of(item_id)
            self.required[row] = max(int(self.required[row]), int(self.answers[row]) + 1)
            self.done[row] = False
            self.skipped[row] = False
            self._open[row] = None  # served ahead of the ranking, like a begun overlap row

    def skip(self, item_id: int, user: str | None = None) -> None:
        with self._lock:
            row = self.row_of(item_id)
            self.skipped[row] = True
            if user is None:
                self.reserved.pop(row, None)
            else:
                self.reserved.drop(row, user)

    def release(self, user: str) -> None:
        """Forget what ``user`` was shown (they left or reloaded)."""
        with self._lock:
            self.reserved.release(user)

    # ------------------------------------------------------------------ serving
    def set_routes(self, rows: np.ndarray, routes: np.ndarray) -> None:
        """Record the router's decision for ``rows``; every other unlabelled row loses its route."""
        codes = np.fromiter((ROUTE_CODES[r] for r in routes), dtype=np.int8, count=len(routes))
        with self._lock:
            self.route[~self.labelled] = 0
            self.route[rows] = codes

    def route_of(self, item_id: int) -> str:
        return ROUTE_NAMES[int(self.route[self.row_of(item_id)])] or "manual"

    def route_counts(self) -> dict[str, int]:
        open_rows = ~self.labelled
        return {name: int((self.route[open_rows] == code).sum()) for name, code in ROUTE_CODES.items() if name}

    def _next_audit(self, user: str) -> Served | None:
        """Audits go first: the estimate of auto-label precision depends on them."""
        rows = np.flatnonzero((self.route == ROUTE_CODES["audit"]) & ~self.labelled)
        for row in rows:
            row = int(row)
            if self._open_for(row, user) and not self.skipped[row]:
                self.reserved[row] = user
                return Served(int(self.item_ids[row]), "audit", None, self.model_version, route="audit")
        return None

    def _next_assigned(self, user: str, exclude: set[int] | None) -> Served | None:
        """An item an admin assigned to ``user``, lowest id first."""
        rows = self._assigned_queue.get(user)
        while rows:
            row = rows[-1]
            if self.done[row] or row not in self._assigned or (
                    self.answers[row] and row in self._answered_by.get(user, ())):
                rows.pop()  # finished for this person: never again
                continue
            for n, row in enumerate(reversed(rows)):
                if n >= OPEN_SCAN:
                    break
                if self._open_for(row, user) and not (exclude and int(self.item_ids[row]) in exclude):
                    self.reserved[row] = user
                    return Served(int(self.item_ids[row]), "assigned", None, self.model_version,
                                  ROUTE_NAMES[int(self.route[row])] or "manual")
            return None
        return None

    def _next_open(self, user: str, exclude: set[int] | None, limit: int | None = OPEN_SCAN) -> Served | None:
        """An overlap row that others began and still needs answers, oldest first."""
        for n, row in enumerate(self._open):
            if limit is not None and n >= limit:
                break
            if self._open_for(row, user) and not (exclude and int(self.item_ids[row]) in exclude):
                self.reserved[row] = user
                route = ROUTE_NAMES[int(self.route[row])] or "manual"
                return Served(int(self.item_ids[row]), "overlap", None, self.model_version, route)
        return None

    def next(self, user: str, *, exclude: set[int] | None = None) -> Served | None:
        """The best unlabelled item under the current ranking that nobody else holds: pending
        audits first, then the ranking, never an auto-accepted item."""
        with self._lock:
            audit = self._next_audit(user)
            if audit is not None:
                return audit
            if self._assigned_queue:
                assigned = self._next_assigned(user, exclude)
                if assigned is not None:
                    return assigned
            if self._open:
                begun = self._next_open(user, exclude)
                if begun is not None:
                    return begun
            for attempt in range(2):
                if self._ranking is None:
                    self._rerank_locked()
                ranking = self._ranking
                assert ranking is not None
                while self._cursor < len(ranking.order):
                    pos = self._cursor
                    row = int(ranking.order[pos])
                    self._cursor += 1
                    explored = ranking.strategy_at(pos) != ranking.strategy
                    if explored and not self._strategy_rows_left(ranking, pos):
                        # random picks ride along with the queue; they never outlast it, or a person
                        # would be served auto-accepted items forever once the real work is done
                        continue
                    if self.labelled[row] or self.skipped[row] or not self._open_for(row, user) or (
                            self.route[row] == ROUTE_CODES["auto"] and not explored):
                        continue
                    item_id = int(self.item_ids[row])
                    if exclude and item_id in exclude:
                        continue
                    self.reserved[row] = user
                    if self.required[row] > 1:
                        self._open[row] = None  # others may take it too, through _next_open
                    route = ROUTE_NAMES[int(self.route[row])] or "manual"
                    strategy = ranking.strategy_at(pos)
                    if explored:
                        route = "blind"  # a random calibration item: no AI hint may bias the answer
                    return Served(item_id, strategy, float(ranking.scores[pos]), self.model_version, route)
                # Ranking used up: rank again, this time letting skipped items come back.
                if attempt == 0:
                    self.skipped[:] = False
                    self._ranking = None
            if self._open:  # the queue is empty: any begun overlap row this person may still answer
                return self._next_open(user, exclude, limit=None)
            return None

    def _strategy_rows_left(self, ranking: Ranking, pos: int) -> bool:
        """Whether a strategy-ranked row after ``pos`` could still be served (not labelled, auto,
        audit or held by someone)."""
        rows = ranking.order[pos + 1:]
        if ranking.explore is not None:
            rows = rows[~ranking.explore[pos + 1:]]
        if len(rows) == 0:
            return False
        # audits are served ahead of the ranking and do not count: they are checks of auto labels
        open_rows = ~self.labelled[rows] & ~self.skipped[rows] & (self.route[rows] != ROUTE_CODES["auto"]) \
            & (self.route[rows] != ROUTE_CODES["audit"])
        return bool(open_rows.any()) and any(int(r) not in self.reserved for r in rows[open_rows][:64])

    def next_batch(self, user: str, size: int) -> list[Served]:
        out: list[Served] = []
        for _ in range(size):
            served = self.next(user)
            if served is None:
                break
            out.append(served)
        return out

    # ------------------------------------------------------------------ model
    def refit(self) -> bool:
        """Fit the classifier on the labelled rows and re-rank. Returns False when still cold.

        Heavy work happens outside the pool lock; only the swap holds it.
        """
        with self._refit_lock:
            with self._lock:
                labelled = self.labelled.copy()
                targets = self.targets[labelled].copy()
                cold = self.is_cold
                self.labels_since_refit = 0
            if cold:
                with self._lock:
                    self.model, self.proba = None, None
                    self._rerank_locked()
                return False
            X = self.embeddings[labelled]
            y = targets if self.multi_label else targets.argmax(axis=1)
            model = fit_classifier(X, y, len(self.label_names), multi_label=self.multi_label)
            proba = model.predict_proba(self.embeddings)
            with self._lock:
                proba = self._with_external(proba)
                self.model, self.proba = model, proba
                self.model_version += 1
                self._rerank_locked()
            return True

    def rerank(self) -> None:
        with self._lock:
            self._rerank_locked()

    # ---- externally computed probabilities (a promoted fine-tuned model) --------------------
    def set_external_proba(self, item_ids: np.ndarray, proba: np.ndarray, name: str) -> int:
        """Rank with ``proba`` (m, k), computed elsewhere for ``item_ids`` (m,), instead of the
        probe's, from now on and after every refit; rows of items it has not seen keep the probe's.
        Returns how many pool rows it covers."""
        if proba.shape != (len(item_ids), len(self.label_names)):
            raise ValueError(f"proba of shape {proba.shape} for {len(item_ids)} items and {len(self.label_names)} labels")
        full, rows = spread_to_rows(self.item_ids, item_ids, proba, fill=0.0)
        with self._lock:
            self.external = (rows, full.astype(np.float32), name)
            if self.proba is not None:
                self.proba = self._with_external(self.proba)
                self.model_version += 1
                self._rerank_locked()
        return int(rows.sum())

    def clear_external_proba(self) -> None:
        with self._lock:
            self.external = None

    # ---- judges' verdicts rank the queue (preference projects) ---------
    def set_judge_proba(self, item_ids: np.ndarray, proba: np.ndarray) -> int:
        """Rank by the judges' uncertainty from now on: ``proba`` (m, k) over ``label_names`` is the
        stored judge suggestion of each of ``item_ids`` (m,). Rows of other items count as unjudged.
        With ``m == 0`` the queue goes back to its own order. Returns how many pool rows it covers."""
        proba = np.asarray(proba, dtype=np.float64)
        if len(item_ids) and proba.shape != (len(item_ids), len(self.label_names)):
            raise ValueError(f"judge proba of shape {proba.shape} for {len(self.label_names)} labels")
        with self._lock:
            if len(item_ids) == 0:
                self.judge_proba = None
            else:
                self.judge_proba = spread_to_rows(self.item_ids, item_ids, proba, fill=np.nan)[0]
            self._rerank_locked()
            return 0 if self.judge_proba is None else int(np.isfinite(self.judge_proba[:, 0]).sum())

    # ---- per-item scores computed elsewhere rank the queue (span projects) ---------
    def set_item_scores(self, item_ids: np.ndarray, scores: np.ndarray, name: str) -> int:
        """Rank by ``scores`` (m,) in [0, 1] (higher: ask a person first) of ``item_ids`` (m,) from
        now on, under the strategy name ``name``; other rows count as unscored (ranked as most
        uncertain). With ``m == 0`` the queue goes back to its own order. Returns rows covered."""
        scores = np.asarray(scores, dtype=np.float64)
        if scores.shape != np.shape(item_ids):
            raise ValueError(f"{len(scores)} scores for {len(item_ids)} items")
        with self._lock:
            if len(item_ids) == 0:
                self.item_scores = None
            else:
                full = spread_to_rows(self.item_ids, item_ids, np.clip(scores, 0.0, 1.0), fill=np.nan)[0]
                self.item_scores = (full, name)
            self._rerank_locked()
            return 0 if self.item_scores is None else int(np.isfinite(self.item_scores[0]).sum())

    def _with_external(self, proba: np.ndarray) -> np.ndarray:
        if self.external is None:
            return proba
        rows, full, _ = self.external
        out = np.array(proba, dtype=np.float32, copy=True)
        out[rows] = full[rows]
        return out

    def _rerank_locked(self) -> None:
        servable = ~self.labelled & ~self.done & (self.route != ROUTE_CODES["auto"])
        unlabelled = servable & ~self.skipped
        if not unlabelled.any():
            unlabelled = servable
        if not unlabelled.any():
            self._ranking = Ranking(order=np.zeros(0, dtype=np.int64), scores=np.zeros(0), strategy=self.strategy)
            self._cursor = 0
            return
        try:
            options = dict(strategy=self.strategy, batch_size=self.batch_size, rng=self.rng,
                           explore_fraction=self.explore_fraction, explore_mask=~self.labelled & ~self.skipped)
            if self.item_scores is not None:
                self._ranking = rank_by_item_scores(*self.item_scores, self.embeddings, unlabelled, **options)
            elif self.judge_proba is not None:
                self._ranking = rank_by_judges(self.judge_proba, self.embeddings, unlabelled, **options)
            elif self.proba is None:
                self._ranking = rank_cold_start(
                    self.embeddings, unlabelled, label_embeddings=self.label_embeddings,
                    batch_size=self.batch_size, rng=self.rng,
                )
            else:
                self._ranking = rank_pool(
                    self.proba, self.embeddings, unlabelled, strategy=self.strategy, batch_size=self.batch_size,
                    rng=self.rng, multi_label=self.multi_label, explore_fraction=self.explore_fraction,
                    # random picks may land on auto-accepted items too: the slice samples the whole pool
                    explore_mask=~self.labelled & ~self.skipped,
                )
        except EmptyPoolError:
            self._ranking = Ranking(order=np.zeros(0, dtype=np.int64), scores=np.zeros(0), strategy=self.strategy)
        self._cursor = 0

    def predict(self, rows: np.ndarray | None = None) -> np.ndarray | None:
        """Current model's probabilities (n, k) for ``rows`` (all when None), or None before the first fit."""
        with self._lock:
            if self.proba is None:
                return None
            return self.proba if rows is None else self.proba[rows]
