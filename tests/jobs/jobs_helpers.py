"""Shared set-up for the job tests: a project whose label a rule can read but the hashing probe cannot."""

from __future__ import annotations

import re

PROJECT = "parity"


def parity_rule(text: str) -> int:
    """Label of a parity item: 0 ("even") or 1 ("odd"), read from its number."""
    m = re.search(r"number (\d+)", text)
    return -1 if m is None else int(m.group(1)) % 2


def anti_rule(text: str) -> int:
    """Always the wrong label: a model worse than any baseline."""
    c = parity_rule(text)
    return -1 if c < 0 else 1 - c


def parity_project(service, n: int = 160, labelled: int | None = None, name: str = PROJECT) -> str:
    """A project of ``n`` items "case number <i> ..." labelled even/odd (the first ``labelled`` of them)."""
    labelled = n if labelled is None else labelled
    service.projects.create_project(name, ["even", "odd"])
    records = [{"text": f"case number {i} filed today", "external_id": str(i),
                "labels": [["even", "odd"][i % 2]] if i < labelled else None} for i in range(n)]
    service.imports.import_records(name, records)
    return name
