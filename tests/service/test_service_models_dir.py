"""Model versions live under the data directory unless ``models_dir`` says otherwise."""

from __future__ import annotations

from pathlib import Path


def test_default_models_dir_is_under_the_data_dir(tmp_path, monkeypatch):
    from annotator.core.config import Settings

    monkeypatch.delenv("ANNOTATOR_MODELS_DIR", raising=False)
    assert Settings(data_dir=tmp_path / "data").resolved_models_dir == tmp_path / "data" / "models"
    assert Settings(data_dir=tmp_path / "data", models_dir=tmp_path / "m").resolved_models_dir == tmp_path / "m"
    monkeypatch.setenv("ANNOTATOR_MODELS_DIR", str(tmp_path / "env"))
    assert Settings(data_dir=tmp_path / "data").resolved_models_dir == tmp_path / "env"
    assert "<data_dir>/models" in Settings.model_fields["models_dir"].description


def test_the_llm_conversion_cache_follows_the_models_dir(tmp_path, monkeypatch):
    from annotator.annotators.registry import llm_options
    from annotator.core.config import Settings

    monkeypatch.delenv("ANNOTATOR_MODELS_DIR", raising=False)
    settings = Settings(data_dir=tmp_path / "data")
    options = llm_options(settings, ["llm-local"], lambda name: lambda done, total: None)
    assert Path(options["llm-local"]["models_dir"]) == tmp_path / "data" / "models"
