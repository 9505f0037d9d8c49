"""Near-duplicate records by embedding similarity, for post-training imports (prompts / pairs).

A record is a prompt plus the task's response fields (``TaskDefinition.fields``). Two records
are near-duplicates when EVERY field is: their similarity is the minimum over fields of the
cosine of the fields' embeddings. For a preference pair the two responses may come in either
order (a pair imported as (b, a) is the same comparison), so the similarity is the larger of
the straight and the crossed match. Taking the minimum over fields keeps distinct items that
share a template ("What is 12 + 30?" vs "What is 13 + 30?": the prompts are close in MiniLM,
the answers are not), and drops the same question with the same answers reworded.

Greedy in file order: a record is dropped when it is a near-duplicate of an item already in
the project or of an earlier record of the same import that was kept. Candidates come from one
blocked matrix product over the prompts (everything else is checked on those pairs only), so the
cost is about one (n × m × d) product plus the embedding itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from annotator.core.errors import ValidationError

#: Default cosine threshold (min over fields). Measured with MiniLM (all-MiniLM-L6-v2): reworded
#: questions and answers score 0.96-0.99, template siblings with a different number or entity
#: 0.7-0.9 on at least one field (docs/benchmarks.md, "Near-duplicates on import").
DEFAULT_THRESHOLD = 0.95
#: Entries of one block of the candidate matrix (float32: 4 bytes each), bounding memory.
BLOCK_ENTRIES = 4_000_000


def check_threshold(value: object) -> float | None:
    """A threshold from the user (a number, "off"/"none"/None) → float in (0, 1], or None (off).

    Raises:
        ValidationError: saying what was expected and how to fix it.
    """
    if value is None or (isinstance(value, str) and value.strip().lower() in ("off", "none", "")):
        return None
    try:
        t = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError("The near-duplicate threshold must be a number.", got=repr(value),
                              expected="a cosine similarity in (0, 1], e.g. 0.95, or 'off'",
                              fix="pass --near-duplicates 0.95 (or off to keep near-duplicates)") from None
    if math.isnan(t) or not 0.0 < t <= 1.0:
        raise ValidationError("The near-duplicate threshold is out of range.", got=str(value),
                              expected="a cosine similarity in (0, 1], e.g. 0.95 (1 drops only identical embeddings)",
                              fix="pass --near-duplicates 0.95, or off to keep near-duplicates")
    return t


@dataclass(frozen=True)
class Match:
    """Record ``index`` of the new batch duplicates ``other`` (an index into ``existing`` when
    ``existing`` is True, else into the new batch, always an earlier kept record)."""

    index: int
    other: int
    existing: bool
    similarity: float


def _stack(fields: Sequence[np.ndarray]) -> list[np.ndarray]:
    out = [np.asarray(f, dtype=np.float32) for f in fields]
    if not out or any(f.ndim != 2 or len(f) != len(out[0]) or f.shape[1] != out[0].shape[1] for f in out):
        raise ValidationError("Near-duplicate fields must be (n, d) arrays of the same shape.",
                              got=", ".join(str(f.shape) for f in out))
    return out


def pair_similarity(new: Sequence[np.ndarray], other: Sequence[np.ndarray], rows: np.ndarray, cols: np.ndarray,
                    swap: tuple[int, int] | None = None) -> np.ndarray:
    """(k,) similarity of records new[rows[i]] and other[cols[i]]: min over fields of the cosine,
    the better of straight and crossed when ``swap`` names two interchangeable field indices."""
    sims = np.stack([(n[rows] * o[cols]).sum(axis=1) for n, o in zip(new, other)])  # (fields, k)
    best = sims.min(axis=0)
    if swap is not None:
        i, j = swap
        crossed = sims.copy()
        crossed[i] = (new[i][rows] * other[j][cols]).sum(axis=1)
        crossed[j] = (new[j][rows] * other[i][cols]).sum(axis=1)
        best = np.maximum(best, crossed.min(axis=0))
    return best


def _candidates(query: np.ndarray, keys: np.ndarray, threshold: float, *, lower: bool = False) -> tuple[np.ndarray, ...]:
    """(rows, cols) with query[row] · keys[col] ≥ threshold, blocked; ``lower`` keeps col < row only."""
    rows_out, cols_out = [], []
    if len(query) == 0 or len(keys) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    step = max(1, BLOCK_ENTRIES // max(len(keys), 1))
    for start in range(0, len(query), step):
        block = query[start:start + step] @ keys.T
        r, c = np.nonzero(block >= threshold)
        r = r + start
        if lower:
            keep = c < r
            r, c = r[keep], c[keep]
        rows_out.append(r)
        cols_out.append(c)
    return np.concatenate(rows_out).astype(np.int64), np.concatenate(cols_out).astype(np.int64)


def find_near_duplicates(new: Sequence[np.ndarray], existing: Sequence[np.ndarray] | None, threshold: float, *,
                         swap: tuple[int, int] | None = None) -> list[Match]:
    """Records of ``new`` to drop, each with the record it duplicates (its best match).

    Args:
        new: per field, (n, d) L2-normalised embeddings of the imported records; field 0 is the prompt.
        existing: per field, (m, d) embeddings of the project's items (None or m = 0: none yet).
        threshold: cosine in (0, 1]; a record is a near-duplicate at similarity ≥ threshold.
        swap: indices of two interchangeable fields (preference: response_a, response_b).

    Returns:
        One ``Match`` per dropped record, in file order.
    """
    threshold = check_threshold(threshold)
    if threshold is None:
        return []
    new = _stack(new)
    n = len(new[0])
    best: dict[int, Match] = {}
    if existing is not None and len(existing) and len(existing[0]):
        existing = _stack(existing)
        rows, cols = _candidates(new[0], existing[0], threshold)
        if len(rows):
            sims = pair_similarity(new, existing, rows, cols, swap)
            for r, c, s in zip(rows[sims >= threshold], cols[sims >= threshold], sims[sims >= threshold]):
                if int(r) not in best or s > best[int(r)].similarity:
                    best[int(r)] = Match(int(r), int(c), True, float(s))
    rows, cols = _candidates(new[0], new[0], threshold, lower=True)
    earlier: dict[int, list[tuple[int, float]]] = {}
    if len(rows):
        sims = pair_similarity(new, new, rows, cols, swap)
        for r, c, s in zip(rows[sims >= threshold], cols[sims >= threshold], sims[sims >= threshold]):
            earlier.setdefault(int(r), []).append((int(c), float(s)))
    dropped = np.zeros(n, dtype=bool)
    for i in range(n):  # greedy in file order: only kept earlier records count
        if i in best:
            dropped[i] = True
            continue
        kept = [(c, s) for c, s in earlier.get(i, ()) if not dropped[c]]
        if kept:
            c, s = max(kept, key=lambda cs: cs[1])
            best[i] = Match(i, c, False, s)
            dropped[i] = True
    return [best[i] for i in sorted(best)]


class NearDuplicateFilter:
    """Drops near-duplicate records batch after batch (the import's chunks) against the items
    already kept: the project's items given at construction plus every record kept since.

    Args:
        fields: the record's text fields, prompt first (e.g. ("text", "response_a", "response_b")).
        embed: texts → (n, d) L2-normalised embeddings (the service's cached embedder).
        threshold: cosine in (0, 1].
        swap: indices into ``fields`` of two interchangeable responses (preference), or None.
    """

    def __init__(self, fields: Sequence[str], embed: Callable[[Sequence[str]], np.ndarray], threshold: float, *,
                 swap: tuple[int, int] | None = None):
        checked = check_threshold(threshold)
        if checked is None:
            raise ValidationError("A near-duplicate filter needs a threshold.", expected="a number in (0, 1]")
        self.fields = tuple(fields)
        self.embed = embed
        self.threshold = checked
        self.swap = swap
        self._vectors: list[np.ndarray] | None = None
        self.ids: list[int] = []
        self.texts: list[str] = []

    def _embed(self, records: Sequence[dict[str, str]]) -> list[np.ndarray]:
        return [np.asarray(self.embed([str(r.get(f, "")) for r in records]), dtype=np.float32) for f in self.fields]

    def add(self, records: Sequence[dict[str, str]], ids: Sequence[int], vectors: list[np.ndarray] | None = None) -> None:
        """Remember kept ``records`` (dicts with the ``fields``) under their item ``ids``."""
        if not records:
            return
        vectors = self._embed(records) if vectors is None else vectors
        self._vectors = vectors if self._vectors is None else [np.vstack([a, b]) for a, b in zip(self._vectors, vectors)]
        self.ids.extend(int(i) for i in ids)
        self.texts.extend(str(r.get(self.fields[0], "")) for r in records)

    def split(self, records: Sequence[dict[str, str]]) -> tuple[list[int], list[Match], list[np.ndarray]]:
        """(indices of records to keep, matches of the dropped ones, the kept records' vectors).

        A match's ``other`` indexes the kept items (``ids`` / ``texts``) when ``existing``, else
        the batch; pass the kept records and their new ids to ``add`` after inserting them.
        """
        if not records:
            return [], [], [np.zeros((0, 0), dtype=np.float32) for _ in self.fields]
        vectors = self._embed(records)
        matches = find_near_duplicates(vectors, self._vectors, self.threshold, swap=self.swap)
        dropped = {m.index for m in matches}
        keep = [i for i in range(len(records)) if i not in dropped]
        return keep, matches, [v[keep] for v in vectors]
