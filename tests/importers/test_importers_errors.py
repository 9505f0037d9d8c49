"""Bad input: each error names what was expected, what came, and how to fix it."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from annotator.core.errors import AnnotatorError, InputFileError, UnknownLabelError, ValidationError
from annotator.importers import ImportSpec, check_labels, detect_format, preview, read_chunks


def _read_all(path, spec) -> list[pd.DataFrame]:
    return list(read_chunks(path, spec))


def _error(path, spec, kind=AnnotatorError) -> AnnotatorError:
    with pytest.raises(kind) as info:
        _read_all(path, spec)
    return info.value


TEXT = ImportSpec(text_column="text")


# ------------------------------------------------------------------------------------ missing / empty
def test_missing_file_names_the_path_and_a_near_miss(tmp_path, write, make_rows):
    write(make_rows(2), "csv", name="reviews")
    err = _error(tmp_path / "reveiws.csv", TEXT, InputFileError)
    assert "File not found" in err.message and "reveiws.csv" in err.message
    assert "reviews.csv" in err.fix  # the near miss next to it
    assert err.expected and "CSV" in err.expected


def test_missing_file_in_a_missing_folder(tmp_path):
    err = _error(tmp_path / "nope" / "x.csv", TEXT, InputFileError)
    assert "does not exist" in err.fix


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".json", ".jsonl"])
def test_zero_byte_file_has_no_rows(tmp_path, suffix):
    path = tmp_path / f"empty{suffix}"
    path.write_bytes(b"")
    err = _error(path, TEXT, InputFileError)
    assert "has no rows" in err.message and "0 bytes" in err.message


def test_header_only_csv_has_no_rows_and_lists_the_header(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("id,text,label\n", encoding="utf-8")
    err = _error(path, TEXT, InputFileError)
    assert "header.csv has no rows" in err.message and "'label'" in err.message
    with pytest.raises(InputFileError, match="has no rows"):
        preview(path)


@pytest.mark.parametrize(("name", "content"), [("blank.jsonl", "\n\n  \n"), ("empty.json", "[]"),
                                               ("emptydata.json", '{"data": []}')])
def test_json_without_records_has_no_rows(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert "has no rows" in _error(path, TEXT, InputFileError).message


def test_empty_parquet_and_empty_saved_dataset_have_no_rows(tmp_path):
    import datasets

    parquet = tmp_path / "empty.parquet"
    pd.DataFrame({"text": pd.Series([], dtype=str)}).to_parquet(parquet)
    assert "has no rows" in _error(parquet, TEXT, InputFileError).message
    folder = tmp_path / "empty_ds"
    datasets.Dataset.from_dict({"text": []}).save_to_disk(str(folder))
    assert "has no rows" in _error(folder, TEXT, InputFileError).message


# ------------------------------------------------------------------------------------ columns
def test_misspelt_text_column_lists_columns_and_the_closest_match(write, make_rows):
    path = write(make_rows(3), "csv")
    err = _error(path, ImportSpec(text_column="txt"), InputFileError)
    assert "'txt'" in err.message and "text column" in err.message
    for column in ("id", "text", "label", "channel"):
        assert f"'{column}'" in err.expected
    assert "did you mean 'text'?" in err.fix and "--text-column text" in err.fix


def test_wrong_case_column_is_suggested(write, make_rows):
    err = _error(write(make_rows(3), "parquet"), ImportSpec(text_column="Text"), InputFileError)
    assert "did you mean 'text'?" in err.fix


@pytest.mark.parametrize(("spec", "role", "guess"), [
    (ImportSpec(text_column="text", id_column="idd"), "id column", "'id'"),
    (ImportSpec(text_column="text", label_column="lable"), "label column", "'label'"),
    (ImportSpec(text_column="text", metadata_columns=["channell"]), "metadata column", "'channel'"),
    (ImportSpec(text_column="text", split_column="splt"), "split column", None),
])
def test_misspelt_other_columns(write, make_rows, spec, role, guess):
    err = _error(write(make_rows(3), "jsonl"), spec, InputFileError)
    assert role in err.message and "'channel'" in err.expected
    if guess:
        assert f"did you mean {guess}?" in err.fix
    else:
        assert "did you mean" not in err.fix


def test_missing_column_in_a_saved_dataset(write, make_rows):
    err = _error(write(make_rows(3), "hf-disk"), ImportSpec(text_column="body"), InputFileError)
    assert "'body'" in err.message and "'text'" in err.expected


def test_wrong_separator_hint_when_the_header_is_one_column(tmp_path):
    path = tmp_path / "semicolons.tsv"
    path.write_text("text;label\nhello;pos\n", encoding="utf-8")
    err = _error(path, TEXT, InputFileError)
    assert "'text;label' was read as one column" in err.fix and "separator" in err.fix


# ------------------------------------------------------------------------------------ encoding
LATIN = 'id,text\n1,Le café est très bon et la crème brûlée aussi\n2,"Müller sagt: grüß Gott, schöne Grüße"\n'


@pytest.mark.parametrize("codec", ["cp1252", "latin-1"])
def test_non_utf8_file_names_the_detected_encoding(tmp_path, codec):
    path = tmp_path / "latin.csv"
    path.write_bytes(LATIN.encode(codec))
    err = _error(path, TEXT, InputFileError)
    assert "is not UTF-8" in err.message
    assert "line 2" in err.got and "0xE9" in err.got  # the "é" of café
    found = re.search(r"--encoding (\S+)", err.fix)
    assert found, err.fix
    detected = found.group(1)
    assert detected in err.got and "charset_normalizer" in err.got
    # The suggestion works: the file reads with it, and the accents survive.
    frame = pd.concat(read_chunks(path, ImportSpec(text_column="text", encoding=detected)))
    assert frame["text"].iloc[0] == "Le café est très bon et la crème brûlée aussi"


def test_bad_byte_deep_in_a_file_is_found_after_earlier_chunks(tmp_path):
    path = tmp_path / "late.jsonl"
    good = "".join(json.dumps({"text": f"line {i}"}) + "\n" for i in range(300))
    path.write_bytes(good.encode() + '{"text": "café"}\n'.encode("cp1252"))
    err = _error(path, ImportSpec(text_column="text", chunk_rows=100), InputFileError)
    assert "is not UTF-8" in err.message and "line 301" in err.got


def test_preview_reports_the_encoding_too(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(LATIN.encode("cp1252"))
    with pytest.raises(InputFileError, match="not UTF-8"):
        preview(path)


def test_unknown_encoding_name(write, make_rows):
    err = _error(write(make_rows(2), "csv"), ImportSpec(text_column="text", encoding="utf-99"), InputFileError)
    assert "Unknown text encoding 'utf-99'" in err.message and "cp1252" in err.expected


# ------------------------------------------------------------------------------------ malformed files
def test_malformed_jsonl_line_names_its_line_number(tmp_path):
    path = tmp_path / "broken.jsonl"
    path.write_text('{"text": "ok"}\n\n{"text": "also ok"}\n{"text": "oops",}\n', encoding="utf-8")
    err = _error(path, TEXT, InputFileError)
    assert "Line 4 of broken.jsonl is not valid JSON" in err.message
    assert "oops" in err.got and "line 4" in err.fix


def test_jsonl_line_that_is_not_an_object(tmp_path):
    path = tmp_path / "list.jsonl"
    path.write_text('{"text": "ok"}\n["a", "b"]\n', encoding="utf-8")
    err = _error(path, TEXT, InputFileError)
    assert "Line 2" in err.message and "not a JSON object" in err.message


def test_malformed_json_names_line_and_column(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('[\n {"text": "a"},\n {"text": "b" "c"}\n]', encoding="utf-8")
    err = _error(path, TEXT, InputFileError)
    assert "not valid JSON" in err.message and "line 3" in err.message


def test_json_of_the_wrong_shape(tmp_path):
    path = tmp_path / "shape.json"
    path.write_text('{"rows": [{"text": "a"}], "meta": 1}', encoding="utf-8")
    err = _error(path, TEXT, InputFileError)
    assert "'rows'" in err.got and '{"data": [...]}' in err.expected


def test_malformed_csv_names_the_line(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("text,label\na,pos\nb,neg,extra\n", encoding="utf-8")
    err = _error(path, TEXT, InputFileError)
    assert "not a well-formed CSV" in err.message and "line 3" in err.message and "quote" in err.fix


def test_not_a_parquet_file(tmp_path):
    path = tmp_path / "fake.parquet"
    path.write_text("text\nhello\n", encoding="utf-8")
    err = _error(path, TEXT, InputFileError)
    assert "not a readable Parquet file" in err.message


def test_spreadsheet_is_refused_with_a_way_out(tmp_path):
    path = tmp_path / "sheet.xlsx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(InputFileError) as info:
        detect_format(path)
    assert "CSV UTF-8" in info.value.fix


def test_folder_that_is_not_a_saved_dataset(tmp_path):
    (tmp_path / "stuff").mkdir()
    (tmp_path / "stuff" / "a.csv").write_text("text\nx\n")
    with pytest.raises(InputFileError) as info:
        detect_format(tmp_path / "stuff")
    assert "a.csv" in info.value.got and "save_to_disk" in info.value.fix


# ------------------------------------------------------------------------------------ row-level validation
def test_text_over_the_limit_names_row_length_limit_and_setting(tmp_path):
    path = tmp_path / "huge.csv"
    pd.DataFrame({"text": ["short", "x" * 10_000_000, "fine"]}).to_csv(path, index=False)
    err = _error(path, TEXT, ValidationError)
    assert "row 3: 10,000,000 characters" in err.got  # CSV rows as a spreadsheet numbers them
    assert "1,000,000" in err.message
    assert "max_text_chars" in err.fix and "ANNOTATOR_MAX_TEXT_CHARS" in err.fix


def test_a_lower_limit_applies(write):
    rows = [{"text": "a" * 11}, {"text": "b" * 10}]
    err = _error(write(rows, "jsonl"), ImportSpec(text_column="text", max_text_chars=10), ValidationError)
    assert "row 1: 11 characters" in err.got and "row 2" not in err.got


def test_empty_texts_are_an_error_naming_up_to_five_rows(write):
    # Two columns: in a one-column CSV an empty cell is a blank line, which pandas skips.
    rows = [{"text": "fine", "n": 0}] + [{"text": "   " if i % 2 else None, "n": i} for i in range(7)]
    err = _error(write(rows, "csv"), TEXT, ValidationError)
    assert "7 rows" in err.message and "empty text" in err.message
    assert "rows 3, 4, 5, 6, 7 … (7 in all)" in err.got  # the header is row 1, "fine" row 2
    assert "drop these rows" in err.fix


def test_text_cell_holding_a_list_is_an_error(tmp_path):
    path = tmp_path / "nested.jsonl"
    path.write_text('{"text": "ok"}\n{"text": ["a", "b"]}\n', encoding="utf-8")
    err = _error(path, TEXT, ValidationError)
    assert err.got == "row 2" and "instead of a text" in err.message and "1 row of" in err.message


def test_duplicate_ids_are_caught_across_chunks(write, make_rows):
    rows = make_rows(250)
    rows[180]["id"] = "r5"  # both repeats in the second chunk (spreadsheet rows 102-201)
    rows[190]["id"] = "r7"
    rows[240]["id"] = "r9"  # never reached: the import stops at the first chunk with a repeat
    chunks = read_chunks(write(rows, "csv"), ImportSpec(text_column="text", id_column="id", chunk_rows=100))
    assert len(next(chunks)) == 100  # the first chunk is fine: ids are checked as they stream
    with pytest.raises(ValidationError) as info:
        list(chunks)
    err = info.value
    assert "used more than once" in err.message and "'id'" in err.message
    assert "'r5' again at row 182" in err.got and "'r7' again at row 192" in err.got and "r9" not in err.got


def test_duplicate_ids_within_one_chunk_and_empty_ids_allowed(write):
    rows = [{"id": "a", "text": "1"}, {"id": "", "text": "2"}, {"id": "", "text": "3"}, {"id": "a", "text": "4"}]
    err = _error(write(rows, "csv"), ImportSpec(text_column="text", id_column="id"), ValidationError)
    assert "'a' again at row 5" in err.got and "1 id in the id column 'id'" in err.message


# ------------------------------------------------------------------------------------ HF datasets
def test_hub_failure_says_offline_and_suggests_save_to_disk(monkeypatch):
    import datasets

    def offline(*args, **kwargs):
        raise ConnectionError("Couldn't reach 'owner/name' on the Hub (OfflineModeIsEnabled)")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    err = _error("owner/name", TEXT, InputFileError)
    assert "owner/name" in err.message and "offline" in err.message
    assert "save_to_disk" in err.fix and "CSV" in err.fix
    assert "ConnectionError" in err.got and "no local file or folder" in err.got


def test_hub_failure_with_the_real_offline_mode(monkeypatch):
    """No mock: with HF_HUB_OFFLINE=1 (tests/conftest.py) datasets refuses at once."""
    import os

    if os.environ.get("HF_HUB_OFFLINE") != "1":
        pytest.skip("needs HF_HUB_OFFLINE=1 so the test never touches the network")
    err = _error("annotator-tests/does-not-exist", TEXT, InputFileError)
    assert "offline" in err.message and "save_to_disk" in err.fix


def test_dataset_dict_split_errors_list_the_splits(tmp_path, make_rows):
    import datasets

    folder = tmp_path / "dd"
    datasets.DatasetDict({
        "validation": datasets.Dataset.from_list(make_rows(2)),
        "test": datasets.Dataset.from_list(make_rows(2)),
    }).save_to_disk(str(folder))
    err = _error(folder, TEXT, InputFileError)
    assert "none is called 'train'" in err.message and "'validation'" in err.got and "'test'" in err.got
    err = _error(folder, ImportSpec(text_column="text", split="tran"), InputFileError)
    assert "no split 'tran'" in err.message and "'validation', 'test'" in err.expected


# ------------------------------------------------------------------------------------ labels and spec
def test_check_labels_lists_unknown_values_with_counts_and_the_allowed_labels():
    values = [["billing"], ["refund"], None, ["refund", "bug"], ["Biling"], []]
    with pytest.raises(UnknownLabelError) as info:
        check_labels(values, ["billing", "bug", "account"])
    err = info.value
    assert "2 label values not among the labels" in err.message
    assert "'refund' ×2" in err.got and "'Biling' ×1 (did you mean 'billing'?)" in err.got
    assert "'billing', 'bug', 'account'" in err.expected
    assert err.fix == "add them with --add-labels, or map/remove them in the file"
    check_labels([["bug"], None, ["account", "billing"]], ["billing", "bug", "account"])  # no error


def test_check_labels_shows_at_most_ten():
    values = [[f"l{i}"] * 1 for i in range(15)]
    with pytest.raises(UnknownLabelError) as info:
        check_labels(values, ["a"])
    assert "and 5 more" in info.value.got and info.value.got.count("×") == 10


@pytest.mark.parametrize(("kwargs", "needle"), [
    ({"text_column": ""}, "text column is not set"),
    ({"text_column": "t", "chunk_rows": 0}, "chunk_rows"),
    ({"text_column": "t", "max_text_chars": 0}, "max_text_chars"),
    ({"text_column": "t", "metadata_columns": "a,b"}, "list of column names"),
])
def test_import_spec_is_validated_on_construction(kwargs, needle):
    with pytest.raises(ValidationError, match=needle):
        ImportSpec(**kwargs)



def test_file_and_column_errors_raise_at_call_time_before_any_iteration(tmp_path, write, make_rows):
    """So a caller can fail before it opens a database transaction."""
    with pytest.raises(InputFileError, match="File not found"):
        read_chunks(tmp_path / "missing.csv", TEXT)  # not iterated
    with pytest.raises(InputFileError, match="'txt'"):
        read_chunks(write(make_rows(3), "csv"), ImportSpec(text_column="txt"))
