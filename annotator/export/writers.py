"""Writers that stream export rows to disk, one chunk at a time (constant memory for 1M items).

Every format lands in one output directory: the data (``data.csv``, ``data.jsonl``,
``data.parquet`` or a ``datasets.save_to_disk`` layout) and a ``README.md`` dataset card.
"""

from __future__ import annotations

import json
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

Rows = list[dict[str, Any]]


@dataclass
class ExportResult:
    out_dir: Path
    data_path: Path
    card_path: Path
    n_rows: int
    stats: CardStats = field(repr=False)


def _flatten(rows: Rows, *, multi_label: bool, json_lists: bool) -> pd.DataFrame:
    """Rows → a DataFrame with flat, portable column types.

    ``label`` becomes a string for single-label projects and a list for multi-label ones (a JSON
    string where the format has no lists); ``metadata`` becomes a JSON string because per-item
    dicts differ in keys and would break a columnar schema.
    """
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    if multi_label:
        frame["label"] = [
            (json.dumps(v) if json_lists else list(v)) if v is not None else None for v in frame["label"]
        ]
    else:
        frame["label"] = [v[0] if v else None for v in frame["label"]]
    frame["metadata"] = [json.dumps(m, ensure_ascii=False, sort_keys=True) for m in frame["metadata"]]
    for column in ("labelled_at", "created_at"):
        frame[column] = [v.isoformat() if isinstance(v, datetime) else v for v in frame[column]]
    return frame


def _write_csv(chunks: Iterable[Rows], path: Path, multi_label: bool, on_rows: Callable[[Rows], None]) -> int:
    n = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        for i, rows in enumerate(chunks):
            on_rows(rows)
            _flatten(rows, multi_label=multi_label, json_lists=True).to_csv(fh, header=i == 0, index=False)
            n += len(rows)
    return n


def _write_jsonl(chunks: Iterable[Rows], path: Path, multi_label: bool, on_rows: Callable[[Rows], None]) -> int:
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for rows in chunks:
            on_rows(rows)
            frame = _flatten(rows, multi_label=multi_label, json_lists=False)
            for record in frame.to_dict(orient="records"):
                fh.write(json.dumps(record, ensure_ascii=False, default=_json_default) + "\n")
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
            frame = _flatten(rows, multi_label=multi_label, json_lists=False)
            writer.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False))
            n += len(rows)
    return n


def _write_hf(chunks: Iterable[Rows], path: Path, multi_label: bool, on_rows: Callable[[Rows], None]) -> int:
    import datasets

    with tempfile.TemporaryDirectory() as tmp:
        parquet = Path(tmp) / "data.parquet"
        n = _write_parquet(chunks, parquet, multi_label, on_rows)
        dataset = datasets.Dataset.from_parquet(str(parquet), cache_dir=str(Path(tmp) / "cache"))
        if path.exists():
            shutil.rmtree(path)
        dataset.save_to_disk(str(path))
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
) -> ExportResult:
    """Write ``chunks`` of export rows (see ``store.labels.EXPORT_COLUMNS``) and a dataset card.

    Args:
        keep: row filter (e.g. human-verified only); rows it rejects are not written.
        quality: measured quality figures for the card (audit estimates, agreement), if any.
        agreement: the people's agreement (``AnnotatorService.quality.agreement``) for the card, if measured.
        push_to_hub: a hub repo id; the HF dataset is pushed there after writing (needs internet).
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
    n_rows = writer(filtered, data_path, multi_label, stats.add_rows)
    card_path = out_dir / "README.md"
    card_path.write_text(render_card(stats, quality or {}, agreement), encoding="utf-8")
    if push_to_hub:
        _push(data_path, fmt, push_to_hub, hub_token)
    return ExportResult(out_dir=out_dir, data_path=data_path, card_path=card_path, n_rows=n_rows, stats=stats)


def _push(data_path: Path, fmt: str, repo_id: str, token: str | None) -> None:
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
