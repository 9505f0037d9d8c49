"""A tiny OpenAI-compatible HTTP server for tests: canned answers, configurable failures, and a
count of every request it got (the cache tests assert there are none on a re-run).

Its "model" labels sentiment by keywords in the item's text (the last ``Text:`` line of the
prompt), so tests know the right answer without a real model.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

POSITIVE_WORDS = ("good", "great", "love", "wonderful", "excellent", "best", "delight", "friendly", "gorgeous",
                  "perfect")
MODEL = "fake-model"


def item_text(prompt: str) -> str:
    """The item's text: the last "Text:" line of a rendered few-shot prompt."""
    lines = [line for line in prompt.splitlines() if line.startswith("Text: ")]
    return lines[-1][len("Text: "):] if lines else prompt


def fake_label(prompt: str) -> str:
    text = item_text(prompt).lower()
    return "positive" if any(w in text for w in POSITIVE_WORDS) else "negative"


class FakeOpenAI(ThreadingHTTPServer):
    """``behavior``: logprobs | chat-only | no-logprobs | garbage-body | garbage-tokens | slow | 401 |
    404-model | 500. ``requests``: (method, path, json body) of every request, in order."""

    daemon_threads = True

    def __init__(self, behavior: str = "logprobs", *, delay_s: float = 0.0):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.behavior = behavior
        self.delay_s = delay_s
        self.requests: list[tuple[str, str, Any]] = []
        self.lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def paths(self, method: str = "POST") -> list[str]:
        return [p for m, p, _ in self.requests if m == method]

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


def _top(prompt: str) -> dict[str, float]:
    """Canned top-4 next-token logprobs: the keyword label wins clearly."""
    win = fake_label(prompt)
    lose = "negative" if win == "positive" else "positive"
    return {f" {win}": -0.1, f" {lose}": -2.5, "\n": -4.0, " the": -5.0}


def _vote_answer(prompt: str) -> str:
    """Free-text answer for the vote strategies: the keyword label, except that the "Which label
    fits" paraphrase (one variant of five) always says "negative" — a split vote on positives."""
    if "Which label fits" in prompt:
        return "negative"
    return fake_label(prompt).capitalize() + "."


class _Handler(BaseHTTPRequestHandler):
    server: FakeOpenAI

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: Any, content_type: str = "application/json") -> None:  # noqa: ANN401
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, code: str) -> None:
        self._send(status, {"error": {"message": message, "type": "invalid_request_error", "code": code}})

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        with self.server.lock:
            self.server.requests.append(("GET", self.path, None))
        if self.path.rstrip("/") == "/v1/models":
            ids = ["other-model"] if self.server.behavior == "404-model" else [MODEL]
            self._send(200, {"object": "list", "data": [{"id": i, "object": "model", "owned_by": "test"} for i in ids]})
        else:
            self._error(404, "no such route", "not_found")

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        with self.server.lock:
            self.server.requests.append(("POST", self.path, body))
        b = self.server.behavior
        if self.server.delay_s or b == "slow":
            time.sleep(self.server.delay_s or 2.0)
        if b == "401":
            return self._error(401, "Incorrect API key provided: sk-wrong.", "invalid_api_key")
        if b == "500":
            return self._error(500, "The server had an error.", "server_error")
        if b == "404-model":
            return self._error(404, f"The model {body.get('model')!r} does not exist.", "model_not_found")
        if b == "garbage-body":
            return self._send(200, b"<html><body>502 Bad Gateway, maybe</body></html>", "text/html")
        chat = self.path.rstrip("/") == "/v1/chat/completions"
        if not chat and self.path.rstrip("/") != "/v1/completions":
            return self._error(404, "no such route", "not_found")
        if not chat and b == "chat-only":
            return self._error(404, "This is a chat model and not supported in the v1/completions endpoint.",
                               "not_found")
        prompt = body["messages"][-1]["content"] if chat else body["prompt"]
        top = {"qqq": -0.3, "zzz": -1.5, "##": -2.0} if b == "garbage-tokens" else _top(prompt)
        give_logprobs = b != "no-logprobs" and (body.get("logprobs") if chat else body.get("logprobs") is not None)
        first = max(top, key=top.get)
        text = _vote_answer(prompt) if b == "no-logprobs" else first
        usage = {"prompt_tokens": len(prompt) // 4, "completion_tokens": 1, "total_tokens": len(prompt) // 4 + 1}
        if chat:
            logprobs = None
            if give_logprobs:
                logprobs = {"content": [{"token": first, "logprob": top[first], "bytes": None,
                                         "top_logprobs": [{"token": t, "logprob": v, "bytes": None}
                                                          for t, v in top.items()]}]}
            return self._send(200, {"id": "c1", "object": "chat.completion", "created": 0, "model": body["model"],
                                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                                 "logprobs": logprobs, "finish_reason": "length"}], "usage": usage})
        logprobs = None
        if give_logprobs:
            logprobs = {"tokens": [first], "token_logprobs": [top[first]], "top_logprobs": [top], "text_offset": [0]}
        return self._send(200, {"id": "t1", "object": "text_completion", "created": 0, "model": body["model"],
                                "choices": [{"index": 0, "text": text, "logprobs": logprobs, "finish_reason": "length"}],
                                "usage": usage})
