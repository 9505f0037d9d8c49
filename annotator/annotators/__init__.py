"""AI annotators on the cached embeddings, and the plug-in seam every annotator implements.

The registry by name lives in ``annotator.annotators.registry`` (it also reaches the LLM annotators).
"""

from annotator.annotators.base import AIAnnotator, ItemBatch, LabelContext
from annotator.annotators.embedding_based import ClassifierAnnotator, KnnAnnotator, ZeroShotAnnotator

__all__ = ["AIAnnotator", "ClassifierAnnotator", "ItemBatch", "KnnAnnotator", "LabelContext", "ZeroShotAnnotator"]
