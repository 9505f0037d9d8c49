"""EndpointLLMAnnotator against a fake OpenAI-compatible server: logprob and vote strategies, the
cache (a re-run sends no request), and one clear EndpointError for every way an endpoint fails."""

from __future__ import annotations


import numpy as np
import pytest
from fake_openai import MODEL, FakeOpenAI

from annotator.annotators.registry import make_annotators
from annotator.core.errors import ConfigError, EndpointError
from annotator.llm.cache import JsonlCache
from annotator.llm.answers import label_probs_from_top_logprobs, parse_label, variant_template, vote_probs
from annotator.llm.endpoint import EndpointLLMAnnotator

LABELS = ["positive", "negative"]


def _annotator(url: str, **kwargs) -> EndpointLLMAnnotator:  # noqa: ANN003
    kwargs.setdefault("max_retries", 0)
    kwargs.setdefault("timeout_s", 5.0)
    return EndpointLLMAnnotator(base_url=url, model=MODEL, **kwargs)


# ------------------------------------------------------------------------ parsing, pure functions


def test_top_tokens_map_onto_each_labels_first_token():
    p = label_probs_from_top_logprobs({" positive": -0.1, " Positive": -3.0, " neg": -2.5, "\n": -4.0}, LABELS)
    expected_pos = np.exp(-0.1) + np.exp(-3.0)
    assert p == pytest.approx([expected_pos / (expected_pos + np.exp(-2.5)), np.exp(-2.5) / (expected_pos + np.exp(-2.5))])
    # a prefix two labels share splits its mass; a label absent from the top N gets a small floor
    p3 = label_probs_from_top_logprobs({" ne": np.log(0.8), " pos": np.log(0.1)}, ["negative", "neutral", "positive"])
    assert p3 == pytest.approx([0.4 / 0.9, 0.4 / 0.9, 0.1 / 0.9])
    p_floor = label_probs_from_top_logprobs({" positive": np.log(0.9), " the": np.log(0.05)}, LABELS)
    assert 0 < p_floor[1] <= 0.025 / (0.9 + 0.025) + 1e-9
    assert label_probs_from_top_logprobs({"qqq": -0.1, "\n": -1.0}, LABELS) is None
    assert label_probs_from_top_logprobs({"Ġpositive": -0.2, "Ġnegative": -1.7}, LABELS).argmax() == 0  # raw BPE marks


@pytest.mark.parametrize(("answer", "expected"), [
    ("positive", 0), (" Negative.", 1), ("Label: positive", 0), ("positive\nbecause it is nice", 0),
    ("I would say negative here", 1), ("positive or negative", None), ("no idea", None), ("", None),
    ("positively", None),
])
def test_free_text_answers_parse_to_a_label_or_none(answer, expected):
    assert parse_label(answer, LABELS) == expected


def test_vote_shares_are_smoothed_probabilities():
    p = vote_probs([0, 0, 0, 1, None], 2)
    assert p == pytest.approx([(3 + 0.1) / 4.2, (1 + 0.1) / 4.2])
    assert vote_probs([None, None], 2) is None


def test_variant_templates_paraphrase_only_the_instruction():
    template = "Classify each text into exactly one of these labels: {label_names}.\n{label_lines}\n\n{demos}Text: {text}\nLabel:"
    assert variant_template(template, 0) == template
    v1 = variant_template(template, 1)
    assert v1 != template and v1.split("\n", 1)[1] == template.split("\n", 1)[1] and "{label_names}" in v1


def test_bad_settings_are_config_errors():
    with pytest.raises(ConfigError, match="mode"):
        EndpointLLMAnnotator(mode="telepathy")
    with pytest.raises(ConfigError, match="not an http"):
        EndpointLLMAnnotator(base_url="localhost:8001")
    assert EndpointLLMAnnotator(base_url="http://127.0.0.1:8001/").base_url == "http://127.0.0.1:8001/v1"


def test_registry_builds_it_and_version_names_model_and_prompt():
    (ann,) = make_annotators("llm-endpoint", **{"llm-endpoint": {"base_url": "http://127.0.0.1:9/v1", "model": "m"}})
    assert isinstance(ann, EndpointLLMAnnotator) and ann.name == "llm-endpoint"
    assert ann.version == f"m@{ann.prompt_sha[:8]}"


# ----------------------------------------------------------------------------- the strategies


def test_completions_logprobs_give_the_labels_and_calibrated_margins(fake_server, batch, context, gold):
    ann = _annotator(fake_server.base_url)
    proba = ann.predict_proba(batch, context)
    assert proba.shape == (12, 2) and np.allclose(proba.sum(1), 1)
    assert (proba.argmax(1) == gold).all()
    top = np.exp(-0.1) / (np.exp(-0.1) + np.exp(-2.5))
    assert proba.max(1) == pytest.approx(np.full(12, top), abs=1e-5)
    assert ann.strategy == "completions-logprobs"
    assert fake_server.paths() == ["/v1/completions"] * 12
    body = fake_server.requests[0][2]
    assert body["logprobs"] == 20 and body["max_tokens"] == 1 and body["prompt"].endswith("Label:")


def test_the_prompt_is_llm_locals_prompt(fake_server, batch, context):
    """Same template, same kNN demos: an endpoint serving the local model sees what llm-local scores."""
    from annotator.llm.prompts import PromptBuilder, load_template

    _annotator(fake_server.base_url, max_workers=1).predict_proba(batch, context)
    expected = PromptBuilder(load_template()).build(batch.texts, batch.embeddings, context)
    assert [body["prompt"] for _, _, body in fake_server.requests] == expected


def test_a_rerun_hits_the_cache_and_sends_no_request(fake_server, batch, context, tmp_path):
    path = tmp_path / "llm-endpoint.jsonl"
    first = _annotator(fake_server.base_url, cache=JsonlCache(path)).predict_proba(batch, context)
    sent = len(fake_server.requests)
    assert sent == 12
    # a new process: a fresh annotator reading the same cache file
    again = _annotator(fake_server.base_url, cache=JsonlCache(path))
    second = again.predict_proba(batch, context)
    assert len(fake_server.requests) == sent  # zero HTTP requests, not even a probe or GET /models
    assert np.array_equal(first, second) and again.stats["cached"] == 12 and again.stats["requests"] == 0
    assert again.strategy == "completions-logprobs"  # learned from the cache


def test_a_changed_context_is_not_served_from_the_cache(fake_server, batch, context):
    ann = _annotator(fake_server.base_url)
    ann.predict_proba(batch, context)
    fewer = type(context)(label_names=context.label_names, texts=context.texts[:4], embeddings=context.embeddings[:4],
                          labels=context.labels[:4])
    ann.predict_proba(batch, fewer)  # other demonstrations → other prompts → new requests
    assert len(fake_server.requests) == 24


@pytest.mark.parametrize("fake_server", ["chat-only"], indirect=True)
def test_a_chat_only_server_gets_chat_completions_with_logprobs(fake_server, batch, context, gold):
    ann = _annotator(fake_server.base_url)
    proba = ann.predict_proba(batch, context)
    assert (proba.argmax(1) == gold).all() and ann.strategy == "chat-logprobs"
    assert fake_server.paths() == ["/v1/completions"] + ["/v1/chat/completions"] * 12  # one failed probe
    body = fake_server.requests[1][2]
    assert body["logprobs"] is True and body["top_logprobs"] == 20 and body["max_tokens"] == 1
    assert body["messages"][-1]["content"].endswith("Label:")


@pytest.mark.parametrize("fake_server", ["no-logprobs"], indirect=True)
def test_without_logprobs_the_variants_vote(fake_server, batch, context, gold):
    ann = _annotator(fake_server.base_url, n_variants=5)
    proba = ann.predict_proba(batch, context)
    assert ann.strategy == "completions-vote"
    assert (proba.argmax(1) == gold).all()
    # the fake model answers "negative" to one paraphrase of five: positives are 4/5, negatives 5/5
    positive = gold == 0
    assert proba[positive, 0] == pytest.approx((4 + 0.1) / (5 + 0.2))
    assert proba[~positive, 1] == pytest.approx((5 + 0.1) / (5 + 0.2))
    entropy = -(proba * np.log(proba)).sum(1)
    assert entropy[positive].min() > entropy[~positive].max()  # disagreement = uncertainty
    # two logprobs probes (completions, then chat) that came back without logprobs, then 5 variants per item
    assert fake_server.paths()[:2] == ["/v1/completions", "/v1/chat/completions"]
    assert fake_server.paths()[2:] == ["/v1/completions"] * (5 * 12)
    prompts = [body["prompt"] for _, _, body in fake_server.requests[2:7]]
    assert len(set(prompts)) == 5 and all(body["temperature"] == 0 for _, _, body in fake_server.requests)


@pytest.mark.parametrize("fake_server", ["no-logprobs"], indirect=True)
def test_vote_rows_are_cached_too(fake_server, batch, context):
    cache: dict = {}
    _annotator(fake_server.base_url, mode="vote", n_variants=3, cache=cache).predict_proba(batch, context)
    sent = len(fake_server.requests)
    assert sent == 3 * 12 and len(cache) == 12
    _annotator(fake_server.base_url, mode="vote", n_variants=3, cache=cache).predict_proba(batch, context)
    assert len(fake_server.requests) == sent


def test_progress_and_estimate(fake_server, batch, context):
    seen: list[tuple[int, int]] = []
    ann = _annotator(fake_server.base_url, on_progress=lambda d, t: seen.append((d, t)), usd_per_1m_tokens=2.0)
    before = ann.estimate(100)
    assert before["seconds"] == pytest.approx(100 * 1.0 / 4) and before["usd"] == pytest.approx(100 * 501 * 2 / 1e6)
    assert EndpointLLMAnnotator(base_url=fake_server.base_url).estimate(10)["usd"] is None  # no price: unknown
    assert ann.uncached(batch, context) == 12 and len(fake_server.requests) == 0  # counting sends nothing
    ann.predict_proba(batch, context)
    assert ann.uncached(batch, context) == 0  # every prompt answered is now in the cache
    assert seen[-1] == (12, 12) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    after = ann.estimate(100)
    tokens_per_request = ann.stats["tokens"] / ann.stats["requests"]
    assert after["usd"] == pytest.approx(100 * tokens_per_request * 2 / 1e6, abs=1e-4)
    assert 0 < after["seconds"] < 100  # measured on a local fake: far under a second per item


# ------------------------------------------------------------------------------------- failures


def _fails(url: str, batch, context, **kwargs) -> EndpointError:  # noqa: ANN001, ANN003
    cache: dict = {}
    with pytest.raises(EndpointError) as info:
        _annotator(url, cache=cache, **kwargs).predict_proba(batch, context)
    err = info.value
    assert err.expected and err.got and err.fix  # what was expected, what came, how to fix it
    assert cache == {}  # nothing half-done is remembered as an answer
    return err


def test_nothing_listening_is_a_clear_error(closed_port, batch, context):
    err = _fails(f"http://127.0.0.1:{closed_port}/v1", batch, context)
    assert "Cannot reach the LLM endpoint" in err.what and "llm-server" in err.fix


def test_a_server_slower_than_the_timeout_is_a_clear_error(batch, context):
    with FakeOpenAI("slow", delay_s=2.0) as server:
        err = _fails(server.base_url, batch, context, timeout_s=0.5)
    assert "did not answer within 0.5 s" in err.what and "--llm-timeout" in err.fix


@pytest.mark.parametrize(("behavior", "what", "fix"), [
    ("garbage-body", "not an OpenAI completions response", "OpenAI-compatible server"),
    ("garbage-tokens", "answered no label on 10 of 10 items", "few-shot"),  # it stops early
    ("401", "rejected the API key (HTTP 401)", "ANNOTATOR_LLM_API_KEY"),
    ("404-model", "supports none of the ways", "--llm-model"),
    ("500", "failed (HTTP 500)", "server's log"),
])
def test_every_failing_answer_is_one_clear_error(behavior, what, fix, batch, context):
    with FakeOpenAI(behavior) as server:
        err = _fails(server.base_url, batch, context)
    assert what in err.what and fix in err.fix
    if behavior == "404-model":
        assert "other-model" in err.got  # the models the server does serve
    if behavior == "401":
        assert "Incorrect API key" in err.got


def test_unparsed_answers_under_the_limit_give_uniform_rows_and_stay_uncached(batch, context):
    with FakeOpenAI("garbage-tokens") as server:
        cache: dict = {}
        ann = _annotator(server.base_url, cache=cache, max_unparsed=1.0)
        proba = ann.predict_proba(batch, context)
    assert np.allclose(proba, 0.5) and ann.stats["unparsed"] == 12 and cache == {}
