"""Characters no store or export can hold are cleaned at the import boundary (and reported per
row): a lone surrogate or NUL in any value no longer makes the project unexportable, on SQLite and
on PostgreSQL; a text of only control characters is refused like an empty one; nothing else changes."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from annotator.core.errors import ValidationError
from annotator.importers import ImportSpec
from annotator.importers.sanitize import clean_row, clean_str

FORMATS = ("jsonl", "csv", "parquet", "hf")


def test_clean_str():
    assert clean_str("ok\udfff") == ("ok\ufffd", 1, 0)
    assert clean_str("a\ud83d\ude00b") == ("a\U0001F600b", 0, 0)  # a split pair is joined, not replaced
    assert clean_str("x\x00y\x07\tz\n") == ("xy\tz\n", 0, 2)
    assert clean_str("fine \ufffd é 中文") == ("fine \ufffd é 中文", 0, 0)


@given(st.text())
def test_cleaned_strings_always_encode_and_printable_text_is_kept(text):
    cleaned, _, removed = clean_str(text)
    cleaned.encode("utf-8")  # never raises
    assert "\x00" not in cleaned
    if removed == 0 and not any("\ud800" <= c <= "\udfff" for c in text):
        assert cleaned == text


def test_clean_row_reports_where():
    row = {"row": 4, "text": "hi\x00", "metadata": {"m": "\udfff", "k\x00": [1, "\x07"]}, "labels": ["a"]}
    cleaning = clean_row(row)
    assert row["text"] == "hi" and row["metadata"] == {"m": "\ufffd", "k": [1, ""]}
    assert "1 unpaired surrogate" in cleaning.describe() and "in text, metadata" in cleaning.describe()


def _hostile_file(tmp_path):
    path = tmp_path / "hostile.jsonl"
    lines = ['{"text": "ok", "m": "\\udfff"}', '{"text": "nul\\u0000 inside", "m": "x"}',
             '{"text": "fine", "m": "y"}']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _import_and_export_everything(service, tmp_path):
    service.projects.create_project("p", ["a", "b"])
    report = service.imports.import_file("p", _hostile_file(tmp_path), ImportSpec(text_column="text"))
    assert report.items_added == 3 and report.rows_cleaned == 2
    assert report.cleaned[0].startswith("row 1: 1 unpaired surrogate") and "row 2" in report.cleaned[1]
    for fmt in FORMATS:
        service.exports.export("p", out=tmp_path / f"out-{fmt}", fmt=fmt)
    rows = [json.loads(line) for line in (tmp_path / "out-jsonl" / "data.jsonl").read_text().splitlines()]
    assert {r["text"] for r in rows} == {"ok", "nul inside", "fine"}


def test_a_hostile_value_leaves_the_project_exportable(service, tmp_path):
    _import_and_export_everything(service, tmp_path)


@pytest.fixture
def pg_service(pg_database_url, tmp_path, fake_embedder):
    from sqlalchemy import text

    from annotator.core.config import Settings
    from annotator.service import AnnotatorService
    from annotator.store import make_engine

    engine = make_engine(pg_database_url)
    with engine.begin() as c:
        c.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    svc = AnnotatorService.from_settings(Settings(data_dir=tmp_path / "data", database_url=pg_database_url,
                                                  demo=False), embedder=fake_embedder)
    yield svc
    svc.close()


@pytest.mark.postgres
def test_a_hostile_value_leaves_the_project_exportable_on_postgres(pg_service, tmp_path):
    _import_and_export_everything(pg_service, tmp_path)


def test_records_are_cleaned_too(service):
    service.projects.create_project("r", ["a"])
    report = service.imports.import_records("r", [{"text": "x\x00y", "metadata": {"note": "\ud800"}}])
    assert report.rows_cleaned == 1 and report.items_added == 1


def test_a_text_of_only_control_characters_is_refused(service, tmp_path):
    service.projects.create_project("e", ["a"])
    path = tmp_path / "nul.jsonl"
    path.write_text('{"text": "fine"}\n{"text": "\\u0000\\u0000"}\n', encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        service.imports.import_file("e", path, ImportSpec(text_column="text"))
    assert "control characters" in err.value.message and "rows 2" in err.value.message
    assert service.projects.project("e").items == 0


def test_labels_added_by_an_import_are_checked(service, tmp_path):
    service.projects.create_project("labels", ["a"])
    path = tmp_path / "l.csv"
    path.write_text("text,label\nx,a\ny,<img src=x>\n")
    with pytest.raises(ValidationError) as err:
        service.imports.import_file("labels", path, ImportSpec(text_column="text", label_column="label"),
                                    add_labels=True)
    assert "<" in err.value.message and service.projects.project("labels").items == 0
    assert [lab.name for lab in service.projects.project("labels").labels] == ["a"]
