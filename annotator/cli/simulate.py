"""simulate: replay the real pipeline with a simulated person answering from gold labels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from annotator.cli.common import DataDir, make_settings

app = typer.Typer()


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
    target_accuracy: Annotated[Optional[float], typer.Option(
        help="Accuracy the whole pool must keep (off by default): AI labels may go auto below --target-precision "
             "while the certified lower bound of the pool's accuracy, people's labels included, stays at or "
             "above it.")] = None,
    test_fraction: Annotated[float, typer.Option(help="Gold slice held out to score the final classifier.")] = 0.2,
    explore_fraction: Annotated[Optional[float], typer.Option(
        help="Share of the queue served at random, the project setting of that name: the router calibrates on "
             "these answers and bounds the dataset's accuracy with them (default 0.1, or 0.2 with "
             "--target-accuracy).", min=0.0, max=0.5)] = None,
    dataset_bound: Annotated[str, typer.Option(
        help="The project setting of that name: clopper-pearson (each AI run's bound on its own) or anytime "
             "(the default: valid over every round's look at once; wider).")] = "anytime",
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
    out: Annotated[Optional[Path], typer.Option(
        "--out", help="Folder for what each run decided per item: <strategy>_seed<S>.csv and .jsonl, one row per pool "
                      "item with item_id, external_id, text, final_label, gold_label, right (final == gold, empty "
                      "when unlabelled), route (auto, or a person via audit | verify | blind | manual), source_kind (person | "
                      "model | none), source (person or agent@version), confidence (of an auto label), ai_label, "
                      "ai_confidence, ai_route, ai_right (the AI's newest suggestion). Classification only.")] = None,
    task: Annotated[Optional[str], typer.Option(help="preference: pairs (prompt, response_a, response_b, gold A|B in --label-column) instead of classification; spans: a gold span JSONL (text + spans), human span edits with and without the --ai suggester (default spacy; none: the manual arm only).")] = None,
    gold_note: Annotated[Optional[str], typer.Option(help="--task spans: where the gold spans came from, copied into the report.")] = None,
    llm_judge: Annotated[str, typer.Option(help="--task preference: LLM judge measured with and without order swapping: llm-local | llm-endpoint | none.")] = "llm-local",
    judge_sample: Annotated[int, typer.Option(help="--task preference: pool pairs the LLM judge is asked about (both orders); 0 = all.")] = 60,
    judge_job: Annotated[bool, typer.Option("--judge-job", help="--task preference: train the versioned judge (the 'judge' job, promoted by held-out verdicts) before each routing.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Replay the real pipeline with a simulated person who answers from the gold column.

    Example: `python -m annotator simulate pilot.csv --text-column text --label-column label --seeds 0,1,2 --compare random --report out.json`

    With and without fine-tuning: `python -m annotator simulate pilot.csv --ai all --seeds 0,1,2 --finetune-every 150 --compare-finetune --report ft.json`

    What was decided per item: `python -m annotator simulate pilot.csv --ai all --out sim-items/` (then open sim-items/margin_seed0.csv)

    Preference pairs: `python -m annotator simulate pairs.jsonl --task preference --text-column prompt --label-column better --seeds 0,1,2`

    Spans: `python -m annotator simulate spans.jsonl --task spans --ai spacy --human-budget 200 --seeds 0,1`
    """
    from tqdm import tqdm

    if task == "spans":
        _simulate_spans(data, text_column=text_column, human_budget=human_budget, batch_size=batch_size,
                        ai=ai or "spacy", test_fraction=test_fraction,
                        seeds=[int(x) for x in seeds.split(",")] if seeds else [seed], max_items=max_items,
                        strategy=strategy, report=report, gold_note=gold_note)
        return
    if task is not None:
        if out is not None:
            from annotator.core.errors import ValidationError

            raise ValidationError("--out writes per-item decisions of classification runs only.",
                                  got=f"--task {task}", fix="drop --out, or drop --task")
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

    from annotator.embeddings import embedder_for
    from annotator.simulate import SimulationConfig, load_labelled, simulate_many
    from annotator.simulate.plot import write_learning_curves

    settings = make_settings(data_dir, None, **({"embedding_model": model} if model else {}))
    settings.ensure_data_dir()
    cfg = SimulationConfig(
        strategy=strategy, human_budget=human_budget, batch_size=batch_size, human_error=human_error, ai=ai,
        target_precision=target_precision, target_accuracy=target_accuracy, test_fraction=test_fraction, seed=seed,
        explore_fraction=explore_fraction, dataset_bound=dataset_bound, max_items=max_items,
        embedding_model=settings.embedding_model,
        finetune_every=finetune_every,
        finetune_epochs=finetune_epochs, finetune_max_steps=finetune_max_steps,
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

    # One embedder for every run: a local LLM's converted copy lives in the data dir's models
    # folder and the model stays loaded between seeds.
    result = simulate_many(labelled, cfg, seed_list, compare=baselines, compare_finetune=compare_finetune,
                           cache_dir=settings.embeddings_dir, embedder=embedder_for(settings), on_run=on_run,
                           out_dir=out, llm_dir=settings.resolved_models_dir / "llm")
    for bar in bars:
        bar.close()
    if _write_report(result, report):
        plot = write_learning_curves(result, report.with_suffix(".html"))
        typer.echo(f"Report: {report}  Plot: {plot}")
    for run in result.get("runs", []) if out is not None else []:
        d = run.get("decisions") or {}
        if d:
            typer.echo(f"Decisions: {d['csv']} ({d['rows']} items, {d['labelled']} labelled, {d['right']} right, "
                       f"{d['auto_wrong']} auto labels wrong)")
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
    settings = make_settings(data_dir, None, **({"embedding_model": model} if model else {}))
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
    if _write_report(result, report):
        typer.echo(f"Report: {report}")
    need, allh = result["human_verdicts_for_target"], result["all_human_verdicts_for_target"]
    if need and allh:
        typer.echo(f"human verdicts for {result['target_accuracy']:.0%} correct preferences: {need['mean']} ± "
                   f"{need['std']} (reached {result['reached_target']}) vs all-human {allh['mean']}")
    for name, row in (result.get("order_comparison") or {}).items():
        got = row["human_verdicts_for_target"]
        typer.echo(f"queue order {name}: {got['mean'] if got else '—'} ± {got['std'] if got else '—'} human verdicts "
                   f"(reached {row['reached_target']})")


def _simulate_spans(data: Path, *, text_column: str, human_budget: int, batch_size: int, ai: str,
                    test_fraction: float, seeds: list[int], max_items: int | None, strategy: str,
                    report: Path | None, gold_note: str | None) -> None:
    """``simulate --task spans`` (annotator.simulate.spans): the manual arm and, unless ``--ai none``,
    the arm with the suggester's spans pre-filled, on every seed."""
    from annotator.simulate.spans import SpanSimConfig, load_span_gold, simulate_spans

    gold = load_span_gold(data, text_column)
    suggester = None if ai == "none" else ai
    if suggester is not None:  # the suggester is made for the gold file's labels, as svc.spans.suggester does
        from annotator.spans import SpacySpanSuggester

        if not (ai == "spacy" or ai.startswith("spacy:")):
            from annotator.core.errors import ValidationError

            raise ValidationError(f"Unknown span suggester {ai!r}.", expected="spacy | spacy:MODEL | none",
                                  fix="pass --ai spacy, or --ai none for the manual arm only")
        suggester = SpacySpanSuggester(gold.labels, **({"model": ai.split(":", 1)[1]} if ":" in ai else {}))
    cfg = SpanSimConfig(human_budget=human_budget, batch_size=batch_size, test_fraction=test_fraction,
                        strategy=strategy, max_items=max_items)
    result = simulate_spans(gold, cfg, seeds, suggester, gold_note=gold_note)
    if _write_report(result, report):
        typer.echo(f"Report: {report}")
    for name, arm in result["arms"].items():
        typer.echo(f"{name}: {arm['items_labelled']} items, {arm['span_edits']} human span edits "
                   f"({arm['gold_spans']} gold spans, {arm['items_unchanged']} items accepted as shown), tagger "
                   f"test F1 {arm['final_test_f1']}")
    if result["human_labels_saved"] is not None:
        typer.echo(f"the suggester saved {result['human_labels_saved']:.1%} of the human span edits")


def _write_report(result: dict, report: Path | None) -> bool:
    """Write ``result`` as JSON to ``report`` (True), or print it when no file was asked for (False)."""
    text = json.dumps(result, indent=2, default=str)
    if report is None:
        typer.echo(text)
        return False
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(text)
    return True
