"""``agents.llm_options``: the one place the CLI and the app turn Settings into LLM annotator options."""

from __future__ import annotations

from annotator.annotators.registry import llm_options, make_annotators
from annotator.core.config import Settings
from annotator.llm.cache import JsonlCache


def test_endpoint_and_local_options_come_from_settings(tmp_path):
    settings = Settings(data_dir=tmp_path, demo=False, llm_endpoint_url="http://127.0.0.1:9/v1",
                        llm_endpoint_model="tiny", llm_api_key="sk-test", llm_timeout_s=3.0)
    calls = []
    options = llm_options(settings, ["knn", "llm-endpoint", "llm-local"], lambda name: lambda d, t: calls.append(name))
    assert set(options) == {"llm-endpoint", "llm-local"}
    endpoint = options["llm-endpoint"]
    assert endpoint["base_url"] == "http://127.0.0.1:9/v1" and endpoint["model"] == "tiny"
    assert endpoint["api_key"] == "sk-test" and endpoint["timeout_s"] == 3.0
    assert isinstance(endpoint["cache"], JsonlCache)
    assert endpoint["cache"].path == tmp_path / "llm-cache" / "llm-endpoint.jsonl"
    assert options["llm-local"]["models_dir"] == settings.resolved_models_dir
    options["llm-local"]["on_progress"](1, 2)
    assert calls == ["llm-local"]
    # and they build: no network or model load happens before the first item is scored
    built = make_annotators("llm-endpoint", **options)
    assert built[0].name == "llm-endpoint" and built[0].version.startswith("tiny@")


def test_the_local_model_is_a_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("ANNOTATOR_LLM_LOCAL_MODEL", "gemma3-270m")
    settings = Settings(data_dir=tmp_path, demo=False)
    options = llm_options(settings, ["llm-local"], lambda name: None)
    assert options["llm-local"]["model"] == "gemma3-270m"
    built = make_annotators("llm-local", **options)  # nothing is loaded before the first item
    assert built[0].version.startswith("gemma-3-270m")
    assert Settings(data_dir=tmp_path, demo=False, llm_local_model="smollm2").llm_local_model == "smollm2"
