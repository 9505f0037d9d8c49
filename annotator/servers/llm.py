"""A small OpenAI-compatible HTTP server for the local LLM: ``python -m annotator llm-server``.

Serves one model loaded by ``annotator.llm.local.load_llm`` (SmolLM2 by default) at

- ``GET  /v1/models``
- ``POST /v1/completions``: greedy, ``max_tokens`` ≤ ``MAX_TOKENS_CAP``; ``logprobs=N`` returns the
  top-N log-probabilities of every generated token (legacy completions format). ``echo`` is not
  supported (400).
- ``POST /v1/chat/completions``: the model's chat template, greedy; ``logprobs=true,
  top_logprobs=N`` as in the chat API.

Decoding is always greedy (``temperature`` is accepted and ignored), so answers are deterministic
and cacheable. Errors use OpenAI's body ``{"error": {"message", "type", "code"}}`` with the same
status codes (401 bad key, 404 unknown model, 400 bad request), so the official client raises its
usual exceptions. Forwards are serialised by the model's lock: one request computes at a time.

It lets llm-endpoint be tested end to end offline, and lets a team share one model process.
fastapi, uvicorn and torch are imported inside functions.
"""

from __future__ import annotations

import inspect
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from annotator.core.errors import ConfigError
from annotator.llm.local import LoadedLLM, load_llm

MAX_TOKENS_CAP = 64  # a CPU model generating long answers would block every other request behind its lock
MAX_TOP_LOGPROBS = 20  # OpenAI's own limit on chat; legacy completions allowed 5
DEFAULT_PORT = 8001


class _Base(BaseModel):
    """Request bodies; module level so that FastAPI can resolve the endpoints' annotations."""

    model_config = ConfigDict(extra="allow")  # OpenAI clients send fields this server ignores


class CompletionRequest(_Base):
    """POST /v1/completions: the legacy completions body (``logprobs`` = top-N per token)."""

    model: str
    prompt: str | list[str]
    max_tokens: int = Field(16, ge=1)
    temperature: float | None = None
    logprobs: int | None = Field(None, ge=0, le=MAX_TOP_LOGPROBS)
    stop: str | list[str] | None = None
    echo: bool = False
    n: int = Field(1, ge=1, le=1)


class ChatMessage(_Base):
    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(_Base):
    """POST /v1/chat/completions: messages, greedy, ``logprobs`` / ``top_logprobs`` as in the chat API."""

    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float | None = None
    logprobs: bool = False
    top_logprobs: int | None = Field(None, ge=0, le=MAX_TOP_LOGPROBS)
    stop: str | list[str] | None = None
    n: int = Field(1, ge=1, le=1)


@dataclass
class Step:
    """One generated position: the chosen token and the top-N alternatives, log-probs in nats."""

    token_id: int
    logprob: float
    top: list[tuple[int, float]]


def generate(llm: LoadedLLM, prompt_ids: Sequence[int], *, max_tokens: int, top_n: int = 0,
             stop: Sequence[str] = ()) -> tuple[list[Step], str, str]:
    """Greedy decoding with the KV cache.

    Args:
        prompt_ids: (P,) token ids of the prompt.
        max_tokens: at most this many generated tokens (≥ 1).
        top_n: alternatives recorded per position (0: none).
        stop: strings that end the answer (not included in it).

    Returns:
        (steps, text, finish_reason): every position computed (an end-of-sequence step included,
        so that max_tokens=1 always yields the first position's distribution), the answer text
        (special tokens and the stop string removed) and "stop" | "length".
    """
    import torch

    tok, model = llm.tokenizer, llm.model
    eos = {int(t) for t in ([tok.eos_token_id] if isinstance(tok.eos_token_id, int) else tok.eos_token_id or [])}
    gen_eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    eos |= {int(t) for t in ([gen_eos] if isinstance(gen_eos, int) else gen_eos or [])}
    params = inspect.signature(type(model).forward).parameters
    cache_arg = "cache" if "cache" in params else "past_key_values"  # renamed in transformers 5.2x
    extra = {"logits_to_keep": 1} if "logits_to_keep" in params else {}  # only the last position's logits
    steps: list[Step] = []
    generated: list[int] = []
    text, finish = "", "length"
    with llm.lock, torch.inference_mode():
        feed = torch.tensor([list(prompt_ids)], device=model.device)
        past: dict[str, Any] = {}
        for _ in range(max_tokens):
            out = model(input_ids=feed, use_cache=True, **past, **extra)
            past = {cache_arg: out[cache_arg] if cache_arg in out else out.past_key_values}
            logp = torch.log_softmax(out.logits[0, -1].float(), dim=-1)
            best = int(torch.argmax(logp))
            top: list[tuple[int, float]] = []
            if top_n:
                values, ids = torch.topk(logp, min(top_n, logp.shape[-1]))
                top = [(int(i), float(v)) for i, v in zip(ids.tolist(), values.tolist())]
            steps.append(Step(best, float(logp[best]), top))
            if best in eos:
                finish = "stop"
                break
            generated.append(best)
            text = tok.decode(generated, skip_special_tokens=True)
            cut = min((text.find(s) for s in stop if s and s in text), default=-1)
            if cut >= 0:
                text, finish = text[:cut], "stop"
                break
            feed = torch.tensor([[best]], device=model.device)
    return steps, text, finish


def create_app(llm: LoadedLLM, names: Sequence[str] = (), *, api_key: str | None = None) -> Any:  # noqa: ANN401 - FastAPI
    """The FastAPI app serving ``llm`` under ``names`` (plus its ``model_id``); ``api_key`` set →
    every request needs ``Authorization: Bearer <api_key>``."""
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse

    served = list(dict.fromkeys([*names, llm.model_id]))
    created = int(time.time())

    app = FastAPI(title="annotator llm-server", docs_url=None, redoc_url=None)

    def error(status: int, message: str, code: str, kind: str = "invalid_request_error") -> JSONResponse:
        return JSONResponse({"error": {"message": message, "type": kind, "code": code, "param": None}}, status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()) if x != "body")
        return error(400, f"Invalid request: {where}: {first.get('msg', 'bad value')}", "invalid_request")

    @app.middleware("http")
    async def _auth(request: Request, call_next):  # noqa: ANN001, ANN202 - starlette's middleware signature
        if api_key and request.headers.get("authorization", "") != f"Bearer {api_key}":
            return error(401, "Incorrect API key provided.", "invalid_api_key")
        return await call_next(request)

    def unknown(model: str) -> JSONResponse | None:
        if model in served:
            return None
        return error(404, f"The model {model!r} does not exist; this server serves {', '.join(served)}.",
                     "model_not_found")

    def stops(stop: str | list[str] | None) -> list[str]:
        return [stop] if isinstance(stop, str) else list(stop or [])

    def token_text(token_id: int) -> str:
        return llm.tokenizer.decode([token_id], skip_special_tokens=False)

    def too_long(n_prompt: int, max_tokens: int) -> JSONResponse | None:
        limit = getattr(llm.model.config, "max_position_embeddings", None) or 2048
        if n_prompt + max_tokens <= limit:
            return None
        return error(400, f"The prompt has {n_prompt} tokens; with max_tokens={max_tokens} that exceeds the "
                     f"model's {limit}.", "context_length_exceeded")

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": m, "object": "model", "created": created, "owned_by": "annotator"}
                                           for m in served]}

    @app.post("/v1/completions", response_model=None)
    def completions(req: CompletionRequest) -> dict[str, Any] | JSONResponse:
        if (bad := unknown(req.model)) is not None:
            return bad
        if req.echo:
            return error(400, "echo is not supported by this server.", "unsupported_parameter")
        prompts = [req.prompt] if isinstance(req.prompt, str) else req.prompt
        max_tokens = min(req.max_tokens, MAX_TOKENS_CAP)
        choices, n_prompt, n_completion = [], 0, 0
        for index, prompt in enumerate(prompts):
            ids = llm.tokenizer(prompt).input_ids
            if (bad := too_long(len(ids), max_tokens)) is not None:
                return bad
            steps, text, finish = generate(llm, ids, max_tokens=max_tokens, top_n=req.logprobs or 0,
                                           stop=stops(req.stop))
            logprobs = None
            if req.logprobs is not None:
                tokens = [token_text(s.token_id) for s in steps]
                offsets, at = [], len(prompt)
                for t in tokens:
                    offsets.append(at)
                    at += len(t)
                tops = [{token_text(i): lp for i, lp in reversed(s.top)} for s in steps]  # ties: the likelier wins
                logprobs = {"tokens": tokens, "token_logprobs": [s.logprob for s in steps],
                            "top_logprobs": [dict(sorted(t.items(), key=lambda kv: -kv[1])) for t in tops],
                            "text_offset": offsets}
            choices.append({"index": index, "text": text, "logprobs": logprobs, "finish_reason": finish})
            n_prompt += len(ids)
            n_completion += len(steps)
        return {"id": f"cmpl-{uuid.uuid4().hex[:24]}", "object": "text_completion", "created": int(time.time()),
                "model": req.model, "choices": choices,
                "usage": {"prompt_tokens": n_prompt, "completion_tokens": n_completion,
                          "total_tokens": n_prompt + n_completion}}

    @app.post("/v1/chat/completions", response_model=None)
    def chat(req: ChatRequest) -> dict[str, Any] | JSONResponse:
        if (bad := unknown(req.model)) is not None:
            return bad
        messages = [{"role": m.role, "content": _content_text(m.content)} for m in req.messages]
        try:
            rendered = llm.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        except (ValueError, KeyError, TypeError) as e:  # no chat template, or one that rejects these roles
            return error(400, f"The model cannot render these messages: {e}", "invalid_messages")
        ids = llm.tokenizer(rendered, add_special_tokens=False).input_ids
        max_tokens = min(req.max_completion_tokens or req.max_tokens or 16, MAX_TOKENS_CAP)
        if (bad := too_long(len(ids), max_tokens)) is not None:
            return bad
        top_n = (req.top_logprobs or 0) if req.logprobs else 0
        steps, text, finish = generate(llm, ids, max_tokens=max_tokens, top_n=top_n, stop=stops(req.stop))

        def entry(token_id: int, logprob: float) -> dict[str, Any]:
            t = token_text(token_id)
            return {"token": t, "logprob": logprob, "bytes": list(t.encode("utf-8"))}

        logprobs = None
        if req.logprobs:
            logprobs = {"content": [{**entry(s.token_id, s.logprob), "top_logprobs": [entry(i, lp) for i, lp in s.top]}
                                    for s in steps], "refusal": None}
        return {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": "chat.completion", "created": int(time.time()),
                "model": req.model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "logprobs": logprobs,
                             "finish_reason": finish}],
                "usage": {"prompt_tokens": len(ids), "completion_tokens": len(steps),
                          "total_tokens": len(ids) + len(steps)}}

    return app


def _content_text(content: str | list[dict[str, Any]] | None) -> str:
    """The text of a chat message (content parts of type "text" joined)."""
    if content is None or isinstance(content, str):
        return content or ""
    return "".join(str(part.get("text", "")) for part in content if part.get("type", "text") == "text")


class ServerThread:
    """Run an ASGI app with uvicorn in a background thread (tests, notebooks), on a free port.

    ``with ServerThread(app) as server: OpenAI(base_url=server.base_url)``; ``port=0`` lets the
    OS pick the port.
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0):  # noqa: ANN401
        import uvicorn

        self.server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off"))
        self.host = host
        self.port = port
        self._thread = threading.Thread(target=self.server.run, name="llm-server", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def start(self, timeout_s: float = 20.0) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ConfigError(f"The LLM server did not start on {self.host}:{self.port}.",
                                  expected="a free port", fix="pick another --port")
            time.sleep(0.02)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(model: str = "smollm2", models_dir: str | Path = Path("models"), *, host: str = "127.0.0.1",
          port: int = DEFAULT_PORT, api_key: str | None = None, device: str = "cpu") -> None:
    """Load ``model`` (see ``load_llm``) and serve it until interrupted (blocking)."""
    import uvicorn

    llm = load_llm(model, models_dir, device=device)
    app = create_app(llm, [model], api_key=api_key)
    uvicorn.run(app, host=host, port=port, log_level="info")
