"""Span routing through the service: certified on the blind random picks only (item-level exact
match), auto items left unserved (also after a restart), audits served first with the suggestion
hidden and compared exactly, a suggester that is often wrong never auto-accepted, exports showing
route and source per item."""

from __future__ import annotations

import json

from annotator.spans import Span

NAMES = ["Ada", "Alan", "Grace", "Marie", "Tim", "Linus", "Edsger", "Barbara", "Donald", "Ken"]
CITIES = ["London", "Paris", "Rome", "Oslo", "Lima", "Kyiv", "Cairo", "Quito"]


def _gold() -> dict[str, list[Span]]:
    out = {}
    for k in range(160):
        name, city = NAMES[k % len(NAMES)] + str(k), CITIES[k % len(CITIES)]
        text = f"{name} visited {city} on day {k}."
        start = text.index(city)
        out[text] = [Span(0, len(name), "PER"), Span(start, start + len(city), "LOC")]
    return out


GOLD = _gold()


class Suggester:
    """Gold spans, except on every ``wrong_every``-th text (0: never), where the LOC span is cut short."""

    agent = "fake-ner"

    def __init__(self, wrong_every: int = 0):
        self.wrong_every = wrong_every

    def suggest(self, texts):
        out = []
        for text in texts:
            spans = list(GOLD[text])
            if self.wrong_every and int(text.rsplit(" ", 1)[1].rstrip(".")) % self.wrong_every == 0:
                spans[1] = Span(spans[1].start, spans[1].end - 1, "LOC")
            out.append(spans)
        return out


def _project(service):
    service.projects.create_project("ner", ["PER", "LOC"], task_type="spans",
                                    settings={"explore_fraction": 0.5, "audit_fraction": 0.1,
                                              "target_precision": 0.9})
    service.imports.import_records("ner", [{"text": t} for t in GOLD])


def _label(service, n: int) -> dict[str, int]:
    """People answer ``n`` served items with the gold spans; returns answers per route."""
    routes: dict[str, int] = {}
    for _ in range(n):
        view = service.spans.next_item("ner", "ana")
        if view is None:
            break
        if view.route in ("blind", "audit"):
            assert view.suggested == [] and view.spans == []  # nothing to anchor on
        service.spans.submit_spans("ner", "ana", view.item_id, GOLD[view.text])
        routes[view.route] = routes.get(view.route, 0) + 1
    return routes


def test_a_right_suggester_is_certified_on_blind_picks_and_audited(service, tmp_path):
    _project(service)
    service.spans.suggest("ner", Suggester())
    first = service.spans.route("ner")
    assert first["agent"] == "fake-ner" and first["routes"]["auto"] == 0  # no calibration item yet
    assert first["routes"]["verify"] == 160

    answered = _label(service, 120)
    # the random calibration picks, served blind: 22 all right certify 0.9 (0.1 ** (1 / 22) = 0.901)
    assert answered.get("blind", 0) >= 22
    report = service.spans.route("ner")
    cal = report["calibration"]
    assert cal["items"] == answered["blind"] == cal["exact_matches"]  # verified items never calibrate
    assert cal["certified_bins"] == [True]
    routes = report["routes"]
    assert routes["verify"] == 0 and routes["auto"] + routes["audit"] == report["items"] == 40
    assert routes["audit"] == 10  # at least min_audits

    # audits come first, suggestion hidden; auto items are never served
    served = [service.spans.next_item("ner", "ana") for _ in range(routes["audit"])]
    assert {v.route for v in served} == {"audit"}
    for view in served:
        service.spans.submit_spans("ner", "ana", view.item_id, GOLD[view.text])
    assert service.spans.next_item("ner", "ana") is None or service.spans.next_item("ner", "ana").route == "blind"
    again = service.spans.route("ner")
    assert again["calibration"]["audits"]["audits"] == 10 and again["calibration"]["audits"]["value"] == 1.0

    service.spans.export("ner", fmt="jsonl", out=tmp_path / "out")
    rows = [json.loads(x) for x in (tmp_path / "out" / "data.jsonl").read_text(encoding="utf-8").splitlines()]
    by_route = {}
    for r in rows:
        by_route.setdefault(r["route"], set()).add(r["label_source"])
    assert by_route["auto"] == {"agent"} and by_route["audit"] == {"human"} and "suggested" not in by_route
    assert len([r for r in rows if r["route"] == "auto"]) == again["routes"]["auto"] + again["routes"]["audit"]


def test_auto_items_stay_unserved_after_a_restart(settings, fake_embedder):
    from annotator.service import AnnotatorService

    svc = AnnotatorService.from_settings(settings, embedder=fake_embedder)
    _project(svc)
    svc.spans.suggest("ner", Suggester())
    _label(svc, 120)
    routes = svc.spans.route("ner")["routes"]
    svc.close()
    fresh = AnnotatorService.from_settings(settings, embedder=fake_embedder)
    try:
        view = fresh.spans.next_item("ner", "ana")
        assert view.route == "audit"  # the stored routes came back: audits first
        seen = 0
        while view is not None and seen < 40:
            assert view.route != "auto"
            fresh.spans.submit_spans("ner", "ana", view.item_id, GOLD[view.text])
            seen += 1
            view = fresh.spans.next_item("ner", "ana")
        assert seen <= routes["audit"] + 25  # audits, then only the odd random pick of an auto item
    finally:
        fresh.close()


def test_a_suggester_wrong_on_one_item_in_five_is_never_auto_accepted(service):
    _project(service)
    service.spans.suggest("ner", Suggester(wrong_every=5))
    _label(service, 120)
    report = service.spans.route("ner")
    cal = report["calibration"]
    assert cal["items"] >= 22 and cal["exact_matches"] < cal["items"]
    assert cal["certified_bins"] == [False]
    assert report["routes"] == {"auto": 0, "audit": 0, "verify": report["items"], "blind": 0}
