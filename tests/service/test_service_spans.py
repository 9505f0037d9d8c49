"""Span projects through the service: answers (validated, nothing written on error), undo, an item's
spans, import of pre-labelled spans in other tools' shapes, exports (JSONL with provenance, HF with
IOB ner_tags, spaCy DocBin) landing atomically, ranking by span uncertainty and span agreement."""

from __future__ import annotations

import json

import pytest

from annotator.core.errors import NoOverlapError, NotEnoughRatersError, ValidationError
from annotator.spans import Span

TEXTS = [
    "Ada Lovelace met Charles Babbage in London.",
    "Alan Turing worked at Bletchley Park in England.",
    "Grace Hopper joined the Navy in New York.",
    "Marie Curie lived in Paris.",
    "Nothing to see here.",
    "Tim Berners-Lee was at CERN in Geneva.",
]


def _project(service, name="ner", *, overlap=False, texts=TEXTS):
    service.projects.create_project(name, ["PER", "ORG", "LOC"], task_type="spans",
                                    settings={"allow_overlapping_spans": overlap})
    service.imports.import_records(name, [{"text": t} for t in texts])
    return {t: i for i, t in ((r["item_id"], r["text"]) for r in service.exports.final_labels(name))}


def _responses(service):
    from sqlmodel import select

    from annotator import store
    from annotator.store.tables import Response

    with store.transaction(service.engine) as s:
        return list(s.exec(select(Response)).all())


def test_task_type_and_overlap_setting(service):
    summary = service.projects.create_project("ner", ["PER", "ORG", "LOC"], task_type="spans")
    assert summary.task_type == "spans"
    assert service.projects.project_details("ner")[2].allow_overlapping_spans is False


def test_submit_validate_undo_and_item_spans(service):
    ids = _project(service)
    view = service.spans.next_item("ner", "ana")
    text = view.text
    first = text.split()[0]
    stored = service.spans.submit_spans("ner", "ana", view.item_id, [{"start": 0, "end": len(first), "label": "PER"}])
    assert stored == [Span(0, len(first), "PER")]
    got = service.spans.item_spans("ner", view.item_id)
    assert got["final"] == [{"start": 0, "end": len(first), "label": "PER"}]
    assert got["answers"][0]["user"] == "ana"
    # the stored value is the labels present (counts and progress work as for multi-label)
    assert service.queue.progress("ner").by_label["PER"] == 1

    before = len(_responses(service))
    for bad, what in [([{"start": 0, "end": 999, "label": "PER"}], "outside"),
                      ([{"start": 0, "end": 3, "label": "DATE"}], "unknown label"),
                      ([{"start": 0, "end": 5, "label": "PER"}, {"start": 2, "end": 8, "label": "LOC"}], "overlaps")]:
        with pytest.raises(ValidationError, match=what):
            service.spans.submit_spans("ner", "ana", view.item_id, bad)
    assert len(_responses(service)) == before  # nothing written

    back = service.spans.undo("ner", "ana")
    assert back.item_id == view.item_id
    assert back.previous == [{"start": 0, "end": len(first), "label": "PER"}] == back.spans
    assert service.spans.item_spans("ner", view.item_id)["final"] is None
    assert service.spans.submit_spans("ner", "ana", view.item_id, []) == []  # "no spans here" is an answer
    assert service.spans.item_spans("ner", view.item_id)["final"] == []
    with pytest.raises(ValidationError, match="span project"):
        service.queue.submit("ner", "ana", ids[TEXTS[1]], ["PER"])


def test_an_offset_that_cuts_a_character_is_refused(service):
    _project(service, texts=["Zoe\u0301 met Bob."])
    (item,) = [r["item_id"] for r in service.exports.final_labels("ner")]
    with pytest.raises(ValidationError, match="cuts a character"):
        service.spans.submit_spans("ner", "ana", item, [{"start": 0, "end": 3, "label": "PER"}])
    assert service.spans.submit_spans("ner", "ana", item, [[0, 4, "PER"]]) == [Span(0, 4, "PER")]


def test_overlap_allowed_by_the_project(service):
    ids = _project(service, overlap=True)
    item = ids[TEXTS[0]]
    both = [{"start": 0, "end": 12, "label": "PER"}, {"start": 4, "end": 12, "label": "ORG"}]
    assert len(service.spans.submit_spans("ner", "ana", item, both)) == 2


SHAPES = [
    {"text": TEXTS[0], "spans": [{"start": 0, "end": 12, "label": "PER"}, {"start": 36, "end": 42, "label": "LOC"}]},
    [TEXTS[1], {"entities": [[0, 11, "PER"], [22, 36, "ORG"], [40, 47, "LOC"]]}],
    {"text": TEXTS[2], "label": [[0, 12, "PER"], [32, 40, "LOC"]]},
    {"text": TEXTS[3], "entities": [{"id": 1, "start_offset": 0, "end_offset": 11, "label": "PER"},
                                    {"id": 2, "start_offset": 21, "end_offset": 26, "label": "LOC"}]},
    {"text": "  " + TEXTS[4], "spans": []},
    {"text": TEXTS[5], "spans": [{"start": 0, "end": 15, "label": "PER"}], "answer": "reject"},
]


def _write(tmp_path, records, name="spans.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return path


def test_import_reads_the_span_shapes_of_other_tools(service, tmp_path):
    from annotator.importers import ImportSpec

    service.projects.create_project("ner", ["PER", "ORG", "LOC"], task_type="spans")
    report = service.imports.import_file("ner", _write(tmp_path, SHAPES), ImportSpec(text_column="text"))
    assert report.items_added == 6 and report.labels_imported == 5  # the rejected Prodigy answer is no answer
    rows, _ = __import__("annotator.service.span_io", fromlist=["x"]).span_export_rows(service.spans, "ner")
    by_text = {r["text"]: [(s["text"], s["label"]) for s in r["spans"]] for r in rows}
    assert by_text[TEXTS[1]] == [("Alan Turing", "PER"), ("Bletchley Park", "ORG"), ("England", "LOC")]
    assert by_text[TEXTS[3]] == [("Marie Curie", "PER"), ("Paris", "LOC")]
    assert by_text[TEXTS[4]] == []  # the stripped text; an empty answer
    assert TEXTS[5] not in by_text


@pytest.mark.parametrize("spans, what", [
    ([{"start": 0, "end": 99, "label": "PER"}], "outside the text"),
    ([{"start": 0, "end": 12, "label": "PER"}, {"start": 4, "end": 20, "label": "PER"}], "overlaps"),
    ([{"start": 0, "end": 12, "label": "PERSON"}], "unknown label 'PERSON'"),
])
def test_bad_spans_name_the_row_and_nothing_is_written(service, tmp_path, spans, what):
    from annotator.importers import ImportSpec

    service.projects.create_project("ner", ["PER", "ORG", "LOC"], task_type="spans")
    records = [SHAPES[0], {"text": TEXTS[3], "spans": spans}]
    with pytest.raises(ValidationError) as e:
        service.imports.import_file("ner", _write(tmp_path, records), ImportSpec(text_column="text"))
    assert "row 2" in str(e.value) and what in str(e.value) and "Fix:" in str(e.value)
    assert service.projects.project("ner").items == 0 and _responses(service) == []


def test_a_cut_character_in_an_import_names_the_row(service):
    service.projects.create_project("ner", ["PER"], task_type="spans")
    with pytest.raises(ValidationError, match=r"row 1.*cuts a character"):
        service.imports.import_records("ner", [{"text": "Zoe\u0301 Bob", "spans": [[0, 3, "PER"]]}])


def test_import_as_suggestions_attaches_to_items_already_here(service):
    ids = _project(service)
    report = service.imports.import_records(
        "ner", [{"text": TEXTS[0], "spans": [[0, 12, "PER"]], "score": 0.8}], labels_as="suggestion", agent="mymodel")
    assert report.suggestions_attached == 1 and report.items_added == 0
    got = service.spans.item_spans("ner", ids[TEXTS[0]])
    assert got["suggestions"] == [{"agent": "mymodel", "agent_version": "", "spans": [
        {"start": 0, "end": 12, "label": "PER"}], "score": 0.8}]
    assert got["final"] is None


def _label_all(service, name="ner", user="ana", gold=None):
    gold = gold or {}
    while (view := service.spans.next_item(name, user)) is not None:
        service.spans.submit_spans(name, user, view.item_id, gold.get(view.text, []))


GOLD = {TEXTS[0]: [[0, 12, "PER"], [17, 32, "PER"], [36, 42, "LOC"]], TEXTS[1]: [[0, 11, "PER"], [40, 47, "LOC"]],
        TEXTS[3]: [[0, 11, "PER"], [21, 26, "LOC"]]}


def test_export_jsonl_hf_spacy_with_provenance_and_a_card(service, tmp_path):
    from datasets import load_from_disk

    ids = _project(service)
    service.imports.import_records("ner", [{"text": TEXTS[0], "spans": [[0, 12, "PER"], [36, 42, "LOC"]]}],
                                   labels_as="suggestion", agent="mymodel")
    _label_all(service, gold=GOLD)
    res = service.exports.export("ner", fmt="jsonl", out=tmp_path / "j")
    lines = [json.loads(x) for x in res.data_path.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == len(TEXTS)
    first = next(r for r in lines if r["item_id"] == ids[TEXTS[0]])
    assert [(s["text"], s["annotator"], s["suggested_by"]) for s in first["spans"]] == [
        ("Ada Lovelace", "ana", "mymodel"), ("Charles Babbage", "ana", None), ("London", "ana", "mymodel")]
    assert first["route"] == "verify" and first["label_source"] == "human"
    card = res.card_path.read_text(encoding="utf-8")
    assert "| PER | 4 | 3 |" in card and "| LOC | 3 | 3 |" in card
    assert "| mymodel | 1 | 1.000 | 0.667 |" in card  # its 2 spans both right; 2 of the 3 people's

    hf = service.exports.export("ner", fmt="hf", out=tmp_path / "h")
    ds = load_from_disk(str(hf.data_path))
    names = ds.features["ner_tags"].feature.names
    row = ds[[r["id"] for r in ds].index(str(ids[TEXTS[0]]))]
    assert [names[t] for t in row["ner_tags"]] == ["B-PER", "I-PER", "O", "B-PER", "I-PER", "O", "B-LOC", "O"]
    assert row["annotator"] == "ana"

    import spacy
    from spacy.tokens import DocBin

    sp = service.exports.export("ner", fmt="spacy", out=tmp_path / "s")
    docs = list(DocBin().from_disk(sp.data_path).get_docs(spacy.blank("xx").vocab))
    doc = next(d for d in docs if d.user_data["id"] == str(ids[TEXTS[0]]))
    assert [(e.text, e.label_) for e in doc.ents] == [("Ada Lovelace", "PER"), ("Charles Babbage", "PER"),
                                                      ("London", "LOC")]
    with pytest.raises(ValidationError, match="jsonl | hf | spacy"):
        service.exports.export("ner", fmt="csv", out=tmp_path / "c")
    # atomic: a failed export leaves the previous one
    assert (tmp_path / "j" / "data.jsonl").exists()


def test_hf_export_refuses_overlapping_spans_clearly(service, tmp_path):
    ids = _project(service, overlap=True)
    service.spans.submit_spans("ner", "ana", ids[TEXTS[0]], [[0, 12, "PER"], [4, 12, "ORG"]])
    with pytest.raises(ValidationError, match="--format jsonl"):
        service.exports.export("ner", fmt="hf", out=tmp_path / "h")
    assert not (tmp_path / "h").exists()
    assert service.exports.export("ner", fmt="jsonl", out=tmp_path / "j").n_rows == 1


class _Fake:
    """A suggester that marks the first word of every text as PER (and a second one: LOC)."""

    def __init__(self, agent="fake", label="PER"):
        self.agent, self.model, self.label = agent, "v1", label

    def suggest(self, texts):
        return [[Span(0, len(t.split()[0]), self.label)] for t in texts]


def test_suggestions_are_stored_shown_and_rank_the_queue(service):
    ids = _project(service)
    out = service.spans.suggest("ner", _Fake())
    assert out["suggested"] == len(TEXTS) and out["by_label"]["PER"] == len(TEXTS)
    assert out["ranking"]["strategy"] == "pool-order"  # one suggester, no people yet
    view = service.spans.next_item("ner", "ana")
    assert view.suggestion_agent == "fake" and view.spans == view.suggested == [
        {"start": 0, "end": len(view.text.split()[0]), "label": "PER"}]
    service.spans.suggest("ner", _Fake("other", "LOC"))
    assert service.spans.rank("ner")["strategy"] == "span-suggester-disagreement"
    service.spans.submit_spans("ner", "ana", ids[TEXTS[0]], GOLD[TEXTS[0]])
    ranked = service.spans.rank("ner")
    assert ranked["strategy"] == "span-tagger-margin" and ranked["fitted_on"] == 1
    assert service.spans.next_item("ner", "ana").strategy in ("span-tagger-margin", "random (calibration)")


def test_span_agreement_exact_and_overlap(service):
    ids = _project(service)
    with pytest.raises(NotEnoughRatersError):
        service.quality.agreement("ner")
    a, b = ids[TEXTS[0]], ids[TEXTS[3]]
    service.spans.submit_spans("ner", "ana", a, [[0, 12, "PER"], [36, 42, "LOC"]])
    service.spans.submit_spans("ner", "bob", b, [[0, 11, "PER"]])
    with pytest.raises(NoOverlapError):
        service.spans.agreement("ner")
    service.spans.submit_spans("ner", "bob", a, [[0, 3, "PER"], [36, 42, "LOC"]])
    report = service.quality.agreement("ner")
    # exact: LOC matches, PER does not: 2·1 / (2 + 2) = 0.5; overlap: both match → 1.0
    assert report["exact_f1"] == 0.5 and report["overlap_f1"] == 1.0
    per = {r["label"]: r for r in report["per_label"]}
    assert per["PER"]["exact_f1"] == 0.0 and per["LOC"]["exact_f1"] == 1.0
    assert {r["rater"]: r["overlap_items"] for r in report["per_rater"]} == {"ana": 1, "bob": 1}


@pytest.fixture
def pg_service(pg_database_url, tmp_path, fake_embedder):
    from sqlalchemy import text

    from annotator.core.config import Settings
    from annotator.service import AnnotatorService
    from annotator.store import make_engine

    engine = make_engine(pg_database_url)
    with engine.begin() as c:
        c.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    svc = AnnotatorService.from_settings(
        Settings(data_dir=tmp_path / "data", database_url=pg_database_url, demo=False), embedder=fake_embedder)
    yield svc
    svc.close()


@pytest.mark.postgres
def test_spans_on_postgres(pg_service, tmp_path):
    svc = pg_service
    svc.projects.create_project("ner", ["PER", "ORG", "LOC"], task_type="spans")
    svc.imports.import_records("ner", [{"text": TEXTS[0], "spans": [[0, 12, "PER"]]}, {"text": TEXTS[1]},
                                       {"text": TEXTS[3]}])
    svc.imports.import_records("ner", [{"text": TEXTS[1], "spans": [[0, 11, "PER"]]}], labels_as="suggestion",
                               agent="m")
    with pytest.raises(ValidationError, match="row 1"):
        svc.imports.import_records("ner", [{"text": "Bob", "spans": [[0, 9, "PER"]]}])
    ids = {r["text"]: r["item_id"] for r in svc.exports.final_labels("ner")}
    svc.spans.submit_spans("ner", "ana", ids[TEXTS[1]], [[0, 11, "PER"], [40, 47, "LOC"]])
    svc.spans.submit_spans("ner", "bob", ids[TEXTS[1]], [[0, 11, "PER"]])
    assert svc.spans.undo("ner", "bob").previous == [{"start": 0, "end": 11, "label": "PER"}]
    svc.spans.submit_spans("ner", "bob", ids[TEXTS[1]], [[0, 11, "PER"]])
    assert svc.spans.item_spans("ner", ids[TEXTS[1]])["suggestions"][0]["spans"] == [
        {"start": 0, "end": 11, "label": "PER"}]
    assert svc.spans.agreement("ner")["exact_f1"] == round(2 / 3, 4)
    res = svc.exports.export("ner", fmt="jsonl", out=tmp_path / "j")
    rows = [json.loads(x) for x in res.data_path.read_text(encoding="utf-8").splitlines()]
    assert [len(r["spans"]) for r in rows] == [1, 1]  # the newest answer decides; the third item is unlabelled
    assert svc.projects.project("ner").items == 3


@pytest.mark.parametrize("setting, records, what", [
    ("import_max_rows", [{"text": t} for t in TEXTS], "holds 6 records"),
    ("import_max_line_bytes", [{"text": "x" * 500}], "is longer than"),
    ("import_max_bytes", [{"text": t} for t in TEXTS], "holds more than 100 bytes"),
])
def test_a_span_import_keeps_the_import_limits(service, tmp_path, setting, records, what):
    from annotator.core.errors import InputFileError
    from annotator.importers import ImportSpec

    setattr(service.settings, setting, {"import_max_rows": 5, "import_max_line_bytes": 100,
                                        "import_max_bytes": 100}[setting])
    service.projects.create_project("ner", ["PER", "ORG", "LOC"], task_type="spans")
    with pytest.raises((InputFileError, ValidationError)) as e:
        service.imports.import_file("ner", _write(tmp_path, records), ImportSpec(text_column="text"))
    assert what in str(e.value) and "ANNOTATOR_IMPORT_MAX" in str(e.value), str(e.value)
    assert service.projects.project("ner").items == 0 and _responses(service) == []
