"""Every post-training task type behind the one TaskKind protocol, chosen from a dict."""

from __future__ import annotations

import pytest

from annotator.core.errors import ValidationError
from annotator.tasks import TASK_KINDS, TASKS, TaskForm, TaskItem, shown_order, task_kind

META = {"response": "Paris is in Spain.", "response_a": "first", "response_b": "second"}


def _item(user: str = "ana", item_id: int = 7) -> TaskItem:
    return TaskItem(item_id=item_id, user=user, seed=3, meta=META, criteria=("helpfulness", "correctness"),
                    scale=(1, 5))


def test_every_task_type_has_a_kind_with_its_own_definition():
    assert set(TASK_KINDS) == set(TASKS)
    for name, kind in TASK_KINDS.items():
        assert kind.definition.name == name and task_kind(name) is kind


def test_a_classification_project_is_not_a_task_kind():
    with pytest.raises(ValidationError, match="not a post-training task type"):
        task_kind("single_label")


@pytest.mark.parametrize("user", ["ana", "ben", "cy", "dan"])
def test_preference_lays_out_and_reads_back_in_the_same_seeded_order(user):
    kind, item = task_kind("preference"), _item(user)
    shown = kind.lay_out(item)
    assert shown["shown_order"] == shown_order(3, 7, user)
    assert {shown["left"], shown["right"]} == {"first", "second"}
    verdict = kind.answer(TaskForm(choice="left"), item).value
    assert verdict == (["A"] if shown["left"] == "first" else ["B"])


def test_rating_needs_every_criterion_and_correction_keeps_the_diff():
    rating, item = task_kind("rating"), _item()
    assert rating.lay_out(item)["criteria"] == ["helpfulness", "correctness"]
    with pytest.raises(ValidationError, match="correctness"):
        rating.answer(TaskForm(ratings={"helpfulness": 4}), item)
    assert rating.answer(TaskForm(ratings={"helpfulness": 4, "correctness": "2"}), item).value == [
        "helpfulness=4", "correctness=2"]
    fixed = task_kind("correction").answer(TaskForm(edited="Paris is in France."), item)
    assert fixed.value == ["edited"] and "+Paris is in France." in fixed.payload["diff"]
    assert task_kind("correction").answer(TaskForm(edited=" Paris is in Spain. "), item).value == ["unchanged"]
