"""Fixtures for the importer tests: small files written into tmp_path in every format."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

Rows = list[dict[str, Any]]


def _make_rows(n: int = 6) -> Rows:
    """n rows: id, text, label ("pos"/"neg"/empty, cycling), channel."""
    labels = ["pos", "neg", ""]
    return [{"id": f"r{i}", "text": f"text number {i}", "label": labels[i % 3], "channel": ["email", "chat"][i % 2]}
            for i in range(n)]


def write_rows(path: Path, rows: Rows, fmt: str) -> Path:
    """Write ``rows`` to ``path`` as ``fmt`` (csv, tsv, json, json-data, jsonl, parquet, hf-disk)."""
    frame = pd.DataFrame(rows)
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "tsv":
        frame.to_csv(path, index=False, sep="\t")
    elif fmt == "json":
        path.write_text(json.dumps(rows), encoding="utf-8")
    elif fmt == "json-data":
        path.write_text(json.dumps({"data": rows}, indent=2), encoding="utf-8")
    elif fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    elif fmt == "parquet":
        frame.to_parquet(path, index=False)
    elif fmt == "hf-disk":
        import datasets

        datasets.Dataset.from_list(rows).save_to_disk(str(path))
    else:  # pragma: no cover - a typo in a test
        raise ValueError(fmt)
    return path


SUFFIX = {"csv": ".csv", "tsv": ".tsv", "json": ".json", "json-data": ".json", "jsonl": ".jsonl",
          "parquet": ".parquet", "hf-disk": ""}


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """write(rows, fmt, name="data") → the path of a new file (or folder) in tmp_path."""

    def _write(rows: Rows, fmt: str = "csv", name: str = "data") -> Path:
        return write_rows(tmp_path / f"{name}{SUFFIX[fmt]}", rows, fmt)

    return _write


@pytest.fixture
def make_rows() -> Callable[..., Rows]:
    """make_rows(n) → n rows: id, text, label ("pos", "neg", "" cycling), channel ("email"/"chat")."""
    return _make_rows
