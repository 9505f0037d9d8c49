"""The policy helpers of annotator.ui.auth without a server: keys, stems, missing entries, and the
wrapper's identity rewrite (the request Gradio would set is put in its context variable by hand)."""

from __future__ import annotations

import gradio as gr
import pytest
from gradio.context import LocalContext

from annotator.ui import auth


def test_roles_for_falls_back_to_the_stem_then_to_admin_only():
    assert auth.roles_for("label_7") == auth.ALL  # numbered label buttons share "label"
    assert auth.roles_for("export_1") == auth.ADMIN_ONLY  # Gradio's suffix for a repeated api_name
    assert auth.roles_for("someone_elses_new_event") == auth.ADMIN_ONLY
    assert auth.roles_for("similar") == auth.STAFF


class Request:
    def __init__(self, username: str | None):
        self.username = username


def _blocks_with(handler, inputs_count: int = 2):
    with gr.Blocks() as blocks:
        boxes = [gr.Textbox() for _ in range(inputs_count)]
        out = gr.Textbox()
        gr.Button().click(handler, boxes, out, api_name="mystery_event")
        gr.Button().click(lambda: "", None, out, api_name=False)
    return blocks, boxes


def test_an_unlisted_event_is_reported_and_admin_only(service):
    def handler(project: str, user: str) -> str:
        return f"{project}:{user}"

    blocks, boxes = _blocks_with(handler)
    missing = auth.unlisted(blocks)
    assert missing[0] == "mystery_event" and missing[1].endswith("_blocks_with.<locals>.<lambda>")  # no api_name
    assert len(missing) == 2
    service.accounts.add_user("ana", "annotator", "ana password")
    service.accounts.add_user("root", "admin", "root password")
    auth.protect(blocks, service, {boxes[1]: auth.login_name})
    fn = next(f for f in blocks.fns.values() if f.api_name == "mystery_event").fn
    token = LocalContext.request.set(Request("ana"))
    try:
        with pytest.raises(gr.Error) as err:
            fn("p", "bo")
        assert "ana (annotator) may not do this (mystery_event)" in err.value.message
    finally:
        LocalContext.request.reset(token)
    token = LocalContext.request.set(Request("root"))
    try:
        assert fn("p", "bo") == "p:root"  # the user box's value is replaced by the login
    finally:
        LocalContext.request.reset(token)
    token = LocalContext.request.set(Request(None))
    try:
        with pytest.raises(gr.Error) as err:
            fn("p", "root")
        assert "Not logged in" in err.value.message
    finally:
        LocalContext.request.reset(token)


def test_input_positions_skip_the_arguments_gradio_fills_itself():
    def handler(request: gr.Request, project: str, progress: gr.Progress = gr.Progress(), *rest: str) -> None:  # noqa: B008
        return None

    # inputs: project, then two more through *rest; request at 0 and progress at 2 are Gradio's
    assert auth._input_positions(handler, 3) == [1, 3, 4]


def test_rewrite_reaches_a_user_box_after_a_request_parameter(service):
    def handler(request: gr.Request, project: str, user: str) -> str:
        return f"{project}:{user}:{request.username}"

    service.accounts.add_user("rita", "reviewer", "rita password")
    with gr.Blocks() as blocks:
        project, user = gr.Textbox(), gr.Textbox()
        gr.Button().click(handler, [project, user], gr.Textbox(), api_name="browse")
    auth.protect(blocks, service, {user: auth.login_name})
    fn = next(iter(blocks.fns.values())).fn
    request = Request("rita")
    token = LocalContext.request.set(request)
    try:
        assert fn(request, "p", "someone else") == "p:rita:rita"
    finally:
        LocalContext.request.reset(token)
