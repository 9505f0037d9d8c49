"""The job-kind registry: every kind has a body, the restart policy and the help texts read it."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from annotator.core.errors import ValidationError
from annotator.jobs.kinds import JOB_KINDS, RESTART_KINDS, VERSION_FOLDER_KINDS, job_kind


def test_every_registered_kind_has_a_body_in_the_service(service):
    assert list(service.jobs.kinds) == list(JOB_KINDS)
    assert all(callable(body) for body in service.jobs.kinds.values())


def test_restart_and_cleanup_policy_come_from_the_registry():
    assert set(RESTART_KINDS) == {"finetune", "judge"}  # both apply their results atomically at the end
    assert set(VERSION_FOLDER_KINDS) == {"classifier", "finetune", "bt-judge"}


def test_an_unknown_kind_is_refused_with_the_list(service):
    with pytest.raises(ValidationError) as err:
        job_kind("train")
    assert all(name in err.value.message for name in JOB_KINDS)
    with pytest.raises(ValidationError):
        service.jobs.submit("train", None)


def test_jobs_help_lists_every_kind():
    from annotator.cli import app

    out = CliRunner().invoke(app, ["jobs", "run", "--help"], terminal_width=200).output
    assert all(name in out for name in JOB_KINDS)
