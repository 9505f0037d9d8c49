"""The command line: a second face beside the UI, calling the same service.

Every command prints a clear message and exits non-zero on error; long work shows a tqdm bar.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from annotator.core.config import Settings
from annotator.core.errors import AnnotatorError

app = typer.Typer(
    name="annotator", no_args_is_help=True, rich_markup_mode="markdown", pretty_exceptions_enable=False,
    help="People and AI label text together. Data lives in --data-dir (default ./annotator-data).",
)

DataDir = Annotated[Optional[Path], typer.Option("--data-dir", envvar="ANNOTATOR_DATA_DIR",
                                                 help="Data directory (database, caches).")]
DatabaseUrl = Annotated[Optional[str], typer.Option("--database-url", envvar="ANNOTATOR_DATABASE_URL",
                                                    help="SQLAlchemy URL; default SQLite in the data directory.")]
ProjectOpt = Annotated[str, typer.Option("--project", "-p", help="Project name.")]


def _settings(data_dir: Path | None, database_url: str | None, **extra) -> Settings:  # noqa: ANN003
    kwargs = {k: v for k, v in {"data_dir": data_dir, "database_url": database_url, **extra}.items() if v is not None}
    return Settings(**kwargs)


def _service(settings: Settings):  # noqa: ANN202 - avoid importing the service for --help
    from annotator.service import AnnotatorService

    return AnnotatorService.from_settings(settings)


def _progress(desc: str, unit: str = "rows"):  # noqa: ANN202
    from tqdm import tqdm

    bar = tqdm(desc=desc, unit=unit, disable=not sys.stderr.isatty() and None)

    def update(done: int, total: int) -> None:
        if total and bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh()

    return bar, update


@app.command()
def init(
    name: Annotated[str, typer.Argument(help="Project name.")],
    labels: Annotated[str, typer.Option("--labels", "-l", help="Comma-separated label names (rating: the criteria; optional for --task).")] = "",
    multi_label: Annotated[bool, typer.Option("--multi-label", help="Items may take several labels.")] = False,
    task: Annotated[Optional[str], typer.Option("--task", help="Post-training data: rating | preference | correction (default: text classification).")] = None,
    scale: Annotated[Optional[str], typer.Option("--scale", help="--task rating: lowest-highest score, e.g. 1-5 (the default).")] = None,
    guidelines: Annotated[Optional[Path], typer.Option(help="Markdown file with labelling guidelines.")] = None,
    strategy: Annotated[str, typer.Option(help="Queue strategy: margin | entropy | least-confidence | random.")] = "margin",
    data_dir: DataDir = None, database_url: DatabaseUrl = None,
) -> None:
    """Create a labelling project.

    Example: `python -m annotator init reviews --labels positive,negative --guidelines guide.md`
    """
    from annotator.active.strategies import get_strategy

    get_strategy(strategy)
    text = guidelines.read_text(encoding="utf-8") if guidelines else ""
    service = _service(_settings(data_dir, database_url))
    summary = service.projects.create_project(
        name, [x for x in labels.split(",") if x.strip()],
        task_type=task or ("multi-label" if multi_label else "single-label"),
        guidelines=text, settings={"strategy": strategy, **_scale_settings(scale)},
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
    """
    from annotator.importers import ImportSpec

    settings = _settings(data_dir, database_url)
    spec = ImportSpec(
        text_column=text_column, id_column=id_column, label_column=label_column,
        metadata_columns=[c for c in metadata_columns.split(",") if c] if metadata_columns else None,
        label_separator=label_separator, encoding=encoding, chunk_rows=settings.import_chunk_rows,
        max_text_chars=settings.max_text_chars,
    )
    service = _service(settings)
    bar, update = _progress(f"import {Path(file).name}")
    try:
        report = service.imports.import_file(project, file, spec, labels_as=labels_as, agent=agent, add_labels=add_labels,
                                     progress=update, near_duplicates=near_duplicates)
    finally:
        bar.close()
    typer.echo(json.dumps(report.model_dump(), indent=2))
    for dup in report.near_duplicates[:20]:  # the JSON lists them all; a readable summary on stderr
        typer.echo(f"near-duplicate dropped: row {dup.row} {dup.text[:60]!r} ~ item {dup.duplicate_of_item_id} "
                   f"{dup.duplicate_of_text[:60]!r} (cosine {dup.similarity:.3f})", err=True)
    if report.near_duplicates_dropped:
        typer.echo(f"{report.near_duplicates_dropped} near-duplicates dropped (cosine >= "
                   f"{report.near_duplicate_threshold}); pass --near-duplicates off to keep them.", err=True)


@app.command()
def export(
    project: ProjectOpt,
    format: Annotated[str, typer.Option("--format", "-f", help="hf | parquet | jsonl | csv; post-training projects also sft | dpo | ratings")] = "jsonl",  # noqa: A002
    out: Annotated[Path, typer.Option(help="Output directory: data file + README.md dataset card.")] = Path("export"),
    only: Annotated[Optional[str], typer.Option(help="'human': labels a person gave or confirmed; 'labelled': any label.")] = None,
    source: Annotated[Optional[str], typer.Option(help="Comma-separated label sources to keep: human,bulk,import,agent.")] = None,
    status: Annotated[Optional[str], typer.Option(help="Comma-separated statuses to keep: submitted,auto,unlabelled.")] = None,
    push_to_hub: Annotated[Optional[str], typer.Option(help="Hub repo id to push to (needs internet, --format hf).")] = None,
    hub_token: Annotated[Optional[str], typer.Option(envvar="HF_TOKEN", help="Hub token.")] = None,
    data_dir: DataDir = None, database_url: DatabaseUrl = None,
) -> None:
    """Export items with their final labels and provenance, plus a dataset card.

    Example: `python -m annotator export --project reviews --format parquet --out exports/reviews --only human`
    """
    service = _service(_settings(data_dir, database_url))
    result = service.exports.export(
        project, fmt=format, out=out, only=only, sources=source.split(",") if source else None,
        statuses=status.split(",") if status else None, push_to_hub=push_to_hub, hub_token=hub_token,
    )
    typer.echo(f"Wrote {result.n_rows} rows to {result.data_path} and the card {result.card_path}")


@app.command()
def projects(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """List projects with their item and label counts.

    Example: `python -m annotator projects`
    """
    service = _service(_settings(data_dir, database_url))
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
    service = _service(_settings(data_dir, database_url, embedding_model=model))
    bar, update = _progress("embed", unit="texts")
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
    demo: Annotated[bool, typer.Option(help="Create the bundled demo project if missing.")] = True,
    data_dir: DataDir = None, database_url: DatabaseUrl = None,
) -> None:
    """Start the labelling app in the browser.

    Example: `python -m annotator serve --project reviews --port 7860`
    """
    from annotator.ui.launch import run_app

    run_app(_settings(data_dir, database_url, port=port, host=host, demo=demo), project=project)


def _annotator_kwargs(service: AnnotatorService, names: list[str], bars: list) -> dict[str, dict]:
    """The service's LLM annotator options (scores cached in the project database) with a tqdm bar
    per LLM annotator (appended to ``bars`` to close)."""

    def progress_for(name: str):  # noqa: ANN202 - the bar's (done, total) callback
        bar, update = _progress(f"{name}: scoring", unit="items")
        bars.append(bar)
        return update

    return service.ai.llm_options(names, progress_for)


def _override_routing(service, project: str, target_precision: float | None,  # noqa: ANN001
                      audit_fraction: float | None):  # noqa: ANN202 - schema.ProjectSummary
    """Save the routing options given on the command line into the project's settings (the app
    then uses them too) and return the project's summary."""
    changes = {k: v for k, v in {"target_precision": target_precision, "audit_fraction": audit_fraction}.items()
               if v is not None}
    if changes:
        service.projects.update_project_settings(project, **changes)
    return service.projects.project(project)


@app.command()
def ai(
    project: ProjectOpt,
    annotators: Annotated[str, typer.Option(help="Comma-separated: classifier, knn, zero-shot, llm-local, llm-endpoint; or all.")] = "knn,zero-shot,classifier",
    target_precision: Annotated[Optional[float], typer.Option(help="Precision auto-accepted labels must keep (default: the project's, 0.95).")] = None,
    audit_fraction: Annotated[Optional[float], typer.Option(help="Share of auto-accepted labels audited blind (default: the project's, 0.05).")] = None,
    llm_url: Annotated[Optional[str], typer.Option("--llm-url", envvar="ANNOTATOR_LLM_ENDPOINT_URL", help="llm-endpoint: OpenAI-compatible base URL (default http://127.0.0.1:8001/v1, the llm-server command).")] = None,
    llm_model: Annotated[Optional[str], typer.Option("--llm-model", envvar="ANNOTATOR_LLM_ENDPOINT_MODEL", help="llm-endpoint: model name the server serves (default smollm2).")] = None,
    llm_api_key: Annotated[Optional[str], typer.Option("--llm-api-key", envvar="ANNOTATOR_LLM_API_KEY", help="llm-endpoint: API key (prefer the environment variable).")] = None,
    llm_timeout: Annotated[Optional[float], typer.Option("--llm-timeout", help="llm-endpoint: seconds one request may take (default 60).")] = None,
    llm_retries: Annotated[Optional[int], typer.Option("--llm-retries", help="llm-endpoint: retries of a failed request (default 2).")] = None,
    llm_mode: Annotated[Optional[str], typer.Option("--llm-mode", help="llm-endpoint: auto | logprobs | vote (default auto: logprobs when the server gives them).")] = None,
    data_dir: DataDir = None, database_url: DatabaseUrl = None,
) -> None:
    """Label unlabelled items with calibrated AI annotators and route each: auto, audit, verify or blind.

    Example: `python -m annotator ai --project reviews --annotators knn,zero-shot --target-precision 0.97`

    With an LLM server: `python -m annotator ai --project reviews --annotators knn,llm-endpoint --llm-url http://127.0.0.1:8001/v1 --llm-model smollm2`
    """
    from annotator.annotators.registry import make_annotators, parse_annotator_names

    settings = _settings(data_dir, database_url, llm_endpoint_url=llm_url, llm_endpoint_model=llm_model,
                         llm_api_key=llm_api_key, llm_timeout_s=llm_timeout, llm_max_retries=llm_retries,
                         llm_mode=llm_mode)
    service = _service(settings)
    summary = _override_routing(service, project, target_precision, audit_fraction)
    names = parse_annotator_names(annotators)
    bars: list = []
    chosen = make_annotators(",".join(names) or "none", **_annotator_kwargs(service, names, bars))
    typer.echo(f"Scoring {summary.items - summary.labelled} unlabelled items with {annotators} …", err=True)
    for a in chosen:
        if hasattr(a, "estimate"):  # the LLMs also score every human-labelled item once (calibration)
            guess = a.estimate(summary.items)
            usd = "" if guess.get("usd") is None else f", ~${guess['usd']:.2f}"
            typer.echo(f"{a.name}: at most ~{guess['seconds']:.0f} s{usd} (cached items cost nothing)", err=True)
    try:
        report = service.ai.run_ai(project, chosen)
    finally:
        for bar in bars:
            bar.close()
    estimate = service.ai.audit_estimate(project)
    report["audit_estimate"] = estimate.as_dict()
    for name in report["calibration"]:
        report["calibration"][name].pop("reliability", None)
    typer.echo(json.dumps(report, indent=2))


@app.command()
def judge(
    project: ProjectOpt,
    judge: Annotated[str, typer.Option("--judge", help="llm-local (offline SmolLM2) | llm-endpoint (an OpenAI-compatible server) | bt-judge (learnt from people's verdicts); several comma-separated are stacked.")] = "llm-local",
    no_swap: Annotated[bool, typer.Option("--no-swap", help="Ask only the (A, B) order (the position-biased baseline).")] = False,
    target_precision: Annotated[Optional[float], typer.Option(help="Precision auto-accepted verdicts must keep (default: the project's, 0.95).")] = None,
    audit_fraction: Annotated[Optional[float], typer.Option(help="Share of auto-accepted verdicts audited blind (default: the project's, 0.05).")] = None,
    llm_url: Annotated[Optional[str], typer.Option("--llm-url", envvar="ANNOTATOR_LLM_ENDPOINT_URL", help="llm-endpoint: OpenAI-compatible base URL.")] = None,
    llm_model: Annotated[Optional[str], typer.Option("--llm-model", envvar="ANNOTATOR_LLM_ENDPOINT_MODEL", help="llm-endpoint: model name.")] = None,
    data_dir: DataDir = None, database_url: DatabaseUrl = None,
) -> None:
    """LLM-as-a-judge for a preference project: every pair asked in both orders (position bias
    cancelled), calibrated on people's verdicts, and routed auto / audit / verify / blind. With
    `bt-judge`, a Bradley–Terry model on the embeddings learnt from the people's verdicts. On a
    rating project: every response scored per criterion, suggestions for the unrated items and the
    judge's agreement with the people's ratings.

    Example: `python -m annotator judge --project prefs --judge llm-local --target-precision 0.9`
    """
    settings = _settings(data_dir, database_url, llm_endpoint_url=llm_url, llm_endpoint_model=llm_model)
    service = _service(settings)
    summary = _override_routing(service, project, target_precision, audit_fraction)
    typer.echo(f"Judging {summary.items} pairs ({'one order' if no_swap else 'both orders'}) with {judge} …", err=True)
    bar, update = _progress("judge", unit="prompts")
    try:
        report = service.tasks.run_judge(project, judge, swap=not no_swap, progress=update)
    finally:
        bar.close()
    if "calibration" in report:  # preference: routed like `ai`; rating: suggestions and agreement only
        report["audit_estimate"] = service.ai.audit_estimate(project).as_dict()
        for name in report["calibration"]:
            report["calibration"][name].pop("reliability", None)
    typer.echo(json.dumps(report, indent=2))


@app.command()
def simulate(
    data: Annotated[Path, typer.Argument(help="Labelled CSV, JSONL or parquet (a pilot set with gold labels).")],
    text_column: Annotated[str, typer.Option(help="Column with the text.")] = "text",
    label_column: Annotated[str, typer.Option(help="Column with the gold label.")] = "label",
    strategy: Annotated[str, typer.Option(help="Query strategy: margin | entropy | least-confidence | random.")] = "margin",
    human_budget: Annotated[int, typer.Option(help="Labels the simulated person may give.")] = 400,
    batch_size: Annotated[int, typer.Option(help="Items per query round (the classifier refits after each).")] = 10,
    human_error: Annotated[float, typer.Option(help="Probability the simulated person answers a wrong label.")] = 0.0,
    ai: Annotated[Optional[str], typer.Option(help="AI annotators allowed (default none); --task preference: the judges in the loop, bt-judge (default) | llm-local | llm-endpoint | none.")] = None,
    target_precision: Annotated[float, typer.Option(help="Precision the router must hold for auto labels.")] = 0.95,
    test_fraction: Annotated[float, typer.Option(help="Gold slice held out to score the final classifier.")] = 0.2,
    seed: Annotated[int, typer.Option(help="Seed (ignored when --seeds is given).")] = 0,
    seeds: Annotated[Optional[str], typer.Option(help="Comma-separated seeds, e.g. 0,1,2: mean and spread.")] = None,
    compare: Annotated[Optional[str], typer.Option(help="Baseline strategies run on the same seeds, e.g. random.")] = None,
    max_items: Annotated[Optional[int], typer.Option(help="Sample this many rows of the file first.")] = None,
    model: Annotated[Optional[str], typer.Option(help="Embedding model; default the bundled MiniLM.")] = None,
    finetune_every: Annotated[int, typer.Option(
        help="Run the app's fine-tuning job every N human labels (0: never); a promoted version then ranks the "
             "queue and answers as the 'classifier' AI annotator.")] = 0,
    finetune_epochs: Annotated[Optional[float], typer.Option(help="Epochs per fine-tuning job (default: the setting, 2).")] = None,
    finetune_max_steps: Annotated[Optional[int], typer.Option(help="Cap on optimiser steps per fine-tuning job (CPU time).")] = None,
    compare_finetune: Annotated[bool, typer.Option(
        "--compare-finetune",
        help="Run every seed twice: with fine-tuning (--finetune-every) and the judge's veto in the loop, and "
             "without either; the report's finetune_comparison puts them side by side.")] = False,
    report: Annotated[Optional[Path], typer.Option(help="Write the JSON report here (and a .html plot beside it).")] = None,
    task: Annotated[Optional[str], typer.Option(help="preference: pairs (prompt, response_a, response_b, gold A|B in --label-column) instead of classification.")] = None,
    llm_judge: Annotated[str, typer.Option(help="--task preference: LLM judge measured with and without order swapping: llm-local | llm-endpoint | none.")] = "llm-local",
    judge_sample: Annotated[int, typer.Option(help="--task preference: pool pairs the LLM judge is asked about (both orders); 0 = all.")] = 60,
    judge_job: Annotated[bool, typer.Option("--judge-job", help="--task preference: train the versioned judge (the 'judge' job, promoted by held-out verdicts) before each routing.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Replay the real pipeline with a simulated person who answers from the gold column.

    Example: `python -m annotator simulate pilot.csv --text-column text --label-column label --seeds 0,1,2 --compare random --report out.json`

    With and without fine-tuning: `python -m annotator simulate pilot.csv --ai all --seeds 0,1,2 --finetune-every 150 --compare-finetune --report ft.json`

    Preference pairs: `python -m annotator simulate pairs.jsonl --task preference --text-column prompt --label-column better --seeds 0,1,2`
    """
    from tqdm import tqdm

    if task is not None:
        _simulate_preferences(data, text_column=text_column, label_column=label_column, task=task,
                              human_budget=human_budget, batch_size=batch_size, human_error=human_error,
                              ai=ai or "bt-judge", llm_judge=llm_judge, judge_sample=judge_sample,
                              target_precision=target_precision, test_fraction=test_fraction,
                              seeds=[int(x) for x in seeds.split(",")] if seeds else [seed], max_items=max_items,
                              model=model, report=report, data_dir=data_dir, judge_job=judge_job,
                              strategy=strategy, compare=[c.strip() for c in compare.split(",") if c.strip()]
                              if compare else [])
        return
    ai = ai or "none"

    from annotator.simulate import SimulationConfig, load_labelled, simulate_many
    from annotator.simulate.plot import write_learning_curves

    settings = _settings(data_dir, None, **({"embedding_model": model} if model else {}))
    settings.ensure_data_dir()
    cfg = SimulationConfig(
        strategy=strategy, human_budget=human_budget, batch_size=batch_size, human_error=human_error, ai=ai,
        target_precision=target_precision, test_fraction=test_fraction, seed=seed, max_items=max_items,
        embedding_model=settings.embedding_model, finetune_every=finetune_every, finetune_epochs=finetune_epochs,
        finetune_max_steps=finetune_max_steps,
    )
    if compare_finetune and finetune_every <= 0:
        from annotator.core.errors import ValidationError

        raise ValidationError("--compare-finetune needs a fine-tuning schedule.", expected="--finetune-every N > 0",
                              got=f"--finetune-every {finetune_every}", fix="add e.g. --finetune-every 150")
    from annotator.active.strategies import get_strategy

    seed_list = [int(x) for x in seeds.split(",")] if seeds else [seed]
    baselines = [c for c in compare.split(",") if c] if compare else []
    for name in [strategy, *baselines]:
        get_strategy(name)
    labelled = load_labelled(data, text_column, label_column)
    bars: list = []

    def on_run(name: str, run_seed: int):  # noqa: ANN202
        bar = tqdm(total=human_budget, desc=f"{name} seed {run_seed}", unit="labels")
        bars.append(bar)

        def on_round(point: dict) -> None:
            bar.n = point["human_labels"]
            acc = point["classifier_accuracy"]
            bar.set_postfix(acc="-" if acc is None else f"{acc:.3f}", refresh=True)
        return on_round

    result = simulate_many(labelled, cfg, seed_list, compare=baselines, compare_finetune=compare_finetune,
                           cache_dir=settings.embeddings_dir, on_run=on_run)
    for bar in bars:
        bar.close()
    text = json.dumps(result, indent=2, default=str)
    if report:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(text)
        plot = write_learning_curves(result, report.with_suffix(".html"))
        typer.echo(f"Report: {report}  Plot: {plot}")
    else:
        typer.echo(text)
    for entry in (result.get("labels_needed") or {}).values():
        typer.echo(entry["sentence"])
    if result.get("finetune_comparison"):
        typer.echo(result["finetune_comparison"]["sentence"])
    if result.get("interrupted"):
        typer.secho("Interrupted: the report holds the rounds finished so far.", err=True)


def _simulate_preferences(data: Path, *, text_column: str, label_column: str, task: str, human_budget: int,
                          batch_size: int, human_error: float, ai: str, llm_judge: str, judge_sample: int,
                          target_precision: float, test_fraction: float, seeds: list[int], max_items: int | None,
                          model: str | None, report: Path | None, data_dir: Path | None,
                          judge_job: bool = False, strategy: str = "margin", compare: list[str] | None = None) -> None:
    """``simulate --task preference`` (annotator.simulate.preference); the LLM judge's answers are
    cached in <data_dir>/llm-judge-cache.jsonl so later runs and seeds re-use them."""
    from tqdm import tqdm

    from annotator.core.errors import ValidationError
    from annotator.simulate.preference import PreferenceSimConfig, load_preferences, simulate_preferences

    if task != "preference":
        raise ValidationError(f"simulate cannot replay --task {task}.", expected="preference (or no --task: "
                              "classification)", fix="pass --task preference, or drop --task")
    if not 0.0 <= human_error < 1.0:
        raise ValidationError("--human-error must be a probability below 1.", got=str(human_error), expected="[0, 1)")
    settings = _settings(data_dir, None, **({"embedding_model": model} if model else {}))
    settings.ensure_data_dir()
    cfg = PreferenceSimConfig(human_budget=human_budget, batch_size=batch_size, human_error=human_error, ai=ai,
                              llm_judge=llm_judge, judge_sample=judge_sample, target_precision=target_precision,
                              test_fraction=test_fraction, max_items=max_items,
                              embedding_model=settings.embedding_model, judge_job=judge_job, strategy=strategy)
    scorer = None
    if llm_judge != "none":
        from annotator.llm.cache import JsonlCache
        from annotator.llm.pairwise import EndpointOptionScorer, LocalOptionScorer

        cache = JsonlCache(settings.data_dir / "llm-judge-cache.jsonl")
        if llm_judge == "llm-local":
            scorer = LocalOptionScorer(models_dir=settings.resolved_models_dir, cache=cache)
        elif llm_judge == "llm-endpoint":
            key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
            scorer = EndpointOptionScorer(base_url=settings.llm_endpoint_url, model=settings.llm_endpoint_model,
                                          api_key=key, timeout_s=settings.llm_timeout_s,
                                          max_retries=settings.llm_max_retries, cache=cache)
        else:
            raise ValidationError(f"Unknown --llm-judge {llm_judge!r}.", expected="llm-local | llm-endpoint | none")
    pairs = load_preferences(data, text_column, label_column)
    bars: list = []

    def on_run(run_seed: int):  # noqa: ANN202
        bar = tqdm(desc=f"preference seed {run_seed}", unit="verdicts")
        bars.append(bar)

        def on_round(point: dict) -> None:
            bar.n = point["human_verdicts"]
            bar.set_postfix(correct=f"{point['correct_share']:.3f}", auto=point["auto"], refresh=True)
        return on_round

    result = simulate_preferences(pairs, cfg, seeds, cache_dir=settings.embeddings_dir, scorer=scorer, on_run=on_run,
                                  compare=compare or ())
    for bar in bars:
        bar.close()
    text = json.dumps(result, indent=2, default=str)
    if report:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(text)
        typer.echo(f"Report: {report}")
    else:
        typer.echo(text)
    need, allh = result["human_verdicts_for_target"], result["all_human_verdicts_for_target"]
    if need and allh:
        typer.echo(f"human verdicts for {result['target_accuracy']:.0%} correct preferences: {need['mean']} ± "
                   f"{need['std']} (reached {result['reached_target']}) vs all-human {allh['mean']}")
    for name, row in (result.get("order_comparison") or {}).items():
        got = row["human_verdicts_for_target"]
        typer.echo(f"queue order {name}: {got['mean'] if got else '—'} ± {got['std'] if got else '—'} human verdicts "
                   f"(reached {row['reached_target']})")


@app.command()
def agreement(
    project: ProjectOpt,
    include_ai: Annotated[bool, typer.Option("--include-ai", help="Count each AI annotator (its newest suggestion per item) as a rater.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
    data_dir: DataDir = None, database_url: DatabaseUrl = None,
) -> None:
    """Agreement between the people (and optionally the AI) who answered the same items: Krippendorff's
    alpha, Fleiss' kappa, pairwise Cohen's kappa, per label and per rater, accuracy on settled items.

    Example: `python -m annotator agreement --project reviews --include-ai --json`
    """
    service = _service(_settings(data_dir, database_url))
    report = service.quality.agreement(project, include_ai=include_ai)
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return

    def num(x: float | None) -> str:
        return "-" if x is None else f"{x:.3f}"

    macro = " (macro over labels)" if report.get("macro_over_labels") else ""
    typer.echo(f"{report['project']}: {report['overlap_items']} items answered by 2+ of {len(report['raters'])} "
               f"raters ({', '.join(report['raters'])})")
    typer.echo(f"Krippendorff's alpha{macro}: {num(report['krippendorff_alpha'])}\n"
               f"Fleiss' kappa{macro}:        {num(report['fleiss_kappa'])}\n"
               f"Mean pairwise Cohen's kappa{macro}: {num(report['mean_pairwise_kappa'])}")
    typer.echo("\npair\titems\tkappa\tagreement")
    for row in report["pairwise"]:
        typer.echo(f"{row['rater_a']} / {row['rater_b']}\t{row['items']}\t{num(row['kappa'])}\t{num(row['agreement'])}")
    typer.echo("\nlabel\tratings\talpha\tfleiss")
    for row in report["per_label"]:
        typer.echo(f"{row['label']}\t{row['ratings']}\t{num(row['krippendorff_alpha'])}\t{num(row['fleiss_kappa'])}")
    accuracy = {row["rater"]: row for row in report.get("accuracy", [])}
    typer.echo(f"\nrater\titems\toverlap\tagreement\tmean kappa\taccuracy on settled ({report['settled_items']} items)")
    for row in report["per_rater"]:
        acc = accuracy.get(row["rater"], {})
        typer.echo(f"{row['rater']}\t{row['items']}\t{row['overlap_items']}\t{num(row['agreement'])}\t"
                   f"{num(row['mean_kappa'])}\t{num(acc.get('accuracy'))} ({acc.get('settled_items', 0)})")


# ---- review (issue 8, engineer "review") ---------------------------------------------------------
@app.command()
def review(
    project: ProjectOpt,
    top: Annotated[int, typer.Option(help="How many of the first items to list.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts and the top items as JSON.")] = False,
    data_dir: DataDir = None, database_url: DatabaseUrl = None,
) -> None:
    """The reviewer's queue: items with disagreement, flags, a low judge score or a request (suspect
    labels), counted by reason, and the first TOP items in the order a reviewer gets them (most
    likely wrong label first). Settle them in the app's Review tab.

    Example: `python -m annotator review --project reviews --top 5 --json`
    """
    service = _service(_settings(data_dir, database_url))
    summary = service.review.summary(project, top=top)
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
        return
    typer.echo(f"{summary['project']}: {summary['items']} items to review")
    for reason, n in summary["by_reason"].items():
        typer.echo(f"  {reason}\t{n}")
    if summary["top"]:
        typer.echo("\nitem\tpriority\tlabel\tanswers\treasons")
    for row in summary["top"]:
        answers = ", ".join(f"{a['user']}={'+'.join(a['value'])}" for a in row["answers"]) or "-"
        label = "+".join(row["final_label"] or []) or "-"
        typer.echo(f"{row['item_id']}\t{row['priority']:.2f}\t{label}\t{answers}\t{'; '.join(row['reasons'])}")


@app.command()
def suspects(
    project: ProjectOpt,
    as_json: Annotated[bool, typer.Option("--json", help="Print the suspects and the counts as JSON.")] = False,
    folds: Annotated[int, typer.Option(help="Cross-validation folds of the out-of-fold classifier.")] = 5,
    data_dir: DataDir = None, database_url: DatabaseUrl = None,
) -> None:
    """Find human labels the out-of-fold classifier confidently contradicts (confident learning) and
    send them to the review queue with the reason; prints how many earlier suspects people changed.

    Example: `python -m annotator suspects --project reviews --json`
    """
    service = _service(_settings(data_dir, database_url))
    found = service.quality.find_suspects(project, folds=folds)
    report = service.quality.suspect_report(project)
    if as_json:
        typer.echo(json.dumps(report, indent=2, default=str))
        return
    typer.echo(f"{len(found)} suspect labels among {report['checked']} labelled items.")
    for s in found[:50]:
        typer.echo(f"item {s.item_id}\tgiven {s.given!r}\t{s.reason}")
    if len(found) > 50:
        typer.echo(f"… and {len(found) - 50} more (--json lists all).")


@app.command()
def report(
    project: ProjectOpt,
    out: Annotated[Path, typer.Option("--out", "-o", help="HTML file to write.")] = Path("report.html"),
    data_dir: DataDir = None, database_url: DatabaseUrl = None,
) -> None:
    """Write the dashboard as one self-contained HTML page (works offline: plotly.js is embedded):
    learning curve, reliability diagram, route mix and coverage, audit estimate over time, the
    stopping signal with advice, labels per hour, suspect labels and the job list.

    Example: `python -m annotator report --project reviews --out report.html`
    """
    service = _service(_settings(data_dir, database_url))
    path = service.quality.write_report(project, out)
    typer.echo(f"Wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


@app.command("llm-server")
def llm_server(
    model: Annotated[str, typer.Option(help="smollm2 | gemma3-270m | a transformers model folder | a .gguf file.")] = "smollm2",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8001,
    host: Annotated[str, typer.Option(help="Interface; 0.0.0.0 to share it on the network.")] = "127.0.0.1",
    api_key: Annotated[Optional[str], typer.Option("--api-key", envvar="ANNOTATOR_LLM_API_KEY", help="Require this bearer key on every request.")] = None,
    models_dir: Annotated[Optional[Path], typer.Option("--models-dir", envvar="ANNOTATOR_MODELS_DIR", help="Where the converted model is kept (default ./models).")] = None,
) -> None:
    """Serve a local LLM behind an OpenAI-compatible API (/v1/models, /v1/completions, /v1/chat/completions),
    for the llm-endpoint annotator or any OpenAI client. Greedy decoding; one request computes at a time.

    Example: `python -m annotator llm-server --model smollm2 --port 8001`, then
    `python -m annotator ai --project reviews --annotators llm-endpoint --llm-url http://127.0.0.1:8001/v1`
    """
    from annotator.servers.llm import serve

    settings = _settings(None, None, models_dir=models_dir)
    typer.echo(f"Loading {model} (the first start converts it, ~30-60 s), then serving it at "
               f"http://{host}:{port}/v1 (OpenAI-compatible); Ctrl+C stops it.", err=True)
    serve(model, settings.resolved_models_dir, host=host, port=port, api_key=api_key)


user_app = typer.Typer(no_args_is_help=True, rich_markup_mode="markdown",
                       help="Accounts: add, list, set-role, reset-password. Roles: admin | annotator | reviewer.")
app.add_typer(user_app, name="user")

PasswordStdin = Annotated[bool, typer.Option("--password-stdin", help="Read the password from the first line of "
                                             "standard input instead of prompting (for scripts).")]


def _read_password(from_stdin: bool) -> str:
    """The new password: stdin's first line, or a hidden prompt asked twice; never echoed."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@user_app.command("add")
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
    user = _service(_settings(data_dir, database_url)).accounts.add_user(name, role, password)
    typer.echo(f"Added user {user.name!r} ({user.role})" + ("" if user.has_password else ", no password"))


@user_app.command("list")
def user_list(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """List accounts with their role and whether a password is set (never the hash).

    Example: `python -m annotator user list`
    """
    rows = _service(_settings(data_dir, database_url)).accounts.list_users()
    if not rows:
        typer.echo("No users yet. Add one: python -m annotator user add NAME --role annotator")
    for u in rows:
        typer.echo(f"{u.name}\t{u.role}\t{'password set' if u.has_password else 'no password'}")


@user_app.command("set-role")
def user_set_role(
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Argument(help="admin | annotator | reviewer.")],
    data_dir: DataDir = None, database_url: DatabaseUrl = None,
) -> None:
    """Change a user's role.

    Example: `python -m annotator user set-role ana reviewer`
    """
    user = _service(_settings(data_dir, database_url)).accounts.set_role(name, role)
    typer.echo(f"User {user.name!r} is now {user.role}")


@user_app.command("reset-password")
def user_reset_password(
    name: Annotated[str, typer.Argument(help="User name.")],
    password_stdin: PasswordStdin = False,
    data_dir: DataDir = None, database_url: DatabaseUrl = None,
) -> None:
    """Set a new password for a user (asked twice, hidden).

    Example: `python -m annotator user reset-password ana`
    """
    service = _service(_settings(data_dir, database_url))
    service.accounts.get_user(name)  # an unknown name fails before the prompt
    user = service.accounts.reset_password(name, _read_password(password_stdin))
    typer.echo(f"Password of {user.name!r} changed")


# ---- jobs, workers and model versions (issue 7) ------------------------------------------------

jobs_app = typer.Typer(no_args_is_help=True, rich_markup_mode="markdown",
                       help="Background jobs: list, cancel, run. Kinds: embed | refit | run_ai | finetune | export.")
app.add_typer(jobs_app, name="jobs")
model_app = typer.Typer(no_args_is_help=True, rich_markup_mode="markdown",
                        help="Trained model versions: list, export (standalone save_pretrained folder + model card).")
app.add_typer(model_app, name="model")

JobsBackend = Annotated[Optional[str], typer.Option("--jobs-backend", envvar="ANNOTATOR_JOBS_BACKEND",
                                                    help="sqlite | redis | immediate")]
RedisUrl = Annotated[Optional[str], typer.Option("--redis-url", envvar="ANNOTATOR_REDIS_URL", help="Redis URL.")]
QueueName = Annotated[Optional[str], typer.Option("--queue", envvar="ANNOTATOR_JOBS_QUEUE", help="Queue name.")]


def _job_line(job) -> str:  # noqa: ANN001 - schema.JobInfo
    when = job.created_at.strftime("%Y-%m-%d %H:%M:%S") if job.created_at else ""
    return f"{job.id:>5}  {job.kind:<9} {job.status:<9} {job.progress:>5.0%}  {when}  {job.project or '-'}  {job.message}"


@jobs_app.command("list")
def jobs_list(
    project: Annotated[Optional[str], typer.Option("--project", "-p", help="Only this project's jobs.")] = None,
    limit: Annotated[int, typer.Option(help="Newest N jobs.")] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    data_dir: DataDir = None, database_url: DatabaseUrl = None,
) -> None:
    """List jobs, newest first: id, kind, status, progress, created, project, message."""
    jobs = _service(_settings(data_dir, database_url)).jobs.list_jobs(project, limit=limit)
    if as_json:
        typer.echo(json.dumps([j.model_dump(mode="json") for j in jobs], indent=2))
        return
    if not jobs:
        typer.echo("No jobs yet.")
    for job in jobs:
        typer.echo(_job_line(job))


@jobs_app.command("cancel")
def jobs_cancel(job_id: Annotated[int, typer.Argument(help="Job id (see jobs list).")],
                data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Cancel a job: a queued one at once, a running one at its next checkpoint (nothing is applied)."""
    job = _service(_settings(data_dir, database_url)).jobs.cancel(job_id)
    typer.echo(_job_line(job))


@jobs_app.command("run")
def jobs_run(
    kind: Annotated[str, typer.Argument(help="embed | refit | run_ai | finetune | export | judge")],
    project: ProjectOpt,
    enqueue: Annotated[bool, typer.Option("--enqueue", help="Queue it for the app / workers instead of running it here.")] = False,
    max_steps: Annotated[Optional[int], typer.Option(help="finetune: cap on optimiser steps.")] = None,
    epochs: Annotated[Optional[float], typer.Option(help="finetune: epochs.")] = None,
    annotators: Annotated[Optional[str], typer.Option(help="run_ai: annotators, e.g. knn,zero-shot.")] = None,
    out: Annotated[Optional[Path], typer.Option(help="export: output folder.")] = None,
    fmt: Annotated[Optional[str], typer.Option("--format", help="export: jsonl | csv | parquet | hf.")] = None,
    data_dir: DataDir = None, database_url: DatabaseUrl = None, jobs_backend: JobsBackend = None,
    redis_url: RedisUrl = None, queue: QueueName = None,
) -> None:
    """Run a job here with a progress bar (recorded in the job list), or queue it with --enqueue.

    Example: `python -m annotator jobs run finetune --project reviews --max-steps 100`
    """
    payload = {k: v for k, v in {"max_steps": max_steps, "epochs": epochs, "annotators": annotators,
                                 "out": str(out) if out else None, "fmt": fmt}.items() if v is not None}
    service = _service(_settings(data_dir, database_url, jobs_backend=jobs_backend, redis_url=redis_url,
                                 jobs_queue=queue))
    if enqueue:
        job = service.jobs.submit(kind, project, **payload)
        typer.echo(f"Queued job {job.id} ({kind}); follow it with: python -m annotator jobs list -p {project}")
        return
    from tqdm import tqdm

    bar = tqdm(total=100, desc=kind, unit="%", bar_format="{desc}: {percentage:3.0f}%|{bar}|{postfix}")

    def on_progress(progress: float, message: str | None) -> None:
        bar.n = round(100 * progress)
        bar.set_postfix_str((message or "")[:60], refresh=True)

    try:
        job = service.jobs.run(kind, project, on_progress=on_progress, **payload)
    finally:
        bar.close()
    typer.echo(_job_line(job))
    if job.status != "done":
        if job.error:
            typer.secho(job.error, fg=typer.colors.RED, err=True)
        raise typer.Exit(1)


@app.command()
def worker(
    workers: Annotated[int, typer.Option(help="Job threads.")] = 1,
    data_dir: DataDir = None, database_url: DatabaseUrl = None, jobs_backend: JobsBackend = None,
    redis_url: RedisUrl = None, queue: QueueName = None,
    embedding_model: Annotated[Optional[str], typer.Option(help="Embedding model (as the app uses).")] = None,
) -> None:
    """Run background jobs for the app, on this or another machine (Redis backend; the same
    database and models folder as the app).

    Example: `python -m annotator worker --jobs-backend redis --redis-url redis://host:6379/0 --database-url postgresql+psycopg://...`
    """
    settings = _settings(data_dir, database_url, jobs_backend=jobs_backend or "redis", redis_url=redis_url,
                         jobs_queue=queue, embedding_model=embedding_model)
    service = _service(settings)
    recovered = service.jobs.recover()
    if recovered:
        typer.echo(f"Marked interrupted jobs failed: {recovered} (interrupted fine-tunes are queued again once; "
                   "see `jobs list`)")
    typer.echo(f"annotator worker: {settings.jobs_backend} queue {settings.jobs_queue!r}, {workers} thread(s); Ctrl-C stops")
    service.jobs.runner.run_forever(workers)


@model_app.command("list")
def model_list(project: ProjectOpt, kind: Annotated[Optional[str], typer.Option(help="finetune | classifier | bt-judge")] = None,
               data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """List trained model versions with their held-out accuracy and whether they are promoted."""
    versions = _service(_settings(data_dir, database_url)).models.model_versions(project, kind)
    if not versions:
        typer.echo("No model versions yet: python -m annotator jobs run finetune --project " + project)
    for v in versions:
        m = v.metrics
        typer.echo(f"{v.kind:<10} v{v.version:<3} {'PROMOTED' if v.promoted else '        '} "
                   f"held-out acc {m.get('heldout_accuracy')} (n={m.get('heldout_n')}, train {m.get('train_n')})"
                   + (f" vs {m.get('baseline')} {m.get('baseline_accuracy')}" if m.get("baseline") else "")
                   + f"  {v.created_at:%Y-%m-%d %H:%M}" + (f"  {v.path}" if v.path else ""))


@model_app.command("export")
def model_export(project: ProjectOpt, version: Annotated[int, typer.Option("--version", help="Version number N.")],
                 out: Annotated[Path, typer.Option("--out", help="New folder for the model.")],
                 data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Write a fine-tuned version as a standalone save_pretrained folder with a README.md model card."""
    path = _service(_settings(data_dir, database_url)).models.export_model(project, version, out)
    typer.echo(f"Wrote {path} (load it with transformers.pipeline('text-classification', model='{path}'))")


# ---- teams: assignment and per-person figures (issue 8, engineer "assign") -------------------------
@app.command()
def assign(
    project: ProjectOpt,
    user: Annotated[Optional[list[str]], typer.Option("--user", "-u", help="Who gets the items (repeat, or NAME1,NAME2).")] = None,
    metadata: Annotated[Optional[str], typer.Option("--metadata", "-m", help="Items whose metadata match, e.g. channel=email.")] = None,
    query: Annotated[str, typer.Option("--query", "-q", help="Items whose text contains this (or with this external id).")] = "",
    ids: Annotated[Optional[str], typer.Option("--ids", help="Explicit item ids, e.g. 12,15,40.")] = None,
    unassign: Annotated[bool, typer.Option("--unassign", help="Take the matching items back (from --user, or from everyone).")] = False,
    data_dir: DataDir = None, database_url: DatabaseUrl = None,
) -> None:
    """Give a slice of items to named people: they are served only to them, ahead of their queue.

    Example: `python -m annotator assign --project reviews --user ana --metadata channel=email`
    (and `--unassign` to take them back). With no filter, every item of the project.
    """
    names = [n.strip() for u in (user or []) for n in u.split(",") if n.strip()]
    item_ids = None
    if ids:
        try:
            item_ids = [int(x) for x in ids.replace(" ", "").split(",") if x]
        except ValueError as e:
            raise typer.BadParameter(f"--ids takes whole numbers separated by commas, got {ids!r}") from e
    result = _service(_settings(data_dir, database_url)).team.assign(
        project, names, metadata=metadata, query=query, item_ids=item_ids, unassign=unassign)
    verb = "Took back" if unassign else "Assigned"
    who = ", ".join(result["users"]) or "everyone"
    typer.echo(f"{verb} {result['items']} items ({result['changed']} item-person pairs changed) "
               f"{'from' if unassign else 'to'} {who}; {result['assigned_items']} items of {project!r} are assigned now.")


@app.command()
def overlap(
    project: ProjectOpt,
    fraction: Annotated[Optional[float], typer.Option("--fraction", help="Share of items answered by K people (0 turns overlap off).")] = None,
    k: Annotated[Optional[int], typer.Option("--k", help="Answers per overlap item, from different people (2-20).")] = None,
    data_dir: DataDir = None, database_url: DatabaseUrl = None,
) -> None:
    """Show or set the overlap: K answers from K different people for a share of the items (chosen from
    the project's seed and each item id, so an item keeps its count as the project grows).

    Example: `python -m annotator overlap --project reviews --fraction 0.1 --k 3`
    """
    service = _service(_settings(data_dir, database_url))
    changes = {key: v for key, v in {"overlap_fraction": fraction, "overlap_k": k}.items() if v is not None}
    if changes:
        settings = service.projects.update_project_settings(project, **changes)
    else:
        settings = service.projects.project_details(project)[2]
    needing = len(service.team.required_answers(project))
    typer.echo(f"{project}: {settings.overlap_fraction:.0%} of items get {settings.overlap_k} answers from different "
               f"people ({needing} items now); the others get one.")


@app.command()
def stats(
    project: ProjectOpt,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    data_dir: DataDir = None, database_url: DatabaseUrl = None,
) -> None:
    """Per person: labels, labels per hour, median seconds per item, skips, agreement with the others
    on overlap items, accuracy on settled items.

    Example: `python -m annotator stats --project reviews --json`
    """
    rows = _service(_settings(data_dir, database_url)).team.person_stats(project)
    if as_json:
        typer.echo(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        typer.echo(f"No answers in {project!r} yet.")
        return

    def num(x: float | None, fmt: str = ".1f") -> str:
        return "-" if x is None else format(x, fmt)

    typer.echo("person\trole\tlabels\tlabels/h\tmedian s\tskips\tagreement (overlap)\taccuracy (settled)")
    for r in rows:
        typer.echo(f"{r['person']}\t{r['role']}\t{r['labels']}\t{num(r['labels_per_hour'])}\t"
                   f"{num(r['median_seconds'])}\t{r['skips']}\t{num(r['agreement'], '.1%')} ({r['overlap_items']})\t"
                   f"{num(r['accuracy'], '.1%')} ({r['settled_items']})")


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
