"""The one final-label rule: properties that hold for any set of answers, checked with hypothesis."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from annotator.core.settlement import SETTLED_BY, people, settle

LABELS = ("a", "b", "c")


@dataclass(frozen=True)
class Answer:
    response_id: int
    user: str
    value: tuple[str, ...]
    route: str | None
    is_system: bool


@st.composite
def answer_lists(draw: st.DrawFn) -> list[Answer]:
    n = draw(st.integers(0, 8))
    ids = draw(st.lists(st.integers(1, 10_000), min_size=n, max_size=n, unique=True))
    out = []
    for rid in ids:
        system = draw(st.booleans()) and draw(st.booleans())  # imports are the rarer case
        user = "import" if system else draw(st.sampled_from(["ana", "bo", "cy", "di", "rev"]))
        route = None if system else draw(st.sampled_from(["manual", "verify", "blind", "audit", "review"]))
        value = tuple(draw(st.lists(st.sampled_from(LABELS), min_size=1, max_size=2, unique=True)))
        out.append(Answer(rid, user, value, route, system))
    return out


@given(answer_lists(), st.randoms())
def test_the_order_answers_arrive_in_does_not_change_the_label(answers, rnd):
    shuffled = list(answers)
    rnd.shuffle(shuffled)
    assert settle(answers) == settle(shuffled)


@given(answer_lists())
def test_a_reviewers_newest_decision_wins_and_otherwise_people_come_before_imports(answers):
    chosen, how, n_answers = settle(answers)
    reviews = [a for a in answers if a.route == "review"]
    live = people(answers)
    assert n_answers == len(live) + any(a.is_system for a in answers)  # an import counts as one answer
    if not answers:
        assert (chosen, how) == (None, None)
    elif reviews:
        assert how == "reviewer" and chosen == max(reviews, key=lambda a: a.response_id)
    elif live:
        assert how in ("single", "majority", "newest") and chosen in live
    else:
        assert how == "import" and chosen.is_system
    assert how is None or how in SETTLED_BY


@given(answer_lists())
def test_people_count_once_each_with_their_newest_answer(answers):
    live = people(answers)
    assert len({a.user for a in live}) == len(live)
    for a in live:
        mine = [b for b in answers if b.user == a.user and not b.is_system and b.route != "review"]
        assert a == max(mine, key=lambda b: b.response_id)


@given(answer_lists())
def test_a_strict_majority_of_people_decides(answers):
    chosen, how, _ = settle(answers)
    live = people(answers)
    if how == "majority":
        same = [a for a in live if sorted(a.value) == sorted(chosen.value)]
        assert 2 * len(same) > len(live) and chosen == same[-1]
    if how == "newest":
        assert chosen == live[-1]
        top = max(sum(sorted(a.value) == sorted(b.value) for b in live) for a in live)
        assert 2 * top <= len(live)


def test_a_tie_goes_to_the_newest_person_and_a_review_settles_it():
    tie = [Answer(1, "ana", ("a",), "manual", False), Answer(2, "bo", ("b",), "manual", False)]
    assert settle(tie)[:2] == (tie[1], "newest")
    decided = [*tie, Answer(3, "rev", ("a",), "review", False)]
    assert settle(decided)[:2] == (decided[2], "reviewer")
    imported = [Answer(1, "import", ("c",), None, True)]
    assert settle(imported) == (imported[0], "import", 1)
