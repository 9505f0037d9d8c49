"""A bad ANNOTATOR_* environment setting ends a command with a clear error, not a traceback."""

from __future__ import annotations

import sys

import pytest

from annotator.cli import main


def test_a_bad_environment_setting_names_the_variable_and_the_fix(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("ANNOTATOR_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ANNOTATOR_JOBS_WORKERS", "abc")
    monkeypatch.setattr(sys, "argv", ["annotator", "projects"])
    with pytest.raises(SystemExit) as stop:
        main()
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "ANNOTATOR_JOBS_WORKERS='abc'" in err and "valid integer" in err and "Fix:" in err
    assert "Traceback" not in err
