"""The CLI's LLM faces: `ai --annotators llm-endpoint` with the endpoint options (against the fake
OpenAI server of tests/llm), its on-disk cache, a clear exit-2 error when the endpoint is down,
and `llm-server --help`."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from annotator.cli import app

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "llm"))
from fake_openai import MODEL, FakeOpenAI  # noqa: E402

runner = CliRunner()
POS = ["great film, loved it", "wonderful acting", "the best meal", "excellent service", "a delight", "good fun"]
NEG = ["dull and slow", "awful plot", "cold food", "rude staff", "broken on arrival", "a waste of money"]


def _invoke(*args: str, data_dir: Path) -> str:
    result = runner.invoke(app, [*args, "--data-dir", str(data_dir)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A project with 12 labelled and 12 unlabelled reviews, embedded by the fast hashing embedder."""
    monkeypatch.setenv("ANNOTATOR_EMBEDDING_MODEL", "hashing")
    data = tmp_path / "d"
    rows = [(t, "positive") for t in POS] + [(t, "negative") for t in NEG]
    rows += [(t + " again", "") for t in POS + NEG]
    csv = tmp_path / "reviews.csv"
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(csv, index=False)
    _invoke("init", "reviews", "--labels", "positive,negative", data_dir=data)
    _invoke("import", str(csv), "--project", "reviews", "--label-column", "label", data_dir=data)
    return data


def test_ai_with_llm_endpoint_uses_the_options_and_caches_in_the_store(project):
    with FakeOpenAI() as server:
        args = ("ai", "--project", "reviews", "--annotators", "knn,llm-endpoint", "--llm-url", server.base_url,
                "--llm-model", MODEL, "--llm-api-key", "sk-test", "--llm-timeout", "5", "--llm-retries", "0")
        out = _invoke(*args, data_dir=project)
        # the estimate counts the calibration's prompts too, before any is sent
        assert "llm-endpoint: 24 prompts (calibration included), 0 cached" in out
        report = json.loads(out[out.index("{"):])
        assert report["items"] == 12 and "llm-endpoint" in report["calibration"]
        first = len(server.requests)
        assert first == 24  # 12 labelled items (calibration folds) + 12 unlabelled, one request each
        assert all(body["model"] == MODEL for _, _, body in server.requests)
        from annotator.store import make_engine
        from annotator.store.llm_cache import StoreLLMCache

        engine = make_engine(f"sqlite:///{project / 'annotator.db'}")
        assert len(StoreLLMCache(engine)) == 24  # one row per item scored, in the project database
        engine.dispose()
        again = _invoke(*args, data_dir=project)  # a re-run: every row from the cache
        assert len(server.requests) == first
        assert "llm-endpoint: 24 prompts (calibration included), 24 cached; at most ~0 s" in again


def test_ai_with_the_endpoint_down_exits_2_with_a_message(project):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = subprocess.run(
        [sys.executable, "-m", "annotator", "ai", "--project", "reviews", "--annotators", "llm-endpoint",
         "--llm-url", f"http://127.0.0.1:{port}/v1", "--llm-retries", "0", "--data-dir", str(project)],
        cwd=project.parent, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(project.parent), "PYTHONPATH": str(ROOT),
             "ANNOTATOR_EMBEDDING_MODEL": "hashing"})
    assert result.returncode == 2, result.stderr
    assert "Cannot reach the LLM endpoint" in result.stderr and "llm-server" in result.stderr
    assert "Traceback" not in result.stderr


def test_llm_server_and_ai_help_show_the_llm_options():
    help_server = runner.invoke(app, ["llm-server", "--help"])
    assert help_server.exit_code == 0 and "Example" in help_server.output and "--port" in help_server.output
    help_ai = runner.invoke(app, ["ai", "--help"])
    for option in ("--llm-url", "--llm-model", "--llm-api-key", "--llm-timeout", "ANNOTATOR_LLM_API_KEY"):
        assert option in help_ai.output, option
