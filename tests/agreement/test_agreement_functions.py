"""The agreement functions against hand-computed values and the reference packages."""

from __future__ import annotations

from fractions import Fraction

import krippendorff
import numpy as np
import pandas as pd
import pytest

from annotator.team import agreement as agr
from annotator.core.errors import AgreementError, NoOverlapError, NotEnoughRatersError

nan = np.nan

# Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 14 raters each, 5 categories → κ = 0.210.
WIKI_COUNTS = np.array([
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
])

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", 3 coders × 15 units with
# missing values (values 1..5 → indices 0..4): nominal α = 0.691.
KRIPP = np.array([
    [nan, nan, nan, nan, nan, 3, 4, 1, 2, 1, 1, 3, 3, nan, 3],
    [1, nan, 2, 1, 3, 3, 4, 3, nan, nan, nan, nan, nan, nan, nan],
    [nan, nan, 2, 1, 3, 4, 4, nan, 2, 1, 1, 3, 3, nan, 4],
]).T - 1

# A small table worked by hand (see the expected values in the tests): 6 items × 3 raters, labels a b c.
SMALL = pd.DataFrame({
    "ana": [0, 1, 2, 0, 1, 2],
    "ben": [0, 1, 2, 1, 1, 2],
    "cy": [0, 1, 0, None, 2, 2],
})


def test_fleiss_kappa_matches_the_wikipedia_example():
    assert agr.fleiss_kappa_from_counts(WIKI_COUNTS) == pytest.approx(0.20993, abs=5e-5)
    ratings = np.array([[k for k in range(5) for _ in range(row[k])] for row in WIKI_COUNTS], dtype=float)
    assert ratings.shape == (10, 14)
    assert agr.fleiss_kappa(ratings, 5) == pytest.approx(0.20993, abs=5e-5)
    assert round(agr.fleiss_kappa(ratings, 5), 3) == 0.210


def test_fleiss_kappa_with_varying_counts_by_hand():
    # P̄ = 11/18 (items: 1, 1, 1/3, 0, 1/3, 1); label shares 5/17, 6/17, 6/17 → Pe = 97/289.
    p_bar, p_e = Fraction(11, 18), Fraction(97, 289)
    assert agr.fleiss_kappa(SMALL, 3) == pytest.approx(float((p_bar - p_e) / (1 - p_e)))


def test_krippendorff_alpha_matches_the_published_value_and_the_package():
    assert agr.krippendorff_alpha(KRIPP, 5) == pytest.approx(0.691, abs=5e-4)
    direct = krippendorff.alpha(reliability_data=KRIPP.T, level_of_measurement="nominal", value_domain=range(5))
    assert agr.krippendorff_alpha(KRIPP, 5) == pytest.approx(direct)
    # By hand on SMALL: D_o = 6/17, D_e = 192/272 → α = 1/2.
    assert agr.krippendorff_alpha(SMALL, 3) == pytest.approx(0.5)


def test_pairwise_cohen_kappa_by_hand_and_against_sklearn():
    pairs = agr.pairwise_cohen_kappa(SMALL).set_index(["rater_a", "rater_b"])
    # ana/ben: 6 shared items, po = 5/6, pe = 1/3 → 0.75; ana/cy and ben/cy: po = 3/5, pe = 8/25 → 7/17.
    assert pairs.loc[("ana", "ben"), "kappa"] == pytest.approx(0.75)
    assert pairs.loc[("ana", "cy"), "kappa"] == pytest.approx(7 / 17)
    assert pairs.loc[("ben", "cy"), "kappa"] == pytest.approx(7 / 17)
    assert pairs.loc[("ana", "cy"), "items"] == 5 and pairs.loc[("ana", "ben"), "agreement"] == pytest.approx(5 / 6)


def test_kappa_is_one_for_identical_raters_and_near_zero_for_independent_ones():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 3, 20_000).astype(float)
    kappa, n = agr.cohen_kappa(a, a)
    assert kappa == pytest.approx(1.0) and n == 20_000
    b = rng.integers(0, 3, 20_000).astype(float)
    assert abs(agr.cohen_kappa(a, b)[0]) < 0.03
    table = np.column_stack([a, b, rng.integers(0, 3, 20_000)])
    assert abs(agr.fleiss_kappa(table, 3)) < 0.03 and abs(agr.krippendorff_alpha(table, 3)) < 0.03
    same = np.column_stack([a, a, a])
    assert agr.fleiss_kappa(same, 3) == pytest.approx(1.0) and agr.krippendorff_alpha(same, 3) == pytest.approx(1.0)


def test_undefined_kappa_is_nan_not_a_crash():
    kappa, _ = agr.cohen_kappa([1, 1, 1], [1, 1, 1])
    assert np.isnan(kappa)
    assert np.isnan(agr.fleiss_kappa([[1, 1], [1, 1]], 2))


def test_per_label_one_vs_rest():
    rows = agr.per_label_agreement(SMALL, ["a", "b", "c"]).set_index("label")
    # label a by hand: o00 = 10, o11 = 3, o01 = o10 = 2 → α = 1 - (4/17) / (120/272) = 7/15.
    assert rows.loc["a", "krippendorff_alpha"] == pytest.approx(7 / 15)
    assert rows.loc["a", "ratings"] == 5
    binary_a = np.where(SMALL.isna(), nan, (SMALL == 0).astype(float))
    assert rows.loc["a", "fleiss_kappa"] == pytest.approx(agr.fleiss_kappa(binary_a, 2))


def test_per_rater_agreement_and_accuracy():
    per = agr.per_rater_agreement(SMALL).set_index("rater")
    assert per.loc["ana", "agreement"] == pytest.approx(8 / 11)
    assert per.loc["ana", "mean_kappa"] == pytest.approx((0.75 + 7 / 17) / 2)
    assert per.loc["cy", "items"] == 5 and per.loc["cy", "partners"] == 2
    settled = [0, 1, 2, 1, 1, 2]
    acc = agr.rater_accuracy(SMALL, settled).set_index("rater")
    assert acc.loc["ana", "accuracy"] == pytest.approx(5 / 6)
    assert acc.loc["ben", "accuracy"] == 1.0
    assert acc.loc["cy", "accuracy"] == pytest.approx(3 / 5) and acc.loc["cy", "settled_items"] == 5


def test_settled_labels_reviewer_first_then_strict_majority():
    settled, how = agr.settled_labels(SMALL.to_numpy(dtype=float, na_value=nan),
                                      np.array([nan, nan, nan, 1, nan, nan]))
    assert settled.tolist() == [0, 1, 2, 1, 1, 2]
    assert how.tolist() == [2, 2, 2, 1, 2, 2]
    settled, how = agr.settled_labels(np.array([[0, 1, 2], [0, 0, nan]]))
    assert np.isnan(settled).all() and how.tolist() == [0, 0]  # no majority; only two ratings


def test_report_is_json_friendly():
    import json

    report = agr.agreement_report(SMALL, ["a", "b", "c"], settled=[0, 1, 2, 1, 1, 2])
    assert report["raters"] == ["ana", "ben", "cy"] and report["overlap_items"] == 6 and report["ratings"] == 17
    assert report["krippendorff_alpha"] == 0.5
    json.dumps(report, allow_nan=False)


def test_ratings_from_answers_builds_the_table():
    answers = [(10, "ana", ["a"]), (10, "ben", ["b"]), (11, "ana", ["c"]), (11, "ben", ["zzz"]), (12, "ben", [])]
    ratings, items, raters, skipped = agr.ratings_from_answers(answers, ["a", "b", "c"])
    assert items == [10, 11] and raters == ["ana", "ben"] and skipped == 2
    assert np.array_equal(ratings, np.array([[0, 1], [2, nan]]), equal_nan=True)
    binary, _, _, _ = agr.ratings_from_answers([(1, "x", ["a", "c"]), (1, "y", ["c"])], ["a", "b", "c"],
                                               multi_label=True)
    assert binary.tolist() == [[[1, 0, 1], [0, 0, 1]]]


def test_multilabel_report_is_per_label_binary():
    # 4 items × 2 raters × labels (x, y): identical on x, independent-ish on y.
    binary = np.array([
        [[1, 0], [1, 1]], [[0, 1], [0, 1]], [[1, 1], [1, 0]], [[0, 0], [0, 0]],
    ], dtype=float)
    report = agr.multilabel_agreement_report(binary, ["x", "y"], ["p", "q"])
    per = {row["label"]: row for row in report["per_label"]}
    assert per["x"]["mean_pairwise_kappa"] == 1.0
    y_kappa = agr.cohen_kappa(binary[:, 0, 1], binary[:, 1, 1])[0]
    assert per["y"]["mean_pairwise_kappa"] == pytest.approx(y_kappa, abs=1e-4)
    assert report["mean_pairwise_kappa"] == pytest.approx((1 + y_kappa) / 2, abs=1e-4)
    assert report["pairwise"][0]["agreement"] == 0.5  # exact label sets match on 2 of 4 items
    assert report["macro_over_labels"] is True


def test_clear_errors():
    with pytest.raises(NotEnoughRatersError, match="at least two raters"):
        agr.fleiss_kappa([[0], [1]], 2)
    with pytest.raises(NoOverlapError, match="No item was answered by two raters"):
        agr.agreement_report([[0, None], [None, 1]], ["a", "b"])
    with pytest.raises(AgreementError, match="not a label index"):
        agr.krippendorff_alpha([[0, 3], [1, 1]], 2)
    with pytest.raises(AgreementError, match="distinct"):
        agr.pairwise_cohen_kappa([[0, 1]], ["a", "a"])


def test_settled_labels_multi_label_need_a_majority_on_every_label():
    # 2 items × 3 raters × labels (x, y); item 0: x by all, y by two → settled {x, y}; item 1 reviewed.
    binary = np.array([[[1, 1], [1, 1], [1, 0]], [[0, 1], [1, 0], [nan, nan]]], dtype=float)
    settled, how = agr.settled_labels(binary, np.array([[nan, nan], [1, 0]]))
    assert settled.tolist() == [[1, 1], [1, 0]] and how.tolist() == [2, 1]
    assert agr.settled_labels(np.zeros((0, 0, 2)))[0].shape == (0, 2)


def _sklearn_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """The reference: sklearn's Cohen's kappa on the items both answered (NaN where undefined)."""
    import warnings

    from sklearn.metrics import cohen_kappa_score

    both = ~np.isnan(a) & ~np.isnan(b)
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore")
        return float(cohen_kappa_score(a[both].astype(int), b[both].astype(int)))


def test_numpy_kappa_equals_sklearn_on_random_data_and_edge_cases():
    rng = np.random.default_rng(7)
    cases = []
    for _ in range(200):
        n, k = int(rng.integers(1, 60)), int(rng.integers(1, 6))
        a, b = rng.integers(0, k, n).astype(float), rng.integers(0, k, n).astype(float)
        copy = rng.random(n) < rng.random()  # from independent to nearly identical raters
        b[copy] = a[copy]
        a[rng.random(n) < 0.3] = nan
        b[rng.random(n) < 0.3] = nan
        cases.append((a, b))
    cases += [
        (np.array([2.0, 2, 2]), np.array([2.0, 2, 2])),  # one class, both raters: undefined
        (np.array([0.0, 0, 0]), np.array([1.0, 1, 1])),  # each rater one (different) class
        (np.array([0.0, 1, 0]), np.array([2.0, 2, 2])),  # rater b one class
        (np.array([4.0]), np.array([4.0])),  # a single shared item
        (np.array([0.0, 5, 9, 5]), np.array([9.0, 5, 0, 0])),  # sparse label indices
    ]
    compared = 0
    for a, b in cases:
        if not (~np.isnan(a) & ~np.isnan(b)).any():
            with pytest.raises(NoOverlapError):
                agr.cohen_kappa(a, b)
            continue
        ours, n = agr.cohen_kappa(a, b)
        ref = _sklearn_kappa(a, b)
        assert n == int((~np.isnan(a) & ~np.isnan(b)).sum())
        assert (np.isnan(ours) and np.isnan(ref)) or ours == ref, (a, b, ours, ref)  # identical, not just close
        compared += 1
    assert compared > 150
    assert np.isnan(agr.cohen_kappa([2, 2, 2], [2, 2, 2])[0])
    with pytest.raises(NoOverlapError):
        agr.cohen_kappa([0, nan], [nan, 1])  # no overlap


def test_pairwise_table_uses_the_same_kappa_as_sklearn():
    rng = np.random.default_rng(3)
    table = rng.integers(0, 3, (300, 4)).astype(float)
    table[rng.random(table.shape) < 0.5] = nan
    table[:, 3] = np.where(np.isnan(table[:, 3]), nan, 1.0)  # a rater that only ever uses one label
    pairs = agr.pairwise_cohen_kappa(table)
    assert len(pairs) == 6
    for row in pairs.itertuples():
        ref = _sklearn_kappa(table[:, int(row.rater_a)], table[:, int(row.rater_b)])
        assert (np.isnan(row.kappa) and np.isnan(ref)) or row.kappa == ref


def _ratings_by_loop(answers, labels):  # noqa: ANN001, ANN202 - the former cell-by-cell table, as the reference
    index = {name: k for k, name in enumerate(labels)}
    rows, cols, cells, skipped = {}, {}, [], 0
    for item_id, rater, value in answers:
        ks = [index.get(v) for v in value]
        if not ks or None in ks or len(ks) > 1:
            skipped += 1
            continue
        cells.append((rows.setdefault(int(item_id), len(rows)), cols.setdefault(str(rater), len(cols)), ks))
    ratings = np.full((len(rows), len(cols)), nan)
    for i, j, ks in cells:
        ratings[i, j] = ks[0]
    return ratings, list(rows), list(cols), skipped


def test_ratings_from_answers_equals_the_cell_by_cell_table_and_a_later_answer_wins():
    rng = np.random.default_rng(5)
    names = ["a", "b", "c", "zzz"]
    answers = [(int(rng.integers(0, 300)), f"r{int(rng.integers(0, 6))}",
                [names[int(k)] for k in rng.integers(0, 4, int(rng.integers(0, 3)))]) for _ in range(3000)]
    got = agr.ratings_from_answers(answers, ["a", "b", "c"])
    want = _ratings_by_loop(answers, ["a", "b", "c"])
    assert np.array_equal(got[0], want[0], equal_nan=True) and got[1:] == want[1:]
    ratings, _, _, _ = agr.ratings_from_answers([(1, "x", ["a"]), (1, "x", ["c"]), (1, "y", ["b"])], ["a", "b", "c"])
    assert ratings.tolist() == [[2.0, 1.0]]
