"""Teams and label quality: agreement, review, suspects, report, assign, overlap, stats."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from annotator.cli.common import DatabaseUrl, DataDir, ProjectOpt, make_settings, open_service

app = typer.Typer()


@app.command()
def agreement(
    project: ProjectOpt,
    include_ai: Annotated[bool, typer.Option("--include-ai", help="Count each AI annotator (its newest suggestion per item) as a rater.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
    data_dir: DataDir = None, database_url: DatabaseUrl = None,
) -> None:
    """Agreement between the people (and optionally the AI) who answered the same items: Krippendorff's
    alpha, Fleiss' kappa, pairwise Cohen's kappa, per label and per rater, accuracy on settled items.
    A span project: pairwise span F1, exact and overlap, per label and per rater.

    Example: `python -m annotator agreement --project reviews --include-ai --json`
    """
    service = open_service(make_settings(data_dir, database_url))
    report = service.quality.agreement(project, include_ai=include_ai)
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return

    def num(x: float | None) -> str:
        return "-" if x is None else f"{x:.3f}"

    if report.get("task_type") == "spans":
        _span_agreement(report, num)
        return

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


def _span_agreement(report: dict, num) -> None:  # noqa: ANN001 - the number formatter above
    """A span project's agreement report (``svc.spans.agreement``) as text tables."""
    typer.echo(f"{report['project']}: {report['overlap_items']} items answered by 2+ of {len(report['raters'])} "
               f"raters ({', '.join(report['raters'])})")
    typer.echo(f"Span F1, exact (same start, end, label): {num(report['exact_f1'])}\n"
               f"Span F1, overlap (same label, shared characters): {num(report['overlap_f1'])}")
    typer.echo("\npair\titems\texact F1\toverlap F1")
    for row in report["pairs"]:
        typer.echo(f"{row['rater_a']} / {row['rater_b']}\t{row['items']}\t{num(row['exact_f1'])}\t"
                   f"{num(row['overlap_f1'])}")
    typer.echo("\nlabel\tspans\texact F1\toverlap F1")
    for row in report["per_label"]:
        typer.echo(f"{row['label']}\t{row['spans']}\t{num(row['exact_f1'])}\t{num(row['overlap_f1'])}")
    typer.echo("\nrater\titems\toverlap\texact F1\toverlap F1")
    for row in report["per_rater"]:
        typer.echo(f"{row['rater']}\t{row['items']}\t{row['overlap_items']}\t{num(row['exact_f1'])}\t"
                   f"{num(row['overlap_f1'])}")


@app.command()
def review(
    project: ProjectOpt,
    top: Annotated[int, typer.Option(help="How many of the first items to list.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts and the top items as JSON.")] = False,
    settle: Annotated[Optional[int], typer.Option("--settle", help="Span projects: the item id to settle (with --spans or --take).")] = None,
    spans: Annotated[Optional[str], typer.Option("--spans", help='Span projects: the final spans as JSON, e.g. \'[{"start": 0, "end": 3, "label": "PER"}]\'.')] = None,
    take: Annotated[Optional[str], typer.Option("--take", help="Span projects: settle with this rater's spans.")] = None,
    reviewer: Annotated[Optional[str], typer.Option("--reviewer", help="Span projects: who settles (a reviewer or admin).")] = None,
    data_dir: DataDir = None, database_url: DatabaseUrl = None,
) -> None:
    """The reviewer's queue: items with disagreement, flags, a low judge score or a request (suspect
    labels), counted by reason, and the first TOP items in the order a reviewer gets them (most
    likely wrong label first). Settle them in the app's Review tab.

    A span project lists the items whose raters' spans differ, each rater's spans side by side;
    `--settle ITEM --spans JSON` (or `--take RATER`) `--reviewer NAME` stores the final spans.

    Example: `python -m annotator review --project reviews --top 5 --json`
    """
    service = open_service(make_settings(data_dir, database_url))
    if service.projects.project(project).task_type == "spans":
        _span_review(service, project, top, as_json, settle, spans, take, reviewer)
        return
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


def _span_review(service, project: str, top: int, as_json: bool, item: int | None,  # noqa: ANN001, PLR0913
                 spans: str | None, rater: str | None, reviewer: str | None) -> None:
    """A span project's review: settle one item, or list the disputed ones."""
    if item is not None:
        if (spans is None) == (rater is None):
            from annotator.core.errors import ValidationError

            raise ValidationError("--settle needs exactly one of --spans JSON or --take RATER.",
                                  fix=f"python -m annotator review --project {project} --settle {item} --take ana "
                                      "--reviewer rita")
        who = reviewer or service.settings.default_user
        if rater is not None:
            done = service.spans.take(project, who, item, rater)
        else:
            try:
                given = json.loads(spans)
            except json.JSONDecodeError as e:
                from annotator.core.errors import ValidationError

                raise ValidationError("--spans is not JSON.", expected='[{"start": 0, "end": 3, "label": "PER"}]',
                                      got=spans[:80], fix="quote the JSON list in single quotes") from e
            done = service.spans.settle(project, who, item, given)
        typer.echo(json.dumps({"item_id": item, "reviewer": who, "spans": [s.as_dict() for s in done]}))
        return
    listing = service.spans.disagreements(project, limit=top)
    if as_json:
        typer.echo(json.dumps(listing, indent=2))
        return
    typer.echo(f"{listing['project']}: {listing['items']} items whose raters' spans differ "
               f"({listing['settled']} settled)")
    for entry in listing["entries"]:
        typer.echo(f"\nitem {entry['item_id']}: {entry['text'][:100]}")
        for r in entry["raters"]:
            shown = ", ".join(f"{s['label']} {s['start']}-{s['end']} {s['text']!r}" for s in r["spans"]) or "(none)"
            typer.echo(f"  {r['rater']}\t{shown}")


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
    service = open_service(make_settings(data_dir, database_url))
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
    service = open_service(make_settings(data_dir, database_url))
    path = service.quality.write_report(project, out)
    typer.echo(f"Wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


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
    result = open_service(make_settings(data_dir, database_url)).team.assign(
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
    service = open_service(make_settings(data_dir, database_url))
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
    rows = open_service(make_settings(data_dir, database_url)).team.person_stats(project)
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
