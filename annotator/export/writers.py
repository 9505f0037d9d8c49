"""Writers that stream export rows to disk, one chunk at a time (constant memory for 1M items).

Every format lands in one output directory: the data (``data.csv``, ``data.jsonl``,
``data.parquet`` or a ``datasets.save_to_disk`` layout) and a ``README.md`` dataset card.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from annotator.core.errors import AnnotatorError, ValidationError
from annotator.export.card import CardStats, render_card
from annotator.store.labels import EXPORT_COLUMNS

Rows = list[dict[str, Any]]


@dataclass
class ExportResult:
    out_dir: Path
    data_path: Path
    card_path: Path
    n_rows: int
    stats: CardStats = field(repr=False)


def portable_row(row: dict[str, Any], *, multi_label: bool, json_lists: bool) -> dict[str, Any]:
    """One export row with flat, portable values, in ``EXPORT_COLUMNS`` order.

    ``label`` becomes a string for single-label projects and a list for multi-label ones (a JSON
    string where the format has no lists); ``metadata`` becomes a JSON string because per-item
    dicts differ in keys and would break a columnar schema; times become ISO 8601 strings; a
    missing value stays None (null in JSON, empty in CSV), never NaN.
    """
    out = {column: row.get(column) for column in EXPORT_COLUMNS}
    value = out["label"]
    if multi_label:
        out["label"] = None if value is None else (json.dumps(list(value)) if json_lists else list(value))
    else:
        out["label"] = value[0] if value else None
    out["metadata"] = json.dumps(out["metadata"] or {}, ensure_ascii=False, sort_keys=True)
    for column in ("labelled_at", "created_at"):
        if isinstance(out[column], datetime):
            out[column] = out[column].isoformat()
    for column, v in out.items():
        if isinstance(v, float) and math.isnan(v):
            out[column] = None
    return out


#: What a spreadsheet takes for the start of a formula (OWASP's list for CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


#: A signed plain number ("-1", "+2.5e3"): a spreadsheet reads it as a number, it cannot run anything.
_SIGNED_NUMBER = re.compile(r"[+-](\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def neutralise_formula(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula, prefixed with ``'`` (shown, not run);
    anything else unchanged: numbers (confidence and the like are floats, never strings), None,
    other text, and text that is only a signed number such as a label "-1"."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _SIGNED_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _write_csv(chunks: Iterable[Rows], path: Path, multi_label: bool, on_rows: Callable[[Rows], None],
               raw_formulas: bool = False) -> int:
    n = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        # RFC 4180 line ends: the writer then quotes every field holding a \r or a \n
        csv_options = {"index": False, "lineterminator": "\r\n"}
        pd.DataFrame(columns=EXPORT_COLUMNS).to_csv(fh, **csv_options)  # the header, even for no rows
        for rows in chunks:
            on_rows(rows)
            if rows:
                records = [portable_row(r, multi_label=multi_label, json_lists=True) for r in rows]
                if not raw_formulas:
                    records = [{k: neutralise_formula(v) for k, v in r.items()} for r in records]
                pd.DataFrame(records, columns=EXPORT_COLUMNS).to_csv(fh, header=False, **csv_options)
            n += len(rows)
    return n


def _write_jsonl(chunks: Iterable[Rows], path: Path, multi_label: bool, on_rows: Callable[[Rows], None]) -> int:
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for rows in chunks:
            on_rows(rows)
            for row in rows:
                record = portable_row(row, multi_label=multi_label, json_lists=False)
                fh.write(json_line(record))
            n += len(rows)
    return n


def _write_parquet(chunks: Iterable[Rows], path: Path, multi_label: bool, on_rows: Callable[[Rows], None]) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _arrow_schema(multi_label)
    n = 0
    with pq.ParquetWriter(path, schema) as writer:
        for rows in chunks:
            on_rows(rows)
            if rows:  # a chunk the filter emptied writes nothing; the file keeps its schema
                records = [portable_row(r, multi_label=multi_label, json_lists=False) for r in rows]
                writer.write_table(pa.Table.from_pylist(records, schema=schema))
            n += len(rows)
    return n


def _write_hf(chunks: Iterable[Rows], path: Path, multi_label: bool, on_rows: Callable[[Rows], None]) -> int:
    import datasets

    with tempfile.TemporaryDirectory() as tmp:
        parquet = Path(tmp) / "data.parquet"
        n = _write_parquet(chunks, parquet, multi_label, on_rows)
        if n:  # memory-mapped through a cache, however many rows
            dataset = datasets.Dataset.from_parquet(str(parquet), cache_dir=str(Path(tmp) / "cache"))
        else:  # from_parquet refuses a file of no rows; an empty dataset keeps the columns
            schema = _arrow_schema(multi_label)
            dataset = datasets.Dataset.from_dict({f.name: [] for f in schema},
                                                 features=datasets.Features.from_arrow_schema(schema))
        if path.exists():
            shutil.rmtree(path)
        dataset.save_to_disk(str(path), num_shards=1 if not n else None)  # 0 shards would not load
    return n


def _arrow_schema(multi_label: bool):  # noqa: ANN202 - pyarrow imported lazily
    import pyarrow as pa

    label_type = pa.list_(pa.string()) if multi_label else pa.string()
    return pa.schema([
        ("item_id", pa.int64()), ("external_id", pa.string()), ("text", pa.string()), ("metadata", pa.string()),
        ("split", pa.string()), ("label", label_type), ("label_source", pa.string()), ("annotator", pa.string()),
        ("route", pa.string()), ("confidence", pa.float64()), ("status", pa.string()), ("verified", pa.bool_()),
        ("query_strategy", pa.string()), ("query_score", pa.float64()), ("comment", pa.string()),
        ("flagged", pa.bool_()), ("seconds_spent", pa.float64()), ("labelled_at", pa.string()),
        ("created_at", pa.string()), ("settled_by", pa.string()), ("answers", pa.int64()),
    ])


#: Characters JSON leaves raw that ``str.splitlines`` (and some JSONL readers) take for line ends.
_LINE_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def json_line(record: dict[str, Any]) -> str:
    """One strict JSON line (no NaN, one physical line whatever the text holds) ending in a newline."""
    text = json.dumps(record, ensure_ascii=False, allow_nan=False, default=_json_default)
    for char, escaped in _LINE_BREAKS.items():
        if char in text:
            text = text.replace(char, escaped)
    return text + "\n"


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


_Writer = Callable[[Iterable[Rows], Path, bool, Callable[[Rows], None]], int]

#: format name → (writer, data path inside the output directory)
FORMATS: dict[str, tuple[_Writer, str]] = {
    "csv": (_write_csv, "data.csv"),
    "jsonl": (_write_jsonl, "data.jsonl"),
    "parquet": (_write_parquet, "data.parquet"),
    "hf": (_write_hf, "dataset"),
}


def write_export(
    chunks: Iterable[Rows], *, fmt: str, out_dir: Path, project_name: str, labels: list[str], multi_label: bool,
    keep: Callable[[dict[str, Any]], bool] | None = None, quality: dict[str, Any] | None = None,
    agreement: dict[str, Any] | None = None, push_to_hub: str | None = None, hub_token: str | None = None,
    csv_raw_formulas: bool = False,
) -> ExportResult:
    """Write ``chunks`` of export rows (see ``store.labels.EXPORT_COLUMNS``) and a dataset card.

    Args:
        keep: row filter (e.g. human-verified only); rows it rejects are not written.
        quality: measured quality figures for the card (audit estimates, agreement), if any.
        agreement: the people's agreement (``AnnotatorService.quality.agreement``) for the card, if measured.
        push_to_hub: a hub repo id; the HF dataset is pushed there after writing (needs internet).
        csv_raw_formulas: CSV only: keep cells that start like a spreadsheet formula (``= + - @``) as
            they are, instead of prefixing them with ``'``.
    """
    if fmt not in FORMATS:
        raise ValidationError(
            f"Unknown export format {fmt!r}.", expected=" | ".join(FORMATS), fix="pass --format with one of those"
        )
    writer, data_name = FORMATS[fmt]
    out_dir.mkdir(parents=True, exist_ok=True)
    stats = CardStats(project_name=project_name, labels=labels, multi_label=multi_label, fmt=fmt)
    filtered = ([row for row in rows if keep is None or keep(row)] for rows in chunks)
    data_path = out_dir / data_name
    if fmt == "csv":
        n_rows = _write_csv(filtered, data_path, multi_label, stats.add_rows, raw_formulas=csv_raw_formulas)
    else:
        n_rows = writer(filtered, data_path, multi_label, stats.add_rows)
    card_path = out_dir / "README.md"
    card_path.write_text(render_card(stats, quality or {}, agreement), encoding="utf-8")
    if push_to_hub:
        push_dataset(data_path, fmt, push_to_hub, hub_token)
    return ExportResult(out_dir=out_dir, data_path=data_path, card_path=card_path, n_rows=n_rows, stats=stats)


def push_dataset(data_path: Path, fmt: str, repo_id: str, token: str | None) -> None:
    """Push a written HF export to the hub (needs internet and a token)."""
    import datasets

    if fmt != "hf":
        raise ValidationError("push_to_hub needs --format hf.", fix="re-run with --format hf --push-to-hub REPO")
    try:
        datasets.load_from_disk(str(data_path)).push_to_hub(repo_id, token=token)
    except Exception as e:  # noqa: BLE001 - any hub/network failure means the same thing to the user
        raise AnnotatorError(
            f"Could not push the dataset to the hub repo {repo_id!r}.",
            got=f"{type(e).__name__}: {e}",
            fix="check the internet connection and the token (--hub-token or HF_TOKEN); the export on disk is complete",
        ) from e
