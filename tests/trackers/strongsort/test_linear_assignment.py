"""Assignment: optimality against brute force, thresholding, pruning, cascade order."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from trackers.strongsort.linear_assignment import (
    INFTY_COST,
    matching_cascade,
    min_cost_matching,
    solve_assignment,
)


def _brute_force_best(cost, max_cost):
    """Largest total saving ``sum(max_cost + 1e-5 - c)`` over matchings of acceptable pairs."""
    rows, cols = cost.shape
    best = 0.0
    for k in range(1, min(rows, cols) + 1):
        for chosen_rows in itertools.combinations(range(rows), k):
            for chosen_cols in itertools.permutations(range(cols), k):
                pairs = cost[list(chosen_rows), list(chosen_cols)]
                if np.all(pairs <= max_cost):
                    best = max(best, float(np.sum(max_cost + 1e-5 - pairs)))
    return best


def _check_layout(result, shape):
    rows, cols, free_rows, free_cols = result
    assert rows.shape == cols.shape
    assert sorted([*rows, *free_rows]) == list(range(shape[0]))
    assert sorted([*cols, *free_cols]) == list(range(shape[1]))


@settings(max_examples=60, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(0, 4), st.integers(0, 4)),
        elements=st.floats(0, 1, allow_nan=False),
    ),
    st.sampled_from(["lapjv", "scipy"]),
)
def test_min_cost_matching_is_optimal_and_thresholded(cost, solver):
    max_cost = 0.5
    result = min_cost_matching(cost, max_cost, solver)
    _check_layout(result, cost.shape)
    rows, cols, _, _ = result
    assert np.all(cost[rows, cols] <= max_cost)
    saving = float(np.sum(max_cost + 1e-5 - cost[rows, cols]))
    assert saving == pytest.approx(_brute_force_best(cost, max_cost), abs=1e-9)


def test_gated_pairs_are_never_matched_and_do_not_block_others():
    cost = np.array([[0.1, INFTY_COST], [INFTY_COST, INFTY_COST], [0.3, 0.2]])
    rows, cols, free_rows, free_cols = min_cost_matching(cost, 0.45)
    assert sorted(zip(rows.tolist(), cols.tolist())) == [(0, 0), (2, 1)]
    assert free_rows.tolist() == [1] and free_cols.size == 0


def test_empty_matrices():
    for shape in [(0, 3), (3, 0), (0, 0)]:
        rows, cols, free_rows, free_cols = min_cost_matching(np.empty(shape), 0.5)
        assert rows.size == 0 and free_rows.size == shape[0] and free_cols.size == shape[1]
    rows, cols = solve_assignment(np.empty((0, 2)))
    assert rows.size == cols.size == 0


def test_solvers_agree_on_total_cost():
    rng = np.random.default_rng(0)
    for _ in range(20):
        cost = rng.random((rng.integers(1, 12), rng.integers(1, 12)))
        r1, c1 = solve_assignment(cost, "lapjv")
        r2, c2 = solve_assignment(cost, "scipy")
        assert len(r1) == len(r2) == min(cost.shape)
        assert cost[r1, c1].sum() == pytest.approx(cost[r2, c2].sum())


def test_cascade_gives_recently_seen_tracks_priority():
    # Both tracks want detection 0; track 1 (seen 1 frame ago) wins although track 0 is cheaper.
    cost = np.array([[0.05, 0.4], [0.3, 0.9]])
    rows, cols, _, free_cols = matching_cascade(cost, 0.5, np.array([3, 1]), cascade_depth=30)
    assert dict(zip(rows.tolist(), cols.tolist())) == {1: 0, 0: 1}
    assert free_cols.size == 0
    # Global matching picks the cheaper total instead.
    rows, cols, _, _ = min_cost_matching(cost, 0.5)
    assert dict(zip(rows.tolist(), cols.tolist())) == {0: 0}


def test_cascade_ignores_tracks_deeper_than_the_cascade():
    cost = np.array([[0.1], [0.2]])
    rows, cols, free_rows, _ = matching_cascade(cost, 0.5, np.array([5, 2]), cascade_depth=3)
    assert rows.tolist() == [1] and cols.tolist() == [0] and free_rows.tolist() == [0]


def test_lapjv_is_used_when_installed(monkeypatch):
    import trackers.strongsort.linear_assignment as la

    assert la.lap is not None, "lap is a runtime dependency"
    calls = []
    real = la.lap.lapjv

    def counting(*args, **kwargs):
        calls.append(args[0].shape)
        return real(*args, **kwargs)

    monkeypatch.setattr(la.lap, "lapjv", counting)
    rows, cols = solve_assignment(np.array([[0.9, 0.1, 0.5], [0.2, 0.8, 0.4]]), "lapjv")
    assert calls == [(2, 3)]
    assert dict(zip(rows.tolist(), cols.tolist())) == {0: 1, 1: 0}


def test_scipy_fallback_when_lap_is_missing(monkeypatch):
    from scipy.optimize import linear_sum_assignment

    import trackers.strongsort.linear_assignment as la

    monkeypatch.setattr(la, "lap", None)
    rng = np.random.default_rng(1)
    for shape in [(3, 3), (2, 5), (6, 4)]:
        cost = rng.random(shape)
        rows, cols = solve_assignment(cost, "lapjv")
        best_rows, best_cols = linear_sum_assignment(cost)
        assert len(rows) == min(shape)
        assert cost[rows, cols].sum() == pytest.approx(cost[best_rows, best_cols].sum())
    rows, cols, _, _ = min_cost_matching(np.array([[0.1, 0.9], [0.9, 0.2]]), 0.5, "lapjv")
    assert dict(zip(rows.tolist(), cols.tolist())) == {0: 0, 1: 1}
