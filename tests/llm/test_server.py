"""The OpenAI-compatible llm-server without a model: routes, auth, unknown models and bad
requests answer in OpenAI's error format, so the official client raises its usual errors.
(The generating paths run against the real model in test_llm_real.py.)"""

from __future__ import annotations

import openai
import pytest

from annotator.llm.local import LoadedLLM
from annotator.servers.llm import ServerThread, create_app


@pytest.fixture(scope="module")
def server():
    # no tokenizer or model: every request below is answered before generation
    llm = LoadedLLM(tokenizer=None, model=None, model_id="Tiny-Model-Q4", source="none", load_seconds=0.0)
    with ServerThread(create_app(llm, ["tiny"], api_key="sk-test")) as running:
        yield running


def _client(server: ServerThread, key: str = "sk-test") -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key=key, max_retries=0, timeout=5)


def test_models_lists_the_name_and_the_model_id(server):
    assert server.port > 0 and server.base_url.endswith(f":{server.port}/v1")
    assert [m.id for m in _client(server).models.list()] == ["tiny", "Tiny-Model-Q4"]


def test_a_wrong_key_is_401(server):
    with pytest.raises(openai.AuthenticationError, match="Incorrect API key"):
        _client(server, key="sk-wrong").models.list()


def test_an_unknown_model_is_404_naming_the_served_ones(server):
    with pytest.raises(openai.NotFoundError, match="serves tiny, Tiny-Model-Q4"):
        _client(server).completions.create(model="gpt-x", prompt="hi", max_tokens=1)
    with pytest.raises(openai.NotFoundError):
        _client(server).chat.completions.create(model="gpt-x", messages=[{"role": "user", "content": "hi"}])


def test_bad_requests_are_400(server):
    with pytest.raises(openai.BadRequestError, match="echo"):
        _client(server).completions.create(model="tiny", prompt="hi", max_tokens=1, echo=True)
    with pytest.raises(openai.BadRequestError, match="logprobs"):
        _client(server).completions.create(model="tiny", prompt="hi", max_tokens=1, logprobs=99)
