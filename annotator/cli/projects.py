"""Projects and their data: init, import, export, projects, embed, serve."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from annotator.cli.common import DatabaseUrl, DataDir, ProjectOpt, make_settings, open_service, progress_bar

app = typer.Typer()


@app.command()
def init(
    name: Annotated[str, typer.Argument(help="Project name.")],
    labels: Annotated[str, typer.Option("--labels", "-l", help="Comma-separated label names (rating: the criteria; optional for --task).")] = "",
    multi_label: Annotated[bool, typer.Option("--multi-label", help="Items may take several labels.")] = False,
    task: Annotated[Optional[str], typer.Option("--task", help="Post-training data: rating | preference | correction; spans: labelled stretches of text (entities); default: text classification.")] = None,
    allow_overlapping_spans: Annotated[bool, typer.Option("--allow-overlapping-spans", help="--task spans: spans of an item may share characters (default: refused).")] = False,
    scale: Annotated[Optional[str], typer.Option("--scale", help="--task rating: lowest-highest score, e.g. 1-5 (the default).")] = None,
    guidelines: Annotated[Optional[Path], typer.Option(help="Markdown file with labelling guidelines.")] = None,
    strategy: Annotated[str, typer.Option(help="Queue strategy: margin | entropy | least-confidence | random.")] = "margin",
    data_dir: DataDir = None, database_url: DatabaseUrl = None,
) -> None:
    """Create a labelling project.

    Example: `python -m annotator init reviews --labels positive,negative --guidelines guide.md`

    Spans: `python -m annotator init ner --task spans --labels PER,ORG,LOC`
    """
    from annotator.active.strategies import get_strategy

    get_strategy(strategy)
    text = guidelines.read_text(encoding="utf-8") if guidelines else ""
    service = open_service(make_settings(data_dir, database_url))
    summary = service.projects.create_project(
        name, [x for x in labels.split(",") if x.strip()],
        task_type=task or ("multi-label" if multi_label else "single-label"),
        guidelines=text, settings={"strategy": strategy, **_scale_settings(scale),
                                   **({"allow_overlapping_spans": True} if allow_overlapping_spans else {})},
    )
    typer.echo(f"Created project {summary.name!r} ({summary.task_type}) with labels: "
               + ", ".join(f"{lab.name} [{lab.hotkey}]" for lab in summary.labels))


def _scale_settings(scale: str | None) -> dict[str, int]:
    """"1-5" → rating_min / rating_max project settings."""
    if not scale:
        return {}
    lo, sep, hi = scale.partition("-")
    if not sep or not lo.strip().isdigit() or not hi.strip().isdigit() or int(lo) >= int(hi) or int(hi) > 9:
        from annotator.core.errors import ValidationError

        raise ValidationError(f"Bad --scale {scale!r}.", expected="LOW-HIGH with one-digit scores, e.g. 1-5",
                              fix="pass e.g. --scale 1-5 or --scale 1-7")
    return {"rating_min": int(lo), "rating_max": int(hi)}


@app.command("import")
def import_(
    file: Annotated[str, typer.Argument(help="CSV, TSV, JSON, JSONL, parquet, a save_to_disk folder, or a hub dataset.")],
    project: ProjectOpt,
    text_column: Annotated[str, typer.Option(help="Column holding the text to label.")] = "text",
    label_column: Annotated[Optional[str], typer.Option(help="Column with existing labels.")] = None,
    id_column: Annotated[Optional[str], typer.Option(help="Column with your own item ids (unique).")] = None,
    metadata_columns: Annotated[Optional[str], typer.Option(help="Comma-separated; default all other columns.")] = None,
    labels_as: Annotated[str, typer.Option(help="Import labels as 'response' (people's) or 'suggestion' (an agent's).")] = "response",
    agent: Annotated[str, typer.Option(help="Agent name when --labels-as suggestion.")] = "import",
    score_column: Annotated[Optional[str], typer.Option(help="--labels-as suggestion: column with each label's "
                                                        "confidence in [0, 1].")] = None,
    add_labels: Annotated[bool, typer.Option("--add-labels", help="Add unknown label values to the project.")] = False,
    label_separator: Annotated[str, typer.Option(help="Separator of multi-label cells.")] = ",",
    encoding: Annotated[Optional[str], typer.Option(help="File encoding; default UTF-8.")] = None,
    near_duplicates: Annotated[Optional[str], typer.Option(
        help="Post-training projects: drop records whose prompt and responses all have an embedding cosine at "
             "least this high with an item already there (reported); 'off' keeps them. Default: the project's "
             "setting (0.95).")] = None,
    data_dir: DataDir = None, database_url: DatabaseUrl = None,
) -> None:
    """Import items (and optionally their labels) into a project, in one transaction.

    Example: `python -m annotator import reviews.csv --project reviews --text-column text --label-column label`

    A model's labels for items already in the project (matched by --id-column, else by text) become its
    suggestions: `python -m annotator import preds.csv --project reviews --label-column pred --labels-as suggestion --agent mymodel --score-column prob --id-column id`

    A span project reads JSONL records with `spans: [{start, end, label}]` (or the Prodigy, spaCy and
    doccano shapes; --text-column / --id-column name their keys): `python -m annotator import ner.jsonl --project ner`
    """
    from annotator.importers import ImportSpec

    settings = make_settings(data_dir, database_url)
    spec = ImportSpec(
        text_column=text_column, id_column=id_column, label_column=label_column,
        metadata_columns=[c for c in metadata_columns.split(",") if c] if metadata_columns else None,
        label_separator=label_separator, encoding=encoding, chunk_rows=settings.import_chunk_rows,
        max_text_chars=settings.max_text_chars, score_column=score_column, **ImportSpec.limits_from(settings),
    )
    service = open_service(settings)
    bar, update = progress_bar(f"import {Path(file).name}")
    try:
        report = service.imports.import_file(project, file, spec, labels_as=labels_as, agent=agent, add_labels=add_labels,
                                     progress=update, near_duplicates=near_duplicates)
    finally:
        bar.close()
    typer.echo(json.dumps(report.model_dump(), indent=2))
    for dup in report.near_duplicates[:20]:  # the JSON lists them all; a readable summary on stderr
        typer.echo(f"near-duplicate dropped: row {dup.row} {dup.text[:60]!r} ~ item {dup.duplicate_of_item_id} "
                   f"{dup.duplicate_of_text[:60]!r} (cosine {dup.similarity:.3f})", err=True)
    for note in report.cleaned:
        typer.echo(f"cleaned {note}", err=True)
    if report.rows_cleaned > len(report.cleaned):
        typer.echo(f"… {report.rows_cleaned - len(report.cleaned):,} more rows cleaned", err=True)
    if report.near_duplicates_dropped:
        typer.echo(f"{report.near_duplicates_dropped} near-duplicates dropped (cosine >= "
                   f"{report.near_duplicate_threshold}); pass --near-duplicates off to keep them.", err=True)


@app.command()
def export(
    project: ProjectOpt,
    format: Annotated[str, typer.Option("--format", "-f", help="hf | parquet | jsonl | csv; post-training projects also sft | dpo | ratings; span projects jsonl | hf | spacy")] = "jsonl",  # noqa: A002
    out: Annotated[Path, typer.Option(help="Output directory: data file + README.md dataset card.")] = Path("export"),
    only: Annotated[Optional[str], typer.Option(help="'human': labels a person gave or confirmed; 'labelled': any label.")] = None,
    source: Annotated[Optional[str], typer.Option(help="Comma-separated label sources to keep: human,bulk,import,agent.")] = None,
    status: Annotated[Optional[str], typer.Option(help="Comma-separated statuses to keep: submitted,auto,unlabelled.")] = None,
    push_to_hub: Annotated[Optional[str], typer.Option(help="Hub repo id to push to (needs internet, --format hf).")] = None,
    hub_token: Annotated[Optional[str], typer.Option(envvar="HF_TOKEN", help="Hub token.")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace --out when it holds a previous export "
                                            "(a folder of other files is never replaced).")] = False,
    csv_raw_formulas: Annotated[bool, typer.Option("--csv-raw-formulas", help="CSV: keep cells that start with = + - @ "
                                                   "as they are (default: prefixed with ' so a spreadsheet shows "
                                                   "them instead of running them).")] = False,
    data_dir: DataDir = None, database_url: DatabaseUrl = None,
) -> None:
    """Export items with their final labels and provenance, plus a dataset card.

    The export is written beside --out and renamed into place when complete, so an interrupted
    export leaves the previous one as it was.

    Example: `python -m annotator export --project reviews --format parquet --out exports/reviews --only human`
    """
    service = open_service(make_settings(data_dir, database_url))
    result = service.exports.export(
        project, fmt=format, out=out, only=only, sources=source.split(",") if source else None,
        statuses=status.split(",") if status else None, push_to_hub=push_to_hub, hub_token=hub_token,
        overwrite=overwrite, csv_raw_formulas=csv_raw_formulas,
    )
    typer.echo(f"Wrote {result.n_rows} rows to {result.data_path} and the card {result.card_path}")


@app.command()
def projects(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """List projects with their item and label counts.

    Example: `python -m annotator projects`
    """
    service = open_service(make_settings(data_dir, database_url))
    rows = service.projects.list_projects()
    if not rows:
        typer.echo("No projects yet. Create one: python -m annotator init NAME --labels a,b")
    for p in rows:
        typer.echo(f"{p.name}\t{p.task_type}\t{p.labelled}/{p.items} labelled\tlabels: "
                   + ", ".join(lab.name for lab in p.labels))


@app.command()
def embed(
    project: ProjectOpt,
    model: Annotated[Optional[str], typer.Option(help="Embedding model: package name, local path or hub id.")] = None,
    data_dir: DataDir = None, database_url: DatabaseUrl = None,
) -> None:
    """Embed every item of a project into the cache (nothing is embedded twice).

    Example: `python -m annotator embed --project reviews`
    """
    service = open_service(make_settings(data_dir, database_url, embedding_model=model))
    bar, update = progress_bar("embed", unit="texts")
    try:
        vectors = service.embeddings.embed_project(project, progress=update)
    finally:
        bar.close()
    typer.echo(f"{len(vectors)} items embedded ({vectors.shape[1] if len(vectors) else 0}-d, "
               f"model {service.embeddings.embedder.name})")


@app.command()
def serve(
    project: Annotated[Optional[str], typer.Option("--project", "-p", help="Open this project.")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port; default 7860.")] = None,
    host: Annotated[Optional[str], typer.Option(help="Interface; default 127.0.0.1.")] = None,
    allowed_hosts: Annotated[Optional[str], typer.Option(
        "--allowed-hosts", help="Host names the browser may use besides localhost and IP addresses, comma-separated "
        "(a reverse proxy's public name); default ANNOTATOR_ALLOWED_HOSTS.")] = None,
    demo: Annotated[bool, typer.Option(help="Create the bundled demo project if missing.")] = True,
    data_dir: DataDir = None, database_url: DatabaseUrl = None,
) -> None:
    """Start the labelling app in the browser.

    Example: `python -m annotator serve --project reviews --port 7860`
    """
    from annotator.ui.launch import run_app

    run_app(make_settings(data_dir, database_url, port=port, host=host, demo=demo, allowed_hosts=allowed_hosts),
            project=project)

