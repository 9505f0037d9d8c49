"""The same service on the real PostgreSQL server: import, label, undo, export."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import text

from annotator.core.config import Settings
from annotator.importers import ImportSpec
from annotator.service import AnnotatorService

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_service(pg_database_url, tmp_path, fake_embedder):
    from annotator.store import make_engine

    engine = make_engine(pg_database_url)
    with engine.begin() as c:
        c.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    svc = AnnotatorService.from_settings(
        Settings(data_dir=tmp_path / "data", database_url=pg_database_url, demo=False), embedder=fake_embedder
    )
    yield svc
    svc.close()


def test_label_undo_and_export_on_postgres(pg_service, tmp_path):
    csv = tmp_path / "d.csv"
    pd.DataFrame({"text": [f"text number {i}" for i in range(20)], "label": ["x", ""] * 10}).to_csv(csv, index=False)
    pg_service.projects.create_project("pg", ["x", "y"])
    report = pg_service.imports.import_file("pg", csv, ImportSpec(text_column="text", label_column="label"))
    assert (report.items_added, report.labels_imported) == (20, 10)
    first = pg_service.queue.next_item("pg", "ana")
    pg_service.queue.submit("pg", "ana", first.item_id, ["y"])
    second = pg_service.queue.next_item("pg", "ana")
    pg_service.queue.submit("pg", "ana", second.item_id, ["x"])
    back = pg_service.queue.undo("pg", "ana")
    assert back.item_id == second.item_id and back.previous_value == ["x"]
    pg_service.queue.submit("pg", "ana", back.item_id, ["y"])
    frame = pd.read_json(pg_service.exports.export("pg", fmt="jsonl", out=tmp_path / "o").data_path, lines=True)
    ana = frame[frame["annotator"] == "ana"].set_index("item_id")["label"].to_dict()
    assert ana == {first.item_id: "y", second.item_id: "y"}
    assert pg_service.queue.progress("pg").labelled == 12
