"""Measured quality: the precision of auto-accepted labels, estimated from blind audits."""

from __future__ import annotations

from dataclasses import dataclass


def clopper_pearson(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact two-sided binomial interval (lower, upper) for a proportion."""
    from scipy.stats import beta

    if trials == 0:
        return 0.0, 1.0
    alpha = 1 - confidence
    lower = 0.0 if successes == 0 else float(beta.ppf(alpha / 2, successes, trials - successes + 1))
    upper = 1.0 if successes == trials else float(beta.ppf(1 - alpha / 2, successes + 1, trials - successes))
    return lower, upper


@dataclass(frozen=True)
class PrecisionEstimate:
    value: float | None
    ci_low: float | None
    ci_high: float | None
    audits: int

    def as_dict(self) -> dict:
        return {"value": self.value, "ci_low": self.ci_low, "ci_high": self.ci_high, "audits": self.audits}


def estimate_precision(agreements: list[bool], confidence: float = 0.95) -> PrecisionEstimate:
    """From audits: each entry says whether the person's blind answer matched the AI label."""
    n = len(agreements)
    if n == 0:
        return PrecisionEstimate(None, None, None, 0)
    k = sum(agreements)
    low, high = clopper_pearson(k, n, confidence)
    return PrecisionEstimate(round(k / n, 4), round(low, 4), round(high, 4), n)
