"""CLI: `model export --kind classifier` on a version the refit job saved under the data directory."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "jobs"))
from jobs_helpers import PROJECT, parity_project  # noqa: E402


def test_model_export_kind_classifier(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from annotator.cli import app
    from annotator.core.config import Settings
    from annotator.embeddings import HashingEmbedder
    from annotator.service import AnnotatorService

    monkeypatch.delenv("ANNOTATOR_MODELS_DIR", raising=False)
    monkeypatch.setenv("ANNOTATOR_DEMO", "false")
    settings = Settings(data_dir=tmp_path / "data", demo=False, jobs_backend="immediate")  # default models dir
    service = AnnotatorService.from_settings(settings, embedder=HashingEmbedder())
    parity_project(service, n=120, labelled=100)
    assert service.jobs.submit("refit", PROJECT).status == "done"
    service.close()
    assert (tmp_path / "data" / "models" / PROJECT / "classifier" / "v1" / "weights.npz").is_file()

    args = ["--data-dir", str(settings.data_dir)]
    runner = CliRunner()
    out = tmp_path / "clf"
    res = runner.invoke(app, ["model", "export", "--project", PROJECT, "--kind", "classifier", "--version", "1",
                              "--out", str(out), *args])
    assert res.exit_code == 0, res.output
    assert "numpy + sentence-transformers" in res.output and "README.md" in res.output
    assert json.loads((out / "config.json").read_text())["labels"] == ["even", "odd"]
    assert (out / "weights.npz").is_file() and "fast classifier v1" in (out / "README.md").read_text()
    res = runner.invoke(app, ["model", "export", "--project", PROJECT, "--kind", "classifier", "--version", "1",
                              "--out", str(out), *args])
    assert res.exit_code != 0 and "not empty" in str(res.exception)
    res = runner.invoke(app, ["model", "export", "--project", PROJECT, "--kind", "probe", "--version", "1",
                              "--out", str(tmp_path / "other"), *args])
    assert res.exit_code != 0 and "finetune | classifier | bt-judge" in str(res.exception)
    res = runner.invoke(app, ["model", "export", "--help"])
    assert res.exit_code == 0 and "finetune | classifier | bt-judge" in res.output and "--kind classifier" in res.output
