"""The LLM annotator behind an OpenAI-compatible endpoint ("llm-endpoint").

vLLM, TGI, Ollama, llama.cpp's server, OpenAI itself, or this package's own
``annotator.servers.llm`` (``python -m annotator llm-server``). The prompt is llm-local's few-shot
kNN completion prompt (``annotator.llm.prompts``), ending in ``Label:``. Per-label probabilities
come from one of four named strategies (``STRATEGIES``):

- ``completions-logprobs``: the completions API, one token, the top-N next-token log-probabilities;
  each label gets the mass of the top tokens its name starts with (its first token, as the
  server's tokenizer cut it). One request per item.
- ``chat-logprobs``: the same through chat completions (``logprobs=True, top_logprobs=N,
  max_tokens=1``), for servers and models that only chat.
- ``completions-vote`` / ``chat-vote``, for servers that return no log-probabilities: the
  CoAnnotating recipe. ``n_variants`` prompts (paraphrased instructions, shuffled demonstration
  orders) are answered at temperature 0; each label's vote share is its probability (a small
  pseudo-count keeps rows strictly positive), so the row's entropy is the variants' disagreement.

``mode="auto"`` (default) discovers the strategy on the first uncached item: completions with
logprobs, else (404 / 400: a chat-only server or model) chat with logprobs, else (no logprobs in
the answer) the vote on whichever API answered. Every item's row is cached by ``cache_key``
(model, prompt hash, rendered prompt, labels, strategy), looked up in that same preference order
*before* any request, so a re-run of the same items issues no HTTP request at all.

Errors (unreachable, timeout, 401/403, 404, 5xx, answers that are not labels) become one
``EndpointError`` that says what was expected, what came and how to fix it, raised before
``predict_proba`` returns anything, so the service writes no suggestion and routes nothing.
The ``openai`` client is imported inside functions: importing this module stays light.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from annotator.annotators.base import ItemBatch, LabelContext
from annotator.core.errors import ConfigError, EndpointError
from annotator.llm.answers import (
    INSTRUCTION_VARIANTS,
    label_probs_from_top_logprobs,
    parse_label,
    variant_template,
    vote_probs,
)
from annotator.llm.cache import LLMCache
from annotator.llm.prompts import (
    DEFAULT_MAX_CHARS,
    DEFAULT_N_DEMOS,
    DEFAULT_TEMPLATE,
    PromptBuilder,
    cache_key,
    load_template,
    prompt_hash,
    select_demos,
    text_hash,
)

DEFAULT_BASE_URL = "http://127.0.0.1:8001/v1"  # where `python -m annotator llm-server` listens by default
CHAT_SYSTEM = "You label texts. Answer with exactly one of the labels listed, and nothing else."
STRATEGIES = ("completions-logprobs", "chat-logprobs", "completions-vote", "chat-vote")
MODES: dict[str, tuple[str, ...]] = {  # mode → the strategies it may use, in the order they are tried
    "auto": STRATEGIES,
    "logprobs": ("completions-logprobs", "chat-logprobs"),
    "vote": ("completions-vote", "chat-vote"),
    **{s: (s,) for s in STRATEGIES},
}
DEFAULT_REQUEST_S = 1.0  # assumed round trip of one request before any is measured (a remote 7B-class model)
MIN_UNPARSED_SAMPLE = 10  # items answered before the share of non-label answers can fail a batch
DEFAULT_PROMPT_TOKENS = 500  # a 4-demo prompt of ≤ 400-char texts (see prompts.DEFAULT_MAX_CHARS)


def _base_url(url: str) -> str:
    """``url`` without a trailing slash, with "/v1" added when it has no path ("http://host:8001")."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"The LLM endpoint URL {url!r} is not an http(s) URL.",
                          expected="e.g. http://127.0.0.1:8001/v1 or https://api.openai.com/v1", got=url,
                          fix="pass --llm-url (or set ANNOTATOR_LLM_ENDPOINT_URL) to the server's OpenAI base URL")
    return url if parts.path not in ("", "/") else url + "/v1"


# ------------------------------------------------------------------------------------ annotator


class _Unsupported(Exception):
    """This strategy does not work on this server (404 / 400, or no logprobs): try the next one."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class _Answer:
    """One item's result: its (k,) row (None: no label in the answer) and what it cost."""

    row: np.ndarray | None
    requests: int
    tokens: int
    seconds: float


@dataclass
class EndpointLLMAnnotator:
    """AI annotator "llm-endpoint": the few-shot kNN prompt sent to an OpenAI-compatible server.

    Attributes:
        base_url: the server's OpenAI base URL, e.g. "http://127.0.0.1:8001/v1" ("/v1" is added to
            a URL without a path).
        model: the model name the server serves (``GET /v1/models``).
        api_key: bearer token; None sends a placeholder (local servers ignore it).
        timeout_s: seconds one request may take (connect and read).
        max_retries: the client's own retries of connection errors, 408, 429 and 5xx, with backoff.
        mode: "auto" | "logprobs" | "vote" | one of ``STRATEGIES`` (see the module docstring).
        n_variants: prompt variants per item for the vote strategies (requests per item).
        top_logprobs: N of the top-N next-token log-probabilities asked for (OpenAI allows ≤ 20 on
            chat, ≤ 5 on legacy completions; ask less if the server refuses).
        max_workers: requests in flight at once (a remote server gains; a local one serialises).
        max_unparsed: the largest share of the items this annotator scored whose answer may name
            no label; above it (after ``MIN_UNPARSED_SAMPLE`` items, or the whole batch if smaller)
            ``predict_proba`` fails with EndpointError: the model is not answering the prompt.
            Such items get a uniform row and are not cached.
        usd_per_1m_tokens: price of prompt + completion tokens, for ``estimate``; None = unknown.
        cache: rows by cache key (dict by default, ``JsonlCache`` on disk); None disables it. The
            key names the model, not the URL: the same model moved to another server keeps its rows.
        on_progress: called with (done, total) after each item, cached ones included.
    """

    base_url: str = DEFAULT_BASE_URL
    model: str = "smollm2"
    api_key: str | None = None
    timeout_s: float = 60.0
    max_retries: int = 2
    mode: str = "auto"
    n_variants: int = 5
    top_logprobs: int = 20
    max_workers: int = 4
    max_unparsed: float = 0.5
    n_demos: int = DEFAULT_N_DEMOS
    max_chars: int = DEFAULT_MAX_CHARS
    template: str = DEFAULT_TEMPLATE
    usd_per_1m_tokens: float | None = None
    cache: LLMCache | None = field(default_factory=dict)
    on_progress: Callable[[int, int], None] | None = None
    name: str = "llm-endpoint"
    needs_text: bool = True
    version: str = field(init=False)
    prompt_sha: str = field(init=False)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"Unknown llm-endpoint mode {self.mode!r}.", expected=" | ".join(MODES), got=self.mode)
        if self.n_variants < 1 or self.top_logprobs < 1 or self.max_workers < 1 or self.timeout_s <= 0:
            raise ConfigError("llm-endpoint needs n_variants, top_logprobs and max_workers ≥ 1 and timeout_s > 0.",
                              got=f"n_variants={self.n_variants}, top_logprobs={self.top_logprobs}, "
                                  f"max_workers={self.max_workers}, timeout_s={self.timeout_s}")
        if not self.model:
            raise ConfigError("llm-endpoint needs a model name.", expected="the name GET /v1/models lists",
                              fix="pass --llm-model (or set ANNOTATOR_LLM_ENDPOINT_MODEL)")
        self.base_url = _base_url(self.base_url)
        self.builder = PromptBuilder(load_template(self.template), n_demos=self.n_demos, max_chars=self.max_chars)
        self.prompt_sha = prompt_hash(self.builder.template, self.model)
        self.version = f"{self.model}@{self.prompt_sha[:8]}"
        self.strategy: str | None = MODES[self.mode][0] if len(MODES[self.mode]) == 1 else None
        self.stats: dict[str, float] = {"requests": 0, "scored": 0, "cached": 0, "unparsed": 0, "tokens": 0,
                                        "seconds": 0.0, "wall_seconds": 0.0}
        self._client: Any = None
        self._client_lock = threading.Lock()
        # the variant instructions are code, not template: their hash keeps vote rows of old wordings apart
        self._variants_sha = text_hash("\0".join(p or "" for p in INSTRUCTION_VARIANTS))[:8]

    # -------------------------------------------------------------- the one public method

    def predict_proba(self, batch: ItemBatch, context: LabelContext) -> np.ndarray:
        """(n, k) label probabilities, rows summing to 1, for ``batch`` given ``context``.

        Cached rows first (no request); the first uncached item settles the strategy, the rest
        run ``max_workers`` at a time. Raises EndpointError (nothing returned, nothing half-done
        but cache entries of items already answered) on any failure of the endpoint.
        """
        n, k = len(batch.texts), context.n_labels
        if n == 0 or k == 0:
            return np.zeros((n, k), dtype=np.float32)
        demos = self._demos(batch, context)
        prompts = [self.builder.render(t, d, context) for t, d in zip(batch.texts, demos, strict=True)]
        out = np.empty((n, k), dtype=np.float32)
        todo: list[int] = []
        for i, prompt in enumerate(prompts):
            hit = self._cached(prompt, context.label_names)
            if hit is not None:
                out[i] = hit
                self.stats["cached"] += 1
            else:
                todo.append(i)
        done = n - len(todo)
        if self.on_progress is not None and done:
            self.on_progress(done, n)
        if not todo:
            return out

        start = time.perf_counter()

        def finish(i: int, answer: _Answer) -> None:
            nonlocal done
            self.stats["requests"] += answer.requests
            self.stats["tokens"] += answer.tokens
            self.stats["seconds"] += answer.seconds
            self.stats["scored"] += 1
            if answer.row is None:
                self.stats["unparsed"] += 1
                out[i] = 1.0 / k
            else:
                out[i] = answer.row
                if self.cache is not None and self.strategy is not None:  # settled by the first answer
                    self.cache[self._key(prompts[i], context.label_names, self.strategy)] = [float(v) for v in answer.row]
            done += 1
            if self.on_progress is not None:
                self.on_progress(done, n)
            # the share over this annotator's life, so that one odd answer in a 2-item fold fails nothing;
            # checked as answers come, to stop paying for answers that are not labels
            scored, bad = int(self.stats["scored"]), int(self.stats["unparsed"])
            if bad > self.max_unparsed * scored and scored >= min(MIN_UNPARSED_SAMPLE, len(todo)):
                raise self._no_labels(bad, scored, context)

        first, rest = todo[0], todo[1:]
        finish(first, self._discover(prompts[first], batch.texts[first], demos[first], context))
        if rest:
            self._run_parallel(rest, prompts, batch.texts, demos, context, finish)
        self.stats["wall_seconds"] += time.perf_counter() - start
        return out

    def _no_labels(self, unparsed: int, scored: int, context: LabelContext) -> EndpointError:
        return EndpointError(
            f"The model {self.model!r} at {self.base_url} answered no label on {unparsed} of {scored} items.",
            expected="one of the labels " + ", ".join(context.label_names) + f" ({self.strategy})",
            got="answers that name none of them (garbage, refusals, or a model that ignores the prompt)",
            fix="check that the server serves a text model that follows few-shot prompts; try --llm-mode vote "
                "or another model; label names that are plain words help",
        )

    def uncached(self, batch: ItemBatch, context: LabelContext) -> int:
        """How many items of ``batch`` would need a request: their prompt has no cached row (no request sent)."""
        if len(batch.texts) == 0 or context.n_labels == 0:
            return 0
        demos = self._demos(batch, context)
        return sum(self._cached(self.builder.render(t, d, context), context.label_names) is None
                   for t, d in zip(batch.texts, demos, strict=True))

    def estimate(self, n_items: int) -> dict[str, float | None]:
        """Expected wall time of ``n_items`` uncached items (seconds) and their cost (usd, or None
        when ``usd_per_1m_tokens`` is unknown).

        Seconds per item: the wall time measured so far in this process, else ``DEFAULT_REQUEST_S``
        per request (``n_variants`` requests per item when voting) over ``max_workers`` in flight.
        Tokens per request: measured (the server's ``usage``), else ``DEFAULT_PROMPT_TOKENS``.
        """
        strategy = self.strategy or MODES[self.mode][0]
        per_item_requests = self.n_variants if strategy.endswith("-vote") else 1
        if self.stats["scored"] and self.stats["wall_seconds"] > 0:
            per_item = self.stats["wall_seconds"] / self.stats["scored"]
        else:
            per_item = DEFAULT_REQUEST_S * per_item_requests / self.max_workers
        usd = None
        if self.usd_per_1m_tokens is not None:
            per_request = (self.stats["tokens"] / self.stats["requests"] if self.stats["requests"] and self.stats["tokens"]
                           else DEFAULT_PROMPT_TOKENS + 1)
            usd = round(n_items * per_item_requests * per_request * self.usd_per_1m_tokens / 1e6, 4)
        return {"seconds": round(n_items * per_item, 1), "usd": usd}

    # -------------------------------------------------------------- prompts and cache

    def _demos(self, batch: ItemBatch, context: LabelContext) -> list[list[tuple[str, str]]]:
        """(n,) lists of (text, label name) demonstrations, least similar first (as ``PromptBuilder.build``)."""
        if batch.embeddings is None or len(context.labels) == 0 or np.asarray(context.embeddings).size == 0:
            return [[] for _ in batch.texts]
        picks = select_demos(np.asarray(batch.embeddings), context, self.n_demos)
        names = context.label_names
        return [[(context.texts[i], names[int(context.labels[i])]) for i in pick] for pick in picks]

    def _scoring(self, strategy: str) -> str:
        extra = f"v{self.n_variants}-{self._variants_sha}" if strategy.endswith("-vote") else f"top{self.top_logprobs}"
        return f"{strategy}|{extra}|{self.n_demos}|{self.max_chars}"

    def _key(self, prompt: str, label_names: Sequence[str], strategy: str) -> str:
        return cache_key(self.model, self.prompt_sha, prompt, label_names, self._scoring(strategy))

    def _cached(self, prompt: str, label_names: Sequence[str]) -> list[float] | None:
        """The cached row under the settled strategy, else under any strategy this mode may use."""
        if self.cache is None:
            return None
        order = (self.strategy,) if self.strategy else MODES[self.mode]
        for strategy in order:
            hit = self.cache.get(self._key(prompt, label_names, strategy))
            if hit is not None and len(hit) == len(label_names):
                if self.strategy is None:
                    self.strategy = strategy  # what answered before answers again: no probe needed
                return hit
        return None

    # -------------------------------------------------------------- requests

    def client(self) -> Any:  # noqa: ANN401 - openai.OpenAI, imported lazily
        """The OpenAI client (one per annotator; thread-safe, keeps connections alive)."""
        with self._client_lock:
            if self._client is None:
                try:
                    import openai
                except ImportError as e:
                    raise EndpointError("The openai package is missing.", expected="openai ≥ 1.40 installed",
                                        got=str(e), fix="pip install openai (or pip install -e .)") from e
                self._client = openai.OpenAI(base_url=self.base_url, api_key=self.api_key or "not-needed",
                                             timeout=self.timeout_s, max_retries=self.max_retries)
            return self._client

    def _discover(self, prompt: str, text: str, demos: Sequence[tuple[str, str]], context: LabelContext) -> _Answer:
        """Answer the first uncached item, trying this mode's strategies in order; the first that
        works becomes ``self.strategy`` for every later item."""
        if self.strategy is not None:
            return self._answer(self.strategy, prompt, text, demos, context)
        reasons: list[tuple[str, str]] = []  # (strategy, why it did not work)
        for strategy in MODES[self.mode]:
            if strategy.endswith("-vote") and any(s.startswith(strategy.split("-")[0]) and "404" in r
                                                   for s, r in reasons):
                continue  # that API is not there at all: voting through it cannot work either
            try:
                answer = self._answer(strategy, prompt, text, demos, context)
            except _Unsupported as e:
                reasons.append((strategy, e.reason))
                continue
            self.strategy = strategy
            return answer
        tried = "; ".join(f"{s}: {r}" for s, r in reasons)
        raise EndpointError(
            f"The endpoint {self.base_url} supports none of the ways to ask {self.model!r} for a label.",
            expected="/completions or /chat/completions answering for this model (" + ", ".join(MODES[self.mode]) + ")",
            got=tried + self._served_models_note(), fix=self._fix_for_404(),
        )

    def _answer(self, strategy: str, prompt: str, text: str, demos: Sequence[tuple[str, str]],
                context: LabelContext) -> _Answer:
        t0 = time.perf_counter()
        api, how = strategy.split("-")
        if how == "logprobs":
            top, tokens = self._top_logprobs(api, prompt)
            return _Answer(label_probs_from_top_logprobs(top, context.label_names), 1, tokens,
                           time.perf_counter() - t0)
        votes, tokens = [], 0
        for v in range(self.n_variants):
            p = prompt if v == 0 else self._variant_prompt(v, text, demos, context)
            answer, used = self._text_answer(api, p, context.label_names)
            votes.append(parse_label(answer, context.label_names))
            tokens += used
        return _Answer(vote_probs(votes, context.n_labels), self.n_variants, tokens, time.perf_counter() - t0)

    def _variant_prompt(self, v: int, text: str, demos: Sequence[tuple[str, str]], context: LabelContext) -> str:
        """Vote variant ``v`` ≥ 1: paraphrased instruction, demonstrations in a seeded shuffled order."""
        order = list(demos)
        if len(order) > 1:
            np.random.default_rng(v).shuffle(order)
        builder = PromptBuilder(variant_template(self.builder.template, v), n_demos=self.n_demos,
                                max_chars=self.max_chars)
        return builder.render(text, order, context)

    def _top_logprobs(self, api: str, prompt: str) -> tuple[dict[str, float], int]:
        """({token: logprob} of the first generated position, tokens used) from one request."""
        if api == "completions":
            resp = self._call(api, lambda c: c.completions.create(
                model=self.model, prompt=prompt, max_tokens=1, temperature=0, logprobs=self.top_logprobs))
            choice = self._first_choice(resp, api)
            lp = getattr(choice, "logprobs", None)
            tops = getattr(lp, "top_logprobs", None) if lp is not None else None
            if not tops or not isinstance(tops[0], Mapping):
                raise _Unsupported("the answer carries no logprobs")
            return {str(t): float(v) for t, v in tops[0].items()}, _tokens(resp)
        resp = self._call(api, lambda c: c.chat.completions.create(
            model=self.model, messages=_messages(prompt), max_tokens=1, temperature=0, logprobs=True,
            top_logprobs=min(self.top_logprobs, 20)))
        choice = self._first_choice(resp, api)
        lp = getattr(choice, "logprobs", None)
        content = getattr(lp, "content", None) if lp is not None else None
        if not content:
            raise _Unsupported("the answer carries no logprobs")
        first = content[0]
        top = {str(t.token): float(t.logprob) for t in (getattr(first, "top_logprobs", None) or [])}
        top.setdefault(str(first.token), float(first.logprob))
        return top, _tokens(resp)

    def _text_answer(self, api: str, prompt: str, label_names: Sequence[str]) -> tuple[str, int]:
        """(answer text, tokens used) of one greedy request, long enough for the longest label."""
        max_tokens = min(32, 4 + 3 * max(len(n.split()) for n in label_names))
        if api == "completions":
            resp = self._call(api, lambda c: c.completions.create(
                model=self.model, prompt=prompt, max_tokens=max_tokens, temperature=0, stop=["\n"]))
            text = getattr(self._first_choice(resp, api), "text", None)
        else:
            resp = self._call(api, lambda c: c.chat.completions.create(
                model=self.model, messages=_messages(prompt), max_tokens=max_tokens, temperature=0))
            message = getattr(self._first_choice(resp, api), "message", None)
            text = getattr(message, "content", None)
        if not isinstance(text, str):
            raise self._garbage(api, f"a choice without text ({type(text).__name__})")
        return text, _tokens(resp)

    def _first_choice(self, resp: Any, api: str) -> Any:  # noqa: ANN401 - an openai response object
        choices = getattr(resp, "choices", None)
        if not isinstance(choices, list) or not choices:
            shown = str(resp)[:200] if resp is not None else "nothing"
            raise self._garbage(api, f"no 'choices' in the answer: {shown!r}")
        return choices[0]

    def _garbage(self, api: str, got: str) -> EndpointError:
        return EndpointError(f"The endpoint {self.base_url} answered something that is not an OpenAI {api} response.",
                             expected=f"JSON with choices[0] (POST {self.base_url}/{_path(api)})", got=got,
                             fix="point --llm-url at an OpenAI-compatible server (vLLM, TGI, Ollama, llama.cpp, "
                                 "OpenAI, or `python -m annotator llm-server`), base URL ending in /v1")

    def _call(self, api: str, request: Callable[[Any], Any]) -> Any:  # noqa: ANN401
        """Run one request, translating every failure once: EndpointError, or _Unsupported where
        another strategy may still work (404, 400)."""
        import openai

        client = self.client()
        url = f"{self.base_url}/{_path(api)}"
        try:
            return request(client)
        except openai.APITimeoutError as e:  # before APIConnectionError: it is one
            raise EndpointError(f"The LLM endpoint {url} did not answer within {self.timeout_s:g} s.",
                                expected=f"an answer in under {self.timeout_s:g} s per request",
                                got=f"timeout after {self.max_retries + 1} attempt(s)",
                                fix="raise --llm-timeout, lower the load on the server, or use a smaller model") from e
        except openai.APIConnectionError as e:
            cause = e.__cause__ or e
            raise EndpointError(f"Cannot reach the LLM endpoint at {self.base_url}.",
                                expected="an OpenAI-compatible server listening there",
                                got=f"{type(cause).__name__}: {cause}"[:300],
                                fix="start it (e.g. `python -m annotator llm-server --model smollm2 --port 8001`) "
                                    "or pass the right --llm-url") from e
        except (openai.AuthenticationError, openai.PermissionDeniedError) as e:
            raise EndpointError(f"The LLM endpoint {self.base_url} rejected the API key (HTTP {e.status_code}).",
                                expected="a key this server accepts", got=_server_message(e),
                                fix="set ANNOTATOR_LLM_API_KEY (or pass --llm-api-key) to a valid key") from e
        except openai.NotFoundError as e:
            raise _Unsupported(f"HTTP 404 at {url}: {_server_message(e)}") from e
        except (openai.BadRequestError, openai.UnprocessableEntityError) as e:
            raise _Unsupported(f"HTTP {e.status_code} at {url}: {_server_message(e)}") from e
        except openai.RateLimitError as e:
            raise EndpointError(f"The LLM endpoint {self.base_url} keeps refusing: rate limited (HTTP 429).",
                                expected="requests within the server's rate limit", got=_server_message(e),
                                fix="wait and re-run (answered items are cached), or lower max_workers") from e
        except openai.APIStatusError as e:
            raise EndpointError(f"The LLM endpoint {url} failed (HTTP {e.status_code}).",
                                expected="HTTP 200 with a completion", got=_server_message(e),
                                fix="look at the server's log; re-run once it is healthy (answered items are cached)") from e
        except (openai.APIResponseValidationError, ValueError, TypeError, AttributeError) as e:
            # a 200 whose body is not the JSON the client expects (the client raises these on bad JSON)
            raise self._garbage(api, f"{type(e).__name__}: {e}"[:300]) from e

    def _run_parallel(self, rows: Sequence[int], prompts: Sequence[str], texts: Sequence[str],
                      demos: Sequence[Sequence[tuple[str, str]]], context: LabelContext,
                      finish: Callable[[int, _Answer], None]) -> None:
        """Answer ``rows`` with at most ``max_workers`` requests in flight, calling ``finish`` in this
        thread; the first error cancels what has not started and is raised."""
        strategy = self.strategy
        assert strategy is not None  # settled by _discover
        with ThreadPoolExecutor(max_workers=min(self.max_workers, len(rows)), thread_name_prefix="llm-endpoint") as pool:
            pending: dict[Future, int] = {pool.submit(self._answer, strategy, prompts[i], texts[i], demos[i], context): i
                                          for i in rows}
            try:
                while pending:
                    ready, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in ready:
                        i = pending.pop(fut)
                        finish(i, self._result(fut, strategy))
            finally:
                for fut in pending:
                    fut.cancel()

    def _result(self, fut: Future, strategy: str) -> _Answer:
        try:
            return fut.result()
        except _Unsupported as e:  # it worked for the first item, so this is the server changing its mind
            raise EndpointError(f"The endpoint {self.base_url} stopped answering {strategy} requests.",
                                expected="the same answers as for the first item", got=e.reason,
                                fix=self._fix_for_404()) from e

    def _served_models_note(self) -> str:
        """" (the server lists: a, b)" when ``GET /models`` answers, else ""."""
        try:
            ids = [m.id for m in self.client().with_options(max_retries=0, timeout=min(self.timeout_s, 5.0)).models.list()]
        except Exception:  # noqa: BLE001 - best effort: this only decorates an error already being raised
            return ""
        return f" (the server lists: {', '.join(ids[:20]) or 'no models'})"

    def _fix_for_404(self) -> str:
        return (f"check --llm-model {self.model!r} against GET {self.base_url}/models, and that --llm-url ends "
                "in the API root (…/v1)")


def _messages(prompt: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": CHAT_SYSTEM}, {"role": "user", "content": prompt}]


def _path(api: str) -> str:
    return "completions" if api == "completions" else "chat/completions"


def _tokens(resp: Any) -> int:  # noqa: ANN401
    usage = getattr(resp, "usage", None)
    total = getattr(usage, "total_tokens", None) if usage is not None else None
    return int(total) if isinstance(total, int | float) else 0


def _server_message(e: Any) -> str:  # noqa: ANN401 - an openai.APIStatusError
    body = getattr(e, "body", None)
    if isinstance(body, Mapping):
        err = body.get("error", body)
        msg = err.get("message") if isinstance(err, Mapping) else err
        if msg:
            return str(msg)[:300]
    return str(getattr(e, "message", e))[:300]
