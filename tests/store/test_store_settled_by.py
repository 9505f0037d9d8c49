"""How an item's final label was settled (export column ``settled_by``): reviewer, majority,
single, newest (a tie), import, auto; ``answers`` counts the people who answered."""

from __future__ import annotations

from annotator.store import transaction
from annotator.store import items as item_q
from annotator.store import labels as label_q
from annotator.store import projects as project_q
from annotator.store import responses as response_q

LABELS = [{"name": "pos", "description": "", "hotkey": "1"}, {"name": "neg", "description": "", "hotkey": "2"}]


def _rows(engine, pid):
    with transaction(engine) as s:
        return {r["item_id"]: r for chunk in label_q.iter_final_labels(s, pid) for r in chunk}


def test_settled_by_follows_reviewer_then_majority_then_single_then_newest(engine):
    with transaction(engine) as s:
        pid = project_q.create_project(s, name="p", task_type="single-label", labels=LABELS, guidelines="",
                                       settings={}).id
        rows = [{"text": t, "text_hash": f"h-{t}", "external_id": None, "metadata": {}} for t in "abcdefg"]
        single, major, tie, reviewed, imported, auto, empty = item_q.insert_items(s, pid, rows)
        ana, ben, cara = (project_q.get_or_create_user(s, n) for n in ("ana", "ben", "cara"))
        rita = project_q.get_or_create_user(s, "rita", role="reviewer")
        imp = project_q.get_or_create_user(s, "import", is_system=True)

        def answer(item, user, value, route="manual", source="human"):
            response_q.add_response(s, item_id=item, user_id=user.id, value=[value], route=route, source=source)

        answer(single, ana, "pos")
        answer(major, ana, "neg")
        answer(major, ben, "pos")
        answer(major, cara, "neg")  # 2 of 3 say neg; the newest answer (cara's) agrees
        answer(tie, ana, "pos")
        answer(tie, ben, "neg")
        answer(reviewed, ana, "pos")
        answer(reviewed, ben, "pos")
        answer(reviewed, rita, "neg", route="review")  # the reviewer overrides even a unanimous pair
        answer(imported, imp, "neg", route="import", source="import")
        response_q.insert_suggestions(s, [{"item_id": auto, "agent": "knn", "agent_version": "1", "value": ["pos"],
                                           "scores": {"pos": 0.99}, "score": 0.99, "route": "auto"}])
        # ben's earlier answer to `major` was replaced: only his newest counts
        answer(tie, cara, "neg")
        response_q.discard_responses(s, tie, cara.id)
    got = _rows(engine, pid)
    assert (got[single]["settled_by"], got[single]["label"], got[single]["answers"]) == ("single", ["pos"], 1)
    assert (got[major]["settled_by"], got[major]["label"], got[major]["answers"]) == ("majority", ["neg"], 3)
    assert got[major]["annotator"] == "cara"
    assert (got[tie]["settled_by"], got[tie]["label"], got[tie]["answers"]) == ("newest", ["neg"], 2)
    assert (got[reviewed]["settled_by"], got[reviewed]["label"], got[reviewed]["annotator"]) == \
        ("reviewer", ["neg"], "rita")
    assert got[reviewed]["answers"] == 2  # people, not the reviewer
    assert (got[imported]["settled_by"], got[imported]["answers"], got[imported]["verified"]) == ("import", 1, False)
    assert (got[auto]["settled_by"], got[auto]["label"]) == ("auto", ["pos"])
    assert got[empty]["settled_by"] is None and got[empty]["label"] is None
    assert list(got[single]) == label_q.EXPORT_COLUMNS


def test_majority_keeps_the_minority_out_even_when_it_is_newest(engine):
    with transaction(engine) as s:
        pid = project_q.create_project(s, name="p", task_type="single-label", labels=LABELS, guidelines="",
                                       settings={}).id
        (item,) = item_q.insert_items(s, pid, [{"text": "x", "text_hash": "h-x", "external_id": None, "metadata": {}}])
        for name, value in (("ana", "pos"), ("ben", "pos"), ("cara", "neg")):
            user = project_q.get_or_create_user(s, name)
            response_q.add_response(s, item_id=item, user_id=user.id, value=[value])
    row = _rows(engine, pid)[item]
    assert (row["settled_by"], row["label"], row["annotator"]) == ("majority", ["pos"], "ben")


def test_the_export_and_the_review_queue_give_every_item_the_same_label(engine):
    """The export (store.labels) and the Review tab (team.review.current_label) read one rule."""
    import random

    from annotator.store import review as review_q
    from annotator.team.review import current_label

    rnd = random.Random(7)
    with transaction(engine) as s:
        pid = project_q.create_project(s, name="p", task_type="single-label", labels=LABELS, guidelines="",
                                       settings={}).id
        rows = [{"text": f"t{k}", "text_hash": f"h{k}", "external_id": None, "metadata": {}} for k in range(60)]
        ids = item_q.insert_items(s, pid, rows)
        people = [project_q.get_or_create_user(s, n) for n in ("ana", "ben", "cara", "dan")]
        rita = project_q.get_or_create_user(s, "rita", role="reviewer")
        imp = project_q.get_or_create_user(s, "import", is_system=True)
        for item in ids:
            if rnd.random() < 0.2:
                response_q.add_response(s, item_id=item, user_id=imp.id, value=[rnd.choice(["pos", "neg"])],
                                        route="import", source="import")
            for person in rnd.sample(people, rnd.randint(0, 4)):
                response_q.add_response(s, item_id=item, user_id=person.id, value=[rnd.choice(["pos", "neg"])])
            if rnd.random() < 0.2:
                response_q.add_response(s, item_id=item, user_id=rita.id, value=[rnd.choice(["pos", "neg"])],
                                        route="review")
    exported = _rows(engine, pid)
    with transaction(engine) as s:
        answers = review_q.answers_of(s, ids)
        routed = review_q.routed_suggestion(s, ids)
    seen = set()
    for item in ids:
        value, how = current_label(answers.get(item, []), routed.get(item))
        assert (exported[item]["label"], exported[item]["settled_by"]) == (value, how), item
        seen.add(how)
    assert {"reviewer", "single", "import"} <= seen and seen & {"majority", "newest"}
