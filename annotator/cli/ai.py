"""AI annotators and judges: ai, judge, and llm-server (a local OpenAI-compatible server)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from annotator.cli.common import DatabaseUrl, DataDir, ProjectOpt, make_settings, open_service, progress_bar

if TYPE_CHECKING:
    from annotator.service import AnnotatorService

app = typer.Typer()


def _annotator_kwargs(service: AnnotatorService, project: str, names: list[str], bars: list) -> dict[str, dict]:
    """The service's annotator options (LLM scores cached in the project database, imported
    suggestions) with a tqdm bar per LLM annotator (appended to ``bars`` to close)."""

    def progress_for(name: str):  # noqa: ANN202 - the bar's (done, total) callback
        bar, update = progress_bar(f"{name}: scoring", unit="items")
        bars.append(bar)
        return update

    return service.ai.annotator_options(project, names, progress_for)


def _override_routing(service, project: str, target_precision: float | None,  # noqa: ANN001
                      audit_fraction: float | None,
                      target_accuracy: str | None = None):  # noqa: ANN202 - schema.ProjectSummary
    """Save the routing options given on the command line into the project's settings (the app
    then uses them too) and return the project's summary. ``target_accuracy``: as typed ("0.95",
    or "off" to turn it off); None leaves the setting as it is."""
    changes = {k: v for k, v in {"target_precision": target_precision, "audit_fraction": audit_fraction}.items()
               if v is not None}
    if target_accuracy is not None:
        from annotator.routing.accuracy_text import parse_target_accuracy

        changes["target_accuracy"] = parse_target_accuracy(target_accuracy)
    if changes:
        service.projects.update_project_settings(project, **changes)
    return service.projects.project(project)


@app.command()
def ai(
    project: ProjectOpt,
    annotators: Annotated[str, typer.Option(help="Comma-separated: classifier, knn, zero-shot, llm-probe (the classifier on a local LLM's middle layer and a summary prompt, for tone: make gemma), llm-local, llm-endpoint, imported:AGENT (suggestions imported with --agent AGENT); all = the first three (all,llm-probe adds the probe).")] = "knn,zero-shot,classifier",
    target_precision: Annotated[Optional[float], typer.Option(help="Precision auto-accepted labels must keep (default: the project's, 0.95).")] = None,
    audit_fraction: Annotated[Optional[float], typer.Option(help="Share of auto-accepted labels audited blind (default: the project's, 0.05).")] = None,
    target_accuracy: Annotated[Optional[str], typer.Option("--target-accuracy", help="Accuracy the whole finished dataset must keep, people's labels included, e.g. 0.95: the AI may then take items below --target-precision while the certified lower bound holds; off turns it off. Kept in the project's settings (default: the project's, off).")] = None,
    llm_url: Annotated[Optional[str], typer.Option("--llm-url", envvar="ANNOTATOR_LLM_ENDPOINT_URL", help="llm-endpoint: OpenAI-compatible base URL (default http://127.0.0.1:8001/v1, the llm-server command).")] = None,
    llm_model: Annotated[Optional[str], typer.Option("--llm-model", envvar="ANNOTATOR_LLM_ENDPOINT_MODEL", help="llm-endpoint: model name the server serves (default smollm2).")] = None,
    llm_api_key: Annotated[Optional[str], typer.Option("--llm-api-key", envvar="ANNOTATOR_LLM_API_KEY", help="llm-endpoint: API key (prefer the environment variable).")] = None,
    llm_timeout: Annotated[Optional[float], typer.Option("--llm-timeout", help="llm-endpoint: seconds one request may take (default 60).")] = None,
    llm_retries: Annotated[Optional[int], typer.Option("--llm-retries", help="llm-endpoint: retries of a failed request (default 2).")] = None,
    llm_mode: Annotated[Optional[str], typer.Option("--llm-mode", help="llm-endpoint: auto | logprobs | vote (default auto: logprobs when the server gives them).")] = None,
    label_map: Annotated[Optional[str], typer.Option("--label-map", help="Span projects: spaCy entity type = project label, comma-separated (default PERSON=PER,ORG=ORG,GPE=LOC,LOC=LOC,FAC=LOC).")] = None,
    data_dir: DataDir = None, database_url: DatabaseUrl = None,
) -> None:
    """Label unlabelled items with calibrated AI annotators and route each: auto, audit, verify or blind.

    Example: `python -m annotator ai --project reviews --annotators knn,zero-shot --target-precision 0.97`

    Aim at the finished dataset's accuracy instead (people's labels are (nearly) right, so the AI may take
    some items below the precision target): `python -m annotator ai --project reviews --target-accuracy 0.95`;
    the run states the estimated dataset accuracy with its 95 % interval.

    With an LLM server: `python -m annotator ai --project reviews --annotators knn,llm-endpoint --llm-url http://127.0.0.1:8001/v1 --llm-model smollm2`

    A span project gets suggested spans from spaCy's entities (`--annotators spacy`, or `spacy:PIPELINE`) or an LLM
    asked for JSON spans (`llm-local`, `llm-local:MODEL`, `llm-endpoint`; spans not in the text are dropped and
    counted), its queue ranked by span uncertainty, and its open items routed: auto only where the suggester's
    item-level exact precision on the random human-labelled items is certified at the target precision, a
    random slice of those audited, the rest verified: `python -m annotator ai --project ner --annotators spacy`
    """
    from annotator.annotators.registry import make_annotators, parse_annotator_names

    settings = make_settings(data_dir, database_url, llm_endpoint_url=llm_url, llm_endpoint_model=llm_model,
                         llm_api_key=llm_api_key, llm_timeout_s=llm_timeout, llm_max_retries=llm_retries,
                         llm_mode=llm_mode)
    service = open_service(settings)
    if service.projects.project(project).task_type == "spans":  # span suggestions, re-ranked, then routed
        typer.echo(json.dumps(_span_ai(service, project, annotators, label_map, target_precision, audit_fraction),
                              indent=2))
        return
    summary = _override_routing(service, project, target_precision, audit_fraction, target_accuracy)
    names = parse_annotator_names(annotators)
    bars: list = []
    chosen = make_annotators(",".join(names) or "none", **_annotator_kwargs(service, project, names, bars))
    typer.echo(f"Scoring {summary.items - summary.labelled} unlabelled items with {annotators} …", err=True)
    for name, guess in service.ai.cost_estimates(project, chosen).items():
        usd = "" if guess["usd"] is None else f", ~${guess['usd']:.2f}"
        typer.echo(f"{name}: {guess['prompts']:,} prompts (calibration included), {guess['cached']:,} cached; "
                   f"at most ~{guess['seconds']:.0f} s{usd} for the rest", err=True)
    try:
        report = service.ai.run_ai(project, chosen)
    finally:
        for bar in bars:
            bar.close()
    estimate = service.ai.audit_estimate(project)
    report["audit_estimate"] = estimate.as_dict()
    for name in report["calibration"]:
        report["calibration"][name].pop("reliability", None)
    from annotator.routing.accuracy_text import estimate_sentence

    line = estimate_sentence(report.get("dataset_accuracy"))
    typer.echo(f"{line[:1].upper()}{line[1:]}.", err=True)
    typer.echo(json.dumps(report, indent=2))


def _span_ai(service, project: str, annotators: str, label_map: str | None,  # noqa: ANN001 - AnnotatorService
             target_precision: float | None, audit_fraction: float | None) -> dict:
    """Each named span suggester's spans (the answers that did not fit counted), then the open
    items routed by the last one's (whose spans the label page shows). The report is the last
    suggester's, with ``route`` and, for several, every one's under ``suggestions``."""
    _override_routing(service, project, target_precision, audit_fraction)
    names = ["spacy"] if annotators == "knn,zero-shot,classifier" else \
        [n.strip() for n in annotators.split(",") if n.strip()] or ["spacy"]
    reports = []
    for name in names:
        typer.echo(f"Suggesting spans with {name} …", err=True)
        reports.append(service.spans.suggest(project, name, label_map=_label_map(label_map)))
    out = {**reports[-1], "route": service.spans.route(project, agent=reports[-1]["agent"])}
    if len(reports) > 1:
        out["suggestions"] = reports
    return out


def _label_map(text: str | None) -> dict[str, str] | None:
    """"PERSON=PER,GPE=LOC" → {"PERSON": "PER", "GPE": "LOC"} (None: the suggester's default)."""
    if not text:
        return None
    pairs = [p.partition("=") for p in text.split(",") if p.strip()]
    if any(not sep or not a.strip() or not b.strip() for a, sep, b in pairs):
        from annotator.core.errors import ValidationError

        raise ValidationError(f"Bad --label-map {text!r}.", expected="TYPE=LABEL pairs, comma-separated",
                              fix="pass e.g. --label-map PERSON=PER,ORG=ORG,GPE=LOC")
    return {a.strip(): b.strip() for a, _, b in pairs}


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
    settings = make_settings(data_dir, database_url, llm_endpoint_url=llm_url, llm_endpoint_model=llm_model)
    service = open_service(settings)
    summary = _override_routing(service, project, target_precision, audit_fraction)
    typer.echo(f"Judging {summary.items} pairs ({'one order' if no_swap else 'both orders'}) with {judge} …", err=True)
    bar, update = progress_bar("judge", unit="prompts")
    try:
        report = service.tasks.run_judge(project, judge, swap=not no_swap, progress=update)
    finally:
        bar.close()
    if "calibration" in report:  # preference: routed like `ai`; rating: suggestions and agreement only
        report["audit_estimate"] = service.ai.audit_estimate(project).as_dict()
        for name in report["calibration"]:
            report["calibration"][name].pop("reliability", None)
    typer.echo(json.dumps(report, indent=2))



@app.command("llm-server")
def llm_server(
    model: Annotated[str, typer.Option(help="smollm2 | gemma3-270m | a transformers model folder | a .gguf file.")] = "smollm2",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8001,
    host: Annotated[str, typer.Option(help="Interface; 0.0.0.0 to share it on the network.")] = "127.0.0.1",
    api_key: Annotated[Optional[str], typer.Option("--api-key", envvar="ANNOTATOR_LLM_API_KEY", help="Require this bearer key on every request.")] = None,
    models_dir: Annotated[Optional[Path], typer.Option("--models-dir", envvar="ANNOTATOR_MODELS_DIR", help="Where the converted model is kept (default <data_dir>/models).")] = None,
) -> None:
    """Serve a local LLM behind an OpenAI-compatible API (/v1/models, /v1/completions, /v1/chat/completions),
    for the llm-endpoint annotator or any OpenAI client. Greedy decoding; one request computes at a time.

    Example: `python -m annotator llm-server --model smollm2 --port 8001`, then
    `python -m annotator ai --project reviews --annotators llm-endpoint --llm-url http://127.0.0.1:8001/v1`
    """
    from annotator.servers.llm import serve

    settings = make_settings(None, None, models_dir=models_dir)
    typer.echo(f"Loading {model} (the first start converts it, ~30-60 s), then serving it at "
               f"http://{host}:{port}/v1 (OpenAI-compatible); Ctrl+C stops it.", err=True)
    serve(model, settings.resolved_models_dir, host=host, port=port, api_key=api_key)
