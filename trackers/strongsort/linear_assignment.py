"""Linear assignment between tracks (rows) and detections (columns) of a cost matrix.

:func:`min_cost_matching` is StrongSORT's vanilla global matching ("woC"), and
:func:`matching_cascade` is DeepSORT's matching cascade (tracks missed for fewer frames are
matched first). Both clamp costs above ``max_cost`` before solving and reject the assignments
whose cost is above ``max_cost`` after solving, as DeepSORT does.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

try:  # lap's Jonker-Volgenant solver is several times faster than scipy on small matrices.
    import lap
except ImportError:  # pragma: no cover - exercised only where lap is not installed
    lap = None

# Cost given to track-detection pairs that gating forbids.
INFTY_COST = 1e5

# (matched_rows (K,), matched_cols (K,), unmatched_rows, unmatched_cols): int64 index arrays.
Matching = Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
_EMPTY = np.empty(0, dtype=np.int64)


def solve_assignment(cost: np.ndarray, solver: str = "lapjv") -> Tuple[np.ndarray, np.ndarray]:
    """Minimum-cost assignment of a rectangular cost matrix.

    Args:
        cost: ``(R, C)`` float costs, finite.
        solver: ``"lapjv"`` for ``lap.lapjv`` (falls back to scipy when ``lap`` is not
            installed) or ``"scipy"`` for ``scipy.optimize.linear_sum_assignment``.

    Returns:
        ``(rows, cols)``: int64 arrays of equal length ``min(R, C)``, the assigned pairs.
    """
    if cost.size == 0:
        return _EMPTY, _EMPTY
    if solver == "lapjv" and lap is not None:
        _, row_to_col, _ = lap.lapjv(np.ascontiguousarray(cost, dtype=np.float64), extend_cost=True)
        rows = (row_to_col >= 0).nonzero()[0]
        return rows, row_to_col[rows].astype(np.int64)
    # Imported here: scipy.optimize costs a quarter of a second at start-up, and the default
    # solver never needs it.
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(cost)
    return rows.astype(np.int64), cols.astype(np.int64)


def min_cost_matching(cost: np.ndarray, max_cost: float, solver: str = "lapjv") -> Matching:
    """Globally optimal matching with a rejection threshold.

    Args:
        cost: ``(R, C)`` costs; entries above ``max_cost`` (gated pairs included) are clamped
            to ``max_cost + 1e-5`` before solving, so they never force other pairs apart.
        max_cost: Largest cost an accepted match may have.
        solver: See :func:`solve_assignment`.

    Returns:
        ``(matched_rows (K,), matched_cols (K,), unmatched_rows, unmatched_cols)``: int64
        arrays of local row / column indices.
    """
    n_rows, n_cols = cost.shape
    feasible = cost <= max_cost
    # Rows and columns without a single acceptable pair cannot take part in an accepted match;
    # dropping them before solving leaves the accepted matches unchanged (all their clamped
    # costs are equal) and shrinks the problem, often to nothing.
    live_rows = feasible.any(axis=1).nonzero()[0]
    if live_rows.size == 0:
        return _EMPTY, _EMPTY, np.arange(n_rows, dtype=np.int64), np.arange(n_cols, dtype=np.int64)
    live_cols = feasible.any(axis=0).nonzero()[0]
    # Two takes are about twice as fast as np.ix_ on the small matrices of a frame.
    clamped = np.minimum(cost[live_rows][:, live_cols], max_cost + 1e-5)
    local_rows, local_cols = solve_assignment(clamped, solver)
    accepted = clamped[local_rows, local_cols] <= max_cost
    rows, cols = live_rows[local_rows[accepted]], live_cols[local_cols[accepted]]
    row_free = np.ones(n_rows, dtype=bool)
    row_free[rows] = False
    col_free = np.ones(n_cols, dtype=bool)
    col_free[cols] = False
    return rows, cols, row_free.nonzero()[0], col_free.nonzero()[0]


def matching_cascade(
    cost: np.ndarray,
    max_cost: float,
    time_since_update: np.ndarray,
    cascade_depth: int,
    solver: str = "lapjv",
) -> Matching:
    """DeepSORT's matching cascade.

    Tracks are matched level by level, level ``k`` holding the tracks last updated ``k`` frames
    ago (``k = 1 .. cascade_depth``), each level against the detections still unmatched.

    Args:
        cost: ``(R, C)`` gated costs for all candidate tracks.
        max_cost: Largest accepted cost.
        time_since_update: ``(R,)`` frames since each track was last updated (>= 1 after
            prediction).
        cascade_depth: Deepest level matched (DeepSORT uses ``max_age``).
        solver: See :func:`solve_assignment`.

    Returns:
        Same layout as :func:`min_cost_matching`.
    """
    n_rows, n_cols = cost.shape
    free_cols = np.arange(n_cols, dtype=np.int64)
    matched_rows, matched_cols = [_EMPTY], [_EMPTY]
    levels = np.unique(time_since_update[time_since_update <= cascade_depth])
    for level in levels:  # at most cascade_depth iterations, never one per track
        if free_cols.size == 0:
            break
        level_rows = (time_since_update == level).nonzero()[0]
        rows, cols, _, still_free = min_cost_matching(
            cost[np.ix_(level_rows, free_cols)], max_cost, solver
        )
        matched_rows.append(level_rows[rows])
        matched_cols.append(free_cols[cols])
        free_cols = free_cols[still_free]
    rows = np.concatenate(matched_rows)
    row_free = np.ones(n_rows, dtype=bool)
    row_free[rows] = False
    return rows, np.concatenate(matched_cols), row_free.nonzero()[0], free_cols
