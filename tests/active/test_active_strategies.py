"""Query strategies order hand-made probabilities the way their definitions say."""

from __future__ import annotations

import numpy as np
import pytest
from modAL.uncertainty import _proba_entropy, _proba_margin, _proba_uncertainty

from annotator.active.strategies import STRATEGIES, get_strategy
from annotator.core.errors import ValidationError

RNG = np.random.default_rng(0)


def test_margin_is_one_minus_gap_of_the_top_two():
    proba = np.array([[0.90, 0.05, 0.05],   # sure
                      [0.50, 0.50, 0.00],   # a tie between two labels
                      [0.60, 0.30, 0.10]], dtype=np.float32)
    scores = get_strategy("margin")(proba, RNG)
    np.testing.assert_allclose(scores, [0.15, 1.0, 0.7], atol=1e-6)
    assert list(np.argsort(-scores)) == [1, 2, 0]


def test_entropy_prefers_spread_over_a_two_way_tie():
    # Margin calls the two-way tie the hardest; entropy calls the flat three-way row the hardest.
    proba = np.array([[0.5, 0.5, 0.0], [0.34, 0.33, 0.33], [0.98, 0.01, 0.01]])
    ent = get_strategy("entropy")(proba, RNG)
    mar = get_strategy("margin")(proba, RNG)
    np.testing.assert_allclose(ent[0], np.log(2), atol=1e-9)
    assert ent[1] > ent[0] > ent[2]
    assert mar[0] > mar[1] > mar[2]


def test_least_confidence_is_one_minus_top_probability():
    proba = np.array([[0.7, 0.2, 0.1], [0.4, 0.35, 0.25], [0.99, 0.01, 0.0]])
    scores = get_strategy("least-confidence")(proba, RNG)
    np.testing.assert_allclose(scores, [0.3, 0.6, 0.01], atol=1e-9)
    assert list(np.argsort(-scores)) == [1, 0, 2]


def test_random_is_reproducible_per_seed_and_differs_between_seeds():
    proba = np.full((50, 3), 1 / 3)
    a = get_strategy("random")(proba, np.random.default_rng(7))
    b = get_strategy("random")(proba, np.random.default_rng(7))
    c = get_strategy("random")(proba, np.random.default_rng(8))
    assert a.shape == (50,)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_every_strategy_returns_one_float_score_per_item(name):
    proba = RNG.dirichlet(np.ones(4), size=30).astype(np.float32)
    scores = STRATEGIES[name](proba, np.random.default_rng(0), multi_label=False)
    assert scores.shape == (30,) and scores.dtype == np.float64 and np.isfinite(scores).all()


def test_multi_label_scores_average_each_labels_binary_uncertainty():
    # Rows of one-vs-rest sigmoids need not sum to 1.
    proba = np.array([[0.5, 0.5, 0.5],     # every label a coin flip
                      [0.99, 0.01, 0.98],  # every label sure
                      [0.5, 0.99, 0.01]])  # one label unsure
    for name in ("margin", "entropy", "least-confidence"):
        scores = get_strategy(name)(proba, RNG, multi_label=True)
        assert scores[0] > scores[2] > scores[1], name
    np.testing.assert_allclose(get_strategy("margin")(proba, RNG, multi_label=True)[0], 1.0)
    # Treating the row as one distribution would call row 0 a three-way tie of 1/3 each.
    np.testing.assert_allclose(get_strategy("least-confidence")(proba, RNG, multi_label=True)[0], 0.5)


@pytest.mark.parametrize("name, modal_fn", [
    ("margin", lambda q: 1.0 - _proba_margin(q)),
    ("entropy", _proba_entropy),
    ("least-confidence", _proba_uncertainty),
])
def test_multi_label_closed_forms_equal_modal_on_each_binary_problem(name, modal_fn):
    proba = np.random.default_rng(3).random((40, 5))
    proba[0, 0], proba[1, 1] = 0.0, 1.0  # 0 ln 0 must count as 0
    expected = np.mean([modal_fn(np.stack([proba[:, j], 1 - proba[:, j]], axis=1)) for j in range(5)], axis=0)
    np.testing.assert_allclose(get_strategy(name)(proba, RNG, multi_label=True), expected, atol=1e-12)


@pytest.mark.parametrize("name, modal_fn", [
    ("margin", lambda q: 1.0 - _proba_margin(q)),
    ("entropy", _proba_entropy),
    ("least-confidence", _proba_uncertainty),
])
@pytest.mark.parametrize("k", [1, 2, 5])
def test_single_label_scores_equal_modal(name, modal_fn, k):
    """The strategies restate modAL's proba functions (importing modAL would pull torch)."""
    proba = np.random.default_rng(k).dirichlet(np.ones(k), size=64).astype(np.float32)
    proba[0] = 0.0
    proba[0, 0] = 1.0  # a certain row: 0 ln 0 must count as 0
    np.testing.assert_allclose(get_strategy(name)(proba, RNG), modal_fn(proba), atol=1e-6)


def test_strategies_do_not_import_modal_or_torch():
    import subprocess
    import sys
    from pathlib import Path

    code = "import sys, annotator.active; print([m for m in ('modAL', 'torch') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_unknown_strategy_lists_the_valid_names():
    with pytest.raises(ValidationError) as err:
        get_strategy("confusion")
    for name in STRATEGIES:
        assert name in str(err.value)


def test_a_one_dimensional_proba_is_refused():
    with pytest.raises(ValidationError, match="2-d"):
        get_strategy("margin")(np.array([0.2, 0.8]), RNG)
