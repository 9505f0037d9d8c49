"""The Review tab: a reviewer settles the items of the review queue, keyboard first.

The tab shows one item of the review queue (``service.review.page``) at a time: its text, why it is queued, every
answer side by side (name, value, seconds, comment), the AI suggestions (agent, value, score,
judge score) and the current label. Keys (``annotator.ui.review_keys``):

- ``1``..``9``: the numbered buttons, one per distinct value: values people (or the AI) gave
  first, accepting them; then the project's other labels, correcting to them;
- ``B``: send back (one more person's answer; the item returns once answered);
- ``N``: next item without deciding (for this session); ``C``: the comment box; ``R``: refresh.

Events (each with an ``api_name``, listed in ``annotator.ui.auth.POLICY`` for reviewers and
admins): ``review_queue`` (refresh / open the tab), ``review_choice`` (a numbered button),
``review_correct`` (the label picker), ``review_send_back``, ``review_skip``.
The reviewer's name is the header's "Annotator" box (the login in auth mode).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import gradio as gr

from annotator.core.errors import ValidationError
from annotator.ui import render
from annotator.ui.components import Page, Updates
from annotator.ui.guards import Tab, need_item
from annotator.ui.render import esc
from annotator.ui.tabs.span_review import SpanReviewSection

if TYPE_CHECKING:
    from annotator.service import AnnotatorService

MAX_CHOICES = 9


class ReviewTab(Tab):
    """The Review tab. ``render()`` inside the page's ``gr.Tab``, then ``wire(page)``."""

    def __init__(self, service: AnnotatorService):
        super().__init__(service)

    # ------------------------------------------------------------------ layout
    def render(self) -> None:
        self.item_state = gr.State(None)  # the item shown (id)
        self.choices_state = gr.State([])  # values of the numbered buttons, in order
        self.passed_state = gr.State([])  # ids passed over with N in this session
        with gr.Row(equal_height=True):
            self.summary_html = gr.HTML("", elem_id="review-summary")
            self.refresh_btn = gr.Button("Refresh · R", scale=0, min_width=120, elem_id="review-refresh")
        self.reasons_html = gr.HTML("", elem_id="review-reasons")
        self.item_html = gr.HTML(render.item_card(None, None, empty_message="Open this tab to load the queue."),
                                 elem_id="review-item")
        self.answers_html = gr.HTML("", elem_id="review-answers")
        with gr.Row(elem_id="review-bar", elem_classes=["ann-label-bar"]):
            self.choice_buttons = [
                gr.Button(f"choice {i + 1}", visible=False, elem_id=f"review-choice-{i}", elem_classes=["ann-label"],
                          size="lg", min_width=120)
                for i in range(MAX_CHOICES)
            ]
        with gr.Row(equal_height=True):
            self.correct_pick = gr.CheckboxGroup([], label="Correct to (any labels, then 'Correct')",
                                                 elem_id="review-correct-pick", scale=3)
            self.correct_btn = gr.Button("Correct", elem_id="review-correct", scale=0, min_width=110)
            self.send_back_btn = gr.Button("Send back · B", elem_id="review-send-back", scale=0, min_width=140)
            self.skip_btn = gr.Button("Next · N", elem_id="review-skip", scale=0, min_width=110)
        self.comment_box = gr.Textbox(label="Reviewer's note (optional)", lines=1, max_lines=3,
                                      elem_id="review-comment", placeholder="Why this label?")
        self.status_html = gr.HTML("", elem_id="review-status")
        gr.HTML('<div class="ann-keys">1–9 accept an answer (or correct to a label) · B send back · '
                'N next · C note · R refresh</div>', elem_id="review-keys")
        self.spans = SpanReviewSection(self.service)  # span projects: raters' spans side by side
        self.spans.render()

    # ------------------------------------------------------------------ events
    def wire(self, page: Page) -> None:
        """Connect the events; ``ui`` is the AnnotatorUI (project dropdown, user box, the tab)."""
        base = [page.project_dd, page.user_box, self.item_state, self.choices_state, self.passed_state,
                self.comment_box]
        out = self.outputs()
        self.refresh_btn.click(self.on_refresh, [page.project_dd, self.passed_state], out, api_name="review_queue")
        page.tab["review"].select(self.on_refresh, [page.project_dd, self.passed_state], out, api_name=False,
                             show_progress="hidden")
        fast = {"queue": False, "show_progress": "hidden"}
        for i, button in enumerate(self.choice_buttons):
            button.click(self._choice_handler(i), base, out, api_name=f"review_choice_{i}", **fast)
        self.correct_btn.click(self.on_correct, [*base, self.correct_pick], out, api_name="review_correct", **fast)
        self.send_back_btn.click(self.on_send_back, base, out, api_name="review_send_back", **fast)
        self.skip_btn.click(self.on_skip, base, out, api_name="review_skip", **fast)
        self.spans.wire(page)

    def outputs(self) -> list[Any]:
        return [self.summary_html, self.reasons_html, self.item_html, self.answers_html, *self.choice_buttons,
                self.correct_pick, self.comment_box, self.status_html, self.item_state, self.choices_state,
                self.passed_state]

    # ------------------------------------------------------------------ handlers
    def on_refresh(self, project: str | None, passed: Sequence[int] | None) -> Updates:
        """Show the first item of the queue (passing over the ones skipped with N)."""
        return self.guarded(lambda: self._view(project, list(passed or [])))

    def _choice_handler(self, index: int):  # noqa: ANN202 - a Gradio handler
        def on_choice(project: str | None, user: str, item_id: int | None, choices: Sequence[Sequence[str]],
                      passed: Sequence[int] | None, comment: str | None) -> Updates:
            return self.on_choice(index, project, user, item_id, choices, passed, comment)

        on_choice.__qualname__ = f"ReviewTab.on_choice_{index}"
        return on_choice

    def on_choice(self, index: int, project: str | None, user: str, item_id: int | None,
                  choices: Sequence[Sequence[str]], passed: Sequence[int] | None, comment: str | None) -> Updates:
        """A numbered button: accept that value if someone gave it, else correct to it."""
        def act() -> Updates:
            project_, item = self._need_item(project, item_id)
            if index >= len(choices or []):
                raise ValidationError(f"There is no choice {index + 1} for this item.",
                                      expected=f"1..{len(choices or [])}", fix="press one of the numbered keys shown")
            value = list(choices[index])
            done = self.service.review.settle(project_, user, item, value, comment=comment)
            verb = "accepted" if done == "accepted" else "corrected to"
            return self._view(project_, list(passed or []),
                              note=f"Item {item}: {verb} {', '.join(value)}.")

        return self.guarded(act)

    def on_correct(self, project: str | None, user: str, item_id: int | None, choices: Sequence[Sequence[str]],
                   passed: Sequence[int] | None, comment: str | None, picked: Sequence[str] | None) -> Updates:
        def act() -> Updates:
            project_, item = self._need_item(project, item_id)
            if not picked:
                raise ValidationError("Pick the label(s) to correct to.", fix="tick labels under 'Correct to'")
            self.service.review.correct(project_, user, item, list(picked), comment=comment)
            return self._view(project_, list(passed or []), note=f"Item {item}: corrected to {', '.join(picked)}.")

        return self.guarded(act)

    def on_send_back(self, project: str | None, user: str, item_id: int | None, choices: Sequence[Sequence[str]],
                     passed: Sequence[int] | None, comment: str | None) -> Updates:
        def act() -> Updates:
            project_, item = self._need_item(project, item_id)
            self.service.review.send_back(project_, user, item, comment=comment)
            return self._view(project_, list(passed or []),
                              note=f"Item {item} sent back: it returns here once someone answers it again.")

        return self.guarded(act)

    def on_skip(self, project: str | None, user: str, item_id: int | None, choices: Sequence[Sequence[str]],
                passed: Sequence[int] | None, comment: str | None) -> Updates:
        def act() -> Updates:
            project_, item = self._need_item(project, item_id)
            return self._view(project_, [*(passed or []), item], note=f"Item {item} left for later.")

        return self.guarded(act)

    # ------------------------------------------------------------------ views
    @staticmethod
    def _need_item(project: str | None, item_id: int | None) -> tuple[str, int]:
        return need_item(project, item_id, none_shown="No item is shown.", fix="press Refresh (R) to load the review queue")


    def _view(self, project: str | None, passed: list[int], *, note: str = "") -> Updates:
        """The first queued item not passed over (all passed: start again from the top)."""
        if not project:
            return self._empty("Pick a project first.", passed, summary="")
        # Only the entry shown is built; the service keeps the queue's assessment between decisions.
        open_, counts = self.service.review.page(project, limit=1, exclude=passed)
        queued = int(counts["items"])
        summary = (f'<div class="ann-note" data-queue="{queued}"><b>{queued}</b> to review'
                   + "".join(f" · {esc(k)} {n}" for k, n in sorted(counts["by_reason"].items())) + "</div>")
        if not open_ and queued:  # every queued item passed over: start again from the top
            passed = []
            open_, _ = self.service.review.page(project, limit=1)
        if not open_:
            return self._empty("Nothing to review: no disagreements, flags or requests.", passed, summary=summary,
                               note=note)
        entry = open_[0]
        labels = [lab.name for lab in self.service.projects.project(project).labels]
        choices = [value for _, value in entry.choices()]
        given = len(choices)
        choices += [[lab] for lab in labels if [lab] not in choices]
        choices = choices[:MAX_CHOICES]
        who = dict((tuple(v), w) for w, v in entry.choices())
        buttons = {}
        for i, button in enumerate(self.choice_buttons):
            if i < len(choices):
                value = ", ".join(choices[i])
                tag = f" ({who[tuple(choices[i])]})" if i < given else " (correct)"
                buttons[button] = gr.update(value=render.caption(value + tag, str(i + 1)), visible=True,
                                            variant="primary" if i == 0 else "secondary")
            else:
                buttons[button] = gr.update(visible=False)
        return {
            self.summary_html: summary, self.reasons_html: self._reasons(entry),
            self.item_html: render.item_card(entry.item_id, entry.text)
            + render.metadata_chips(entry.item_id, entry.external_id, entry.metadata),
            self.answers_html: self._answers(entry), **buttons,
            self.correct_pick: gr.update(choices=labels, value=[]), self.comment_box: "",
            self.status_html: render.note_box(note), self.item_state: entry.item_id, self.choices_state: choices,
            self.passed_state: passed,
        }

    def _empty(self, message: str, passed: list[int], *, summary: str, note: str = "") -> Updates:
        return {
            self.summary_html: summary, self.reasons_html: "",
            self.item_html: render.item_card(None, None, empty_message=message), self.answers_html: "",
            **{b: gr.update(visible=False) for b in self.choice_buttons},
            self.correct_pick: gr.update(choices=[], value=[]), self.comment_box: "",
            self.status_html: render.note_box(note), self.item_state: None, self.choices_state: [],
            self.passed_state: passed,
        }

    @staticmethod
    def _reasons(entry: Any) -> str:
        label = ", ".join(entry.final_label) if entry.final_label else "none"
        chips = "".join(f'<li class="review-reason">{esc(r)}</li>' for r in entry.reasons)
        return (f'<div class="ann-why">priority <b>{entry.priority:.2f}</b> (how likely the label is wrong) · '
                f'current label <b class="review-current">{esc(label)}</b>'
                f'{f" ({esc(entry.settled_by)})" if entry.settled_by else ""}</div><ul class="review-reasons">'
                f'{chips}</ul>')

    @staticmethod
    def _answers(entry: Any) -> str:
        """Every answer side by side (one column each), then the AI suggestions."""
        def cell(a: Any) -> str:
            seconds = f"{a.seconds:.1f} s" if a.seconds is not None else "–"
            flag = ' <span title="flagged">⚑</span>' if a.flagged else ""
            role = " (review)" if a.reviewer else ""
            comment = f'<div class="review-comment">“{esc(a.comment)}”</div>' if a.comment else ""
            return (f'<td class="review-answer" data-user="{esc(a.user)}"><div class="review-who">{esc(a.user)}'
                    f'{role}{flag}</div><div class="review-value"><b>{esc(", ".join(a.value))}</b></div>'
                    f'<div class="review-seconds">{seconds}</div>{comment}</td>')

        def ai(g: Any) -> str:
            score = f"{g.score:.2f}" if g.score is not None else "–"
            judge = f" · judge {g.judge_score:.2f}" if g.judge_score is not None else ""
            return (f'<td class="review-ai" data-agent="{esc(g.agent)}"><div class="review-who">AI {esc(g.agent)}</div>'
                    f'<div class="review-value"><b>{esc(", ".join(g.value))}</b></div>'
                    f'<div class="review-seconds">score {score}{judge}{f" · {esc(g.route)}" if g.route else ""}'
                    f'</div></td>')

        cells = "".join(cell(a) for a in entry.answers) + "".join(ai(g) for g in entry.suggestions)
        return f'<table class="review-answers"><tr>{cells}</tr></table>' if cells else ""
