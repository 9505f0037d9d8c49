"""The Post-training tab: label rating, preference and correction items, keyboard first.

The tab shows the next item of the project picked in the header, laid out by its task type:

- preference: the prompt and two responses side by side in the seeded left/right order the
  service chose (``TaskView.shown_order``); keys 1 / 2 / 3 / 4 (left, right, tie, both bad), Enter;
- rating: the prompt, the response, one scale per criterion (number keys score the highlighted
  criterion, then the next); Enter;
- correction: the prompt and an editable copy of the response; Ctrl+Enter.

An optional rationale goes with every answer. For preference projects an accordion runs the
pairwise LLM judge (both orders, calibrated and routed like the AI tab). Events, each with an
``api_name`` (listed in ``annotator.ui.auth.POLICY``): ``task_load``, ``task_submit``,
``task_skip``, ``task_judge``. Keys: ``annotator.ui.task_keys``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import gradio as gr

from annotator.core.errors import AnnotatorError
from annotator.tasks import PREFERENCE_CHOICES, TASKS, TaskView, is_posttraining
from annotator.ui import render
from annotator.ui.components import Page, Updates
from annotator.ui.guards import Tab
from annotator.ui.render import esc

if TYPE_CHECKING:
    from annotator.service import AnnotatorService

MAX_CRITERIA = 6
PREFERENCE_CAPTIONS = ["1 · Left is better", "2 · Right is better", "3 · Tie", "4 · Both bad"]


def task_card(view: TaskView | None, message: str = "") -> str:
    """HTML of one item (``data-task`` / ``data-item-id`` drive the keys), or a note when none."""
    if view is None:
        return f'<div class="task-empty">{esc(message or "Nothing to label.")}</div>'
    head = (f'<div class="task-card" data-task="{esc(view.task_type)}" data-item-id="{view.item_id}" '
            f'data-criteria="{len(view.criteria)}" data-lo="{view.scale[0]}" data-order="{esc(view.shown_order)}">'
            f'<div class="task-prompt"><div class="task-caption">Prompt</div>'
            f'<div class="task-text">{esc(view.prompt)}</div></div>')
    if view.task_type == "preference":
        body = ('<div class="task-pair" style="display:flex;gap:12px">'
                f'<div class="task-side" id="task-left" style="flex:1"><div class="task-caption">1 · Left</div>'
                f'<div class="task-text">{esc(view.left)}</div></div>'
                f'<div class="task-side" id="task-right" style="flex:1"><div class="task-caption">2 · Right</div>'
                f'<div class="task-text">{esc(view.right)}</div></div></div>')
    elif view.task_type == "rating":
        body = (f'<div class="task-response"><div class="task-caption">Response</div>'
                f'<div class="task-text">{esc(view.response)}</div></div>')
    else:
        body = ""
    note = ""
    if view.suggestion is not None and view.route == "verify":
        score = "" if view.suggestion_score is None else f" ({view.suggestion_score:.0%})"
        note = f'<div class="task-suggestion">AI judge says: <b>{esc(view.suggestion)}</b>{esc(score)}</div>'
    return head + body + note + "</div>"


#: The highlighted rating criterion (the one the next number key scores); kept here, not in the shared CSS.
TASK_STYLE = ("<style>.task-rate-current{outline:2px solid var(--color-accent,#6366f1);border-radius:8px}"
              ".task-side,.task-prompt,.task-response{padding:8px 12px;border:1px solid var(--border-color-primary,"
              "#ddd);border-radius:8px;margin-bottom:8px}.task-caption{font-size:.8em;opacity:.7}</style>")


def keys_help(task_type: str) -> str:
    keys = TASKS[task_type].hotkeys if task_type in TASKS else ()
    return (TASK_STYLE + '<div class="task-keys">' + " · ".join(f"<kbd>{esc(k)}</kbd> {esc(what)}" for k, what in keys)
            + "</div>")


class TasksTab(Tab):
    """The Post-training tab. ``render()`` inside the page's ``gr.Tab``, then ``wire(page)``."""

    def __init__(self, service: AnnotatorService):
        super().__init__(service)

    # ------------------------------------------------------------------ layout
    def render(self) -> None:
        self.item_state = gr.State(None)
        self.help_html = gr.HTML("", elem_id="task-help")
        self.card_html = gr.HTML(task_card(None, "Open this tab on a rating, preference or correction project."),
                                 elem_id="task-card")
        with gr.Group(visible=False) as self.pref_group:
            self.pref_choice = gr.Radio(list(zip(PREFERENCE_CAPTIONS, PREFERENCE_CHOICES)), value=None,
                                        label="Verdict", elem_id="pref-choice")
        with gr.Group(visible=False) as self.rate_group:
            self.rate_radios = [gr.Radio([], value=None, label=f"criterion {i + 1}", visible=False,
                                         elem_id=f"rate-{i}", elem_classes=["task-rate"]) for i in range(MAX_CRITERIA)]
        with gr.Group(visible=False) as self.corr_group:
            self.corr_box = gr.Textbox("", lines=5, label="Corrected response · Ctrl+Enter submits", elem_id="corr-edit")
        self.rationale = gr.Textbox("", lines=1, max_lines=3, label="Rationale (optional)", elem_id="task-rationale")
        with gr.Row():
            self.submit_btn = gr.Button("Submit · Enter", variant="primary", elem_id="task-submit", scale=0,
                                        min_width=160)
            self.skip_btn = gr.Button("Skip", elem_id="task-skip", scale=0, min_width=100)
            self.load_btn = gr.Button("Reload", elem_id="task-load", scale=0, min_width=100)
        self.status_html = gr.HTML("", elem_id="task-status")
        with gr.Accordion("LLM judge (preference and rating projects)", open=False, elem_id="task-judge-box"):
            with gr.Row():
                self.judge_dd = gr.Dropdown(["llm-local", "llm-endpoint", "bt-judge", "llm-local,bt-judge"],
                                            value="llm-local", label="Judge", elem_id="task-judge-model", scale=1,
                                            info="bt-judge: learnt from the people's verdicts (preference only)")
                self.judge_btn = gr.Button("Run the judge", elem_id="task-judge", scale=0, min_width=220)
            self.judge_md = gr.Markdown("", elem_id="task-judge-result")

    def _outputs(self) -> list[Any]:
        return [self.item_state, self.help_html, self.card_html, self.pref_group, self.pref_choice, self.rate_group,
                *self.rate_radios, self.corr_group, self.corr_box, self.rationale, self.status_html]

    # ------------------------------------------------------------------ events
    def wire(self, page: Page) -> None:
        """``ui`` is the AnnotatorUI: its header's project dropdown and annotator box are the inputs."""
        fast = {"queue": False, "show_progress": "hidden"}
        outputs = self._outputs()
        head = [page.project_dd, page.user_box]
        page.tab["tasks"].select(self.on_load, head, outputs, api_name="task_load", **fast)
        self.load_btn.click(self.on_load, head, outputs, api_name=False, **fast)
        answer = [*head, self.item_state, self.pref_choice, *self.rate_radios, self.corr_box, self.rationale]
        self.submit_btn.click(self.on_submit, answer, outputs, api_name="task_submit", **fast)
        self.skip_btn.click(self.on_skip, [*head, self.item_state], outputs, api_name="task_skip", **fast)
        self.judge_btn.click(self.on_judge, [page.project_dd, self.judge_dd], [self.judge_md], api_name="task_judge")

    # ------------------------------------------------------------------ views
    def _view(self, project: str | None, user: str, *, status: str = "") -> Updates:
        out: Updates = {self.status_html: status, self.rationale: "", self.pref_choice: None}
        if not project:
            return {**out, self.item_state: None, self.card_html: task_card(None, "No project yet."),
                    **self._groups("")}
        summary = self.service.projects.project(project)
        task = str(summary.task_type)
        if not is_posttraining(task):
            return {**out, self.item_state: None, self.help_html: "", **self._groups(""),
                    self.card_html: task_card(None, f"{project!r} is a {task} project: label it in the Label tab. "
                                                    "This tab labels rating, preference and correction projects.")}
        # One item at a time here: what this person holds elsewhere (the Label tab's item and its
        # pre-fetched next one) returns to the queue first, so this tab can serve it.
        self.service.queue.release(project, user)
        view = self.service.tasks.next_task(project, user)
        out.update(self._groups(task))
        out[self.help_html] = keys_help(task)
        if view is None:
            return {**out, self.item_state: None, self.card_html: task_card(None, "Every item is answered.")}
        out[self.item_state] = view.item_id
        out[self.card_html] = task_card(view)
        if task == "rating":
            choices = [str(s) for s in range(view.scale[0], view.scale[1] + 1)]
            for i, radio in enumerate(self.rate_radios):
                shown = i < len(view.criteria)
                out[radio] = gr.update(choices=choices if shown else [], value=None, visible=shown,
                                       label=view.criteria[i] if shown else f"criterion {i + 1}")
        if task == "correction":
            out[self.corr_box] = view.response
        return out

    def _groups(self, task: str) -> Updates:
        return {self.pref_group: gr.update(visible=task == "preference"),
                self.rate_group: gr.update(visible=task == "rating"),
                self.corr_group: gr.update(visible=task == "correction")}

    # ------------------------------------------------------------------ handlers
    def on_load(self, project: str | None, user: str) -> Updates:
        user = user or self.service.settings.default_user
        return self.guarded(lambda: self._view(project, user))

    def on_submit(self, project: str | None, user: str, item_id: int | None, choice: str | None, *rest: Any) -> Updates:
        ratings_values: Sequence[Any] = rest[:MAX_CRITERIA]
        edited, rationale = rest[MAX_CRITERIA], rest[MAX_CRITERIA + 1]
        user = user or self.service.settings.default_user
        if not project or item_id is None:
            return {self.status_html: render.note_box("Nothing to answer: no item is shown.")}

        def submit() -> Updates:
            summary = self.service.projects.project(project)
            criteria = [lab.name for lab in summary.labels]
            ratings = {c: v for c, v in zip(criteria, ratings_values) if v not in (None, "")} \
                if str(summary.task_type) == "rating" else None
            answer = self.service.tasks.submit_task(project, user, int(item_id), choice=choice, ratings=ratings,
                                                    edited=edited, rationale=rationale)
            return self._view(project, user, status=render.note_box(
                f"Saved item {int(item_id)}: {', '.join(answer.value)}"))

        return self.guarded(submit)

    def on_skip(self, project: str | None, user: str, item_id: int | None) -> Updates:
        user = user or self.service.settings.default_user

        def skip() -> Updates:
            if project and item_id is not None:
                self.service.queue.skip(project, user, int(item_id))
            return self._view(project, user)

        return self.guarded(skip)

    def on_judge(self, project: str | None, judge: str, progress: gr.Progress = gr.Progress()) -> str:  # noqa: B008
        if not project:
            return "No project yet."
        try:
            result = self.service.tasks.run_judge(project, judge or "llm-local",
                                            progress=lambda done, total: progress((done, total), desc="Judging"))
        except AnnotatorError as e:
            return f"**Error:** {e.message}"
        if "agreement_with_people" in result:  # rating: suggestions only, and how they match people
            return (f"Rated {result['items']} responses with {result['model']}; {result['suggested']} suggestions "
                    f"stored (never auto-accepted). Agreement with the {result['human_rated']} people's ratings:"
                    f"\n\n```json\n{json.dumps(result['agreement_with_people'], indent=1)}\n```")
        calibration = {name: {k: v for k, v in fig.items() if k != "reliability"}
                       for name, fig in result["calibration"].items()}
        routes = " · ".join(f"{name}: {n}" for name, n in result["routes"].items())
        return (f"Judged {result['items']} open pairs, calibrated on {result['human_labels']} human "
                f"verdicts. Routes: {routes}.\n\n```json\n{json.dumps(calibration, indent=1)}\n```")
