"""`python -m annotator user add|list|set-role|reset-password`: hidden passwords, no hashes shown."""

from __future__ import annotations

from typer.testing import CliRunner

from annotator.cli import app
from annotator.core.config import Settings
from annotator.service import AnnotatorService

runner = CliRunner()


def _user(*args: str, data_dir, input: str | None = None):  # noqa: A002 - CliRunner's name
    return runner.invoke(app, ["user", *args, "--data-dir", str(data_dir)], input=input)


def test_add_list_set_role_reset_password(tmp_path):
    data = tmp_path / "d"
    out = _user("add", "ana", "--role", "reviewer", "--password-stdin", data_dir=data, input="ana's secret\n")
    assert out.exit_code == 0, out.output
    assert "Added user 'ana' (reviewer)" in out.output and "secret" not in out.output
    out = _user("add", "bo", data_dir=data, input="bo password\nbo password\n")  # the hidden prompt, twice
    assert out.exit_code == 0, out.output
    assert "bo password" not in out.output
    listed = _user("list", data_dir=data).output
    assert "ana\treviewer\tpassword set" in listed and "bo\tannotator\tpassword set" in listed
    assert "$argon2" not in listed
    assert "now admin" in _user("set-role", "bo", "admin", data_dir=data).output
    out = _user("reset-password", "ana", "--password-stdin", data_dir=data, input="a new secret\n")
    assert out.exit_code == 0 and "new secret" not in out.output
    service = AnnotatorService.from_settings(Settings(data_dir=data, demo=False))
    try:
        assert service.accounts.authenticate("ana", "a new secret").role == "reviewer"
        assert service.accounts.authenticate("bo", "bo password").role == "admin"
    finally:
        service.close()


def test_errors_are_messages(tmp_path):
    data = tmp_path / "d"
    out = _user("add", "ana", "--role", "owner", "--password-stdin", data_dir=data, input="whatever pw\n")
    assert out.exit_code != 0 and "Unknown role 'owner'" in str(out.exception)
    _user("add", "ana", "--no-password", data_dir=data)
    out = _user("add", "ana", "--no-password", data_dir=data)
    assert "already exists" in str(out.exception)
    out = _user("reset-password", "nobody", data_dir=data)  # fails before asking for a password
    assert "User 'nobody' not found" in str(out.exception) and "Password" not in out.output
    out = _user("add", "cy", data_dir=data, input="first one\nsecond one\nfirst one\nfirst one\n")
    assert out.exit_code == 0 and "do not match" in out.output and "first one" not in out.output


def test_user_commands_have_help_with_an_example():
    for command in ("add", "list", "set-role", "reset-password"):
        result = runner.invoke(app, ["user", command, "--help"])
        assert result.exit_code == 0 and "Example" in result.output, command


def test_set_role_refuses_to_demote_the_last_admin(tmp_path):
    data = tmp_path / "d"
    assert _user("add", "root", "--role", "admin", "--no-password", data_dir=data).exit_code == 0
    out = _user("set-role", "root", "annotator", data_dir=data)
    assert out.exit_code != 0 and "last admin" in str(out.exception)
    assert "root\tadmin" in _user("list", data_dir=data).output  # the project still has its admin
    _user("add", "bo", "--role", "admin", "--no-password", data_dir=data)
    out = _user("set-role", "root", "annotator", data_dir=data)
    assert out.exit_code == 0 and "now annotator" in out.output


def test_reset_password_and_set_role_end_open_logins(tmp_path):
    """The CLI bumps the account's session version (the app ends logins made before it at their next
    request), as the Admin tab does: a reset always, a role change when the role changes."""
    data = tmp_path / "d"
    assert _user("add", "root", "--role", "admin", "--password-stdin", data_dir=data, input="root secret\n").exit_code == 0
    assert _user("add", "ana", "--password-stdin", data_dir=data, input="ana secret!\n").exit_code == 0

    def version() -> int | None:
        service = AnnotatorService.from_settings(Settings(data_dir=data, demo=False))
        try:
            return service.accounts.session_version("ana")
        finally:
            service.close()

    assert version() == 0
    assert _user("reset-password", "ana", "--password-stdin", data_dir=data, input="a new secret\n").exit_code == 0
    assert version() == 1
    assert "now reviewer" in _user("set-role", "ana", "reviewer", data_dir=data).output
    assert version() == 2
    assert _user("set-role", "ana", "reviewer", data_dir=data).exit_code == 0  # no change, logins stay
    assert version() == 2
