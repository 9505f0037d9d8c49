"""Raw readers: each yields pandas DataFrames of the file's own columns, ``chunk_rows`` at a time,
with a ``__row__`` column holding the 1-based row (or JSONL line) number for error messages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from annotator.errors import InputFileError

ROW = "__row__"
TEXT_SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
                 ".parquet": "parquet", ".pq": "parquet"}


def detect_format(source: str | Path) -> str:
    """'csv' | 'tsv' | 'json' | 'jsonl' | 'parquet' | 'hf-disk' | 'hf-hub' from the path."""
    path = Path(source)
    if path.is_dir():
        if (path / "dataset_info.json").exists() or (path / "state.json").exists() or (path / "dataset_dict.json").exists():
            return "hf-disk"
        raise InputFileError(
            f"{path} is a folder but not a saved Hugging Face dataset.",
            expected="a file (.csv .tsv .json .jsonl .parquet) or a datasets.save_to_disk folder",
            got="a folder without dataset_info.json / state.json / dataset_dict.json",
            fix="point to a file inside it, or save the dataset with Dataset.save_to_disk",
        )
    if path.exists():
        fmt = TEXT_SUFFIXES.get(path.suffix.lower())
        if fmt is None:
            raise InputFileError(
                f"Cannot tell the format of {path.name}.", expected="one of " + ", ".join(sorted(TEXT_SUFFIXES)),
                got=path.suffix or "(no extension)", fix="rename the file with the right extension",
            )
        return fmt
    text = str(source)
    if "/" in text and not text.startswith((".", "/", "~")) and text.count("/") == 1 and Path(text).suffix == "":
        return "hf-hub"
    raise InputFileError(f"File not found: {source}", fix="check the path (relative paths start from the current folder)")


def _check_not_empty(path: Path) -> None:
    if path.stat().st_size == 0:
        raise InputFileError(f"{path.name} is empty (0 bytes).", expected="a header row and at least one data row",
                             fix="export the file again from its source")


def _encoding_error(path: Path, e: UnicodeDecodeError) -> InputFileError:
    from charset_normalizer import from_path

    best = from_path(path).best()
    detected = best.encoding if best else "unknown"
    return InputFileError(
        f"{path.name} is not UTF-8 text (byte {e.start}: {e.object[e.start:e.start + 1]!r}).",
        expected="UTF-8", got=f"looks like {detected}",
        fix=f"pass --encoding {detected} (or re-save the file as UTF-8)",
    )


def read_delimited(path: Path, sep: str, chunk_rows: int, encoding: str | None) -> Iterator[pd.DataFrame]:
    _check_not_empty(path)
    row = 1  # the header is line 1; data rows are numbered from 2 like a spreadsheet
    try:
        reader = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, chunksize=chunk_rows,
                             encoding=encoding or "utf-8", encoding_errors="strict")
        for chunk in reader:
            chunk[ROW] = range(row + 1, row + 1 + len(chunk))
            row += len(chunk)
            yield chunk
    except UnicodeDecodeError as e:
        raise _encoding_error(path, e) from e
    except pd.errors.EmptyDataError as e:
        raise InputFileError(f"{path.name} has no columns.", expected="a header row", fix="check the file") from e
    except pd.errors.ParserError as e:
        raise InputFileError(f"{path.name} is not valid {'TSV' if sep == chr(9) else 'CSV'}.", got=str(e).strip(),
                             fix="check the quoting around that line, or the separator") from e


def read_jsonl(path: Path, chunk_rows: int, encoding: str | None) -> Iterator[pd.DataFrame]:
    _check_not_empty(path)
    records: list[dict] = []
    try:
        with path.open(encoding=encoding or "utf-8", errors="strict") as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as e:
                    raise InputFileError(
                        f"{path.name}, line {number}: not valid JSON ({e.msg}).",
                        expected="one JSON object per line", got=line.strip()[:120],
                        fix=f"fix or delete line {number}; nothing was imported",
                    ) from e
                if not isinstance(record, dict):
                    raise InputFileError(f"{path.name}, line {number}: a JSON {type(record).__name__}, not an object.",
                                         expected='{"text": "..."} per line', fix=f"fix line {number}")
                record[ROW] = number
                records.append(record)
                if len(records) >= chunk_rows:
                    yield pd.DataFrame.from_records(records)
                    records = []
    except UnicodeDecodeError as e:
        raise _encoding_error(path, e) from e
    if records:
        yield pd.DataFrame.from_records(records)


def read_json(path: Path, chunk_rows: int, encoding: str | None) -> Iterator[pd.DataFrame]:
    _check_not_empty(path)
    try:
        data = json.loads(path.read_text(encoding=encoding or "utf-8"))
    except UnicodeDecodeError as e:
        raise _encoding_error(path, e) from e
    except json.JSONDecodeError as e:
        raise InputFileError(f"{path.name} is not valid JSON (line {e.lineno}, column {e.colno}: {e.msg}).",
                             expected='a list of objects, or {"data": [...]}',
                             fix="fix the file; for one object per line name it .jsonl") from e
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        data = data["data"]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise InputFileError(f"{path.name} does not hold a list of records.",
                             expected='[{"text": ...}, ...] or {"data": [...]}', got=type(data).__name__)
    for start in range(0, len(data), chunk_rows):
        frame = pd.DataFrame.from_records(data[start:start + chunk_rows])
        frame[ROW] = range(start + 1, start + 1 + len(frame))
        yield frame


def read_parquet(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    import pyarrow.parquet as pq

    _check_not_empty(path)
    try:
        file = pq.ParquetFile(path)
    except Exception as e:  # noqa: BLE001 - pyarrow raises several types for a broken file
        raise InputFileError(f"{path.name} is not a readable parquet file.", got=str(e)) from e
    row = 0
    for batch in file.iter_batches(batch_size=chunk_rows):
        frame = batch.to_pandas()
        frame[ROW] = range(row + 1, row + 1 + len(frame))
        row += len(frame)
        yield frame


def read_hf_disk(path: Path, chunk_rows: int, split: str | None = None) -> Iterator[pd.DataFrame]:
    import datasets

    loaded = datasets.load_from_disk(str(path))
    if isinstance(loaded, datasets.DatasetDict):
        names = list(loaded)
        chosen = split or ("train" if "train" in loaded else names[0] if len(names) == 1 else None)
        if chosen not in loaded:
            raise InputFileError(f"{path} holds several splits.", expected=f"one of {names}",
                                 fix="pick one with a split name (e.g. train)")
        loaded = loaded[chosen]
    yield from _iter_dataset(loaded, chunk_rows)


def _iter_dataset(dataset, chunk_rows: int) -> Iterator[pd.DataFrame]:  # noqa: ANN001
    row = 0
    for batch in dataset.iter(batch_size=chunk_rows):
        frame = pd.DataFrame(batch)
        frame[ROW] = range(row + 1, row + 1 + len(frame))
        row += len(frame)
        yield frame


def read_hf_hub(name: str, chunk_rows: int, split: str | None = None) -> Iterator[pd.DataFrame]:
    import datasets

    try:
        stream = datasets.load_dataset(name, split=split or "train", streaming=True)
        batch: list[dict] = []
        for record in stream:
            batch.append(record)
            if len(batch) >= chunk_rows:
                yield pd.DataFrame.from_records(batch)
                batch = []
        if batch:
            yield pd.DataFrame.from_records(batch)
    except InputFileError:
        raise
    except Exception as e:  # noqa: BLE001 - hub, network and offline-mode failures all mean the same here
        raise InputFileError(
            f"Could not load the Hugging Face dataset {name!r} from the hub.",
            got=f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}",
            fix="this machine may be offline: download it elsewhere and import a file or a save_to_disk folder",
        ) from e
