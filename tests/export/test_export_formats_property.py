"""Every export format × every filter writes files that read back to the rows that were kept.

Hypothesis generates export rows (labelled by people, imported, auto-accepted AI labels,
unlabelled; single- and multi-label), cuts them into chunks (some of which the filter leaves
empty, some empty from the start) and a filter; each format is read back with the tool a user
would use (pandas, ``datasets``, a strict JSON parser) and compared with the kept rows.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotator.export import write_export
from annotator.export.writers import FORMULA_STARTS, neutralise_formula
from annotator.store.labels import EXPORT_COLUMNS

LABELS = ["bug", "billing", "idea", "@team", "-1"]
T0 = datetime(2026, 1, 1, tzinfo=UTC)
# Text that often starts like a spreadsheet formula (or a signed number, or an existing quote),
# so the CSV neutralisation and its raw option are exercised in every run.
TEXT = st.builds(
    lambda start, rest: start + rest,
    st.sampled_from(["", "", "", "=", "+", "-", "@", "\t", "\r", "-1", "+2.5", "'=", "=cmd|' /C calc'!A0"]),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.just("\n"), min_size=1, max_size=40))


@st.composite
def export_row(draw: st.DrawFn, item_id: int, multi: bool) -> dict:
    kind = draw(st.sampled_from(["human", "import", "auto", "unlabelled", "bulk"]))
    row = dict.fromkeys(EXPORT_COLUMNS)
    row.update(item_id=item_id, external_id=draw(st.none() | st.text(min_size=1, max_size=8)), text=draw(TEXT),
               metadata=draw(st.dictionaries(st.sampled_from(["channel", "lang"]), TEXT, max_size=2)),
               split=None, verified=False, flagged=False, answers=0, status="unlabelled",
               created_at=T0 + timedelta(seconds=item_id))
    if kind == "unlabelled":
        return row
    size = (1, 3) if multi else (1, 1)
    value = draw(st.lists(st.sampled_from(LABELS), min_size=size[0], max_size=size[1], unique=True))
    row.update(label=value, labelled_at=T0 + timedelta(hours=1, seconds=item_id), label_source=kind)
    if kind == "auto":
        row.update(status="auto", route="auto", annotator="knn@1", settled_by="auto",
                   confidence=draw(st.floats(0.5, 1.0)))
    else:
        row.update(status="submitted", verified=kind != "import", annotator="import" if kind == "import" else "ana",
                   route="import" if kind == "import" else "manual",
                   settled_by="import" if kind == "import" else "single", answers=1,
                   seconds_spent=draw(st.none() | st.floats(0.1, 60.0)))
    return row


@st.composite
def export_case(draw: st.DrawFn) -> tuple[list[list[dict]], bool, dict]:
    multi = draw(st.booleans())
    n = draw(st.integers(0, 14))
    rows = [draw(export_row(k + 1, multi)) for k in range(n)]
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=4)))
    chunks = [rows[a:b] for a, b in zip([0, *cuts], [*cuts, n], strict=True)]
    flt = draw(st.sampled_from([
        {}, {"only": "human"}, {"only": "labelled"}, {"sources": {"import"}}, {"sources": {"human", "bulk"}},
        {"statuses": {"auto"}}, {"statuses": {"unlabelled"}}, {"statuses": {"submitted", "auto"}},
    ]))
    return chunks, multi, flt


def _keep(flt: dict):
    def keep(row: dict) -> bool:
        if flt.get("only") == "human" and not row["verified"]:
            return False
        if flt.get("only") == "labelled" and row["label"] is None:
            return False
        if "sources" in flt and row["label_source"] not in flt["sources"]:
            return False
        return "statuses" not in flt or row["status"] in flt["statuses"]
    return keep


def _strict_json(line: str) -> dict:
    def refuse(name: str) -> None:
        raise ValueError(f"not JSON: {name}")
    return json.loads(line, parse_constant=refuse)


def _read(fmt: str, path: Path, multi: bool) -> list[dict]:
    """The written file as records of plain Python values (None for missing)."""
    if fmt == "jsonl":
        return [_strict_json(line) for line in path.read_text(encoding="utf-8").splitlines()]
    if fmt == "csv":
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
        for r in records:
            r["item_id"], r["answers"] = int(r["item_id"]), int(r["answers"])
            r["confidence"] = None if r["confidence"] is None else float(r["confidence"])
            if multi and r["label"] is not None:
                r["label"] = json.loads(r["label"])
        return records
    if fmt == "parquet":
        frame = pd.read_parquet(path)
        assert list(frame.columns) == EXPORT_COLUMNS
        records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    else:
        import datasets

        records = datasets.load_from_disk(str(path)).to_list()
    for r in records:
        if multi and r["label"] is not None:
            r["label"] = list(r["label"])
    return records


def _expected(row: dict, multi: bool) -> dict:
    label = row["label"]
    return {"item_id": row["item_id"], "text": row["text"], "status": row["status"],
            "label": (list(label) if multi else label[0]) if label else None,
            "label_source": row["label_source"], "answers": row["answers"], "confidence": row["confidence"],
            "annotator": row["annotator"], "route": row["route"],
            "labelled_at": row["labelled_at"].isoformat() if row["labelled_at"] else None,
            "metadata": row["metadata"]}


def _check(fmt: str, case: tuple, out: Path, *, raw_formulas: bool = False) -> None:
    chunks, multi, flt = case
    result = write_export(iter(chunks), fmt=fmt, out_dir=out, project_name="p", labels=LABELS, multi_label=multi,
                          keep=_keep(flt), csv_raw_formulas=raw_formulas)
    kept = [_expected(r, multi) for chunk in chunks for r in chunk if _keep(flt)(r)]
    if fmt == "csv" and not raw_formulas:  # a cell a spreadsheet would run is shown instead: ' in front
        kept = [{k: neutralise_formula(v) if k != "metadata" else v for k, v in row.items()} for row in kept]
    got = _read(fmt, result.data_path, multi)
    assert result.n_rows == len(kept) == len(got)
    for want, have in zip(kept, got, strict=True):
        have = {**have, "metadata": json.loads(have["metadata"])}
        for key, value in want.items():
            if isinstance(value, float):
                assert math.isclose(have[key], value, rel_tol=1e-12), key
            elif fmt == "csv" and key == "text":  # CSV keeps the text; only \r\n / \n may be normalised
                assert have[key].replace("\r\n", "\n") == value
            else:
                assert have[key] == value, (key, have[key], value)
    assert (out / "README.md").is_file()


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=export_case())
def test_every_filter_writes_a_file_that_reads_back(fmt, case, tmp_path_factory):
    _check(fmt, case, tmp_path_factory.mktemp(fmt))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=export_case())
def test_csv_with_raw_formulas_keeps_every_value(case, tmp_path_factory):
    _check("csv", case, tmp_path_factory.mktemp("csv-raw"), raw_formulas=True)


@pytest.mark.parametrize("cell", ["=cmd|' /C calc'!A0", "+1+cmd", "-2+3", "@SUM(A1)", "\tx", "\r=1", "-", "=1"])
def test_formula_cells_are_shown_not_run(cell):
    assert neutralise_formula(cell) == "'" + cell and cell.startswith(FORMULA_STARTS)
    assert neutralise_formula(-2.5) == -2.5 and neutralise_formula("ok =1") == "ok =1" and neutralise_formula(None) is None


@pytest.mark.parametrize("cell", ["-1", "+1", "-0.25", "+.5", "-3e-4"])
def test_a_signed_number_as_text_is_kept(cell):
    assert neutralise_formula(cell) == cell  # a spreadsheet reads it as a number; nothing can run


def test_a_formula_cell_in_the_csv_file_is_shown_and_raw_on_request(tmp_path):
    row = {c: None for c in EXPORT_COLUMNS} | {
        "item_id": 1, "text": "=HYPERLINK(\"http://x\",\"y\")", "label": ["-1"], "label_source": "human",
        "annotator": "@eve", "confidence": -0.5, "metadata": {"note": "+cmd"}, "verified": True}
    for raw in (False, True):
        result = write_export(iter([[row]]), fmt="csv", out_dir=tmp_path / str(raw), project_name="p",
                              labels=["-1", "+1"], multi_label=False, csv_raw_formulas=raw)
        got = pd.read_csv(result.data_path, keep_default_na=False).iloc[0]
        assert got["text"] == ("" if raw else "'") + row["text"] and got["annotator"] == ("" if raw else "'") + "@eve"
        assert str(got["label"]) == "-1" and float(got["confidence"]) == -0.5


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=export_case())
def test_the_hf_dataset_reads_back_with_datasets(case, tmp_path_factory):
    _check("hf", case, tmp_path_factory.mktemp("hf"))
