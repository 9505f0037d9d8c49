"""An outside model's labels, imported as suggestions, answering like any AI annotator.

``import FILE --labels-as suggestion --agent NAME [--score-column COL]`` stores a model's labels;
``imported:NAME`` in an AI run turns them into a score matrix, so they are calibrated on the
people's labels, fused and routed with the other annotators. Items the model did not label get a
uniform row (no opinion): calibration and the router then never auto-accept them on its word.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from annotator.annotators.base import ItemBatch, LabelContext

#: Prefix of an imported agent's name in an annotator list: ``imported:mymodel``.
PREFIX = "imported:"


class ImportedSuggestions:
    """Look up each item's imported suggestion by its text.

    Args:
        agent: the agent name the suggestions were imported under.
        table: item text → (labels, score in [0, 1] or None) of the agent's newest suggestion.
    """

    version = "import"

    def __init__(self, agent: str, table: Mapping[str, tuple[Sequence[str], float | None]]):
        self.agent = agent
        self.name = PREFIX + agent
        self.table = dict(table)

    def predict_proba(self, batch: ItemBatch, context: LabelContext) -> np.ndarray:
        """(n, k): the suggested label gets its score (1.0 without one), the other labels share
        the rest evenly; an item without a suggestion (or with an unknown label) gets 1/k each."""
        k = context.n_labels
        column = {name: j for j, name in enumerate(context.label_names)}
        out = np.full((len(batch.texts), k), 1.0 / k, dtype=np.float64)
        for i, text in enumerate(batch.texts):
            found = self.table.get(text)
            if not found or not found[0] or found[0][0] not in column:
                continue
            score = 1.0 if found[1] is None else float(np.clip(found[1], 0.0, 1.0))
            out[i] = (1.0 - score) / (k - 1) if k > 1 else 1.0
            out[i, column[found[0][0]]] = score
        return out
