"""Fixtures of the LLM tests: a label context of hand-written sentiment demos, and the fake
OpenAI-compatible server (``fake_openai.FakeOpenAI``)."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # fake_openai, sentiment_set: plain test helpers

from fake_openai import FakeOpenAI  # noqa: E402
from sentiment_set import DEMOS, ITEMS, LABELS  # noqa: E402

from annotator.annotators import ItemBatch, LabelContext  # noqa: E402


def _unit_rows(n: int, d: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture
def context() -> LabelContext:
    """The 8 sentiment demos with random unit embeddings (the fake server ignores the demos)."""
    return LabelContext(label_names=LABELS, texts=[t for t, _ in DEMOS], embeddings=_unit_rows(len(DEMOS), 16, 0),
                        labels=np.array([LABELS.index(lab) for _, lab in DEMOS]))


@pytest.fixture
def batch() -> ItemBatch:
    """The first 6 positive and 6 negative test sentences (12 items)."""
    picked = ITEMS[:6] + ITEMS[20:26]
    return ItemBatch(texts=[t for t, _ in picked], embeddings=_unit_rows(len(picked), 16, 1))


@pytest.fixture
def gold(batch) -> np.ndarray:
    by_text = dict(ITEMS)
    return np.array([LABELS.index(by_text[t]) for t in batch.texts])


@pytest.fixture
def fake_server(request):
    """A running FakeOpenAI; parametrize indirectly with its behaviour (default "logprobs")."""
    with FakeOpenAI(getattr(request, "param", "logprobs")) as server:
        yield server


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
