"""A write that runs out of disk says so (naming the folder), not that the database stopped
answering; nothing of that action is saved and what was saved before stays. SQLite's real
SQLITE_FULL is produced by capping the database's pages (``PRAGMA max_page_count``)."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text

from annotator.core.errors import DatabaseUnavailableError, DiskFullError
from annotator.store import make_engine, migrate, transaction
from annotator.store import items as item_q
from annotator.store import projects as project_q

LABELS = [{"name": "pos", "description": "", "hotkey": "1"}, {"name": "neg", "description": "", "hotkey": "2"}]


def _rows(start: int, n: int, size: int) -> list[dict]:
    return [{"text": f"{k} " + "x" * size, "text_hash": f"h-{k}", "external_id": None, "metadata": {}}
            for k in range(start, start + n)]


def test_a_full_disk_is_named_and_earlier_work_is_kept(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'full.db'}")
    migrate(engine)
    with transaction(engine) as s:
        project = project_q.create_project(s, name="p", task_type="single-label", labels=LABELS, guidelines="",
                                           settings={})
        item_q.insert_items(s, project.id, _rows(0, 10, 100))
    with engine.connect() as c:
        pages = c.execute(text("PRAGMA page_count")).scalar()
    # Every new connection may grow the file by only a few pages: the next big write meets a full disk.
    event.listen(engine, "connect", lambda conn, _r: conn.execute(f"PRAGMA max_page_count = {pages + 4}"))
    engine.dispose()

    with pytest.raises(DiskFullError) as err, transaction(engine) as s:
        item_q.insert_items(s, project.id, _rows(10, 2_000, 2_000))
    message = err.value.message
    assert "disk is full" in message and str(tmp_path.resolve()) in message and "df -h" in message
    assert "stopped answering" not in message
    with transaction(engine) as s:
        assert s.execute(text("SELECT count(*) FROM item")).scalar() == 10


def test_other_write_failures_still_blame_the_database(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'gone.db'}")
    migrate(engine)
    with pytest.raises(DatabaseUnavailableError) as err, transaction(engine) as s:
        s.execute(text("INSERT INTO no_such_table VALUES (1)"))
    assert not isinstance(err.value, DiskFullError) and "stopped answering" in err.value.message
