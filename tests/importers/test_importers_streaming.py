"""Streaming: chunks come out before the whole file is read, and memory holds one chunk."""

from __future__ import annotations

import json

import pytest

from annotator.core.errors import InputFileError
from annotator.importers import ImportSpec, read_chunks


def test_streaming_yields_before_reading_a_broken_end(tmp_path):
    """The file is never read whole: chunks come out before the reader reaches the bad line."""
    path = tmp_path / "broken.jsonl"
    good = "".join(json.dumps({"text": f"line {i}"}) + "\n" for i in range(250))
    path.write_text(good + "{not json\n", encoding="utf-8")
    chunks = read_chunks(path, ImportSpec(text_column="text", chunk_rows=100))
    assert len(next(chunks)) == 100
    assert len(next(chunks)) == 100
    with pytest.raises(InputFileError, match="Line 251"):
        next(chunks)


def test_csv_streams_before_reading_a_broken_end(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text("text,label\n" + "".join(f"line {i},pos\n" for i in range(250)) + "bad,line,here\n",
                    encoding="utf-8")
    chunks = read_chunks(path, ImportSpec(text_column="text", chunk_rows=100))
    assert next(chunks)["row"].tolist()[-1] == 101  # the header is row 1
    with pytest.raises(InputFileError, match="line 252"):
        list(chunks)


def test_streaming_a_csv_holds_one_chunk_not_the_file(tmp_path):
    """Peak Python memory while streaming stays a fraction of the file size (here 10 MB)."""
    import tracemalloc

    path = tmp_path / "big.csv"
    body = "x" * 2000
    with open(path, "w", encoding="utf-8") as f:
        f.write("id,text\n")
        f.writelines(f"r{i},{i} {body}\n" for i in range(5000))
    size = path.stat().st_size
    tracemalloc.start()
    try:
        rows = sum(len(c) for c in read_chunks(path, ImportSpec(text_column="text", id_column="id", chunk_rows=100)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rows == 5000
    assert peak < size / 3, f"peak {peak / 2**20:.1f} MiB for a {size / 2**20:.1f} MiB file"
