"""An AI annotator that fails (an LLM endpoint down, a timeout, garbage) leaves the project as it
was: no suggestion written, no item routed, the queue unchanged, and a clear error for the user."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from sqlmodel import select

from annotator import store
from annotator.annotators import ItemBatch, KnnAnnotator, LabelContext
from annotator.core.errors import EndpointError
from annotator.store.tables import Suggestion

WORDS = {"sport": "match goal team coach league", "food": "recipe bake flavour kitchen dinner"}


@dataclass
class FailingAnnotator:
    """Scores the calibration folds, then fails on the batch of unlabelled items (after
    ``ok_calls`` calls), as an endpoint that dies mid-run would."""

    ok_calls: int = 5
    name: str = "failing"
    version: str = "0"
    needs_text: bool = False
    calls: int = 0

    def predict_proba(self, batch: ItemBatch, context: LabelContext) -> np.ndarray:
        self.calls += 1
        if self.calls > self.ok_calls:
            raise EndpointError("The LLM endpoint http://127.0.0.1:9/v1 did not answer within 1 s.",
                                expected="an answer", got="timeout", fix="raise --llm-timeout")
        return np.full((len(batch.texts), context.n_labels), 1.0 / context.n_labels, dtype=np.float32)


@pytest.fixture
def labelled(service):
    service.projects.create_project("p", list(WORDS), settings={"refit_every": 1000})
    rng = np.random.default_rng(0)
    service.imports.import_records("p", [{"text": " ".join(rng.choice(w.split(), 4)) + f" {label} {i}",
                                  "external_id": f"{label}-{i}"} for label, w in WORDS.items() for i in range(30)])
    for _ in range(20):
        item = service.queue.next_item("p", "ana")
        service.queue.submit("p", "ana", item.item_id, [item.external_id.split("-")[0]])
    service.queue.refit_now("p")
    return service


def _state(service):  # noqa: ANN202
    with store.transaction(service.engine) as s:
        suggestions = len(s.exec(select(Suggestion)).all())
    return suggestions, service.queue.pool("p").route.copy(), service.projects.project("p").labelled


@pytest.mark.parametrize("where", ["calibration", "unlabelled batch"])
def test_a_failing_annotator_leaves_nothing_half_written(labelled, where):
    service = labelled
    before = _state(service)
    failing = FailingAnnotator(ok_calls=0 if where == "calibration" else 5)
    with pytest.raises(EndpointError, match="did not answer"):
        service.ai.run_ai("p", [KnnAnnotator(), failing])
    assert failing.calls == (1 if where == "calibration" else 6)
    after = _state(service)
    assert after[0] == before[0] == 0  # no suggestion stored
    assert np.array_equal(after[1], before[1])  # no item routed (auto / audit / verify / blind)
    assert after[2] == before[2] == 20  # the same labelled count
    item = service.queue.next_item("p", "ana")
    assert item.suggestion is None and item.route == "manual"  # the queue serves people as before
    # and the AI works again once the endpoint is back
    report = service.ai.run_ai("p", [KnnAnnotator()])
    assert report["items"] == 60 - 20


def test_an_unreachable_endpoint_fails_run_ai_cleanly(labelled, tmp_path):
    import socket

    from annotator.llm.endpoint import EndpointLLMAnnotator

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ann = EndpointLLMAnnotator(base_url=f"http://127.0.0.1:{port}/v1", model="m", max_retries=0, timeout_s=2)
    before = _state(labelled)
    with pytest.raises(EndpointError, match="Cannot reach"):
        labelled.ai.run_ai("p", [ann])
    assert _state(labelled)[0] == before[0] == 0
