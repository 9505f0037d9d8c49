"""Fixtures for the UI tests: a service on a temp data dir with the fake embedder, an app served
in a background thread, and Debian's Chromium driven by Playwright (never `playwright install`)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def _unavailable(reason: str) -> None:
    """Skip on a developer machine without the browser; fail in CI, where it must be there."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so the browser test must run: apt-get install chromium)")
    pytest.skip(f"{reason}; install Debian's chromium (apt-get install chromium) to run the browser tests")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch_local(blocks, *, attempts: int = 3, **kwargs) -> int:  # noqa: ANN001, ANN003
    """Launch ``blocks`` on a free local port in a background thread; returns the port.

    Gradio checks that the page answers within a few seconds of starting and raises ValueError
    otherwise; on a loaded CI machine that check can lose the race, so it is tried again on a
    fresh port (a real failure still fails after ``attempts``)."""
    for attempt in range(attempts):
        port = free_port()
        try:
            blocks.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True, **kwargs)
            return port
        except (ValueError, OSError):
            blocks.close()
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def hashing_embedder():
    """One fake embedder for the session: deterministic and stateless, but its projection takes ~1 s to build."""
    from annotator.embeddings import HashingEmbedder

    return HashingEmbedder()


@pytest.fixture
def ui_service(tmp_path, hashing_embedder):
    """A service on a temp data dir with the hashing embedder (no model download, no torch)."""
    from annotator.core.config import Settings
    from annotator.service import AnnotatorService

    svc = AnnotatorService.from_settings(Settings(data_dir=tmp_path / "data", demo=False,
                                                  models_dir=tmp_path / "models"), embedder=hashing_embedder)
    yield svc
    svc.close()


@pytest.fixture
def served_app(ui_service):
    """The app launched on a free port in a background thread: yields (url, service, ui)."""
    from annotator.ui import AnnotatorUI

    ui = AnnotatorUI(ui_service, refresh_every=1.0)
    blocks = ui.build()
    port = launch_local(blocks, show_error=True, ssr_mode=False)
    try:
        yield f"http://127.0.0.1:{port}/", ui_service, ui
    finally:
        blocks.close()

