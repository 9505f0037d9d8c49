"""Span-level agreement between raters: precision, recall and F1 of one rater's spans against
another's, per label and over all labels (micro), matched exactly (same start, end and label) or
by overlap (same label, at least one shared character). F1 is symmetric, so it needs no "gold" side.

Shapes: ``spans_by_rater`` maps a rater to ``{item_id: [Span, …]}``; only items both raters
answered count for a pair (an item with no spans is an answer: "nothing here").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

from annotator.spans.model import Span

MATCHES = ("exact", "overlap")


def _matched(a: Sequence[Span], b: Sequence[Span], match: str) -> int:
    """How many spans of ``a`` have a partner in ``b`` (one partner each, greedily in order)."""
    free = list(b)
    hits = 0
    for span in sorted(a):
        for k, other in enumerate(free):
            same = (span == other) if match == "exact" else (span.label == other.label and span.overlaps(other))
            if same:
                hits += 1
                del free[k]
                break
    return hits


@dataclass(frozen=True)
class Counts:
    """Matched spans, and the spans each side has: F1 = 2·matched / (n_a + n_b)."""

    matched: int = 0
    n_a: int = 0
    n_b: int = 0

    @property
    def f1(self) -> float | None:
        total = self.n_a + self.n_b
        return 2 * self.matched / total if total else None

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.matched + other.matched, self.n_a + other.n_a, self.n_b + other.n_b)


def span_f1(a: Mapping[int, Sequence[Span]], b: Mapping[int, Sequence[Span]], *, match: str = "exact"
            ) -> dict[str, Counts]:
    """``{label: Counts}`` plus ``"*"`` (all labels, micro) over the items both ``a`` and ``b`` answered."""
    if match not in MATCHES:
        raise ValueError(f"match must be one of {MATCHES}, got {match!r}")
    out: dict[str, Counts] = {}
    for item in sorted(set(a) & set(b)):
        labels = {s.label for s in a[item]} | {s.label for s in b[item]}
        for label in labels:
            sa = [s for s in a[item] if s.label == label]
            sb = [s for s in b[item] if s.label == label]
            hits = _matched(sa, sb, match)
            if match == "overlap":  # one long span against two short ones: count from both sides
                hits = min(hits, _matched(sb, sa, match))
            out[label] = out.get(label, Counts()) + Counts(hits, len(sa), len(sb))
    out["*"] = sum((c for c in out.values()), Counts())
    return out


@dataclass(frozen=True)
class PairAgreement:
    """One pair of raters: the items both answered and their span F1 (exact and overlap), per label."""

    a: str
    b: str
    items: int
    exact: dict[str, Counts] = field(default_factory=dict)
    overlap: dict[str, Counts] = field(default_factory=dict)


def pairwise_span_agreement(spans_by_rater: Mapping[str, Mapping[int, Sequence[Span]]]) -> list[PairAgreement]:
    """Every pair of raters with at least one shared item, sorted by rater names."""
    pairs: list[PairAgreement] = []
    for a, b in combinations(sorted(spans_by_rater), 2):
        shared = set(spans_by_rater[a]) & set(spans_by_rater[b])
        if not shared:
            continue
        pairs.append(PairAgreement(a, b, len(shared), span_f1(spans_by_rater[a], spans_by_rater[b], match="exact"),
                                   span_f1(spans_by_rater[a], spans_by_rater[b], match="overlap")))
    return pairs
