"""Cell values: multi-label parsing, NaN and missing handling, JSON-safe metadata, metadata columns."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from annotator.importers import ImportSpec, json_safe, parse_labels, read_chunks
from annotator.importers.values import MISSING


def _read(path, spec) -> pd.DataFrame:
    return pd.concat(list(read_chunks(path, spec)), ignore_index=True)


@pytest.mark.parametrize(("cell", "expected"), [
    ("a,b", ["a", "b"]),
    (" a , b ,", ["a", "b"]),
    ('["a", "b"]', ["a", "b"]),
    ('["a,b", "c"]', ["a,b", "c"]),  # JSON keeps a separator inside a name
    (["a", "b"], ["a", "b"]),
    (np.array(["x", "y"]), ["x", "y"]),
    ("a,a,b", ["a", "b"]),
    ("NA", ["NA"]),  # a label called NA is a label, not a missing value
    ("[draft]", ["[draft]"]),  # not JSON: read as text
    (1, ["1"]),
    (1.0, ["1"]),
    ("", None),
    ("   ", None),
    (None, None),
    (float("nan"), None),
    (np.float64("nan"), None),
    (MISSING, None),
    ("[]", None),
    ([], None),
])
def test_parse_labels_forms(cell, expected):
    assert parse_labels(cell) == expected


def test_parse_labels_other_separator_and_no_splitting():
    assert parse_labels("a|b", "|") == ["a", "b"]
    assert parse_labels("a, b", "") == ["a, b"]


def test_parse_labels_maps_class_label_indices():
    assert parse_labels([0, 2], class_names=["neg", "neu", "pos"]) == ["neg", "pos"]
    assert parse_labels(1, class_names=["neg", "pos"]) == ["pos"]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_multi_label_cells_in_both_forms_from_a_file(write, fmt):
    rows = [{"text": "t1", "label": "billing,bug"}, {"text": "t2", "label": '["account", "bug"]'},
            {"text": "t3", "label": "account"}, {"text": "t4", "label": ""}]
    frame = _read(write(rows, fmt), ImportSpec(text_column="text", label_column="label"))
    assert frame["labels"].tolist() == [["billing", "bug"], ["account", "bug"], ["account"], None]


def test_json_list_labels_in_jsonl_and_parquet(write):
    rows = [{"text": "t1", "tags": ["a", "b"]}, {"text": "t2", "tags": []}, {"text": "t3", "tags": None}]
    for fmt in ("jsonl", "parquet"):
        frame = _read(write(rows, fmt, name=fmt), ImportSpec(text_column="text", label_column="tags"))
        assert frame["labels"].tolist() == [["a", "b"], None, None], fmt


def test_json_safe_converts_numpy_nan_dates_and_containers():
    value = {
        "i": np.int64(3), "f": np.float32(0.5), "b": np.bool_(True), "nan": float("nan"), "inf": np.inf,
        "nat": pd.NaT, "ts": pd.Timestamp("2024-01-02 03:04:05"), "d": date(2024, 1, 2),
        "dt64": np.datetime64("2024-01-02T00:00:00"), "dec": Decimal("1.5"), "bytes": b"hi",
        "arr": np.array([1, 2]), "nested": {"x": [np.int32(1), float("nan")]}, "missing": MISSING,
        "dt": datetime(2024, 1, 2, 3, 4, 5),
    }
    out = json_safe(value)
    assert out == {
        "i": 3, "f": 0.5, "b": True, "nan": None, "inf": None, "nat": None, "ts": "2024-01-02T03:04:05",
        "d": "2024-01-02", "dt64": "2024-01-02T00:00:00", "dec": 1.5, "bytes": "hi", "arr": [1, 2],
        "nested": {"x": [1, None]}, "missing": None, "dt": "2024-01-02T03:04:05",
    }
    assert type(out["i"]) is int and type(out["b"]) is bool
    json.dumps(out, allow_nan=False)  # strict JSON: would raise on NaN or Infinity


def test_metadata_defaults_to_every_other_column(write):
    rows = [{"id": "a", "text": "t", "label": "x", "split": "train", "channel": "email", "stars": 4}]
    spec = ImportSpec(text_column="text", id_column="id", label_column="label", split_column="split")
    frame = _read(write(rows, "jsonl"), spec)
    assert frame["metadata"].tolist() == [{"channel": "email", "stars": 4}]
    assert frame["split"].tolist() == ["train"]


def test_metadata_columns_explicit_and_empty(write):
    rows = [{"text": "t", "channel": "email", "stars": 4, "noise": "zzz"}]
    path = write(rows, "csv")
    assert _read(path, ImportSpec(text_column="text", metadata_columns=["stars"]))["metadata"].tolist() == [
        {"stars": "4"}]  # CSV cells are strings: no guessing that "007" was a number
    assert _read(path, ImportSpec(text_column="text", metadata_columns=[]))["metadata"].tolist() == [{}]


def test_nan_and_empty_cells_become_none(write):
    rows = [{"id": "a", "text": "t1", "label": "pos", "score": 0.5, "note": "x"},
            {"id": None, "text": "t2", "label": None, "score": float("nan"), "note": None}]
    for fmt in ("csv", "parquet", "jsonl"):
        path = write(rows, fmt, name=fmt)  # JSONL: json.dumps writes NaN as the bare token NaN
        frame = _read(path, ImportSpec(text_column="text", id_column="id", label_column="label"))
        second = frame.to_dict("records")[1]
        assert second["external_id"] is None and second["labels"] is None, fmt
        assert second["metadata"]["score"] is None and second["metadata"]["note"] is None, fmt
        assert not any(isinstance(v, float) and math.isnan(v) for v in second["metadata"].values())


def test_json_records_with_different_keys_keep_only_their_own_metadata(tmp_path):
    path = tmp_path / "ragged.jsonl"
    path.write_text('{"text": "a", "x": 1}\n{"text": "b", "y": null}\n', encoding="utf-8")
    frame = _read(path, ImportSpec(text_column="text"))
    assert frame["metadata"].tolist() == [{"x": 1}, {"y": None}]
    explicit = _read(path, ImportSpec(text_column="text", metadata_columns=["x"]))
    assert explicit["metadata"].tolist() == [{"x": 1}, {"x": None}]


def test_a_record_without_the_label_key_is_unlabelled(tmp_path):
    path = tmp_path / "partial.jsonl"
    path.write_text('{"text": "a", "label": "pos"}\n{"text": "b"}\n', encoding="utf-8")
    frame = _read(path, ImportSpec(text_column="text", label_column="label"))
    assert frame["labels"].tolist() == [["pos"], None]


def test_later_chunk_without_any_id_key_still_reads(tmp_path):
    path = tmp_path / "late.jsonl"
    lines = ['{"id": "a", "text": "t0"}'] + [f'{{"text": "t{i}"}}' for i in range(1, 4)]
    path.write_text("\n".join(lines), encoding="utf-8")
    frame = _read(path, ImportSpec(text_column="text", id_column="id", chunk_rows=2))
    assert frame["external_id"].tolist() == ["a", None, None, None]


def test_split_column_values(write):
    rows = [{"text": "a", "fold": "train"}, {"text": "b", "fold": " test "}, {"text": "c", "fold": ""}]
    frame = _read(write(rows, "csv"), ImportSpec(text_column="text", split_column="fold"))
    assert frame["split"].tolist() == ["train", "test", None]
    assert frame["metadata"].tolist() == [{}, {}, {}]


def test_parquet_keeps_types_in_metadata(tmp_path):
    path = tmp_path / "typed.parquet"
    frame = pd.DataFrame({"text": ["a", "b"], "n": pd.array([1, None], dtype="Int64"),
                          "when": pd.to_datetime(["2024-01-01", None]), "tags": [["x"], []]})
    frame.to_parquet(path, index=False)
    meta = _read(path, ImportSpec(text_column="text"))["metadata"].tolist()
    assert meta == [{"n": 1, "when": "2024-01-01T00:00:00", "tags": ["x"]}, {"n": None, "when": None, "tags": []}]
    assert type(meta[0]["n"]) is int
