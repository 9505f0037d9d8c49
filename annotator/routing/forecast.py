"""How many more human labels until the AI may take the rest: a forecast for the AI tab and the CLI.

With a dataset target (``target_accuracy``) the project is finished once the router may
auto-accept every item people have not labelled. That needs the certified precision of the AI
labels on the *open* items (all unlabelled ones) to reach

    required = (target · N − h · H) / U,

``N`` the pool, ``H`` the human labels, ``U = N − H`` the open items, ``h`` people's accuracy.
Each further human label moves both sides: ``required`` falls (one more label that is right with
``h``, one fewer AI label to vouch for), and the bound rises (the random slice of the queue adds
random items). The forecast walks the next labels forward under two stated assumptions:

- the queue keeps its mix: a share ``random_share`` of new labels are random (uniform over the
  open items), the rest are the open items the model is *least* sure of, so those leave the open
  set first;
- the AI's precision, per confidence stratum, stays what the random items measure today
  (``reweighted_counts`` on the open items that would remain), and so does the weighting's
  efficiency (effective / actual random items).

The first errs careful (the model learns, so later labels find it more precise); the forecast
tests the open items as one set while the router grows its set step by step and stops at the first
step that fails (``dataset_accuracy.choose_auto_set``), which errs hopeful. So it is an estimate,
not a promise; ``simulate`` records it each round beside what the run then took, and
docs/benchmarks.md has how close it came.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from annotator.routing.dataset_accuracy import precision_lower, reweighted_counts

#: Steps of the forward walk over the open items: about this many, evenly spaced.
FORECAST_STEPS = 200


@dataclass(frozen=True)
class Forecast:
    """Attributes:
        more_labels: further human labels the forecast needs before the AI may take every open
            item; ``open_items`` when no number of labels short of all does (people label the rest).
        open_items: items without a human label now (``U``).
        required_now: the certified precision the AI labels would need to take every open item now.
        certified_now: the bound the random items give the open items now (same confidence and
            bound as the router's).
        measured_now: the point estimate of that precision (reweighted to the open items).
    """

    more_labels: int
    open_items: int
    required_now: float
    certified_now: float
    measured_now: float

    @property
    def reachable(self) -> bool:
        """Whether the AI is forecast to take any open item at all before people label everything."""
        return self.more_labels < self.open_items

    def as_dict(self) -> dict[str, float | int | bool]:
        return {"more_labels": self.more_labels, "open_items": self.open_items, "reachable": self.reachable,
                "required_now": round(self.required_now, 4), "certified_now": round(self.certified_now, 4),
                "measured_now": round(self.measured_now, 4)}


def labels_to_finish(sample_confidence: np.ndarray, sample_correct: np.ndarray, open_confidence: np.ndarray, *,
                     n_human: int, target_accuracy: float, human_accuracy: float = 1.0, random_share: float,
                     bound_confidence: float = 0.95, bound: str = "anytime") -> Forecast | None:
    """The forecast of the module docstring.

    Args:
        sample_confidence: (m,) out-of-fold fused confidence of the random human-labelled items.
        sample_correct: (m,) bool, whether their AI label (out of fold) was the person's.
        open_confidence: (U,) fused confidence of every item without a human label.
        n_human: human-labelled items now (``H``).
        random_share: share of the queue served at random (0–1); with 0 the bound never grows, so
            only falling ``required`` can finish the project.
        bound_confidence, bound: as the router's dataset bound (``RoutingPolicy``).

    Returns:
        None without random items or open items (nothing to forecast from, or nothing left).
    """
    conf = np.asarray(sample_confidence, dtype=np.float64)
    right = np.asarray(sample_correct, dtype=bool)
    remaining = np.sort(np.asarray(open_confidence, dtype=np.float64))  # ascending: the queue's picks first
    n_open, m = len(remaining), len(conf)
    if m == 0 or n_open == 0:
        return None
    pool = n_human + n_open
    share = float(np.clip(random_share, 0.0, 1.0))
    first: tuple[float, float, float] | None = None
    step = max(1, -(-n_open // FORECAST_STEPS))
    for more in range(0, n_open, step):
        # The uncertain picks take the bottom of the open set; the random ones thin it evenly,
        # which leaves its confidence mix as it is, so only the bottom cut changes the mix.
        still_open = remaining[int(round((1 - share) * more)):]
        kept = n_open - more
        required = (target_accuracy * pool - human_accuracy * (n_human + more)) / kept
        hits, effective = reweighted_counts(conf, right, still_open)
        grown = effective * (m + share * more) / m  # the weighting's efficiency stays what it is now
        certified = precision_lower(hits / effective * grown, grown, bound_confidence, bound) if effective else 0.0
        if first is None:
            first = (required, certified, hits / effective if effective else 0.0)
        if required <= certified:
            return Forecast(more, n_open, *first)
    assert first is not None
    return Forecast(n_open, n_open, *first)
