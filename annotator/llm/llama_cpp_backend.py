"""The llama.cpp path of the offline LLM annotator: the GGUF file scored as it is, on the CPU.

Optional: ``pip install 'annotator[llama]'`` (or ``make llama``) compiles llama-cpp-python once
(about 10–14 minutes on 2 cores). When it is importable, ``llm-local`` uses it by itself for GGUF
models that run faster there (``Settings.llm_backend = "auto"``): Gemma-3-270M's Q4_K_M file
scores a Rotten Tomatoes prompt in 0.22 s against 0.86 s through transformers and loads in under
a second against ~50 s for the first conversion; SmolLM2's Q4_1 file is slower there (0.56 s
against 0.41 s), so it stays on transformers unless asked for. Transformers stays the path for
everything that needs hidden states or generation (the llm-probe vectors, span suggestions, the
judge, ``llm-server``).

Scoring is the transformers path's, token for token: the prompt's log-softmax at its last
position scores each label's first token; multi-token labels are fed one token at a time after
it. Between prompts the longest common token prefix with the previous prompt stays in llama.cpp's
KV cache (the shared task header, and all of a prompt re-scored with other labels), so only the
rest is evaluated. The scores differ from transformers' float32 copy by llama.cpp's quantised
matrix products (a few hundredths of a probability, measured in the tests).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from annotator.core.errors import ConfigError, ModelLoadError

log = logging.getLogger(__name__)

BACKENDS = ("auto", "transformers", "llama-cpp")
INSTALL = "pip install 'annotator[llama]'   (or: make llama; compiles llama.cpp once, ~14 min on 2 cores)"
DEFAULT_N_CTX = 2048  # tokens: a 4-demo prompt of 400-character texts is ~500–700


def llama_cpp_installed() -> bool:
    """True when llama-cpp-python can be imported (checked without importing it)."""
    return importlib.util.find_spec("llama_cpp") is not None


def resolve_backend(backend: str, *, is_gguf: bool, device: str = "cpu", faster_in_llama_cpp: bool = True) -> str:
    """"transformers" or "llama-cpp" for ``backend`` ∈ BACKENDS.

    "auto" takes llama.cpp for a GGUF model on the CPU when llama-cpp-python is installed and the
    model is not known to be slower there (``faster_in_llama_cpp``), else transformers. Asking for
    "llama-cpp" where it cannot run raises ConfigError saying why.
    """
    if backend not in BACKENDS:
        raise ConfigError(f"Unknown LLM backend {backend!r}.", expected=" | ".join(BACKENDS),
                          fix="set ANNOTATOR_LLM_BACKEND=auto (llama.cpp when installed, else transformers)")
    if backend == "transformers":
        return backend
    usable = is_gguf and device == "cpu" and llama_cpp_installed()
    if backend == "auto":
        return "llama-cpp" if usable and faster_in_llama_cpp else "transformers"
    if not is_gguf:
        raise ConfigError("The llama-cpp backend reads GGUF files only.", got="a transformers model folder",
                          fix="pass a .gguf file or a bundled model (smollm2, gemma3-270m), or set ANNOTATOR_LLM_BACKEND=auto")
    if device != "cpu":
        raise ConfigError("The llama-cpp backend runs on the CPU here.", got=f"device={device}",
                          fix="use device cpu, or the transformers backend on an accelerator")
    if not llama_cpp_installed():
        raise ConfigError("llama-cpp-python is not installed.", expected="the llama_cpp module", fix=INSTALL)
    return backend


class LlamaTokenizer:
    """The slice of a transformers tokenizer that label scoring uses, over llama.cpp's tokenizer:
    ``tok(text, add_special_tokens=...).input_ids``."""

    def __init__(self, llama: Any) -> None:
        self._llama = llama

    def __call__(self, text: str, add_special_tokens: bool = True) -> _Encoded:
        return _Encoded(self._llama.tokenize(text.encode("utf-8"), add_bos=add_special_tokens, special=False))


@dataclass(frozen=True)
class _Encoded:
    input_ids: list[int]


@dataclass
class LlamaCppModel:
    """A GGUF model in llama.cpp, with the last prompt's tokens kept for prefix reuse.

    ``lock`` serialises evaluations: one llama.cpp context holds one sequence.
    """

    llama: Any
    model_id: str
    source: str
    load_seconds: float
    lock: threading.Lock

    @property
    def tokenizer(self) -> LlamaTokenizer:
        return LlamaTokenizer(self.llama)

    def score(self, prompt: str, conts: Sequence[Sequence[int]]) -> list[list[float]]:
        """Per-token log-probabilities of each continuation after ``prompt``: k lists, one float per
        token of that continuation."""
        ids = self.llama.tokenize(prompt.encode("utf-8"), add_bos=True, special=False)
        longest = max(len(c) for c in conts)
        if len(ids) + longest > self.llama.n_ctx():
            raise ConfigError(f"A prompt of {len(ids)} tokens does not fit the llama.cpp context ({self.llama.n_ctx()}).",
                              fix="lower max_chars or n_demos of the llm-local annotator")
        with self.lock:
            first = self._eval_suffix(ids)
            logps = [[float(first[c[0]])] for c in conts]
            for j, cont in enumerate(conts):
                if len(cont) == 1:
                    continue
                for t in range(1, len(cont)):  # logits of every position: one token at a time
                    self.llama.n_tokens = len(ids) + t - 1
                    step = self._eval_suffix_tokens([cont[t - 1]])
                    logps[j].append(float(step[cont[t]]))
            self.llama.n_tokens = len(ids)  # the prompt stays cached for the next one's shared prefix
        return logps

    def _eval_suffix(self, ids: list[int]) -> np.ndarray:
        """Evaluate ``ids`` after the longest prefix already in the KV cache; log-softmax of the last
        position, (vocab,)."""
        cached = np.asarray(self.llama.input_ids[: self.llama.n_tokens])
        n = min(len(cached), len(ids) - 1)  # at least one token is evaluated, to get its logits
        differ = np.flatnonzero(cached[:n] != np.asarray(ids[:n], dtype=cached.dtype))
        keep = int(differ[0]) if len(differ) else n
        self.llama.n_tokens = keep
        return self._eval_suffix_tokens(ids[keep:])

    def _eval_suffix_tokens(self, tokens: list[int]) -> np.ndarray:
        self.llama.eval(tokens)
        logits = np.ctypeslib.as_array(self.llama._ctx.get_logits_ith(-1), shape=(self.llama.n_vocab(),))
        z = logits.astype(np.float64) - float(logits.max())
        return z - np.log(np.exp(z).sum())


_LOADED: dict[str, LlamaCppModel] = {}
_LOADING = threading.Lock()


def load_llama_cpp(gguf: Path, model_id: str, *, n_ctx: int = DEFAULT_N_CTX, n_threads: int | None = None) -> LlamaCppModel:
    """The GGUF file ``gguf`` in llama.cpp, loaded once per process (~1 s).

    ``n_threads`` defaults to every core this process may use (llama-cpp-python's own default is half).
    """
    key = f"{Path(gguf).resolve()}|{n_ctx}|{n_threads}"
    with _LOADING:
        if key not in _LOADED:
            _LOADED[key] = _load(Path(gguf), model_id, n_ctx, n_threads)
        return _LOADED[key]


def unload_all() -> None:
    """Forget every loaded llama.cpp model (tests, memory pressure)."""
    with _LOADING:
        _LOADED.clear()


def _load(gguf: Path, model_id: str, n_ctx: int, n_threads: int | None) -> LlamaCppModel:
    start = time.perf_counter()
    try:
        from llama_cpp import Llama
    except ImportError as e:
        raise ModelLoadError("llama-cpp-python cannot be imported.", got=str(e), fix=INSTALL) from e
    threads = n_threads or max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    try:
        llama = Llama(model_path=str(gguf), n_ctx=n_ctx, n_threads=threads, n_batch=512, logits_all=False,
                      verbose=False)
    except (ValueError, RuntimeError, OSError) as e:
        raise ModelLoadError(f"llama.cpp cannot load {gguf}.", expected="a GGUF file llama.cpp reads",
                             got=f"{type(e).__name__}: {e}",
                             fix="check the file (re-install its package), or set ANNOTATOR_LLM_BACKEND=transformers") from e
    seconds = time.perf_counter() - start
    log.info("Loaded %s with llama.cpp in %.1f s (%d threads)", gguf.name, seconds, threads)
    return LlamaCppModel(llama, model_id, f"llama-cpp:{gguf}", seconds, threading.Lock())
