"""Hostile files against the import boundary: each one ends in a clean import or a clear
``AnnotatorError`` (never another exception, never past its time limit), nothing partial is kept
(the project gains all of a file's new items or none), and afterwards every export format still
writes. Counts (refused / imported / traceback / hang / partial write) are written to
``fuzz-report.json`` in the test's folder and printed (``pytest -s`` shows them).

The imports run with ``FUZZ_LIMITS`` (the byte, line and row limits scaled down) so the
decompression, line and row bombs cross their limits within a second."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from hostile_files import FUZZ_LIMITS, known_breakers, mutants

from annotator.core.errors import AnnotatorError
from annotator.importers import ImportSpec

PER_FILE_LIMIT_S = 20
MUTANTS = 600
ROOT = Path(__file__).resolve().parents[2]
#: Every outcome the report counts, printed even when zero.
OUTCOMES = ("refused", "imported", "traceback", "hang", "partial write")


class _TooSlow(Exception):
    pass


class _PartialWrite(Exception):
    pass


def _alarm(_signum, _frame):  # noqa: ANN001
    raise _TooSlow


def _import_one(service, path: Path, spec: ImportSpec, add_labels: bool) -> str:
    before = service.projects.project("fuzz").items
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(PER_FILE_LIMIT_S)
    try:
        report = service.imports.import_file("fuzz", path, spec, add_labels=add_labels)
        outcome = "imported"
    except AnnotatorError:
        report, outcome = None, "refused"
    finally:
        signal.alarm(0)
    after = service.projects.project("fuzz").items
    added = report.items_added if report else 0
    if after - before != added:
        raise _PartialWrite(f"{after - before} items stored, the import said {added}")
    return outcome


def test_hostile_files_end_cleanly_and_exports_still_work(service, tmp_path):
    service.projects.create_project("fuzz", ["a", "b"])
    folder = tmp_path / "hostile"
    folder.mkdir()
    files = [*known_breakers(folder), *mutants(folder, MUTANTS, seed=20261206)]
    counts: Counter[str] = Counter(dict.fromkeys(OUTCOMES, 0))
    failures: list[str] = []
    started = time.monotonic()
    for k, path in enumerate(files):
        spec = ImportSpec(text_column="text", label_column="label" if k % 2 else None, **FUZZ_LIMITS)
        try:
            counts[_import_one(service, path, spec, add_labels=k % 4 == 1)] += 1
        except _TooSlow:
            counts["hang"] += 1
            failures.append(f"{path.name}: past {PER_FILE_LIMIT_S} s")
        except _PartialWrite as e:
            counts["partial write"] += 1
            failures.append(f"{path.name}: {e}")
        except Exception as e:  # noqa: BLE001 - the point: nothing but AnnotatorError may escape
            counts["traceback"] += 1
            failures.append(f"{path.name}: {type(e).__name__}: {str(e)[:120]}")
    stored = service.projects.project("fuzz").items
    exported = {fmt: service.exports.export("fuzz", fmt=fmt, out=tmp_path / f"export-{fmt}").n_rows
                for fmt in ("jsonl", "csv", "parquet", "hf")}
    summary = {"files": len(files), **counts, "items": stored, "exported": exported,
               "seconds": round(time.monotonic() - started, 1)}
    (tmp_path / "fuzz-report.json").write_text(json.dumps({**summary, "failures": failures}, indent=2))
    print(f"\nimport fuzz: {json.dumps(summary)}")
    assert len(files) >= 300
    assert failures == [], failures[:10]
    assert set(exported.values()) == {stored} and stored > 0  # every format writes every stored item
    assert counts["imported"] > 20 and counts["refused"] > 20  # both outcomes really happen


@pytest.mark.parametrize("name", ["nested.json", "bigint.jsonl", "truncated.csv.gz", "truncated.csv.xz",
                                  "duplicate-columns.parquet", "fifo.csv", "wide.csv"])
def test_the_cli_says_what_is_wrong_without_a_traceback(tmp_path, name):
    data = ["--data-dir", str(tmp_path / "data")]
    assert subprocess.run([sys.executable, "-m", "annotator", "init", "p", "--labels", "a,b", *data], cwd=ROOT,
                          capture_output=True, timeout=120).returncode == 0
    path = next(p for p in known_breakers(tmp_path) if p.name == name)
    done = subprocess.run([sys.executable, "-m", "annotator", "import", str(path), "--project", "p", *data],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr[-500:]
    assert "Traceback" not in done.stderr and "Error: " in done.stderr and "Fix: " in done.stderr
