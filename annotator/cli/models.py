"""Trained model versions: model list, export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from annotator.cli.common import DatabaseUrl, DataDir, ProjectOpt, make_settings, open_service

app = typer.Typer(no_args_is_help=True, rich_markup_mode="markdown",
                  help="Trained model versions: list, export (standalone folder + model card).")


@app.command("list")
def model_list(project: ProjectOpt, kind: Annotated[Optional[str], typer.Option(help="finetune | classifier | bt-judge")] = None,
               data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """List trained model versions with their held-out accuracy and whether they are promoted."""
    versions = open_service(make_settings(data_dir, database_url)).models.model_versions(project, kind)
    if not versions:
        typer.echo("No model versions yet: python -m annotator jobs run finetune --project " + project)
    for v in versions:
        m = v.metrics
        typer.echo(f"{v.kind:<10} v{v.version:<3} {'PROMOTED' if v.promoted else '        '} "
                   f"held-out acc {m.get('heldout_accuracy')} (n={m.get('heldout_n')}, train {m.get('train_n')})"
                   + (f" vs {m.get('baseline')} {m.get('baseline_accuracy')}" if m.get("baseline") else "")
                   + f"  {v.created_at:%Y-%m-%d %H:%M}" + (f"  {v.path}" if v.path else ""))


#: How to load an export, per kind (printed after ``model export``).
_LOAD_HINTS = {
    "finetune": "load it with transformers.pipeline('text-classification', model='{path}')",
    "classifier": "load it with numpy + sentence-transformers: see {path}/README.md (weights.npz, config.json)",
    "bt-judge": "load it with numpy + sentence-transformers: see {path}/README.md (weights.npy, config.json)",
}


@app.command("export")
def model_export(project: ProjectOpt, version: Annotated[int, typer.Option("--version", help="Version number N.")],
                 out: Annotated[Path, typer.Option("--out", help="New folder for the model.")],
                 kind: Annotated[str, typer.Option("--kind", help="finetune | classifier | bt-judge")] = "finetune",
                 data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Write a model version as a standalone folder with a README.md model card.

    `finetune`: a save_pretrained folder (transformers). `classifier` (the fast classifier) and
    `bt-judge` (the preference judge): numpy weights and config.json, loaded with numpy +
    sentence-transformers as the card shows.

    Example: `python -m annotator model export --project reviews --kind classifier --version 4 --out reviews-clf-v4/`
    """
    path = open_service(make_settings(data_dir, database_url)).models.export_model(project, version, out, kind=kind)
    hint = _LOAD_HINTS.get(kind, "see {path}/README.md").format(path=path)
    typer.echo(f"Wrote {path} ({hint})")
