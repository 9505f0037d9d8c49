"""The README's export examples, run through the CLI on the demo tickets: every format with every
filter writes files that read back (with pandas, ``datasets`` and a strict JSON parser)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from annotator.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _invoke(*args: str, data_dir: Path) -> str:
    result = runner.invoke(app, [*args, "--data-dir", str(data_dir)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _strict(line: str) -> dict:
    def refuse(name: str) -> None:
        raise ValueError(f"not JSON: {name}")
    return json.loads(line, parse_constant=refuse)


def _read(fmt: str, out: Path) -> pd.DataFrame:
    if fmt == "jsonl":
        return pd.DataFrame([_strict(line) for line in (out / "data.jsonl").read_text(encoding="utf-8").splitlines()])
    if fmt == "csv":
        return pd.read_csv(out / "data.csv")
    if fmt == "parquet":
        return pd.read_parquet(out / "data.parquet")
    import datasets

    return datasets.load_from_disk(str(out / "dataset")).to_pandas()


@pytest.fixture(scope="module")
def tickets(tmp_path_factory):
    """240 demo tickets, 80 of them with an imported label (the rest unlabelled)."""
    tmp = tmp_path_factory.mktemp("tix")
    data = tmp / "d"
    frame = pd.read_csv(ROOT / "assets" / "demo" / "support_tickets.csv").head(240)
    frame.loc[80:, "label"] = None
    frame.to_csv(tmp / "pilot.csv", index=False)
    labels = ",".join(sorted(frame["label"].dropna().unique()))
    _invoke("init", "tix", "--labels", labels, data_dir=data)
    _invoke("import", str(tmp / "pilot.csv"), "--project", "tix", "--label-column", "label", "--id-column", "id",
            data_dir=data)
    return tmp, data


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet", "hf"])
@pytest.mark.parametrize(("flags", "rows"), [
    ((), 240), (("--only", "human"), 0), (("--only", "labelled"), 80), (("--status", "auto"), 0),
    (("--source", "import"), 80), (("--status", "unlabelled"), 160),
])
def test_every_format_and_filter_reads_back(tickets, fmt, flags, rows):
    tmp, data = tickets
    out = tmp / f"exp-{fmt}-{'-'.join(flags) or 'all'}"
    said = _invoke("export", "--project", "tix", "--format", fmt, "--out", str(out), *flags, data_dir=data)
    assert f"Wrote {rows} rows" in said
    frame = _read(fmt, out)
    assert len(frame) == rows and (out / "README.md").is_file()
    if rows or fmt != "jsonl":  # an empty JSONL file has no lines to name the columns
        assert "item_id" in frame.columns
    if rows:  # an imported label counts as one answer
        assert list(frame["answers"]) == [1 if pd.notna(v) else 0 for v in frame["label"]]


def test_the_readme_example_with_only_human_after_people_answered(tickets):
    tmp, data = tickets
    from annotator.core.config import Settings
    from annotator.service import AnnotatorService

    svc = AnnotatorService.from_settings(Settings(data_dir=data, demo=False))
    try:
        for _ in range(5):
            item = svc.queue.next_item("tix", "ana")
            svc.queue.submit("tix", "ana", item.item_id, ["bug"])
    finally:
        svc.close()
    out = tmp / "exports" / "tix"
    assert "Wrote 5 rows" in _invoke("export", "--project", "tix", "--format", "parquet", "--out", str(out),
                                      "--only", "human", data_dir=data)
    frame = pd.read_parquet(out / "data.parquet")
    assert list(frame["label"]) == ["bug"] * 5 and set(frame["annotator"]) == {"ana"}


def test_an_unknown_filter_value_is_a_clear_error(tickets):
    tmp, data = tickets
    result = runner.invoke(app, ["export", "--project", "tix", "--status", "labeled", "--out", str(tmp / "bad"),
                                 "--data-dir", str(data)])
    message = str(result.exception)  # main() prints it as "Error: ..." and exits 2
    assert result.exit_code != 0 and "'labeled'" in message and "submitted, auto, unlabelled" in message
    assert not (tmp / "bad" / "data.jsonl").exists()
