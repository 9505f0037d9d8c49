"""The command line: a second face beside the UI, calling the same service.

One Typer app per group of commands, merged into the root ``app``; every command prints a clear
message and exits non-zero on error, and long work shows a tqdm bar.
"""

from __future__ import annotations

import logging

import pydantic
import typer

from annotator.cli import ai, jobs, models, projects, settings, simulate, team, users
from annotator.cli.common import app
from annotator.core.errors import AnnotatorError

for group in (projects, settings, ai, simulate, team, jobs):
    app.add_typer(group.app)
app.add_typer(users.app, name="user")
app.add_typer(models.app, name="model")

__all__ = ["app", "main"]


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except AnnotatorError as e:
        typer.secho(f"Error: {e.message}", fg=typer.colors.RED, err=True)
        raise SystemExit(e.exit_code) from None
    except pydantic.ValidationError as e:
        if e.title != "Settings":
            raise
        typer.secho(environment_error(e), fg=typer.colors.RED, err=True)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        typer.secho("Interrupted; everything saved before this point is kept.", err=True)
        raise SystemExit(130) from None


def environment_error(error: pydantic.ValidationError) -> str:
    """What is wrong with the app's settings (``Settings``: ``ANNOTATOR_*`` environment variables or
    ``annotator.toml``), one line per bad field with what it holds and what was expected, and the fix."""
    lines = ["Error: an app setting has a value the app cannot use."]
    for problem in error.errors():
        name = "ANNOTATOR_" + "_".join(str(part) for part in problem["loc"]).upper()
        lines.append(f"  {name}={problem.get('input')!r}: expected: {problem['msg']}")
    lines.append("Fix: set it to a valid value in the environment or in annotator.toml, or unset it for the "
                 "default (README.md, section Settings, lists them).")
    return "\n".join(lines)
