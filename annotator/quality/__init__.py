"""Label quality: human labels that the out-of-fold models confidently contradict (confident learning)."""

from annotator.quality.suspects import Suspect, find_suspects, out_of_fold_proba

__all__ = ["Suspect", "find_suspects", "out_of_fold_proba"]
