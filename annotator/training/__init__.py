"""Fine-tuning a transformer classifier on the project's labels, held-out evaluation and promotion.

- ``heldout``: the fixed held-out slice of human labels (by hash of item id and seed) and the
  paired test that decides promotion.
- ``trainer``: the ``TextTrainer`` seam with the real ``TransformerTrainer`` (torch/transformers,
  imported lazily) and ``RuleTrainer``, the in-package fake for tests.
- ``versions``: model version directories written atomically (temp dir, then rename).
- ``card`` / ``probe_export``: ``model export`` of a fine-tuned version (save_pretrained folder) and
  of the fast classifier or the preference judge (numpy weights, config, model card).
"""

from annotator.training.heldout import PromotionDecision, decide_promotion, heldout_mask
from annotator.training.trainer import FinetuneConfig, RuleTrainer, TextTrainer, TransformerTrainer
from annotator.training.versions import VersionDirs

__all__ = [
    "FinetuneConfig", "PromotionDecision", "RuleTrainer", "TextTrainer", "TransformerTrainer", "VersionDirs",
    "decide_promotion", "heldout_mask",
]
