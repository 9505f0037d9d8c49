"""The random calibration slice: 0.1 of the queue by default, 0.2 while a dataset target is set,
and whatever a project sets explicitly; a live project's queue follows a change at once."""

from __future__ import annotations

import pytest
from topic_data import TOPICS, topic_records

from annotator.core.schema import ProjectSettings


@pytest.mark.parametrize("given, share", [
    ({}, 0.1), ({"target_accuracy": 0.95}, 0.2), ({"explore_fraction": 0.05, "target_accuracy": 0.95}, 0.05),
    ({"explore_fraction": 0.3}, 0.3), ({"explore_fraction": 0.0, "target_accuracy": 0.9}, 0.0),
])
def test_random_share_follows_the_explicit_setting_else_the_target(given, share):
    assert ProjectSettings(**given).random_share == share


def test_the_default_dataset_bound_is_the_anytime_one():
    assert ProjectSettings().dataset_bound == "anytime"


def test_a_live_queue_takes_the_larger_slice_when_a_target_is_set(service):
    service.projects.create_project("p", list(TOPICS))
    service.imports.import_records("p", topic_records())
    pool = service.queue.pool("p")
    assert pool.explore_fraction == 0.1
    service.projects.update_project_settings("p", target_accuracy=0.95)
    assert pool.explore_fraction == 0.2
    service.projects.update_project_settings("p", explore_fraction=0.0)
    assert pool.explore_fraction == 0.0
