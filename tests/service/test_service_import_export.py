"""Import → store → export through the service: counts, provenance, and bad input that changes nothing."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from annotator.core.errors import (
    AnnotatorError, ConfigError, ConflictError, InputFileError, UnknownLabelError, ValidationError,
)
from annotator.importers import ImportSpec

LABELS = ["billing", "bug", "account"]


def _csv(tmp_path, rows, name="data.csv"):
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _rows(n=30, labelled_every=3):
    out = []
    for i in range(n):
        label = LABELS[i % 3] if i % labelled_every == 0 else ""
        out.append({"id": f"r{i}", "text": f"ticket number {i} about {LABELS[i % 3]}", "label": label,
                    "channel": ["email", "chat"][i % 2]})
    return out


def _state(service, project):
    """Everything a user could lose: counts and the exported labels."""
    summary = service.projects.project(project)
    return summary.items, summary.labelled


def test_import_counts_items_labels_and_duplicates(service, tmp_path):
    service.projects.create_project("p", LABELS)
    rows = _rows() + [{"id": "dup", "text": "ticket number 0 about billing", "label": "", "channel": "x"}]
    report = service.imports.import_file("p", _csv(tmp_path, rows), ImportSpec(text_column="text", id_column="id",
                                                                        label_column="label"))
    assert report.rows_read == 31 and report.items_added == 30 and report.duplicates_skipped == 1
    assert report.labels_imported == 10
    assert _state(service, "p") == (30, 10)
    again = service.imports.import_file("p", _csv(tmp_path, rows[:5], "again.csv"), ImportSpec(text_column="text"))
    assert again.items_added == 0 and again.duplicates_skipped == 5


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet", "hf"])
def test_round_trip_keeps_labels_provenance_and_counts(service, tmp_path, fmt):
    service.projects.create_project("p", LABELS)
    rows = _rows()
    service.imports.import_file("p", _csv(tmp_path, rows), ImportSpec(text_column="text", id_column="id",
                                                              label_column="label"))
    item = service.queue.next_item("p", "ana")
    service.queue.submit("p", "ana", item.item_id, ["bug"], comment="looks like a crash")
    result = service.exports.export("p", fmt=fmt, out=tmp_path / f"out-{fmt}")
    if fmt == "csv":
        frame = pd.read_csv(result.data_path, keep_default_na=False, na_values=[""])
    elif fmt == "jsonl":
        frame = pd.read_json(result.data_path, lines=True)
    elif fmt == "parquet":
        frame = pd.read_parquet(result.data_path)
    else:
        import datasets

        frame = datasets.load_from_disk(str(result.data_path)).to_pandas()
    assert len(frame) == 30 == result.n_rows
    by_id = frame.set_index("external_id")
    for row in rows:
        if row["label"]:
            got = by_id.loc[row["id"]]
            if got["annotator"] == "ana":
                continue
            assert got["label"] == row["label"]
            assert got["label_source"] == "import" and got["route"] == "import" and got["status"] == "submitted"
    ana = frame[frame["annotator"] == "ana"].iloc[0]
    assert ana["label"] == "bug" and ana["label_source"] == "human" and bool(ana["verified"])
    assert ana["comment"] == "looks like a crash" and ana["query_strategy"]
    assert json.loads(by_id.loc["r1"]["metadata"]) == {"channel": "chat"}
    labelled = frame["label"].notna() & (frame["label"] != "")
    assert labelled.sum() == 11  # 10 imported + the one ana gave (the queue serves unlabelled items only)
    card = result.card_path.read_text()
    assert "# p" in card and "Label distribution" in card and "ana" in card


def test_export_only_human_drops_imports_and_unlabelled(service, tmp_path):
    service.projects.create_project("p", LABELS)
    service.imports.import_file("p", _csv(tmp_path, _rows()), ImportSpec(text_column="text", label_column="label"))
    item = service.queue.next_item("p", "ana")
    service.queue.submit("p", "ana", item.item_id, ["account"])
    result = service.exports.export("p", fmt="jsonl", out=tmp_path / "o", only="human")
    frame = pd.read_json(result.data_path, lines=True)
    assert len(frame) == 1 and frame.iloc[0]["label"] == "account"


def test_multi_label_round_trip(service, tmp_path):
    service.projects.create_project("m", LABELS, task_type="multi-label")
    rows = [{"text": "both a charge and a crash", "label": "billing,bug"}, {"text": "password reset", "label": "account"}]
    service.imports.import_file("m", _csv(tmp_path, rows), ImportSpec(text_column="text", label_column="label"))
    frame = pd.read_parquet(service.exports.export("m", fmt="parquet", out=tmp_path / "o").data_path)
    assert sorted(map(list, frame["label"])) == [["account"], ["billing", "bug"]]


def test_unknown_label_fails_and_stores_nothing(service, tmp_path):
    service.projects.create_project("p", LABELS)
    service.imports.import_file("p", _csv(tmp_path, _rows()), ImportSpec(text_column="text", label_column="label"))
    before = _state(service, "p")
    bad = [{"text": "new one", "label": "billing"}, {"text": "another", "label": "refund"}]
    with pytest.raises(UnknownLabelError) as err:
        service.imports.import_file("p", _csv(tmp_path, bad, "bad.csv"), ImportSpec(text_column="text", label_column="label"))
    assert "refund" in err.value.message and "billing" in err.value.message
    assert _state(service, "p") == before


def test_add_labels_extends_the_project(service, tmp_path):
    service.projects.create_project("p", LABELS)
    rows = [{"text": "new one", "label": "refund"}]
    report = service.imports.import_file("p", _csv(tmp_path, rows), ImportSpec(text_column="text", label_column="label"),
                                 add_labels=True)
    assert report.labels_added == ["refund"]
    assert [lab.name for lab in service.projects.project("p").labels] == [*LABELS, "refund"]


def test_duplicate_ids_against_stored_items_change_nothing(service, tmp_path):
    service.projects.create_project("p", LABELS)
    service.imports.import_file("p", _csv(tmp_path, _rows(10)), ImportSpec(text_column="text", id_column="id"))
    clash = [{"id": "fresh", "text": "a brand new text"}, {"id": "r3", "text": "another brand new text"}]
    with pytest.raises(ValidationError, match="r3"):
        service.imports.import_file("p", _csv(tmp_path, clash, "clash.csv"), ImportSpec(text_column="text", id_column="id"))
    assert _state(service, "p") == (10, 0)


def test_bad_file_midway_rolls_back_the_whole_import(service, tmp_path):
    service.projects.create_project("p", LABELS)
    path = tmp_path / "broken.jsonl"
    good = "\n".join(json.dumps({"text": f"line {i}"}) for i in range(250))
    path.write_text(good + "\n{not json\n")
    with pytest.raises(InputFileError, match="251"):
        service.imports.import_file("p", path, ImportSpec(text_column="text", chunk_rows=100))
    assert _state(service, "p") == (0, 0)


def test_missing_text_column_lists_the_columns(service, tmp_path):
    service.projects.create_project("p", LABELS)
    with pytest.raises(InputFileError) as err:
        service.imports.import_file("p", _csv(tmp_path, _rows(3)), ImportSpec(text_column="txt"))
    assert "text" in err.value.message and "channel" in err.value.message


def test_single_label_project_rejects_rows_with_two_labels(service, tmp_path):
    service.projects.create_project("p", LABELS)
    rows = [{"text": "x", "label": "billing,bug"}]
    with pytest.raises(ValidationError, match="single-label"):
        service.imports.import_file("p", _csv(tmp_path, rows), ImportSpec(text_column="text", label_column="label"))


def test_submit_rejects_unknown_labels(service, tmp_path):
    service.projects.create_project("p", LABELS)
    service.imports.import_file("p", _csv(tmp_path, _rows(5)), ImportSpec(text_column="text"))
    item = service.queue.next_item("p", "ana")
    with pytest.raises(ValidationError, match="refund"):
        service.queue.submit("p", "ana", item.item_id, ["refund"])
    with pytest.raises(ValidationError, match="single-label"):
        service.queue.submit("p", "ana", item.item_id, ["billing", "bug"])


def test_duplicate_project_name(service):
    service.projects.create_project("p", LABELS)
    with pytest.raises(ConflictError):
        service.projects.create_project("p", LABELS)


def test_unwritable_data_dir_is_a_clear_error(tmp_path, fake_embedder):
    from annotator.core.config import Settings
    from annotator.service import AnnotatorService

    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError) as err:  # root can write anywhere, but not below a file
        AnnotatorService.from_settings(Settings(data_dir=blocker / "data", demo=False), embedder=fake_embedder)
    assert "cannot be written" in err.value.message and "--data-dir" in err.value.message


def test_read_only_data_dir_is_a_clear_error(tmp_path, fake_embedder):
    import os

    from annotator.core.config import Settings
    from annotator.service import AnnotatorService

    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    if os.access(ro, os.W_OK) and os.geteuid() == 0:
        pytest.skip("running as root: permission bits do not stop writes (the test above covers the error)")
    with pytest.raises(ConfigError):
        AnnotatorService.from_settings(Settings(data_dir=ro / "data", demo=False), embedder=fake_embedder)


def test_errors_share_one_root():
    for cls in (ConfigError, ConflictError, InputFileError, UnknownLabelError, ValidationError):
        assert issubclass(cls, AnnotatorError)
