"""The AI tab: choose the AI annotators, set the routing policy, run them and see what they did.

A fresh look at the routes when the tab opens; the run itself is slow work with a progress bar,
after which the label page serves the newly routed queue (audits first).

Events: ``save_ai_settings``, ``run_ai``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import gradio as gr
import pandas as pd

from annotator.annotators.registry import (
    ANNOTATORS,
    make_annotators,
    parse_annotator_names,
)
from annotator.core.errors import EmptyPoolError, ValidationError
from annotator.reporting.figures import reliability_plot
from annotator.reporting.html import fusion_html
from annotator.routing.accuracy_text import parse_target_accuracy
from annotator.ui import render
from annotator.ui.components import Page, Updates, display_html
from annotator.ui.guards import Tab, guard, need_project

if TYPE_CHECKING:
    from annotator.core.schema import ProjectSettings

#: The annotator choices: registry name → what it is (shown beside its checkbox).
AI_CHOICES: dict[str, str] = {
    "classifier": "classifier · the project's own model, refit on the human labels",
    "knn": "knn · votes of the nearest human-labelled items",
    "zero-shot": "zero-shot · similarity to the label names and descriptions",
    "llm-probe": "llm-probe · the classifier on a local LLM's middle layer and a summary prompt: better on "
                 "tone (make gemma; ~0.1 s per new item, once)",
    "llm-local": "llm-local · few-shot local LLM: slow on CPU (~0.5 s per item)",
    "llm-endpoint": "llm-endpoint · an OpenAI-compatible server (ANNOTATOR_LLM_ENDPOINT_URL)",
}
AI_DEFAULT = ["knn", "zero-shot", "classifier"]
CALIB_COLUMNS = ["annotator", "temperature", "OOF accuracy", "ECE raw → calibrated"]
#: The dataset bound's choices (project setting ``dataset_bound``): shown text → value.
DATASET_BOUNDS = [("valid over every run (anytime)", "anytime"),
                  ("each run on its own (Clopper–Pearson)", "clopper-pearson")]
LLM_SECONDS_PER_ITEM = 0.5  # SmolLM2, 4 demos, 2 CPU cores (annotator.llm.local)


class _Keep:
    """The type of ``KEEP``: a handler called without the dataset-accuracy field leaves the setting."""


KEEP = _Keep()


class AITab(Tab):
    """Run the calibrated AI annotators on the current project and show calibration and routes."""

    # ------------------------------------------------------------------ layout
    def render(self) -> None:
        with gr.Row(elem_id="ai-controls", equal_height=False):
            with gr.Column(scale=3, min_width=360):
                self.ai_annotators = gr.CheckboxGroup(
                    [(text, name) for name, text in AI_CHOICES.items() if name in ANNOTATORS], value=AI_DEFAULT,
                    label="AI annotators (calibrated on the human labels, then fused)", elem_id="ai-annotators")
            with gr.Column(scale=2, min_width=300, elem_id="ai-policy"):
                self.ai_target = gr.Slider(0.5, 0.999, value=0.95, step=0.001, elem_id="ai-target",
                                           label="Target precision of auto-accepted labels")
                self.ai_audit_fraction = gr.Slider(0.0, 0.5, value=0.05, step=0.01, elem_id="ai-audit-fraction",
                                                   label="Audit fraction (auto labels people re-label blind)")
                self.ai_target_accuracy = gr.Number(
                    value=None, elem_id="ai-target-accuracy",
                    label="Target accuracy of the whole dataset (empty = off)",
                    info="e.g. 0.95: people's labels count, so the AI may take items below the precision "
                         "target while the certified accuracy of all labels holds")
                self.ai_dataset_bound = gr.Dropdown(
                    DATASET_BOUNDS, value=DATASET_BOUNDS[0][1], elem_id="ai-dataset-bound",
                    label="Dataset bound", info="anytime: still a bound although every run looks again (wider)")
                self.ai_finetune_every = gr.Number(
                    value=0, precision=0, minimum=0, elem_id="ai-finetune-every",
                    label="Fine-tune in the background every N new labels (0 = off)")
        self.ai_estimate = display_html(elem_id="ai-estimate")
        with gr.Row(elem_classes=["ann-ai-run"], equal_height=True):
            self.ai_run_btn = gr.Button("Run AI annotators", variant="primary", elem_id="ai-run-btn", scale=0,
                                        min_width=220)
            self.ai_save_btn = gr.Button("Save settings", elem_id="ai-save-btn", scale=0, min_width=150)
            self.status_html = display_html(elem_id="ai-status")
        self.ai_routes = display_html(elem_id="ai-routes")
        self.ai_audit = display_html(elem_id="ai-audit")
        self.ai_dataset = display_html(elem_id="ai-dataset-accuracy")
        with gr.Row(elem_id="ai-results"):
            with gr.Column(scale=5, min_width=380):
                self.ai_calibration = gr.Dataframe(
                    headers=CALIB_COLUMNS, datatype=["str", "str", "str", "str"], interactive=False, wrap=True,
                    label="Calibration: out of fold on the human labels (ECE: lower is better)",
                    elem_id="ai-calibration", column_widths=["34%", "18%", "20%", "28%"])
                self.ai_thresholds = display_html(elem_id="ai-thresholds")
            with gr.Column(scale=6, min_width=420):
                self.ai_plot = gr.Plot(label="Reliability diagram (calibrated)", elem_id="ai-plot")

    def outputs(self) -> list[Any]:
        """Every component opening a project updates."""
        return [self.ai_target, self.ai_audit_fraction, self.ai_target_accuracy, self.ai_dataset_bound,
                self.ai_finetune_every, self.ai_estimate, self.ai_routes,
                self.ai_audit, self.ai_dataset, self.status_html, self.ai_calibration, self.ai_thresholds, self.ai_plot]

    # ------------------------------------------------------------------ events
    def wire(self, page: Page, tab: gr.Tab) -> Any:
        """Connect the tab's events; returns the run event (the page chains the label refresh to it)."""
        live = [self.ai_estimate, self.ai_routes, self.ai_audit, self.ai_dataset]
        policy = [self.ai_target, self.ai_audit_fraction, self.ai_target_accuracy, self.ai_dataset_bound,
                  self.ai_finetune_every]
        tab.select(self.on_open, [page.project_dd], live, api_name=False, show_progress="hidden")
        self.ai_save_btn.click(self.on_save, [page.project_dd, *policy], [self.status_html, *policy, *live],
                               api_name="save_ai_settings")
        return self.ai_run_btn.click(
            self.on_run, [page.project_dd, self.ai_annotators, *policy],
            [self.status_html, *policy, *live, self.ai_calibration, self.ai_thresholds, self.ai_plot],
            api_name="run_ai",
        )

    # ------------------------------------------------------------------ views
    def cleared(self) -> Updates:
        """The run results, emptied (they belong to the project and run that made them)."""
        return {self.status_html: "", self.ai_thresholds: "", self.ai_plot: None,
                self.ai_calibration: pd.DataFrame(columns=CALIB_COLUMNS)}

    def no_project(self) -> Updates:
        return {**self.cleared(), self.ai_estimate: "", self.ai_audit: "", self.ai_dataset: "",
                self.ai_routes: render.note_box("No project yet: create one in the “New project” tab.")}

    def project_view(self, project: str, settings: ProjectSettings) -> Updates:
        """A newly opened project: its policy in the sliders, no run results, the live part."""
        return {**self.policy_view(settings), **self.cleared(), **self.live_view(project, settings.target_precision)}

    def policy_view(self, settings: ProjectSettings) -> Updates:
        """The project's routing policy in the sliders and the dataset-accuracy field (empty: off)."""
        return {self.ai_target: settings.target_precision, self.ai_audit_fraction: settings.audit_fraction,
                self.ai_target_accuracy: settings.target_accuracy, self.ai_dataset_bound: settings.dataset_bound,
                self.ai_finetune_every: settings.finetune_every}

    def live_view(self, project: str, target: float | None = None) -> Updates:
        """The run estimate, the items per route, the audit estimate and the last run's estimated
        dataset accuracy."""
        if target is None:
            target = self.service.projects.project_details(project)[2].target_precision
        try:
            pool = self.service.queue.pool(project)
        except EmptyPoolError:
            counts, n_open, n_labelled = {}, 0, 0
        else:
            counts = pool.route_counts()
            n_labelled = int(pool.n_labelled)
            n_open = len(pool.item_ids) - n_labelled
        audit = self.service.ai.audit_estimate(project)
        return {
            self.ai_estimate: render.ai_estimate(n_open, n_labelled, cheap_seconds=estimate_cheap_seconds(
                n_open + n_labelled), llm_seconds=LLM_SECONDS_PER_ITEM * (n_open + n_labelled)),
            self.ai_routes: render.route_cards(counts, labelled=n_labelled,
                                               unrouted=max(0, n_open - sum(counts.values()))),
            self.ai_audit: render.audit_line(audit.value, audit.ci_low, audit.ci_high, audit.audits, target=target,
                                             pending=counts.get("audit", 0)),
            self.ai_dataset: render.dataset_accuracy_line(self.service.ai.dataset_accuracy(project)),
        }

    def _save_policy(self, project: str, target: float | None, audit_fraction: float | None,
                     target_accuracy: float | str | None | _Keep = KEEP, dataset_bound: str | None | _Keep = KEEP,
                     finetune_every: float | None | _Keep = KEEP) -> tuple[ProjectSettings, bool]:
        """Store the sliders' values (and the dataset-accuracy target: a number strictly between 0.5
        and 1, None or empty for off; the dataset bound; the fine-tune interval in labels, empty for
        0; ``KEEP`` leaves a setting) in the project's settings when they changed: (settings, changed)."""
        settings = self.service.projects.project_details(project)[2]
        changes: dict[str, Any] = {
            key: round(float(value), 4) for key, value in
            (("target_precision", target), ("audit_fraction", audit_fraction)) if value is not None}
        changes = {k: v for k, v in changes.items() if abs(getattr(settings, k) - v) > 1e-9}
        if not isinstance(target_accuracy, _Keep):
            wanted = parse_target_accuracy(target_accuracy)
            wanted = None if wanted is None else round(wanted, 4)
            if wanted != settings.target_accuracy:
                changes["target_accuracy"] = wanted
        if isinstance(dataset_bound, str) and dataset_bound != settings.dataset_bound:
            changes["dataset_bound"] = dataset_bound
        if not isinstance(finetune_every, _Keep):
            every = _whole_labels(finetune_every)
            if every != settings.finetune_every:
                changes["finetune_every"] = every
        if not changes:
            return settings, False
        try:
            return self.service.projects.update_project_settings(project, **changes), True
        except ValueError as e:  # pydantic's ValidationError is a ValueError: a value out of range
            raise ValidationError("Cannot save these routing settings.", got=", ".join(
                f"{k}={v}" for k, v in changes.items()), expected="target precision in (0, 1], audit fraction "
                "in [0, 1], dataset bound clopper-pearson or anytime") from e

    def _make_annotators(self, project: str, names: Sequence[str], progress: Callable[..., Any]) -> list[Any]:
        """The chosen annotators; the LLM ones get their Settings, an on-disk score cache (a re-run
        costs nothing) and the page's progress bar."""

        def progress_for(name: str) -> Callable[[int, int], None]:
            return lambda done, total: progress((done, total) if total else None, desc=f"{name}: scoring items")

        return make_annotators(",".join(names), **self.service.ai.annotator_options(project, names, progress_for))

    # ------------------------------------------------------------------ handlers
    @guard
    def on_open(self, project: str | None) -> Updates:
        return self.live_view(project) if project else {}

    @guard
    def on_save(self, project: str | None, target: float | None, audit_fraction: float | None,
                target_accuracy: float | str | None | _Keep = KEEP, dataset_bound: str | None | _Keep = KEEP,
                finetune_every: float | None | _Keep = KEEP) -> Updates:
        project = need_project(project, "No project to configure.")
        settings, changed = self._save_policy(project, target, audit_fraction, target_accuracy, dataset_bound,
                                              finetune_every)
        accuracy = "off" if settings.target_accuracy is None else f"{settings.target_accuracy:.1%}"
        finetune = "off" if not settings.finetune_every else f"every {settings.finetune_every:,} new labels"
        note = (f"Saved: target precision {settings.target_precision:.1%}, audit fraction "
                f"{settings.audit_fraction:.0%}, target dataset accuracy {accuracy} ({settings.dataset_bound} "
                f"bound), background fine-tune {finetune}. They apply from the next run."
                if changed else "Nothing changed.")
        return {self.status_html: render.note_box(note), **self.policy_view(settings),
                **self.live_view(project, settings.target_precision)}

    @guard
    def on_run(self, project: str | None, names: list[str] | None, target: float | None,
               audit_fraction: float | None, target_accuracy: float | str | None | _Keep = KEEP,
               dataset_bound: str | None | _Keep = KEEP, finetune_every: float | None | _Keep = KEEP,
               progress: gr.Progress = gr.Progress()) -> Updates:  # noqa: B008
        project = need_project(project, "No project to run the AI on.")
        chosen = parse_annotator_names(",".join(names or []) or "none")
        if not chosen:
            raise ValidationError("No AI annotator selected.", fix="tick at least one, e.g. knn and zero-shot")
        started = time.perf_counter()
        settings, _ = self._save_policy(project, target, audit_fraction, target_accuracy, dataset_bound,
                                        finetune_every)
        progress(0.0, desc="Embedding the items")
        self.service.queue.pool(project, progress=lambda done, total: progress((done, total) if total else None,
                                                                                desc="Embedding the items"))
        progress(0.1, desc="Calibrating on the human labels, scoring and routing")
        result = self.service.ai.run_ai(project, self._make_annotators(project, chosen, progress),
                                        progress=lambda done, total: progress((done, total) if total else None,
                                                                              desc="Scoring"))
        progress(1.0, desc="Done")
        seconds = time.perf_counter() - started
        out = self.live_view(project, settings.target_precision)
        out.update({
            **self.policy_view(settings),
            self.status_html: render.note_box(
                f"Routed {result['items']:,} items with {', '.join(chosen)}, calibrated on "
                f"{result['human_labels']:,} human labels, in {seconds:.1f} s."),
            self.ai_calibration: calibration_frame(result["calibration"]),
            # which fusion rule makes the score the thresholds apply to, and by how much it won
            self.ai_thresholds: fusion_html(result.get("fusion")) + render.thresholds_table(result["thresholds"]),
            self.ai_plot: reliability_figure(result["calibration"]),
        })
        return out


def _whole_labels(value: float | str | None) -> int:
    """The fine-tune interval as typed (a whole number of labels ≥ 0; empty: 0, off)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0
    bad = ValidationError("Cannot use this fine-tune interval.", got=repr(value),
                          expected="a whole number of new labels, 0 for off", fix="type e.g. 200, or 0")
    try:
        number = float(value)
    except (TypeError, ValueError) as e:
        raise bad from e
    if not (0 <= number < float("inf")) or number != int(number):  # also refuses NaN and infinity
        raise bad
    return int(number)


def estimate_cheap_seconds(n_items: int) -> float:
    """Rough wall time of a run of the cheap annotators (classifier, knn, zero-shot) over a pool of
    ``n_items``: measured ~1.4 s for 20,000 items on 2 CPU cores, mostly writing the suggestions."""
    return 0.3 + 7e-5 * max(0, int(n_items))


def calibration_frame(calibration: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """``run_ai``'s per-annotator calibration → rows of temperature, OOF accuracy and ECE raw → calibrated."""

    def num(value: Any, fmt: str) -> str:
        return "—" if value is None else format(value, fmt)

    rows = []
    for name, c in calibration.items():
        label = "ensemble (fused)" if name == "ensemble" else name
        ece = f"{num(c.get('ece_raw'), '.3f')} → {num(c.get('ece_calibrated'), '.3f')}"
        rows.append([label, num(c.get("temperature"), ".2f"), num(c.get("oof_accuracy"), ".1%"), ece])
    return pd.DataFrame(rows, columns=CALIB_COLUMNS)


def reliability_figure(calibration: dict[str, dict[str, Any]]) -> Any:
    """The reliability diagram: the dashboard's plot (``reporting.reliability_plot``) in the tab's
    compact layout, with a 0.1 grid."""
    fig = reliability_plot(calibration)
    fig.update_layout(
        template="plotly_white", height=400, margin={"l": 56, "r": 16, "t": 16, "b": 48},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0, "font": {"size": 12}},
        xaxis={"title": "confidence (calibrated)", "range": [0, 1.02], "dtick": 0.1},
        yaxis={"title": "accuracy", "range": [0, 1.02], "dtick": 0.1},
        font={"family": "Inter, ui-sans-serif, system-ui, sans-serif", "size": 13},
    )
    return fig
