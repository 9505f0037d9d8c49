"""The accuracy of the finished dataset: how many AI labels it can take, and how good it is.

People's labels are (nearly) right, so a dataset may hold some AI labels below the per-label
precision target and still reach a target accuracy as a whole: every human label "pays" for a
little AI error. Two plain functions:

- :func:`bin_precision` estimates the precision of the AI label per confidence bin from the
  human-labelled *random* items only (the random calibration slice of the queue, scored
  out of fold). Never from the active-learning picks (they over-represent hard items) and never
  from gold. Each bin gets an exact (Clopper–Pearson) interval at a Bonferroni-corrected level,
  so all bins' intervals hold *at once* with the stated confidence.
- :func:`choose_auto_set` extends the auto-accepted set, most confident first, while the lower
  bound of the whole pool's expected accuracy stays at or above the target. The auto items'
  precision is bounded on the random items of the *region* they fill (every random item at or
  above the cutoff), so the bound tightens as the region grows instead of paying a Bonferroni
  share per bin; the cutoffs are tried in a fixed order and the first one that fails ends the
  search (fixed-sequence testing), which keeps the bound's confidence without a correction.
- :func:`dataset_accuracy` states the expected accuracy of the labels a dataset has now
  (human + auto), with its interval, from the random items that fall in the auto region
  (widened to the next most confident ones for the lower bound when too few do).

Why the bound is a real bound. Let ``p_b`` be the precision of the AI label on pool items whose
fused confidence falls in bin ``b``. The random items in that bin are a random sample of those
items, so ``L_b`` (one-sided Clopper–Pearson at level ``alpha / B``) is below ``p_b`` with
probability ≥ 1 − alpha / B; by the union (Bonferroni) bound every ``L_b ≤ p_b`` at once with
probability ≥ 1 − alpha. On that event, for *any* set ``S`` of auto items (also one chosen by
looking at the ``L_b``) the expected accuracy
``(h · (N − |S|) + Σ_{i∈S} p_{b(i)}) / N`` is at least the same sum with ``L_b`` in place of
``p_b``. The region rule: for a cutoff ``c`` the random items at or above ``c`` are a random
sample of the pool's items there, so their one-sided Clopper–Pearson bound ``L(c)`` is below the
region's precision with probability ≥ 1 − alpha; the null "the pool with the region auto misses
the target" is rejected when the bound with ``L(c)`` reaches it. Testing the cutoffs in an order
fixed by the pool's confidences alone, and stopping at the first that is not rejected, keeps the
chance of accepting any wrong one at ≤ alpha (fixed-sequence testing). Assumptions, stated rather than hidden: people's labels are right with probability
``h`` (``human_accuracy``, 1.0 by default: set e.g. 0.99 where people disagree with each other);
the calibration items' out-of-fold confidences stand in for the full ensemble's (the full
ensemble, trained on more labels, is if anything better, so this errs careful); the random items
are a sample of the whole pool while the auto items are what active learning left, which sits
higher in confidence, so the region's random items are reweighted to the auto items' confidence
mix (``reweighted_counts``: within a confidence stratum, a random item stands for an auto one);
the bound is on the *expected* accuracy: the realised one scatters around it by the binomial noise of the auto
items (small once a bin holds more than a few dozen auto items; the stated interval includes it).
Each AI run re-estimates the bins on a random sample that has grown since the last run, and a
project labels until the run whose auto set covers the rest, so the runs are repeated looks at one
growing sample: with ``bound="clopper-pearson"`` each look is exact on its own and the looks are
not corrected for; ``bound="anytime"`` (a confidence sequence, ``anytime_lower``) holds over all
looks at once, at the cost of a wider bound.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from annotator.routing.audit import clopper_pearson

#: Random calibration items per confidence bin (about): more bins follow the confidence more
#: closely but pay a larger Bonferroni correction.
ITEMS_PER_BIN = 40
MAX_BINS = 4
#: Fewer random calibration items than this: no per-bin estimate at all.
MIN_RANDOM_ITEMS = 10
#: Random items the dataset estimate's lower bound is measured on, at least (``widen_region``).
MIN_REGION_ITEMS = 20


@dataclass(frozen=True)
class BinPrecision:
    """Per confidence bin: the AI label's precision on the random calibration items.

    Attributes:
        edges: (B − 1,) interior confidence edges, ascending; bin ``b`` holds confidences in
            ``[edges[b − 1], edges[b])`` (the outer bins are open-ended).
        hits: (B,) random items in the bin whose AI label (out of fold) equals the human label.
        n: (B,) random items in the bin.
        lower: (B,) one-sided lower bound of each bin's precision, simultaneous over the bins at
            ``confidence`` (used for routing).
        confidence: the simultaneous one-sided confidence of ``lower`` (e.g. 0.9).
    """

    edges: np.ndarray
    hits: np.ndarray
    n: np.ndarray
    lower: np.ndarray
    confidence: float
    #: (m,) the random items' confidences and (m,) whether their AI label was right, for the
    #: region bound of ``choose_auto_set``; None: per-bin bounds only.
    sample_confidence: np.ndarray | None = None
    sample_correct: np.ndarray | None = None
    #: How the region's lower bound is computed (``precision_lower``).
    bound: str = "clopper-pearson"

    @property
    def n_bins(self) -> int:
        return len(self.n)

    def bin_of(self, confidence: np.ndarray) -> np.ndarray:
        """(n,) bin index of each confidence in (n,)."""
        return np.searchsorted(self.edges, confidence, side="right")

    def interval(self, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """(B,) lower and (B,) upper two-sided bounds per bin, simultaneous over the bins."""
        level = 1 - (1 - confidence) / self.n_bins
        bounds = [clopper_pearson(int(h), int(t), level) for h, t in zip(self.hits, self.n)]
        return np.array([b[0] for b in bounds]), np.array([b[1] for b in bounds])

    def region_lower(self, cutoff: float, target_confidence: np.ndarray | None = None) -> float | None:
        """One-sided lower bound (at ``confidence``) of the precision of the items at or above
        ``cutoff``, from the random items there, reweighted to the confidences of the items the
        bound is for (``target_confidence`` (t,), ``reweighted_counts``; None: not reweighted).
        None without the random items themselves."""
        if self.sample_confidence is None or self.sample_correct is None:
            return None
        inside = self.sample_confidence >= cutoff
        right, items = reweighted_counts(self.sample_confidence[inside], self.sample_correct[inside], target_confidence)
        return precision_lower(right, items, self.confidence, self.bound)

    def as_dict(self) -> dict:
        return {"edges": [round(float(e), 4) for e in self.edges], "hits": self.hits.tolist(),
                "n": self.n.tolist(), "lower": [round(float(v), 4) for v in self.lower],
                "confidence": self.confidence, "bound": self.bound}


#: Random items per confidence stratum of ``reweighted_counts`` (at least), and at most this many strata.
ITEMS_PER_STRATUM = 30
MAX_STRATA = 5
#: Normal quantile of the predicted bound that chooses the number of strata (one-sided 95 %).
_STRATA_Z = 1.645


def reweighted_counts(sample_confidence: np.ndarray, sample_correct: np.ndarray,
                      target_confidence: np.ndarray | None) -> tuple[float, float]:
    """(right, items) of random items, reweighted to the confidences of the items they measure.

    The random items that fall in a region come from the whole pool, while the items the region's
    labels are for are what active learning left unlabelled, which sits higher in confidence; the
    plain share of right answers then measures a harder mix than the labels it is for. Post-
    stratification fixes the mix: strata are quantiles of the random items' confidences, stratum
    ``b`` gets the share ``w_b`` of the target items that fall in it, and the precision is
    ``p = Σ_b w_b · right_b / n_b``. Its weighting costs sample: the counts returned are Kish's
    effective sample ``n_eff = 1 / Σ_b w_b² / n_b`` (at most the random items, equal to it when the
    mixes agree) and ``p · n_eff`` right, which the exact and anytime bounds then take as they take
    plain counts (as survey intervals do).

    More strata follow the mix more closely and cost more sample. The number (1 to ``MAX_STRATA``,
    at least ``ITEMS_PER_STRATUM`` random items each) is the one whose normal lower bound is highest
    when each item's confidence stands in for whether it is right: chosen from the confidences
    alone, never from the outcomes, so the bound stays a bound (the fused score is calibrated, so
    the stand-in is fair).

    Args:
        sample_confidence: (m,) out-of-fold confidences of the random items; sample_correct: (m,) bool.
        target_confidence: (t,) confidences of the items measured; None or empty: no reweighting.
    Returns:
        (right, items) as floats; (0, 0) without random items.
    """
    conf = np.asarray(sample_confidence, dtype=np.float64)
    right = np.asarray(sample_correct, dtype=bool)
    m = len(conf)
    if m == 0:
        return 0.0, 0.0
    most = min(MAX_STRATA, m // ITEMS_PER_STRATUM)
    if target_confidence is None or len(target_confidence) == 0 or most < 2:
        return float(right.sum()), float(m)
    target = np.asarray(target_confidence, dtype=np.float64)
    best: tuple[float, tuple[float, float]] = (-np.inf, (float(right.sum()), float(m)))
    for strata in range(1, most + 1):
        edges = np.unique(np.quantile(conf, np.arange(1, strata) / strata))
        which = np.searchsorted(edges, conf, side="right")
        n = np.bincount(which, minlength=len(edges) + 1).astype(np.float64)
        weight = np.bincount(np.searchsorted(edges, target, side="right"), minlength=len(edges) + 1) / len(target)
        if (weight[n == 0] > 0).any():  # ties left a stratum without random items: no fair reweighting
            continue
        used = n > 0
        n_eff = float(1.0 / np.sum(weight[used] ** 2 / n[used]))
        expected = float(np.sum(weight[used] * np.bincount(which, weights=conf, minlength=len(n))[used] / n[used]))
        score = expected - _STRATA_Z * np.sqrt(max(expected * (1 - expected), 1e-6) / n_eff)
        if score > best[0]:
            if right.all():
                counts = (n_eff, n_eff)
            else:
                hits = np.bincount(which, weights=right.astype(np.float64), minlength=len(n))
                counts = (float(np.sum(weight[used] * hits[used] / n[used])) * n_eff, n_eff)
            best = (score, counts)
    return best[1]


def bin_precision(confidence: np.ndarray, correct: np.ndarray, *, bound_confidence: float = 0.9,
                  n_bins: int | None = None, bound: str = "clopper-pearson") -> BinPrecision | None:
    """Per-bin precision of the AI label on the random calibration items.

    Args:
        confidence: (m,) out-of-fold fused confidence (max probability) of each random item.
        correct: (m,) bool, its out-of-fold AI label equals the person's label.
        bound_confidence: simultaneous one-sided confidence of ``lower``.
        n_bins: bins of equal count (quantiles of ``confidence``, never of ``correct``, so the
            bins do not peek at the outcomes); None: about ``ITEMS_PER_BIN`` items each, at most
            ``MAX_BINS``.
        bound: ``clopper-pearson`` or ``anytime`` (``precision_lower``), for the bins and the region.

    Returns:
        None when there are fewer than ``MIN_RANDOM_ITEMS`` random items.
    """
    confidence, correct = np.asarray(confidence, dtype=np.float64), np.asarray(correct, dtype=bool)
    m = len(confidence)
    if m < MIN_RANDOM_ITEMS:
        return None
    b = n_bins or int(np.clip(m // ITEMS_PER_BIN, 1, MAX_BINS))
    edges = np.unique(np.quantile(confidence, np.arange(1, b) / b)) if b > 1 else np.zeros(0)
    which = np.searchsorted(edges, confidence, side="right")
    k = len(edges) + 1
    hits = np.bincount(which, weights=correct, minlength=k).astype(np.int64)
    n = np.bincount(which, minlength=k).astype(np.int64)
    # one-sided at alpha / k per bin (Bonferroni)
    level = 1 - (1 - bound_confidence) / k
    lower = np.array([precision_lower(int(h), int(t), level, bound) for h, t in zip(hits, n)])
    return BinPrecision(edges=edges, hits=hits, n=n, lower=lower, confidence=bound_confidence,
                        sample_confidence=confidence, sample_correct=correct, bound=bound)



def choose_auto_set(confidence: np.ndarray, already_auto: np.ndarray, eligible: np.ndarray, bins: BinPrecision, *,
                    pool_size: int, target_accuracy: float, human_accuracy: float = 1.0) -> np.ndarray:
    """(n,) bool: the auto-accepted items, extended as far as the dataset target allows.

    The finished pool has ``pool_size`` items: the auto ones, and people label all the others
    (those labelled already and every unlabelled item not auto). Candidates join most confident
    first, in steps of about 1 % of them (``SEARCH_STEPS``); a step's set ``S`` passes when

        (human_accuracy · (pool_size − |S|) + Σ_{i∈S} low_i) / pool_size ≥ target_accuracy,

    where ``low_i`` is the region bound ``bins.region_lower(cutoff, …)`` for the items at or above the
    step's cutoff (its random items reweighted to the confidences of the set's items there) and
    the per-bin bound for items already auto below it (without the random items themselves, the
    per-bin bound everywhere). The search stops at the first step that fails
    (fixed-sequence testing: the steps' order comes from the confidences alone) and keeps the last
    one that passed. Items already auto stay auto (they hold the per-label precision target on
    their own) and their bound counts; if they alone miss the target, nothing is added.

    Args:
        confidence: (n,) fused confidence of the unlabelled items.
        already_auto: (n,) bool, auto by the per-label precision rule.
        eligible: (n,) bool, items that may be added (e.g. not vetoed by the judge).
        pool_size: items in the whole pool, labelled ones included (≥ n).
    """
    confidence = np.asarray(confidence, dtype=np.float64)
    auto = np.asarray(already_auto, dtype=bool).copy()
    if pool_size <= 0 or len(confidence) == 0:
        return auto
    per_bin = bins.lower[bins.bin_of(confidence)]
    candidates = np.flatnonzero(np.asarray(eligible, dtype=bool) & ~auto)
    candidates = candidates[np.argsort(-confidence[candidates], kind="stable")]
    taken = 0
    for size in _steps(len(candidates)):
        chosen = auto.copy()
        chosen[candidates[:size]] = True
        cutoff = float(confidence[candidates[size - 1]])
        low = per_bin.copy()
        above = confidence >= cutoff
        region = bins.region_lower(cutoff, confidence[above & chosen])
        if region is not None:
            low[above] = region
        bound = (human_accuracy * (pool_size - chosen.sum()) + low[chosen].sum()) / pool_size
        if bound < target_accuracy - 1e-12:
            break
        taken = size
    auto[candidates[:taken]] = True
    return auto


#: Steps of the auto-set search: about this many, evenly spaced over the candidates.
SEARCH_STEPS = 100


def _steps(n: int) -> list[int]:
    """Set sizes the search tries, ascending: every ``ceil(n / SEARCH_STEPS)`` candidates and n."""
    if n <= 0:
        return []
    step = max(1, -(-n // SEARCH_STEPS))
    return sorted({*range(step, n + 1, step), n})


@dataclass(frozen=True)
class DatasetAccuracy:
    """Expected accuracy of the labels a dataset holds (human + auto), with a two-sided interval.

    ``value`` is None when auto labels exist but no random calibration item measures them
    (then the interval is the trivial one: every auto label right or wrong)."""

    value: float | None
    ci_low: float
    ci_high: float
    human: int
    auto: int
    human_accuracy: float
    confidence: float
    measured_on: int  # random calibration items in the auto region

    def as_dict(self) -> dict:
        return {"value": self.value, "ci_low": self.ci_low, "ci_high": self.ci_high, "human": self.human,
                "auto": self.auto, "human_accuracy": self.human_accuracy, "confidence": self.confidence,
                "measured_on": self.measured_on}


def dataset_accuracy(n_human: int, n_auto: int, region: tuple[float, float], floor: tuple[float, float] | None = None,
                     *, human_accuracy: float = 1.0, confidence: float = 0.95, bound: str = "clopper-pearson",
                     measured_on: int | None = None) -> DatasetAccuracy | None:
    """The accuracy of ``n_human`` human labels and ``n_auto`` auto labels, with its interval.

    The auto labels' precision is measured on random calibration items (the random slice of the
    queue, out of fold; not the audits, drawn from an earlier auto set), as (right, items):

    - ``region``: those the router's rule would have sent auto (``auto_region``). They are a
      random sample of the auto region, so their exact (Clopper–Pearson) upper bound holds.
    - ``floor``: ``region`` widened to the most confident random items until it holds enough of
      them (``widen_region``); None: the same as ``region``. Its lower bound (``precision_lower``
      with ``bound``) is a lower bound of the region's precision as long as precision does not
      fall with confidence (the fused score is calibrated for this), and it gives the point value.

    The per-bin figures are not used here because the auto items fill the *top* of the lowest
    bin they reach, where the bin's average understates them. Each bound is one-sided at
    ``(1 − confidence) / 2``, so both hold at once with ≥ ``confidence``.

    The interval is for the labels the dataset *has*, not only for their expected accuracy: given
    the precision, how many of the ``n_auto`` labels are right still scatters binomially, and that
    scatter (its ``z``-quantile, ``z`` the normal one at the bound's level) is added to the
    precision's margin in quadrature (the sum of two independent errors). Interval:
    ``(h · n_human + [n_auto · p̂ − margin_low, n_auto · p̂ + margin_high]) / (n_human + n_auto)``,
    clipped to what ``n_auto`` labels allow and rounded outward. None when the dataset holds no label.

    The counts may be effective ones (``reweighted_counts``, floats); ``measured_on`` is then the
    number of random items behind ``floor`` (default ``floor``'s items).
    """
    from scipy.stats import norm

    total = n_human + n_auto
    if total == 0:
        return None
    human = human_accuracy * n_human
    floor = floor or region
    if n_auto == 0 or floor[1] == 0:
        value = None if n_auto else round(human / total, 4)
        return DatasetAccuracy(value, round(human / total, 4), round((human + n_auto) / total, 4), n_human, n_auto,
                               human_accuracy, confidence, int(floor[1]) if measured_on is None else measured_on)
    z = float(norm.ppf((1 + confidence) / 2))
    low_p, point = precision_lower(floor[0], floor[1], (1 + confidence) / 2, bound), floor[0] / floor[1]
    low = n_auto * point - _in_quadrature(n_auto * (point - low_p), z, n_auto, low_p)
    if region[1]:
        high_p, top = clopper_pearson(region[0], region[1], confidence)[1], region[0] / region[1]
        high = n_auto * top + _in_quadrature(n_auto * (high_p - top), z, n_auto, high_p)
    else:
        high = n_auto
    low, high = max(0.0, low), min(float(n_auto), high)
    return DatasetAccuracy(
        value=round((human + n_auto * point) / total, 4),
        # rounded outward, so the stated interval is never narrower than the computed one
        ci_low=float(np.floor((human + low) / total * 1e4) / 1e4),
        ci_high=float(np.ceil((human + high) / total * 1e4) / 1e4),
        human=n_human, auto=n_auto, human_accuracy=human_accuracy, confidence=confidence,
        measured_on=int(round(floor[1])) if measured_on is None else measured_on)


def _in_quadrature(precision_margin: float, z: float, n: int, p: float) -> float:
    """Margin (in labels) of ``n`` labels' right count: the precision's ``precision_margin`` and the
    binomial scatter ``z · sqrt(n · p · (1 − p))`` of ``n`` labels right with probability ``p``."""
    return float(np.hypot(max(precision_margin, 0.0), z * np.sqrt(n * p * (1 - p))))


def precision_lower(successes: float, trials: float, confidence: float, bound: str = "clopper-pearson") -> float:
    """One-sided lower confidence bound of a proportion at ``confidence`` (e.g. 0.95).

    ``bound``: ``clopper-pearson``, exact for one look at a fixed sample; ``anytime``, valid at
    every sample size at once (a confidence sequence), so it stays a bound when the same growing
    sample is looked at again and again and the looks decide when to stop. The counts may be
    effective (fractional) ones (``reweighted_counts``).
    """
    if bound == "clopper-pearson":
        # the two-sided interval at 2·c − 1 has a one-sided lower tail at c
        return clopper_pearson(successes, trials, 2 * confidence - 1)[0]
    if bound == "anytime":
        return anytime_lower(successes, trials, 1 - confidence)
    raise ValueError(f"unknown bound {bound!r}: expected clopper-pearson or anytime")


def anytime_lower(successes: float, trials: float, alpha: float) -> float:
    """Lower end of a one-sided ``1 − alpha`` confidence sequence for a Bernoulli mean.

    The mixture martingale of Robbins: for a candidate ``p0`` the likelihood ratio of the data under
    ``p`` against ``p0``, averaged over ``p`` uniform on ``(p0, 1]``, is a nonnegative
    supermartingale under any mean ≤ ``p0``, so by Ville's inequality it ever exceeds ``1 / alpha``
    with probability ≤ ``alpha``. The bound is the smallest ``p0`` it has not exceeded it for.
    """
    from scipy.optimize import brentq
    from scipy.special import betaln
    from scipy.stats import beta

    if trials == 0 or successes == 0:
        return 0.0
    k, n = successes, trials
    threshold = np.log(1 / alpha)
    log_mixture = betaln(k + 1, n - k + 1)

    def excess(p0: float) -> float:
        # log of the averaged likelihood ratio, minus log(1 / alpha)
        numerator = log_mixture + beta.logsf(p0, k + 1, n - k + 1)
        return numerator - np.log1p(-p0) - k * np.log(p0) - (n - k) * np.log1p(-p0) - threshold

    low, high = 1e-9, min(k / n, 1 - 1e-12)
    if excess(low) < 0:
        return 0.0
    if excess(high) >= 0:
        return float(high)
    return float(brentq(excess, low, high, xtol=1e-7))


def widen_region(region: np.ndarray, confidence: np.ndarray, min_items: int = MIN_REGION_ITEMS) -> np.ndarray:
    """(m,) bool: ``region`` (m,), plus the most confident of the random items (``confidence``
    (m,)) until at least ``min_items`` are in it (all of them if there are fewer). Chosen from the
    confidences only, never from whether the AI was right, so the lower bound stays a bound."""
    if region.sum() >= min_items or len(confidence) == 0:
        return region
    cut = np.sort(confidence)[::-1][min(min_items, len(confidence)) - 1]
    return region | (confidence >= cut)


def auto_region(pred: np.ndarray, confidence: np.ndarray, thresholds: np.ndarray, cutoff: float) -> np.ndarray:
    """(m,) bool: items with predicted label ``pred`` (m,) and ``confidence`` (m,) that the router
    sends auto: at or above their label's threshold (``thresholds`` (k,)) or the dataset rule's
    ``cutoff`` (inf when that rule added nothing)."""
    return confidence >= np.minimum(thresholds[pred], cutoff)


def dataset_cutoff(confidence: np.ndarray, auto: np.ndarray, label: np.ndarray, thresholds: np.ndarray) -> float:
    """The lowest confidence the dataset rule accepted: among ``auto`` (n,) items, those below their
    own label's threshold; inf when there are none."""
    added = auto & (confidence < thresholds[label])
    return float(confidence[added].min()) if added.any() else float("inf")
