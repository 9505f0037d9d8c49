"""Active learning: query strategies, the fast classifier, diversity, cold start and ranking.

Plain typed functions on numpy arrays; no database, no UI, no torch.
"""

from annotator.active.classifier import LinearProbe, fit_classifier
from annotator.active.cold_start import cold_start_scores, coverage_order
from annotator.active.diversity import diverse_batch
from annotator.active.ranking import Ranking, rank_cold_start, rank_pool
from annotator.active.strategies import DEFAULT_STRATEGY, STRATEGIES, get_strategy

__all__ = [
    "DEFAULT_STRATEGY", "STRATEGIES", "LinearProbe", "Ranking", "cold_start_scores", "coverage_order",
    "diverse_batch", "fit_classifier", "get_strategy", "rank_cold_start", "rank_pool",
]
