"""Every format round-trips into the chunk shape; chunking and row numbers; format detection; preview."""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest

from annotator.core.errors import InputFileError
from annotator.importers import CHUNK_COLUMNS, ImportSpec, detect_format, preview, read_chunks

SPEC = ImportSpec(text_column="text", id_column="id", label_column="label")
FILE_FORMATS = ["csv", "tsv", "json", "json-data", "jsonl", "parquet", "hf-disk"]


def _read(path, spec=SPEC) -> pd.DataFrame:
    chunks = list(read_chunks(path, spec))
    assert chunks, "no chunks"
    for chunk in chunks:
        assert list(chunk.columns) == list(CHUNK_COLUMNS)
    return pd.concat(chunks, ignore_index=True)


@pytest.mark.parametrize("fmt", FILE_FORMATS)
def test_each_format_round_trips_into_the_chunk_columns(write, make_rows, fmt):
    rows = make_rows(6)
    frame = _read(write(rows, fmt))
    first = 2 if fmt in ("csv", "tsv") else 1  # CSV/TSV: spreadsheet rows, the header is row 1
    assert frame["row"].tolist() == list(range(first, first + 6))
    assert frame["external_id"].tolist() == [r["id"] for r in rows]
    assert frame["text"].tolist() == [r["text"] for r in rows]
    assert frame["labels"].tolist() == [["pos"], ["neg"], None, ["pos"], ["neg"], None]
    assert frame["metadata"].tolist() == [{"channel": r["channel"]} for r in rows]
    assert frame["split"].tolist() == [None] * 6
    first = frame.to_dict("records")[0]
    assert type(first["row"]) is int and type(first["text"]) is str  # plain Python values for the store


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet", "hf-disk"])
def test_chunk_rows_cuts_250_rows_into_three_numbered_chunks(write, make_rows, fmt):
    path = write(make_rows(250), fmt)
    chunks = list(read_chunks(path, ImportSpec(text_column="text", id_column="id", chunk_rows=100)))
    assert [len(c) for c in chunks] == [100, 100, 50]
    first = 2 if fmt == "csv" else 1
    assert [c["row"].iloc[0] for c in chunks] == [first, first + 100, first + 200]
    assert pd.concat(chunks)["row"].tolist() == list(range(first, first + 250))
    assert chunks[2]["external_id"].iloc[-1] == "r249"


def test_parquet_row_groups_smaller_than_chunk_rows_are_recut(tmp_path, make_rows):
    path = tmp_path / "groups.parquet"
    pd.DataFrame(make_rows(250)).to_parquet(path, index=False, row_group_size=30)
    chunks = list(read_chunks(path, ImportSpec(text_column="text", chunk_rows=100)))
    assert [len(c) for c in chunks] == [100, 100, 50]
    assert pd.concat(chunks)["text"].tolist()[-1] == "text number 249"


def test_jsonl_rows_are_line_numbers_and_blank_lines_are_skipped(tmp_path):
    path = tmp_path / "gaps.jsonl"
    path.write_text('{"text": "a"}\n\n   \n{"text": "b"}\n', encoding="utf-8")
    frame = _read(path, ImportSpec(text_column="text"))
    assert frame["row"].tolist() == [1, 4]
    assert frame["text"].tolist() == ["a", "b"]


def test_texts_are_stripped_and_non_string_ids_become_strings(tmp_path):
    path = tmp_path / "ids.jsonl"
    path.write_text('{"id": 7, "text": "  padded\\n "}\n{"id": 8.0, "text": "x"}\n', encoding="utf-8")
    frame = _read(path, ImportSpec(text_column="text", id_column="id"))
    assert frame["text"].tolist() == ["padded", "x"]
    assert frame["external_id"].tolist() == ["7", "8"]


def test_gzipped_csv_and_jsonl_are_read(tmp_path, make_rows):
    rows = make_rows(3)
    csv_gz = tmp_path / "d.csv.gz"
    pd.DataFrame(rows).to_csv(csv_gz, index=False)
    jsonl_gz = tmp_path / "d.jsonl.gz"
    with gzip.open(jsonl_gz, "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)
    for path in (csv_gz, jsonl_gz):
        assert _read(path)["text"].tolist() == [r["text"] for r in rows]


def test_semicolon_csv_is_read_by_its_separator(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_text("text;label\nbonjour, le monde;pos\n", encoding="utf-8")
    frame = _read(path, ImportSpec(text_column="text", label_column="label"))
    assert frame["text"].tolist() == ["bonjour, le monde"]
    assert frame["labels"].tolist() == [["pos"]]


def test_pipe_separated_csv_is_read_by_its_separator(tmp_path):
    path = tmp_path / "pipes.csv"
    path.write_text("text|label\nhello|pos\n", encoding="utf-8")
    frame = _read(path, ImportSpec(text_column="text", label_column="label"))
    assert frame["text"].tolist() == ["hello"] and frame["labels"].tolist() == [["pos"]]


def test_utf8_bom_from_excel_does_not_break_the_first_column(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufefftext,label\nhello,pos\n".encode())
    assert _read(path, ImportSpec(text_column="text"))["text"].tolist() == ["hello"]


def test_explicit_encoding_reads_a_cp1252_file(tmp_path):
    path = tmp_path / "win.csv"
    path.write_bytes("text\nLe café est très bon\n".encode("cp1252"))
    frame = _read(path, ImportSpec(text_column="text", encoding="cp1252"))
    assert frame["text"].tolist() == ["Le café est très bon"]


def test_dataset_dict_reads_train_by_default_and_a_named_split(tmp_path, make_rows):
    import datasets

    folder = tmp_path / "dd"
    datasets.DatasetDict({
        "train": datasets.Dataset.from_list(make_rows(4)),
        "test": datasets.Dataset.from_list(make_rows(2)),
    }).save_to_disk(str(folder))
    train = _read(folder)
    assert len(train) == 4 and set(train["split"]) == {"train"}
    test = _read(folder, ImportSpec(text_column="text", split="test"))
    assert len(test) == 2 and set(test["split"]) == {"test"}


def test_class_label_indices_become_label_names(tmp_path):
    import datasets

    features = datasets.Features({"text": datasets.Value("string"),
                                  "label": datasets.ClassLabel(names=["neg", "pos"])})
    folder = tmp_path / "cl"
    datasets.Dataset.from_dict({"text": ["bad", "good"], "label": [0, 1]}, features=features).save_to_disk(str(folder))
    frame = _read(folder, ImportSpec(text_column="text", label_column="label"))
    assert frame["labels"].tolist() == [["neg"], ["pos"]]


def test_hub_dataset_is_streamed_with_its_split(monkeypatch, make_rows):
    import datasets

    def fake_load_dataset(name, streaming=False, **kwargs):
        assert name == "owner/reviews" and streaming
        return datasets.IterableDatasetDict({
            "train": datasets.Dataset.from_list(make_rows(5)).to_iterable_dataset(),
            "validation": datasets.Dataset.from_list(make_rows(3)).to_iterable_dataset(),
        })

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    assert detect_format("owner/reviews") == "hf-hub"
    frame = _read("owner/reviews")
    assert frame["text"].tolist() == [f"text number {i}" for i in range(5)]
    assert set(frame["split"]) == {"train"}
    frame = _read("hf://datasets/owner/reviews", ImportSpec(text_column="text", split="validation"))
    assert len(frame) == 3 and set(frame["split"]) == {"validation"}


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("a.csv", "text\nx\n", "csv"),
    ("a.TSV", "text\nx\n", "tsv"),
    ("a.tab", "text\nx\n", "tsv"),
    ("a.json", '[{"text": "x"}]', "json"),
    ("a.ndjson", '{"text": "x"}\n', "jsonl"),
    ("a.jsonl", '{"text": "x"}\n', "jsonl"),
    ("a.txt", '{"text": "x"}\n{"text": "y"}\n', "jsonl"),
    ("a.txt", '[{"text": "x"}]', "json"),
    ("a.dat", "text\tlabel\nx\ty\n", "tsv"),
    ("a.dat", "text,label\nx,y\n", "csv"),
])
def test_detect_format_by_extension_then_content(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert detect_format(path) == expected
    assert detect_format(str(path)) == expected


def test_detect_format_parquet_by_magic_bytes_and_hf_disk_by_markers(tmp_path, write, make_rows):
    parquet = write(make_rows(2), "parquet")
    renamed = parquet.rename(tmp_path / "no_extension")
    assert detect_format(renamed) == "parquet"
    assert detect_format(write(make_rows(2), "hf-disk")) == "hf-disk"


def test_json_file_that_is_really_jsonl_is_read_as_lines(tmp_path):
    path = tmp_path / "lines.json"
    path.write_text('{"text": "a"}\n{"text": "b"}\n', encoding="utf-8")
    assert _read(path, ImportSpec(text_column="text"))["text"].tolist() == ["a", "b"]


def test_a_missing_path_with_an_extension_is_not_taken_for_a_hub_id(tmp_path):
    with pytest.raises(InputFileError, match="File not found"):
        detect_format("data/reviews.csv")


def test_preview_returns_columns_and_first_rows_unvalidated(write, make_rows):
    rows = make_rows(20)
    rows[1]["text"] = "  spaced  "
    columns, frame = preview(write(rows, "csv"), n=3)
    assert columns == ["id", "text", "label", "channel"]
    assert list(frame.columns) == columns and len(frame) == 3
    assert frame["text"].tolist()[1] == "  spaced  "  # as in the file
    assert frame["label"].tolist() == ["pos", "neg", None]


@pytest.mark.parametrize("fmt", ["jsonl", "parquet", "hf-disk"])
def test_preview_other_formats(write, make_rows, fmt):
    columns, frame = preview(write(make_rows(10), fmt), n=2)
    assert columns == ["id", "text", "label", "channel"]
    assert frame["id"].tolist() == ["r0", "r1"]
