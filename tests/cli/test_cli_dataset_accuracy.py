"""The dataset-accuracy target on the command line: `ai --target-accuracy` keeps it in the project's
settings and states the estimate with its interval; `settings --set target_accuracy=…` checks it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from topic_data import TOPICS, topic_records
from typer.testing import CliRunner

from annotator.cli import app
from annotator.core.errors import ValidationError

ROOT = Path(__file__).resolve().parents[2]

runner = CliRunner()


def _invoke(*args: str, data_dir: Path, code: int = 0):
    """The command's output; ``code`` 2: it must stop with the annotator's own error (``main``
    prints its message and exits 2), whose message is returned."""
    result = runner.invoke(app, [*args, "--data-dir", str(data_dir)])
    if code == 2:
        assert isinstance(result.exception, ValidationError), result.output
        return result.exception.message
    assert result.exit_code == code, result.output
    return result.output


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """150 topic items labelled through the queue (60 of them random calibration picks), 150 open."""
    from annotator.core.config import Settings
    from annotator.embeddings import HashingEmbedder
    from annotator.service import AnnotatorService

    monkeypatch.setenv("ANNOTATOR_EMBEDDING_MODEL", "hashing")
    data = tmp_path / "d"
    svc = AnnotatorService.from_settings(Settings(data_dir=data, demo=False), embedder=HashingEmbedder())
    svc.projects.create_project("ai", list(TOPICS), settings={"refit_every": 1000, "explore_fraction": 0.5})
    svc.imports.import_records("ai", topic_records())
    for k in range(150):
        if k and k % 30 == 0:  # a model, so the queue serves random calibration picks beside margin ones
            svc.queue.refit_now("ai")
        item = svc.queue.next_item("ai", "ana")
        svc.queue.submit("ai", "ana", item.item_id, [item.external_id.split("-")[0]])
    svc.close()
    return data


def _target(data: Path):
    return json.loads(_invoke("settings", "--project", "ai", data_dir=data))["target_accuracy"]


def test_ai_target_accuracy_is_saved_and_the_estimate_stated(project):
    out = _invoke("ai", "--project", "ai", "--annotators", "knn", "--target-accuracy", "0.95", data_dir=project)
    report = json.loads(out[out.index("{"):])
    est = report["dataset_accuracy"]
    assert est["target"] == 0.95 and est["measured_on"] > 0 and est["auto"] > 0
    assert (f"Estimated dataset accuracy {est['value']:.3f} (95 % interval {est['ci_low']:.3f}–{est['ci_high']:.3f}, "
            f"from {est['measured_on']} random human-labelled items;") in out
    assert "target 0.95); the AI labels' precision measured " in out and "certified ≥ " in out
    fc = est["forecast"]  # with items left to people: how many more labels until the AI may take them all
    if fc is None:
        assert est["auto"] == report["items"] and "; forecast: " not in out
    else:
        assert 0 <= fc["more_labels"] <= fc["open_items"] == report["items"] and "; forecast: " in out
    assert _target(project) == 0.95  # kept for the app and the next run
    again = _invoke("ai", "--project", "ai", "--annotators", "knn", data_dir=project)  # no option: the setting stays
    assert "target 0.95)" in again and _target(project) == 0.95
    off = _invoke("ai", "--project", "ai", "--annotators", "knn", "--target-accuracy", "off", data_dir=project)
    assert "no target set)" in off and _target(project) is None


@pytest.mark.parametrize("bad", ["1", "0.5", "0.3", "95", "high", "nan"])
def test_ai_refuses_a_target_accuracy_outside_the_open_range(project, bad):
    out = _invoke("ai", "--project", "ai", "--annotators", "knn", "--target-accuracy", bad, data_dir=project, code=2)
    assert "strictly between 0.5 and 1" in out and "Traceback" not in out
    assert _target(project) is None  # nothing saved, nothing routed


def test_a_bad_target_accuracy_exits_2_with_the_fix_and_no_traceback(project):
    result = subprocess.run(
        [sys.executable, "-m", "annotator", "settings", "--project", "ai", "--set", "target_accuracy=1",
         "--data-dir", str(project)], cwd=project.parent, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(project.parent), "PYTHONPATH": str(ROOT)})
    assert result.returncode == 2, result.stderr
    assert "strictly between 0.5 and 1" in result.stderr and "Fix: pass e.g. 0.95" in result.stderr
    assert "Traceback" not in result.stderr


def test_settings_command_sets_checks_and_unsets_target_accuracy(project):
    out = _invoke("settings", "--project", "ai", "--set", "target_accuracy=0.97", "--set", "audit_fraction=0.1",
                  data_dir=project)
    shown = json.loads(out)
    assert shown["target_accuracy"] == 0.97 and shown["audit_fraction"] == 0.1
    bad = _invoke("settings", "--project", "ai", "--set", "target_accuracy=1.2", data_dir=project, code=2)
    assert "strictly between 0.5 and 1" in bad and _target(project) == 0.97
    bad = _invoke("settings", "--project", "ai", "--set", "audit_fraction=2", data_dir=project, code=2)
    assert "audit_fraction" in bad and "less than or equal to 1" in bad
    unknown = _invoke("settings", "--project", "ai", "--set", "target_acuracy=0.9", data_dir=project, code=2)
    assert "Unknown project setting 'target_acuracy'" in unknown and "target_accuracy" in unknown
    assert _target(project) == 0.97
    _invoke("settings", "--project", "ai", "--set", "target_accuracy=none", data_dir=project)
    assert _target(project) is None


@pytest.mark.parametrize("n_per", [20, 100])
def test_ai_without_random_labels_says_why_there_is_no_estimate(tmp_path, monkeypatch, n_per):
    """Imported labels are no random sample: nothing measures the AI labels the router accepted
    (100 per topic, half labelled); with 20 per topic the AI accepts none and the estimate is the people's."""
    monkeypatch.setenv("ANNOTATOR_EMBEDDING_MODEL", "hashing")
    data = tmp_path / "d"
    csv = tmp_path / "r.csv"
    rows = [f"{r['text']},{r['external_id'].split('-')[0] if i % 2 else ''}"
            for i, r in enumerate(topic_records(n_per))]
    csv.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    _invoke("init", "r", "--labels", ",".join(TOPICS), data_dir=data)
    _invoke("import", str(csv), "--project", "r", "--label-column", "label", data_dir=data)
    out = _invoke("ai", "--project", "r", "--annotators", "knn", "--target-accuracy", "0.9", data_dir=data)
    est = json.loads(out[out.index("{"):])["dataset_accuracy"]
    if n_per == 100:
        assert est["auto"] > 0 and est["value"] is None and est["measured_on"] == 0
        assert (f"No estimate of the dataset accuracy: none of the random human-labelled items falls where the "
                f"{est['auto']} AI labels were accepted, so it is only known to lie in {est['ci_low']:.3f}–1.000") in out
    else:
        assert est["auto"] == 0 and est["value"] == 1.0
        assert "Estimated dataset accuracy 1.000: all 30 labels are people's, assumed right at 1; the AI accepted " \
               "none (target 0.9)." in out
