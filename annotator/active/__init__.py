"""Active learning: query strategies, the fast classifier, diversity, cold start and ranking.

Plain typed functions on numpy arrays; no database, no UI, no torch.
"""

from annotator.active.classifier import LinearProbe, fit_classifier
from annotator.active.ranking import Ranking, rank_cold_start, rank_pool
from annotator.active.strategies import STRATEGIES, get_strategy

__all__ = ["STRATEGIES", "LinearProbe", "Ranking", "fit_classifier", "get_strategy", "rank_cold_start", "rank_pool"]
