"""CLI: model list / model export on versions a fine-tune job wrote; jobs cancel."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "jobs"))
from jobs_helpers import PROJECT, parity_project, parity_rule  # noqa: E402


def test_model_list_and_export(settings, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from annotator.cli import app
    from annotator.embeddings import HashingEmbedder
    from annotator.service import AnnotatorService
    from annotator.training import RuleTrainer

    settings.jobs_backend = "immediate"
    service = AnnotatorService.from_settings(settings, embedder=HashingEmbedder())
    parity_project(service, n=200, labelled=150)
    service.models.trainer = RuleTrainer(parity_rule)
    service.jobs.submit("finetune", PROJECT)
    service.models.trainer = RuleTrainer(lambda t: 0)
    service.jobs.submit("finetune", PROJECT)
    service.close()
    monkeypatch.setenv("ANNOTATOR_MODELS_DIR", str(settings.models_dir))
    args = ["--data-dir", str(settings.data_dir)]
    runner = CliRunner()
    res = runner.invoke(app, ["model", "list", "--project", PROJECT, *args])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert "v1" in lines[0] and "PROMOTED" in lines[0] and "held-out acc 1.0" in lines[0]
    assert "v2" in lines[1] and "PROMOTED" not in lines[1] and "vs fine-tuned v1 1.0" in lines[1]
    out = tmp_path / "export"
    res = runner.invoke(app, ["model", "export", "--project", PROJECT, "--version", "1", "--out", str(out), *args])
    assert res.exit_code == 0, res.output
    assert (out / "README.md").is_file() and (out / "config.json").is_file()
    res = runner.invoke(app, ["model", "export", "--project", PROJECT, "--version", "1", "--out", str(out), *args])
    assert res.exit_code != 0 and "not empty" in str(res.exception)  # main() prints it as "Error: ..."
    res = runner.invoke(app, ["jobs", "cancel", "2", *args])
    assert res.exit_code == 0 and " done " in res.output  # a finished job stays as it was
