"""Background jobs: jobs list, cancel, run, and the worker that runs them elsewhere."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from annotator.cli.common import DatabaseUrl, DataDir, ProjectOpt, make_settings, open_service
from annotator.core.schema import JobStatus
from annotator.jobs.kinds import kinds_help

app = typer.Typer()
jobs_app = typer.Typer(no_args_is_help=True, rich_markup_mode="markdown",
                       help=f"Background jobs: list, cancel, run. Kinds: {kinds_help()}.")
app.add_typer(jobs_app, name="jobs")



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
    jobs = open_service(make_settings(data_dir, database_url)).jobs.list_jobs(project, limit=limit)
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
    job = open_service(make_settings(data_dir, database_url)).jobs.cancel(job_id)
    typer.echo(_job_line(job))


@jobs_app.command("run")
def jobs_run(
    kind: Annotated[str, typer.Argument(help=kinds_help())],
    project: ProjectOpt,
    enqueue: Annotated[bool, typer.Option("--enqueue", help="Queue it for the app / workers instead of running it here.")] = False,
    max_steps: Annotated[Optional[int], typer.Option(help="finetune: cap on optimiser steps.")] = None,
    epochs: Annotated[Optional[float], typer.Option(help="finetune: epochs.")] = None,
    annotators: Annotated[Optional[str], typer.Option(help="run_ai: annotators, e.g. knn,zero-shot.")] = None,
    out: Annotated[Optional[Path], typer.Option(help="export: output folder.")] = None,
    fmt: Annotated[Optional[str], typer.Option("--format", help="export: jsonl | csv | parquet | hf.")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="export: replace a previous export in --out.")] = False,
    csv_raw_formulas: Annotated[bool, typer.Option("--csv-raw-formulas", help="export: keep CSV cells that start "
                                                   "with = + - @ raw (default: a ' in front).")] = False,
    data_dir: DataDir = None, database_url: DatabaseUrl = None, jobs_backend: JobsBackend = None,
    redis_url: RedisUrl = None, queue: QueueName = None,
) -> None:
    """Run a job here with a progress bar (recorded in the job list), or queue it with --enqueue.

    Example: `python -m annotator jobs run finetune --project reviews --max-steps 100`
    """
    payload = {k: v for k, v in {"max_steps": max_steps, "epochs": epochs, "annotators": annotators,
                                 "out": str(out) if out else None, "fmt": fmt,
                                 "overwrite": overwrite or None,
                                 "csv_raw_formulas": csv_raw_formulas or None}.items() if v is not None}
    service = open_service(make_settings(data_dir, database_url, jobs_backend=jobs_backend, redis_url=redis_url,
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
    if job.status != JobStatus.done:
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
    settings = make_settings(data_dir, database_url, jobs_backend=jobs_backend or "redis", redis_url=redis_url,
                         jobs_queue=queue, embedding_model=embedding_model)
    service = open_service(settings)
    recovered = service.jobs.recover()
    if recovered:
        typer.echo(f"Marked interrupted jobs failed: {recovered} (interrupted fine-tunes are queued again once; "
                   "see `jobs list`)")
    typer.echo(f"annotator worker: {settings.jobs_backend} queue {settings.jobs_queue!r}, {workers} thread(s); Ctrl-C stops")
    service.jobs.runner.run_forever(workers)

