"""The import's byte and shape limits: decompressed bytes (a gzip, bzip2 or xz bomb stops at the
limit, before any row is read), line length (a file with no line breaks), rows (nothing is kept),
JSON depth and integers of thousands of digits (the error names the line or record), each a
setting that the CLI passes on."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hostile_files import bomb
from typer.testing import CliRunner

from annotator.cli import app
from annotator.core.config import Settings
from annotator.core.errors import InputFileError, ValidationError
from annotator.importers import ImportSpec, read_chunks
from annotator.importers.bounds import BoundedReader, ReadLimits, check_size
from annotator.importers.formats import open_source

MiB = 2**20


def _read(path: Path, chunk_rows: int = 4, **limits: int) -> int:
    """Rows read from ``path`` with the given ImportSpec limits, in chunks of ``chunk_rows``."""
    return sum(len(c) for c in read_chunks(path, ImportSpec(text_column="text", chunk_rows=chunk_rows, **limits)))


def _refusal(path: Path, **limits: int) -> str:
    with pytest.raises(InputFileError) as caught:
        _read(path, **limits)
    return str(caught.value)


# ------------------------------------------------------------------------------------- decompressed bytes
@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz"])
def test_a_decompression_bomb_stops_at_max_bytes_before_any_row(tmp_path, suffix):
    path = bomb(tmp_path / f"bomb.csv{suffix}", 256 * MiB)  # well under 1 MB on disk
    assert path.stat().st_size < MiB
    started = time.monotonic()
    message = _refusal(path, max_bytes=16 * MiB)
    assert time.monotonic() - started < 10
    assert "more than 16 MiB once decompressed" in message
    assert "ANNOTATOR_IMPORT_MAX_BYTES" in message and "split the file" in message


def test_a_compressed_file_under_max_bytes_imports(tmp_path):
    path = bomb(tmp_path / "ok.csv.gz", MiB // 2, block=b"".join(b"row %d,a\n" % k for k in range(1000)))
    assert _read(path, chunk_rows=20_000, max_bytes=MiB) > 50_000


def test_a_plain_file_over_max_bytes_is_refused_by_its_size(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("text\n" + "".join(f"row {k}\n" for k in range(1000)))
    message = _refusal(path, max_bytes=1000)
    assert "big.csv holds more than 1,000 bytes" in message and "ANNOTATOR_IMPORT_MAX_BYTES" in message
    assert _read(path, max_bytes=path.stat().st_size) == 1000


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json"])
def test_the_readers_streams_are_bounded_on_their_own(tmp_path, fmt):
    """Without the size check before reading (a file that grows after it was measured), the
    stream under every text reader still stops at max_bytes."""
    rows = [{"text": f"row {k}"} for k in range(2000)]
    path = tmp_path / f"data.{fmt}.gz"
    data = {"csv": "text\n" + "".join(f"row {k}\n" for k in range(2000)),
            "jsonl": "".join(json.dumps(r) + "\n" for r in rows), "json": json.dumps(rows)}[fmt]
    import gzip

    path.write_bytes(gzip.compress(data.encode()))
    limits = ReadLimits(max_bytes=len(data) // 2)
    with pytest.raises(InputFileError, match="once decompressed"):
        raw = open_source(path, fmt, encoding=None, chunk_rows=100, limits=limits)
        for _ in raw.iter_batches(None):
            pass


def test_the_bounded_reader_counts_exactly():
    data = b"abc\n" * 25  # 100 bytes
    reader = io.BufferedReader(BoundedReader(io.BytesIO(data), "x.csv", ReadLimits(max_bytes=100)))
    assert reader.read() == data
    reader = io.BufferedReader(BoundedReader(io.BytesIO(data + b"!"), "x.csv", ReadLimits(max_bytes=100)))
    with pytest.raises(InputFileError, match="more than 100 bytes"):
        reader.read()


# ------------------------------------------------------------------------------------- line length
def test_a_compressed_line_bomb_stops_at_max_line_bytes(tmp_path):
    path = bomb(tmp_path / "endless.csv.gz", 512 * MiB, block=b"a" * MiB)  # one line, no break
    started = time.monotonic()
    message = _refusal(path, max_line_bytes=4 * MiB)
    assert time.monotonic() - started < 5
    assert message.startswith("Line 2 of endless.csv.gz is longer than 4 MiB.")
    assert "ANNOTATOR_IMPORT_MAX_LINE_BYTES" in message


@pytest.mark.parametrize(("name", "data", "line"), [
    ("endless.csv", b"text\nok\n" + b"b" * (3 * MiB), 3),
    ("endless.jsonl", b'{"text": "ok"}\n{"text": "' + b"c" * (3 * MiB) + b'"}\n', 2),
    ("old-mac.csv", b"text\rok\r" + b"d" * (3 * MiB) + b"\r", 3),
])
def test_a_plain_line_bomb_stops_while_streaming(tmp_path, name, data, line):
    path = tmp_path / name
    path.write_bytes(data)
    message = _refusal(path, max_line_bytes=MiB)
    assert f"Line {line} of {name} is longer than 1 MiB." in message


def test_a_json_file_on_one_long_line_is_not_a_line_bomb(tmp_path):
    path = tmp_path / "compact.json"
    path.write_text(json.dumps([{"text": f"row {k} " + "x" * 100} for k in range(20_000)]))  # ~2.3 MB, one line
    assert _read(path, chunk_rows=20_000, max_line_bytes=MiB) == 20_000


def test_lines_exactly_at_the_limit_pass(tmp_path):
    path = tmp_path / "edge.csv"
    path.write_bytes(b"text\n" + b"e" * 1000 + b"\n" + b"f" * 1000)
    assert _read(path, max_line_bytes=1000) == 2
    assert "Line 2" in _refusal(path, max_line_bytes=999)


def test_check_size_reports_the_decompressed_size(tmp_path):
    path = bomb(tmp_path / "ok.csv.xz", 3 * MiB, block=b"row,a\n" * 1000)
    assert check_size(path, ReadLimits()) == len(b"text,label\n") + -(-3 * MiB // 6000) * 6000


# ------------------------------------------------------------------------------------- rows
def test_more_rows_than_max_rows_is_refused_naming_the_row(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("text\n" + "".join(f"row {k}\n" for k in range(11)))
    message = _refusal(path, max_rows=10)
    assert "more than 10 rows" in message and "row 12 is past the limit" in message  # header = row 1
    assert "ANNOTATOR_IMPORT_MAX_ROWS" in message
    assert _read(path, max_rows=11) == 11


def test_a_refused_row_count_imports_nothing(service, tmp_path):
    service.projects.create_project("p", ["a", "b"])
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps({"text": f"row {k}"}) + "\n" for k in range(25)))
    spec = ImportSpec(text_column="text", chunk_rows=4, max_rows=20)  # five chunks are stored before the error
    with pytest.raises(InputFileError, match="line 21 is past the limit|row 21 is past the limit"):
        service.imports.import_file("p", path, spec)
    assert service.projects.project("p").items == 0
    assert service.imports.import_file("p", path, ImportSpec(text_column="text", max_rows=25)).items_added == 25


# ------------------------------------------------------------------------------------- JSON depth
def _nested(levels: int) -> str:
    """A JSON value ``levels`` deep: [[…]]."""
    return "[" * levels + "]" * levels


def test_jsonl_nested_past_max_depth_names_the_line(tmp_path):
    path = tmp_path / "deep.jsonl"
    ok = json.dumps({"text": "fine", "m": json.loads(_nested(7))})  # record depth 8
    path.write_text(ok + "\n\n" + '{"text": "x", "m": ' + _nested(8) + "}\n")  # line 3: depth 9
    message = _refusal(path, max_depth=8)
    assert message.startswith("Line 3 of deep.jsonl nests JSON more than 8 levels deep.")
    assert "ANNOTATOR_IMPORT_MAX_DEPTH" in message
    assert _read(path, max_depth=9) == 2


def test_json_records_nested_past_max_depth_name_the_record(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text(json.dumps([{"text": "a"}, {"text": "b", "m": {"k": [1]}}, {"text": "c", "m": [[[1]]]}]))
    assert _refusal(path, max_depth=3).startswith("Record 3 of deep.json nests JSON more than 3 levels deep.")
    assert _read(path, max_depth=4) == 3


@pytest.mark.parametrize(("name", "text", "where"), [
    ("beyond.jsonl", '{"text": "a"}\n{"text": "b", "m": ' + _nested(5000) + "}\n", "Line 2 of beyond.jsonl"),
    ("beyond.json", '[{"text": "a"},\n {"text": "b"},\n {"text": "[[[ in a string", "m": ' + _nested(5000) + "}]",
     "Record 3 (line 3) of beyond.json"),
    ("beyond-data.json", '{"data": [{"text": "a"},\n{"text": "b", "m": ' + _nested(5000) + "}]}",
     "Line 2 of beyond-data.json"),
])
def test_nesting_beyond_what_python_reads_names_where_it_is(tmp_path, name, text, where):
    """Thousands of levels: Python's reader gives up (RecursionError); the error still names the place."""
    path = tmp_path / name
    path.write_text(text)
    message = _refusal(path)
    assert message.startswith(f"{where} nests JSON more than 64 levels deep."), message


# ------------------------------------------------------------------------------------- long integers
def test_an_integer_of_thousands_of_digits_names_its_line(tmp_path):
    jsonl = tmp_path / "big.jsonl"
    jsonl.write_text('{"text": "a"}\n{"text": "b"}\n{"text": "c", "n": ' + "9" * 5000 + "}\n")
    assert _refusal(jsonl).startswith("Line 3 of big.jsonl holds an integer with more than 4,300 digits.")
    pretty = tmp_path / "big.json"
    pretty.write_text(json.dumps([{"text": "a"}, {"text": "b", "n": 1}], indent=2).replace("1\n", "9" * 5000 + "\n"))
    message = _refusal(pretty)
    assert message.startswith("Line 7 of big.json holds an integer"), message
    assert "quote such values" in message


def test_a_label_cell_of_deep_json_is_a_label_not_a_crash(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("text,label\nx," + _nested(5000) + "\n")
    chunks = list(read_chunks(path, ImportSpec(text_column="text", label_column="label")))
    assert chunks[0]["labels"][0] == [_nested(5000)]


# ------------------------------------------------------------------------------------- settings and CLI
def test_the_limits_are_settings_with_env_names(monkeypatch):
    for name, value in (("BYTES", "1000"), ("LINE_BYTES", "100"), ("ROWS", "7"), ("DEPTH", "9")):
        monkeypatch.setenv(f"ANNOTATOR_IMPORT_MAX_{name}", value)
    limits = ImportSpec.limits_from(Settings())
    assert limits == {"max_columns": 2000, "max_bytes": 1000, "max_line_bytes": 100, "max_rows": 7, "max_depth": 9}
    assert ImportSpec(text_column="text", **limits).limits == ReadLimits(1000, 100, 2000, 9)
    monkeypatch.undo()
    defaults = Settings()
    assert (defaults.import_max_bytes, defaults.import_max_line_bytes, defaults.import_max_rows,
            defaults.import_max_depth) == (2 * 2**30, 64 * MiB, 10_000_000, 64)


@pytest.mark.parametrize("field", ["max_bytes", "max_line_bytes", "max_rows", "max_depth"])
def test_the_spec_refuses_limits_that_are_not_positive(field):
    with pytest.raises(ValidationError, match=f"{field} must be a positive"):
        ImportSpec(text_column="text", **{field: 0})
    with pytest.raises(ValidationError, match="at most 500"):
        ImportSpec(text_column="text", max_depth=501)


@pytest.mark.parametrize(("env", "make", "needle"), [
    ({"ANNOTATOR_IMPORT_MAX_BYTES": str(8 * MiB)}, lambda d: bomb(d / "bomb.csv.gz", 64 * MiB),
     "more than 8 MiB once decompressed"),
    ({"ANNOTATOR_IMPORT_MAX_ROWS": "3"}, lambda d: _write(d / "rows.csv", "text,label\na,a\nb,a\nc,a\nd,b\n"),
     "row 5 is past the limit"),
    ({"ANNOTATOR_IMPORT_MAX_LINE_BYTES": "1000"}, lambda d: _write(d / "long.csv", "text\n" + "x" * 2000 + "\n"),
     "Line 2 of long.csv is longer than"),
    ({"ANNOTATOR_IMPORT_MAX_DEPTH": "2"}, lambda d: _write(d / "deep.jsonl", '{"text": "a", "m": [[1]]}\n'),
     "Line 1 of deep.jsonl nests JSON more than 2 levels"),
])
def test_the_cli_passes_each_limit_from_its_environment_variable(tmp_path, env, make, needle):
    runner = CliRunner()
    data = ["--data-dir", str(tmp_path / "data")]
    assert runner.invoke(app, ["init", "p", "--labels", "a,b", *data]).exit_code == 0
    done = runner.invoke(app, ["import", str(make(tmp_path)), "--project", "p", *data], env=env)
    assert isinstance(done.exception, InputFileError), done.output
    assert needle in str(done.exception)
    listed = runner.invoke(app, ["projects", *data]).output
    assert "0/0 labelled" in listed, listed  # nothing was imported


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_the_cli_refuses_a_gzip_bomb_in_plain_words(tmp_path):
    """What a person at the terminal sees: exit 2, the limit and the fix, no traceback."""
    root = Path(__file__).resolve().parents[2]
    data = ["--data-dir", str(tmp_path / "data")]
    env = {**os.environ, "ANNOTATOR_IMPORT_MAX_BYTES": str(32 * MiB)}
    assert subprocess.run([sys.executable, "-m", "annotator", "init", "p", "--labels", "a,b", *data], cwd=root,
                          capture_output=True, timeout=120).returncode == 0
    path = bomb(tmp_path / "bomb.csv.gz", 512 * MiB)
    done = subprocess.run([sys.executable, "-m", "annotator", "import", str(path), "--project", "p", *data],
                          cwd=root, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 2, done.stderr[-500:]
    assert "Traceback" not in done.stderr
    assert "Error: bomb.csv.gz holds more than 32 MiB once decompressed" in done.stderr
    assert "Fix: split the file" in done.stderr and "ANNOTATOR_IMPORT_MAX_BYTES" in done.stderr
