"""`suspects` and `report` on the command line: a labelled CSV with slips in, then the suspects as
JSON and a self-contained HTML report."""

from __future__ import annotations

import json
import random

import pandas as pd
from typer.testing import CliRunner

from annotator.cli import app
from annotator.reporting import FIGURE_TITLES

runner = CliRunner()
TOPICS = {
    "billing": ["refund", "invoice", "charged", "payment", "card", "price", "receipt", "subscription", "vat", "plan"],
    "bug": ["crash", "error", "freezes", "broken", "fails", "blank", "slow", "glitch", "exception", "hangs"],
    "account": ["password", "login", "email", "profile", "delete", "locked", "username", "2fa", "signin", "reset"],
}
LABELS = list(TOPICS)


def _invoke(*args: str, data_dir):
    result = runner.invoke(app, [*args, "--data-dir", str(data_dir)], catch_exceptions=False,
                           env={"ANNOTATOR_EMBEDDING_MODEL": "hashing"})
    assert result.exit_code == 0, result.output
    return result.output


def test_suspects_and_report(tmp_path):
    rng = random.Random(0)
    rows = []
    for i in range(120):
        label = LABELS[i % 3]
        given = LABELS[(i + 1) % 3] if i % 20 == 7 else label  # 6 slips
        rows.append({"text": f"{' '.join(rng.sample(TOPICS[label], 4))} #{i}", "label": given, "id": f"t{i}"})
    csv = tmp_path / "t.csv"
    pd.DataFrame(rows).to_csv(csv, index=False)
    data = tmp_path / "d"
    _invoke("init", "t", "--labels", ",".join(LABELS), data_dir=data)
    _invoke("import", str(csv), "--project", "t", "--text-column", "text", "--label-column", "label",
            "--id-column", "id", data_dir=data)
    report = json.loads(_invoke("suspects", "--project", "t", "--json", data_dir=data))
    assert report["checked"] == 120 and report["found"] == len(report["suspects"]) >= 4
    slips = {i + 1 for i in range(120) if i % 20 == 7}  # item ids of a fresh database follow the rows
    found = {s["item_id"] for s in report["suspects"]}
    assert len(found & slips) >= 5 and len(found - slips) <= 2, (found, slips)
    assert all(s["reason"].startswith("suspect label: model says") for s in report["suspects"])
    out = _invoke("report", "--project", "t", "--out", str(tmp_path / "report.html"), data_dir=data)
    assert "Wrote" in out
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    for title in FIGURE_TITLES.values():
        assert title in html
    assert "suspect label: model says" in html and "<script src=" not in html


def test_help_has_an_example():
    for command in ("suspects", "report"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0 and "Example" in result.output, command
