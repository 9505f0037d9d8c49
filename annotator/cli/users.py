"""Accounts: user add, list, set-role, reset-password."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from annotator.cli.common import DatabaseUrl, DataDir, make_settings, open_service

app = typer.Typer(no_args_is_help=True, rich_markup_mode="markdown",
                  help="Accounts: add, list, set-role, reset-password. Roles: admin | annotator | reviewer.")


PasswordStdin = Annotated[bool, typer.Option("--password-stdin", help="Read the password from the first line of "
                                             "standard input instead of prompting (for scripts).")]


def _read_password(from_stdin: bool) -> str:
    """The new password: stdin's first line, or a hidden prompt asked twice; never echoed."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="User name (their login).")],
    role: Annotated[str, typer.Option("--role", "-r", help="admin | annotator | reviewer.")] = "annotator",
    password_stdin: PasswordStdin = False,
    no_password: Annotated[bool, typer.Option("--no-password", help="Create the account without a login.")] = False,
    data_dir: DataDir = None, database_url: DatabaseUrl = None,
) -> None:
    """Create an account; the password is asked twice (hidden) and stored only as an argon2 hash.

    Example: `python -m annotator user add ana --role annotator`, or in a script
    `echo "$PASS" | python -m annotator user add ana --role reviewer --password-stdin`
    """
    from annotator.core.schema import check_role

    check_role(role)  # before asking for a password
    password = None if no_password else _read_password(password_stdin)
    user = open_service(make_settings(data_dir, database_url)).accounts.add_user(name, role, password)
    typer.echo(f"Added user {user.name!r} ({user.role})" + ("" if user.has_password else ", no password"))


@app.command("list")
def user_list(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """List accounts with their role and whether a password is set (never the hash).

    Example: `python -m annotator user list`
    """
    rows = open_service(make_settings(data_dir, database_url)).accounts.list_users()
    if not rows:
        typer.echo("No users yet. Add one: python -m annotator user add NAME --role annotator")
    for u in rows:
        typer.echo(f"{u.name}\t{u.role}\t{'password set' if u.has_password else 'no password'}")


@app.command("set-role")
def user_set_role(
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Argument(help="admin | annotator | reviewer.")],
    data_dir: DataDir = None, database_url: DatabaseUrl = None,
) -> None:
    """Change a user's role.

    Example: `python -m annotator user set-role ana reviewer`
    """
    user = open_service(make_settings(data_dir, database_url)).accounts.set_role(name, role)
    typer.echo(f"User {user.name!r} is now {user.role}")


@app.command("reset-password")
def user_reset_password(
    name: Annotated[str, typer.Argument(help="User name.")],
    password_stdin: PasswordStdin = False,
    data_dir: DataDir = None, database_url: DatabaseUrl = None,
) -> None:
    """Set a new password for a user (asked twice, hidden).

    Example: `python -m annotator user reset-password ana`
    """
    service = open_service(make_settings(data_dir, database_url))
    service.accounts.get_user(name)  # an unknown name fails before the prompt
    user = service.accounts.reset_password(name, _read_password(password_stdin))
    typer.echo(f"Password of {user.name!r} changed")


