"""A project's settings from the command line: show them all, or change some (`settings --set KEY=VALUE`)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Optional

import typer

from annotator.cli.common import DatabaseUrl, DataDir, ProjectOpt, make_settings, open_service

app = typer.Typer()

#: Values that unset a setting that may be empty (e.g. target_accuracy).
NONE_WORDS = ("off", "none", "null")


def parse_assignment(text: str) -> tuple[str, Any]:
    """"KEY=VALUE" → (key, value), the value read as JSON where it is JSON (numbers, true / false),
    else kept as text; target_accuracy is checked here (a share strictly between 0.5 and 1, or off).

    Raises:
        ValidationError: no "=", an unknown key, or a bad target_accuracy.
    """
    from annotator.core.errors import ValidationError
    from annotator.core.schema import ProjectSettings
    from annotator.routing.accuracy_text import parse_target_accuracy

    key, sep, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    known = sorted(ProjectSettings.model_fields)
    if not sep or not key:
        raise ValidationError(f"Bad --set {text!r}.", expected="KEY=VALUE", fix="pass e.g. --set target_accuracy=0.95")
    if key not in known:
        raise ValidationError(f"Unknown project setting {key!r}.", expected=", ".join(known),
                              fix="run `python -m annotator settings --project P` to see them with their values")
    if key == "target_accuracy":
        return key, parse_target_accuracy(raw)
    if raw.lower() in NONE_WORDS:
        return key, None
    try:
        return key, json.loads(raw)
    except ValueError:
        return key, raw


@app.command()
def settings(
    project: ProjectOpt,
    assignments: Annotated[Optional[list[str]], typer.Option("--set", help="KEY=VALUE to change (repeat for several); off or none unsets a setting that may be empty.")] = None,
    data_dir: DataDir = None, database_url: DatabaseUrl = None,
) -> None:
    """Show a project's settings (JSON), or change some and show the result. The app and the AI runs use them.

    Example: `python -m annotator settings --project reviews --set target_accuracy=0.95 --set audit_fraction=0.1`
    (and `--set target_accuracy=off` to route by the per-label precision target alone).
    """
    from annotator.core.errors import ValidationError

    changes = dict(parse_assignment(a) for a in assignments or [])
    service = open_service(make_settings(data_dir, database_url))
    if changes:
        try:
            current = service.projects.update_project_settings(project, **changes)
        except ValueError as e:  # pydantic's ValidationError: a value of the wrong type or out of range
            first = (getattr(e, "errors", lambda: [{}])() or [{}])[0]
            raise ValidationError(
                "Cannot save these project settings.", got=", ".join(f"{k}={v!r}" for k, v in changes.items()),
                expected=f"{'.'.join(str(p) for p in first.get('loc', ()))}: {first.get('msg', str(e))}".strip(": "),
                fix="run `python -m annotator settings --project P` to see each setting's current value") from e
    else:
        current = service.projects.project_details(project)[2]
    typer.echo(json.dumps(current.model_dump(), indent=2))
