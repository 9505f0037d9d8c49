"""The README's Python client example runs as written (in a fresh directory) and does what it says."""

from __future__ import annotations

import json
import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def _client_example() -> str:
    section = README.read_text(encoding="utf-8").split("## From a program", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_client_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ANNOTATOR_EMBEDDING_MODEL", "hashing")  # the example's default model, minus its load time
    monkeypatch.setenv("ANNOTATOR_DEMO", "false")
    code = _client_example()
    assert "from annotator import Annotator" in code
    exec(compile(code, str(README), "exec"), {})  # noqa: S102
    rows = [json.loads(line) for line in (tmp_path / "exports" / "tickets" / "data.jsonl").read_text().splitlines()]
    assert len(rows) == 2
    answered = [r for r in rows if r["label"] is not None]
    assert len(answered) == 1 and answered[0]["annotator"] == "ana" and answered[0]["label"] == "billing"
    assert (tmp_path / "exports" / "tickets" / "README.md").is_file()
