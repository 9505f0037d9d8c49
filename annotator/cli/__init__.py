"""The command line: a second face beside the UI, calling the same service.

One Typer app per group of commands, merged into the root ``app``; every command prints a clear
message and exits non-zero on error, and long work shows a tqdm bar.
"""

from __future__ import annotations

import logging

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
    except KeyboardInterrupt:
        typer.secho("Interrupted; everything saved before this point is kept.", err=True)
        raise SystemExit(130) from None
