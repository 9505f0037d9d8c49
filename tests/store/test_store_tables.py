"""The store on SQLite and PostgreSQL: schema, constraints, derived final labels."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from annotator.core.errors import ConflictError, DatabaseUnavailableError, NotFoundError
from annotator.store import make_engine, migrate, transaction
from annotator.store import items as item_q
from annotator.store import labels as label_q
from annotator.store import projects as project_q
from annotator.store import responses as response_q
from annotator.store.engine import check_connection, table_names

LABELS = [{"name": "pos", "description": "", "hotkey": "1"}, {"name": "neg", "description": "", "hotkey": "2"}]


def _project(s, name="p"):
    return project_q.create_project(s, name=name, task_type="single-label", labels=LABELS, guidelines="", settings={})


def _rows(*texts):
    return [{"text": t, "text_hash": f"h-{t}", "external_id": None, "metadata": {"n": i}} for i, t in enumerate(texts)]


def test_migration_creates_every_table(engine):
    assert {"project", "item", "user", "response", "suggestion", "modelversion", "job", "alembic_version"} <= set(
        table_names(engine)
    )


def test_migrations_match_the_models(engine):
    """A model change without a migration fails here (alembic's autogenerate diff must be empty)."""
    from alembic.migration import MigrationContext
    from alembic.autogenerate import compare_metadata
    from sqlmodel import SQLModel

    import annotator.store.tables  # noqa: F401

    with engine.connect() as c:
        diff = compare_metadata(MigrationContext.configure(c), SQLModel.metadata)
    assert diff == []


def test_project_names_are_unique(engine):
    with transaction(engine) as s:
        _project(s)
    with pytest.raises(ConflictError, match="already exists"):
        with transaction(engine) as s:
            _project(s)


def test_unknown_project_lists_the_existing_ones(engine):
    with transaction(engine) as s:
        _project(s, "alpha")
    with pytest.raises(NotFoundError) as err, transaction(engine) as s:
        project_q.get_project(s, "alpah")
    assert "alpha" in err.value.message


def test_content_hash_is_unique_per_project(engine):
    with transaction(engine) as s:
        pid = _project(s).id
        item_q.insert_items(s, pid, _rows("a", "b"))
    with pytest.raises(IntegrityError), transaction(engine) as s:
        item_q.insert_items(s, pid, _rows("a"))
    with transaction(engine) as s:  # the failed transaction changed nothing
        assert item_q.count_items(s, pid) == 2


def test_insert_items_returns_ids_in_input_order(engine):
    with transaction(engine) as s:
        pid = _project(s).id
        ids = item_q.insert_items(s, pid, _rows("x", "y", "z"))
        got = item_q.texts_by_ids(s, ids)
    assert [got[i] for i in ids] == ["x", "y", "z"]


def test_final_label_prefers_people_and_keeps_suggestions_apart(engine):
    with transaction(engine) as s:
        pid = _project(s).id
        a, b, c = item_q.insert_items(s, pid, _rows("a", "b", "c"))
        ana = project_q.get_or_create_user(s, "ana")
        response_q.add_response(s, item_id=a, user_id=ana.id, value=["pos"])
        response_q.insert_suggestions(s, [
            {"item_id": a, "agent": "knn", "agent_version": "1", "value": ["neg"], "scores": {"neg": 0.9},
             "score": 0.9, "route": "auto"},
            {"item_id": b, "agent": "knn", "agent_version": "1", "value": ["neg"], "scores": {"neg": 0.97},
             "score": 0.97, "route": "auto"},
        ])
    with transaction(engine) as s:
        rows = {r["item_id"]: r for chunk in label_q.iter_final_labels(s, pid) for r in chunk}
    assert rows[a]["label"] == ["pos"] and rows[a]["annotator"] == "ana" and rows[a]["verified"] is True
    assert rows[b]["label"] == ["neg"] and rows[b]["label_source"] == "agent" and rows[b]["annotator"] == "knn@1"
    assert rows[b]["confidence"] == pytest.approx(0.97) and rows[b]["verified"] is False
    assert rows[c]["label"] is None and rows[c]["status"] == "unlabelled"
    with transaction(engine) as s:  # the suggestion on item a is still stored, unmerged
        assert response_q.latest_suggestions(s, [a])[a].value == ["neg"]


def test_discarded_response_no_longer_counts(engine):
    with transaction(engine) as s:
        pid = _project(s).id
        (a,) = item_q.insert_items(s, pid, _rows("a"))
        ana = project_q.get_or_create_user(s, "ana")
        response_q.add_response(s, item_id=a, user_id=ana.id, value=["pos"])
    with transaction(engine) as s:
        assert response_q.labelled_values(s, pid) == {a: ["pos"]}
        assert response_q.discard_responses(s, a, ana.id) == 1
    with transaction(engine) as s:
        assert response_q.labelled_values(s, pid) == {}
        assert project_q.project_counts(s, pid) == {"items": 1, "labelled": 0}


def test_sqlite_file_uses_wal_and_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    migrate(engine)
    with engine.connect() as c:
        assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert c.execute(text("PRAGMA foreign_keys")).scalar() == 1
    with pytest.raises(IntegrityError), transaction(engine) as s:
        response_q.insert_responses(s, [{"item_id": 999, "user_id": 999, "value": ["x"], "status": "submitted",
                                         "source": "human", "route": "manual"}])


def test_unreachable_postgres_gives_a_clear_error():
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(DatabaseUnavailableError) as err:
        check_connection(engine)
    assert "127.0.0.1:1" in err.value.message and "Fix:" in err.value.message
