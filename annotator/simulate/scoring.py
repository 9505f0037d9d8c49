"""Score the labels a simulated project ends with against gold (for the report only: nothing in
the labelling loop reads gold except the simulated person)."""

from __future__ import annotations

from annotator.service import AnnotatorService


def count_final_labels(service: AnnotatorService, project: str, gold: dict[str, str]) -> dict[str, int]:
    """Counts over the project's final labels, read back through the store: ``human`` and ``auto``
    (AI-accepted) labels, ``correct`` among all of them and ``auto_correct`` among the auto ones.
    ``gold`` maps external id → gold label; items without a label are not counted."""
    correct = human = auto = auto_correct = 0
    for row in service.exports.final_labels(project):
        if not row["label"]:
            continue
        right = row["label"][0] == gold[row["external_id"]]
        is_auto = row["label_source"] == "agent"
        human += not is_auto
        auto += is_auto
        auto_correct += is_auto and right
        correct += right
    return {"correct": correct, "human": human, "auto": auto, "auto_correct": auto_correct}
