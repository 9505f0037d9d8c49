"""Shared fixtures: settings on a temp data dir, an in-memory or PostgreSQL engine, a service
with the in-package fake embedder (fast), and a throw-away PostgreSQL database per run."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

PG_ADMIN_URL = os.environ.get("ANNOTATOR_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture
def settings(tmp_path):
    from annotator.core.config import Settings

    return Settings(data_dir=tmp_path / "data", demo=False, models_dir=tmp_path / "models")


@pytest.fixture
def fake_embedder():
    from annotator.embeddings import HashingEmbedder

    return HashingEmbedder()


@pytest.fixture
def service(settings, fake_embedder):
    from annotator.service import AnnotatorService

    svc = AnnotatorService.from_settings(settings, embedder=fake_embedder)
    yield svc
    svc.close()


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    name = f"annotator_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as e:  # noqa: BLE001
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {e}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as c:
        c.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request):
    """A migrated, empty engine: in-memory SQLite, or a clean schema on the test PostgreSQL database."""
    from sqlalchemy import text

    from annotator.store import make_engine, migrate

    if request.param == "sqlite":
        eng = make_engine("sqlite://")
        migrate(eng)
        yield eng
        eng.dispose()
        return
    url = request.getfixturevalue("pg_database_url")
    eng = make_engine(url)
    with eng.begin() as c:
        c.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    migrate(eng)
    yield eng
    eng.dispose()
