"""The Label tab: one item at a time, answered with a key or a click, the next one at once.

Speed: the answer events run with ``queue=False`` and ``show_progress="hidden"`` and do one short
transaction plus one in-memory queue step; the classifier refit runs in the service's background
thread and a ``gr.Timer`` polls progress and the model version every few seconds. ``gr.State``
holds only small values: the current item id, the label names, the selection.

Events: ``label_0`` … ``label_19`` (a label button), ``submit_label``, ``skip``, ``undo``, ``flag``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import gradio as gr

from annotator.core.errors import AnnotatorError, EmptyPoolError
from annotator.tasks import is_posttraining
from annotator.ui import auth, render
from annotator.ui.components import Page, Updates, display_html, no_change
from annotator.ui.guards import Tab, guard

if TYPE_CHECKING:
    from annotator.core.schema import ProjectSettings, ProjectSummary
    from annotator.service import AnnotatorService

ALL_DONE = "Every item is labelled. Export it from the Export tab."


class LabelTab(Tab):
    """The label page of the current project for the person in the header.

    Args:
        service: the facade every handler calls.
        default_user: the name used when the header's box is empty.
        auth_mode: whether every event carries a login (an annotator then sees only their answers).
        refresh_every: seconds between progress polls.
    """

    MAX_LABEL_BUTTONS = 20

    def __init__(self, service: AnnotatorService, *, default_user: str, auth_mode: bool, refresh_every: float):
        super().__init__(service)
        self.default_user = default_user
        self.auth_mode = auth_mode
        self.refresh_every = refresh_every
        self._task_projects: dict[str, bool] = {}  # project → post-training task type

    # ------------------------------------------------------------------ layout
    def render(self) -> None:
        self.item_state = gr.State(None)  # current item id
        self.labels_state = gr.State([])  # label names in button order
        self.multi_state = gr.State(False)
        self.preselect_state = gr.State(False)  # project setting: pre-select AI suggestions
        self.selected_state = gr.State([])  # pre-selected label names (undo / suggestion)
        self.flagged_state = gr.State(False)
        self.user_state = gr.State(None)  # whom the shown item was served to
        with gr.Row(elem_id="label-page") as self.page_row:  # hidden for span projects (tabs.spans)
            with gr.Column(scale=3, elem_id="label-main"):
                self.why_html = display_html(elem_id="why-line")
                self.item_html = display_html(render.item_card(None, None, empty_message="Loading…"),
                                              elem_id="item-card")
                self.details_html = display_html(elem_id="item-details")  # metadata chips + AI suggestion
                with gr.Row(elem_id="label-bar", elem_classes=["ann-label-bar"]):
                    self.label_buttons = [
                        gr.Button(f"label {i}", visible=False, elem_id=f"label-btn-{i}", elem_classes=["ann-label"],
                                  size="lg", min_width=120)
                        for i in range(self.MAX_LABEL_BUTTONS)
                    ]
                self.multi_checks = gr.CheckboxGroup(choices=[], label="Labels (toggle, then Enter)", visible=False,
                                                     elem_id="multi-labels", elem_classes=["ann-multi"])
                with gr.Row(elem_id="action-bar", elem_classes=["ann-actions"]):
                    self.submit_btn = gr.Button("Submit ⏎", elem_id="submit-btn", variant="primary", size="md",
                                                min_width=100)
                    self.skip_btn = gr.Button("Skip · S", elem_id="skip-btn", size="md", min_width=90)
                    self.undo_btn = gr.Button("Undo · U", elem_id="undo-btn", size="md", min_width=90)
                    self.flag_btn = gr.Button("Flag · F", elem_id="flag-btn", size="md", min_width=90)
                self.keys_line = display_html(elem_id="keys-line")
                self.comment_box = gr.Textbox(label="Comment (optional)", lines=1,
                                              max_lines=4, elem_id="comment-box", placeholder="Why is this one hard?")
                self.status_html = display_html(elem_id="label-status")
            with gr.Column(scale=1, min_width=260, elem_id="label-side"):
                self.progress_html = display_html(elem_id="progress-panel")
                with gr.Accordion("Guidelines", open=True, elem_id="guidelines"):
                    self.guidelines_md = gr.Markdown(elem_id="guidelines-md")
                with gr.Accordion("Keyboard", open=True, elem_id="hotkeys"):
                    self.hotkeys_html = display_html(elem_id="hotkeys-html")
        self.timer = gr.Timer(self.refresh_every)

    def item_outputs(self) -> list[Any]:
        """Every component an answer event updates."""
        return [self.item_state, self.selected_state, self.flagged_state, self.item_html, self.details_html,
                self.why_html, *self.label_buttons, self.multi_checks, self.comment_box,
                self.flag_btn, self.status_html]

    def project_outputs(self) -> list[Any]:
        """Every component opening a project updates (the item outputs first)."""
        extra = [self.user_state, self.labels_state, self.multi_state, self.preselect_state, self.guidelines_md,
                 self.hotkeys_html, self.keys_line, self.progress_html]
        return self.item_outputs() + extra

    def answer_inputs(self, page: Page) -> list[Any]:
        return [page.project_dd, page.user_box, self.item_state, self.labels_state, self.multi_state,
                self.preselect_state, self.comment_box, self.flagged_state]

    # ------------------------------------------------------------------ events
    def wire(self, page: Page) -> None:
        """The hot path: one click / key → save the answer and show the next item."""
        fast = {"queue": False, "show_progress": "hidden"}
        inputs, outputs = self.answer_inputs(page), self.item_outputs()
        for i, button in enumerate(self.label_buttons):
            button.click(self.label_handler(i), inputs, outputs, api_name=f"label_{i}", **fast)
        self.submit_btn.click(self.on_submit, [*inputs, self.selected_state, self.multi_checks], outputs,
                              api_name="submit_label", **fast)
        self.skip_btn.click(self.on_skip, inputs, outputs, api_name="skip", **fast)
        self.undo_btn.click(self.on_undo, inputs, outputs, api_name="undo", **fast)
        self.flag_btn.click(self.on_flag, [self.flagged_state], [self.flagged_state, self.flag_btn],
                            api_name="flag", **fast)
        self.timer.tick(self.on_tick, [page.project_dd], [self.progress_html], api_name=False, **fast)

    # ------------------------------------------------------------------ views (service values → updates)
    def item_view(self, item: Any, labels: Sequence[str], multi: bool, preselect: bool, *,
                  empty_message: str = "", status: str = "") -> Updates:
        """Updates that show ``item`` (a QueuedItem, or None when the queue is empty)."""
        out: Updates = {self.comment_box: "", self.flagged_state: False,
                        self.flag_btn: gr.update(variant="secondary", value="Flag · F"),
                        self.status_html: status}
        if item is None:
            out.update({
                self.item_state: None, self.selected_state: [],
                self.item_html: render.item_card(None, None, empty_message=empty_message or "Nothing to label."),
                self.details_html: "", self.why_html: "",
            })
            selected: list[str] = []
        else:
            suggestion = item.suggestion
            # A verify item pre-selects the AI's label so Enter accepts it; blind and audit items
            # carry no suggestion at all (the service hides it until the answer is in).
            verify = item.route == "verify" and suggestion is not None
            if item.previous_value is not None:
                selected = list(item.previous_value)
            elif (preselect or verify) and suggestion is not None:
                selected = [v for v in suggestion.value if v in labels]
            else:
                selected = []
            if verify:
                shown = render.verify_banner(suggestion.agent, suggestion.value, suggestion.score)
            else:
                shown = render.suggestion_box(suggestion.agent if suggestion else None,
                                              suggestion.value if suggestion else None,
                                              suggestion.score if suggestion else None,
                                              preselected=bool(preselect and suggestion))
            out.update({
                self.item_state: item.item_id, self.selected_state: selected,
                self.item_html: render.item_card(item.item_id, item.text),
                self.details_html: render.metadata_chips(item.item_id, item.external_id, item.metadata) + shown,
                self.why_html: render.why_line(item.strategy, item.score, item.model_version,
                                               route=item.route, undo=item.previous_value is not None),
            })
        for i, name in enumerate(labels[: self.MAX_LABEL_BUTTONS]):
            out[self.label_buttons[i]] = gr.update(variant="primary" if name in selected else "secondary")
        out[self.multi_checks] = gr.update(value=selected if multi else [])
        return out

    def no_project(self, message: str) -> Updates:
        """The page with no project: no buttons, no guidelines, ``message`` on the card."""
        out: Updates = {button: gr.update(visible=False) for button in self.label_buttons}
        out.update({
            self.labels_state: [], self.multi_state: False, self.preselect_state: False,
            self.multi_checks: gr.update(choices=[], value=[], visible=False),
            self.guidelines_md: "", self.hotkeys_html: "", self.keys_line: "",
            self.progress_html: render.note_box("No project yet."),
        })
        out.update(self.item_view(None, [], False, False, empty_message=message))
        return out

    def project_layout(self, project: str, summary: ProjectSummary, guidelines: str,
                       settings: ProjectSettings) -> Updates:
        """The buttons, keys, guidelines and progress of a newly opened project (no item yet)."""
        specs = summary.labels
        multi = summary.task_type == "multi-label"
        out: Updates = {}
        for i, button in enumerate(self.label_buttons):
            if i < len(specs):
                out[button] = gr.update(value=render.caption(specs[i].name, specs[i].hotkey), visible=not multi,
                                        variant="secondary")
            else:
                out[button] = gr.update(visible=False)
        keys = [(s.name, s.hotkey) for s in specs]
        out.update({
            self.labels_state: [s.name for s in specs], self.multi_state: multi,
            self.preselect_state: settings.preselect_suggestion,
            self.multi_checks: gr.update(choices=[(render.caption(s.name, s.hotkey), s.name) for s in specs],
                                         value=[], visible=multi),
            self.guidelines_md: guidelines or "_No guidelines for this project yet._",
            self.hotkeys_html: render.hotkey_help(keys, multi_label=multi),
            self.keys_line: render.hotkey_line(keys, multi_label=multi),
            self.progress_html: self.progress_view(project),
        })
        return out

    def first_item(self, project: str, user: str, summary: ProjectSummary, settings: ProjectSettings,
                   progress: Callable | None = None) -> Updates:
        """The first item a person gets on opening ``project``.

        ``progress`` (a ``gr.Progress``) shows the one slow step: embedding a project opened for the
        first time since the server started (cached embeddings load in a moment)."""
        names = [s.name for s in summary.labels]
        multi = summary.task_type == "multi-label"
        self.service.queue.release(project, user)  # a reload shows the person a fresh item
        try:
            if progress is not None:
                self.service.queue.pool(project, progress=lambda done, total: progress(
                    (done, total) if total else None, desc="Embedding the items"))
            # rating / preference / correction items need their responses shown: the Post-training tab
            task_project = is_posttraining(str(summary.task_type))
            item = None if task_project else self.service.queue.next_item(project, user)
        except EmptyPoolError as e:
            return self.item_view(None, names, multi, settings.preselect_suggestion, empty_message=e.what)
        return self.item_view(item, names, multi, settings.preselect_suggestion,
                              empty_message=f"{project} is a {summary.task_type} project: label it in the "
                                            "Post-training tab." if task_project else ALL_DONE)

    def progress_view(self, project: str | None) -> str:
        if not project:
            return render.note_box("No project yet.")
        own = auth.own_answers_of(self.service, self.auth_mode)
        p = self.service.queue.progress(project, own_answers_of=own)
        return render.progress_panel(p.total, p.labelled, p.by_label, p.by_user, model_version=p.model_version,
                                     refitting=p.refitting, labels_since_refit=p.labels_since_refit,
                                     own=own is not None)

    def next_view(self, project: str, user: str, labels: Sequence[str], multi: bool, preselect: bool,
                  status: str = "") -> Updates:
        if self._is_task_project(project):  # rating / preference / correction: the Post-training tab
            return self.item_view(None, labels, multi, preselect, status=status,
                                  empty_message=f"{project} is a post-training project: label it in the "
                                                "Post-training tab.")
        item = self.service.queue.next_item(project, user)
        return self.item_view(item, labels, multi, preselect, status=status, empty_message=ALL_DONE)

    def _is_task_project(self, project: str) -> bool:
        """Rating / preference / correction, or spans (their own page): this page serves no item
        (cached: a project's task type never changes)."""
        if project not in self._task_projects:
            task = str(self.service.projects.project(project).task_type)
            self._task_projects[project] = is_posttraining(task) or task == "spans"
        return self._task_projects[project]

    # ------------------------------------------------------------------ handlers
    def label_handler(self, index: int) -> Callable[..., Updates]:
        """The click handler of label button ``index`` (single-label: answer and move on;
        multi-label: the buttons are hidden and the checkboxes are used instead)."""

        def on_label(project: str | None, user: str, item_id: int | None, labels: list[str], multi: bool,
                     preselect: bool, comment: str, flagged: bool) -> Updates:
            if index >= len(labels):
                return no_change()
            return self.answer(project, user, item_id, [labels[index]], labels, multi, preselect, comment, flagged)

        on_label.__name__ = f"on_label_{index}"
        return on_label

    @guard
    def answer(self, project: str | None, user: str, item_id: int | None, value: list[str], labels: list[str],
               multi: bool, preselect: bool, comment: str, flagged: bool) -> Updates:
        if not project or item_id is None:
            return {self.status_html: render.note_box("Nothing to answer: no item is shown.")}
        user = user or self.default_user
        revealed = self.service.queue.submit(project, user, int(item_id), value,
                                             comment=(comment or "").strip() or None, flagged=bool(flagged))
        # A blind or audit item's AI label is revealed only now, with the next item, for the record.
        status = render.reveal_line(int(item_id), revealed.value, revealed.score, value) if revealed else ""
        return self.next_view(project, user, labels, multi, preselect, status=status)

    @guard
    def on_submit(self, project: str | None, user: str, item_id: int | None, labels: list[str], multi: bool,
                  preselect: bool, comment: str, flagged: bool, selected: list[str],
                  checked: list[str] | None) -> Updates:
        value = list(checked or []) if multi else list(selected or [])
        if not value:
            hint = "Tick one or more labels first." if multi else "Pick a label with its key or button first."
            return {self.status_html: render.note_box(hint)}
        return self.answer(project, user, item_id, value, labels, multi, preselect, comment, flagged)

    @guard
    def on_skip(self, project: str | None, user: str, item_id: int | None, labels: list[str], multi: bool,
                preselect: bool, comment: str, flagged: bool) -> Updates:
        if not project or item_id is None:
            return no_change()
        user = user or self.default_user
        self.service.queue.skip(project, user, int(item_id))
        return self.next_view(project, user, labels, multi, preselect)

    @guard
    def on_undo(self, project: str | None, user: str, item_id: int | None, labels: list[str], multi: bool,
                preselect: bool, comment: str, flagged: bool) -> Updates:
        if not project:
            return no_change()
        user = user or self.default_user
        self.service.queue.release(project, user)  # the item on screen goes back to the queue
        item = self.service.queue.undo(project, user)
        if item is None:
            return {self.status_html: render.note_box("Nothing to undo yet.")}
        return self.item_view(item, labels, multi, preselect)

    def on_flag(self, flagged: bool) -> Updates:
        flagged = not flagged
        return {self.flagged_state: flagged,
                self.flag_btn: gr.update(variant="stop" if flagged else "secondary",
                                         value="Flagged · F" if flagged else "Flag · F")}

    def on_tick(self, project: str | None) -> Updates:
        try:
            return {self.progress_html: self.progress_view(project)}
        except AnnotatorError:
            return no_change()  # a poll never shows an error; the next action will

    @guard
    def on_rerouted(self, project: str | None, user: str, labels: list[str], multi: bool,
                    preselect: bool) -> Updates:
        """After an AI run: serve the person an item from the newly routed queue (audits first)."""
        if not project or not labels:
            return no_change()
        user = user or self.default_user
        self.service.queue.release(project, user)
        out = self.next_view(project, user, labels, multi, preselect)
        out[self.progress_html] = self.progress_view(project)
        return out
