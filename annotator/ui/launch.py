"""Composition root shared by ``launch.py`` and ``python -m annotator serve``:
Settings → engine → service → UI → launch."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from annotator.core.config import Settings

log = logging.getLogger("annotator.ui.launch")

ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets"
DEMO_PROJECT = "demo"


def ensure_demo_project(service, assets_dir: Path = ASSETS_DIR) -> str | None:  # noqa: ANN001
    """Create the bundled demo project (support tickets, 4 labels) unless it exists. Returns its name."""
    from annotator.core.errors import NotFoundError
    from annotator.importers import ImportSpec

    data = assets_dir / "demo" / "support_tickets.csv"
    if not data.is_file():
        log.warning("demo data %s not found; starting without the demo project", data)
        return None
    try:
        service.projects.project(DEMO_PROJECT)
        return DEMO_PROJECT
    except NotFoundError:
        pass
    labels = json.loads((assets_dir / "demo" / "labels.json").read_text(encoding="utf-8"))
    guidelines_file = assets_dir / "demo" / "guidelines.md"
    guidelines = guidelines_file.read_text(encoding="utf-8") if guidelines_file.is_file() else ""
    service.projects.create_project(DEMO_PROJECT, labels, guidelines=guidelines)
    # The gold label column stays out: the demo is for labelling from scratch.
    service.imports.import_file(DEMO_PROJECT, data, ImportSpec(text_column="text", id_column="id",
                                                       metadata_columns=["product", "channel"]))
    return DEMO_PROJECT


def build(settings: Settings, project: str | None = None):  # noqa: ANN201
    """Build the service and the Gradio app without launching it (tests use this)."""
    from annotator.service import AnnotatorService
    from annotator.ui import AnnotatorUI

    service = AnnotatorService.from_settings(settings)
    if settings.demo:
        demo = ensure_demo_project(service)
        project = project or demo
    return service, AnnotatorUI(service, project=project).build()


def app_kwargs(settings: Settings, service, *, auth: bool) -> dict:  # noqa: ANN001
    """``app_kwargs`` for ``blocks.launch``: the host-name check always (see ``ui/hosts.py``), and the
    client-address and upload-role middleware in auth mode."""
    from annotator.ui.auth import launch_app_kwargs
    from annotator.ui.hosts import host_check_middleware

    middleware = [host_check_middleware(settings.allowed_hosts, settings.host)]
    if auth:
        middleware += launch_app_kwargs(service)["middleware"]
    return {"middleware": middleware}


def run_app(settings: Settings, project: str | None = None) -> None:
    """Build everything and serve until interrupted."""
    from annotator.ui.auth import AUTH_MESSAGE, login_callable
    from annotator.ui.hosts import HostPolicy

    service, blocks = build(settings, project)
    service.jobs.start()  # recover jobs a dead process left, start the in-process job consumer
    # Teams: Gradio's login page when any account has a password (or settings.auth_required);
    # single-user mode (no passwords) opens without a login, the local user acting as admin.
    auth = login_callable(service) if service.accounts.auth_required() else None
    if auth and not any(u.has_password for u in service.accounts.list_users()):
        print("annotator: auth_required is set but no account has a password, so nobody can log in. Create "
              "one: python -m annotator user add NAME --role admin")
    if not auth and settings.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"annotator: warning: single-user mode on {settings.host}: everyone who reaches this address acts "
              "as the admin. For a team, create an account with a password (python -m annotator user add NAME "
              "--role admin), which asks for a password and turns the login on.")
    mode = "login required" if auth else "single-user mode, no login"
    print(f"annotator: serving on http://{settings.host}:{settings.port}  ({mode}; data: {settings.data_dir.resolve()})")
    print(f"annotator: answering to {HostPolicy.from_settings(settings.allowed_hosts, settings.host).describe()}"
          " (more names: ANNOTATOR_ALLOWED_HOSTS)")
    blocks.launch(server_name=settings.host, server_port=settings.port, show_error=True, quiet=True, auth=auth,
                  auth_message=AUTH_MESSAGE if auth else None,
                  app_kwargs=app_kwargs(settings, service, auth=auth is not None))
