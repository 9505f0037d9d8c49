"""The program endpoints (``annotator.ui.program_api``) through ``gradio_client`` against a really
launched app on the demo tickets: a script labels 20 items, attaches suggestions and exports them,
in single-user mode and in team mode, where the policy refuses what a role may not do."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import launch_local
from gradio_client import Client
from gradio_client.exceptions import AppError

from annotator.ui import AnnotatorUI, auth
from annotator.ui.launch import ensure_demo_project

GOLD = pd.read_csv(Path(__file__).resolve().parents[2] / "assets" / "demo" / "support_tickets.csv").set_index("id")["label"]
PASSWORDS = {"root": "root password", "ana": "ana password", "rita": "rita password"}
ROLES = {"root": "admin", "ana": "annotator", "rita": "reviewer"}


def _launch(service, **kwargs):  # noqa: ANN003, ANN202
    blocks = AnnotatorUI(service, refresh_every=60).build()
    port = launch_local(blocks, ssr_mode=False,
                  **kwargs)
    return blocks, f"http://127.0.0.1:{port}/"


@pytest.fixture
def single_user(ui_service):
    ensure_demo_project(ui_service)
    blocks, url = _launch(ui_service)
    yield url, ui_service
    blocks.close()


@pytest.fixture
def team(ui_service):
    for name, role in ROLES.items():
        ui_service.accounts.add_user(name, role, PASSWORDS[name])
    ensure_demo_project(ui_service)
    blocks, url = _launch(ui_service, auth=auth.login_callable(ui_service), app_kwargs=auth.launch_app_kwargs(ui_service))
    yield url, ui_service
    blocks.close()


def _label_20(client: Client, user: str = "") -> dict[int, str]:
    """Ask for the next item and answer it with its gold label, 20 times: {item_id: label}."""
    answered: dict[int, str] = {}
    for _ in range(20):
        item = client.predict("demo", user, api_name="/next_item")
        assert item["item_id"] not in answered and item["text"]
        label = GOLD[item["external_id"]]
        saved = client.predict("demo", item["item_id"], [label], user, "", api_name="/submit_answer")
        assert saved == {"saved": True, "item_id": item["item_id"], "revealed": None}
        answered[item["item_id"]] = label
    return answered


def test_a_script_labels_20_demo_items_and_exports_them(single_user):
    url, service = single_user
    client = Client(url, verbose=False)
    assert {"/next_item", "/submit_answer", "/add_suggestions", "/export_data", "/list_projects"} <= set(
        client.view_api(return_format="dict")["named_endpoints"])
    projects = client.predict(api_name="/list_projects")
    assert [(p["name"], p["items"], p["labelled"]) for p in projects] == [("demo", len(GOLD), 0)]

    answered = _label_20(client, "ana")
    counts = client.predict("demo", "my-model", [{"id": "t0001", "label": "feature_request", "score": 0.9},
                                                 {"id": "t0002", "label": "billing"}], api_name="/add_suggestions")
    assert counts == {"suggestions_attached": 2, "suggestions_imported": 2, "items_added": 0}

    export = client.predict("demo", "human", api_name="/export_data")
    assert export["n_rows"] == 20 and "# demo" in export["card"] and "## Who labelled" in export["card"]
    assert {r["item_id"]: r["label"] for r in export["rows"]} == answered
    assert {(r["annotator"], r["label_source"], r["answers"]) for r in export["rows"]} == {("ana", "human", 1)}
    assert service.queue.progress("demo").by_user == {"ana": 20}

    with pytest.raises(AppError, match="Unknown label 'nope'"):  # the service's message, not a traceback
        client.predict("demo", next(iter(answered)), ["nope"], "ana", "", api_name="/submit_answer")
    with pytest.raises(AppError, match="score must be a number between 0 and 1"):
        client.predict("demo", "my-model", [{"id": "t0003", "label": "billing", "score": 7}], api_name="/add_suggestions")


def test_in_team_mode_the_login_answers_and_the_roles_hold(team):
    url, service = team
    ana = Client(url, auth=("ana", PASSWORDS["ana"]), verbose=False)
    answered = _label_20(ana)  # no user given: the answers are the login's
    assert service.queue.progress("demo").by_user == {"ana": 20}
    with pytest.raises(AppError, match="may not answer as 'root'"):
        ana.predict("demo", "root", api_name="/next_item")
    for call in (lambda: ana.predict("demo", "human", api_name="/export_data"),
                 lambda: ana.predict("demo", "m", [{"id": "t0001", "label": "billing"}], api_name="/add_suggestions")):
        with pytest.raises(AppError, match="may not do this"):
            call()
    rita = Client(url, auth=("rita", PASSWORDS["rita"]), verbose=False)
    with pytest.raises(AppError, match="may not do this"):
        rita.predict("demo", "", api_name="/export_data")

    root = Client(url, auth=("root", PASSWORDS["root"]), verbose=False)
    export = root.predict("demo", "human", api_name="/export_data")
    assert {r["item_id"]: r["label"] for r in export["rows"]} == answered
    assert {r["annotator"] for r in export["rows"]} == {"ana"}
    assert root.predict("demo", "m", [{"id": "t0001", "label": "billing", "score": 0.5}],
                        api_name="/add_suggestions")["suggestions_attached"] == 1
