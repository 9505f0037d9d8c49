"""LLM scores cached in the database (``llm_score``): a re-run of the same prompts costs nothing."""

from __future__ import annotations

import pytest

from annotator.store.llm_cache import StoreLLMCache


def test_scores_round_trip_overwrite_and_delete(engine):
    cache = StoreLLMCache(engine)
    key = "SmolLM2|abcdef0123456789|" + "f" * 64
    assert cache.get(key) is None and len(cache) == 0
    cache[key] = [0.25, 0.75]
    assert cache[key] == [0.25, 0.75] and key in cache and list(cache) == [key]
    cache[key] = [0.5, 0.5]  # the last write wins, as in the JSONL cache
    assert StoreLLMCache(engine)[key] == [0.5, 0.5] and len(cache) == 1  # another process sees it
    del cache[key]
    assert key not in cache
    with pytest.raises(KeyError):
        del cache[key]


def test_the_service_gives_llm_annotators_the_database_cache(service):
    options = service.ai.llm_options(["knn", "llm-endpoint", "llm-local"])
    assert set(options) == {"llm-endpoint", "llm-local"}
    for opts in options.values():
        assert isinstance(opts["cache"], StoreLLMCache) and opts["cache"].engine is service.engine
