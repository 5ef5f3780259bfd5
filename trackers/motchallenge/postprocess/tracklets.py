"""Tracklets of MOTChallenge result rows and the id merge shared by the offline linkers.

A *tracklet* is all rows of one identity. Linking decides that tracklet ``j`` continues
tracklet ``i`` (``i`` ends before ``j`` starts); :func:`assign_links` picks at most one successor
and one predecessor per tracklet by a global (Hungarian) assignment, and :func:`merge_links`
gives every chain ``i -> j -> k`` the identity of its first tracklet.

Rows are ``(R, 10)`` ``frame, id, x, y, w, h, conf, -1, -1, -1`` (see
:mod:`strongsort_reid.utils.motchallenge`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Tuple

import numpy as np
from scipy.optimize import linear_sum_assignment


def check_rows(rows: np.ndarray) -> np.ndarray:
    """``rows`` as ``(R, 10)`` float64, or a ``ValueError`` naming the wrong shape."""
    rows = np.asarray(rows, dtype=np.float64)
    if rows.size == 0:
        return np.empty((0, 10))
    if rows.ndim != 2 or rows.shape[1] != 10:
        raise ValueError(f"rows must have shape (R, 10), got {rows.shape}")
    if not np.isfinite(rows[:, :6]).all():
        raise ValueError("rows hold NaN or infinite frame, id or box values")
    return rows


@dataclass
class Tracklets:
    """The tracklets of a set of rows, ordered by identity.

    Attributes:
        ids: ``(T,)`` identity of each tracklet.
        members: ``T`` arrays of row indices into the rows, each sorted by frame.
        starts: ``(T,)`` first frame.
        ends: ``(T,)`` last frame.
        first_boxes: ``(T, 4)`` ``x, y, w, h`` (pixels) of the first row.
        last_boxes: ``(T, 4)`` ``x, y, w, h`` of the last row.
    """

    ids: np.ndarray
    members: List[np.ndarray]
    starts: np.ndarray
    ends: np.ndarray
    first_boxes: np.ndarray
    last_boxes: np.ndarray

    @classmethod
    def from_rows(cls, rows: np.ndarray) -> Tracklets:
        rows = check_rows(rows)
        order = np.lexsort((rows[:, 0], rows[:, 1]))  # by id, then frame
        ids, firsts = np.unique(rows[order, 1], return_index=True)
        members = np.split(order, firsts[1:]) if ids.size else []
        first = np.array([m[0] for m in members], dtype=np.int64)
        last = np.array([m[-1] for m in members], dtype=np.int64)
        return cls(
            ids=ids,
            members=members,
            starts=rows[first, 0] if ids.size else np.empty(0),
            ends=rows[last, 0] if ids.size else np.empty(0),
            first_boxes=rows[first, 2:6] if ids.size else np.empty((0, 4)),
            last_boxes=rows[last, 2:6] if ids.size else np.empty((0, 4)),
        )

    def __len__(self) -> int:
        return int(self.ids.size)

    def gaps(self) -> np.ndarray:
        """``(T, T)`` frames from the end of tracklet ``i`` to the start of ``j``
        (``start_j - end_i``; positive when ``j`` begins after ``i`` ended)."""
        return self.starts[None, :] - self.ends[:, None]


def assign_links(cost: np.ndarray, max_cost: float) -> List[Tuple[int, int]]:
    """One-to-one links ``(i, j)`` (``j`` continues ``i``) of least total cost.

    Args:
        cost: ``(T, T)`` cost of linking ``i -> j``; ``inf`` (or any value ``>= max_cost``)
            where the link is not allowed.
        max_cost: Links must cost strictly less than this.

    Returns:
        ``[(i, j), ...]`` with every ``i`` and every ``j`` at most once.
    """
    allowed = np.isfinite(cost) & (cost < max_cost)
    rows = np.flatnonzero(allowed.any(axis=1))
    cols = np.flatnonzero(allowed.any(axis=0))
    if rows.size == 0:
        return []
    sub = cost[np.ix_(rows, cols)]
    # A finite stand-in for forbidden entries, larger than any sum of allowed ones.
    blocked = np.where(allowed[np.ix_(rows, cols)], sub, max_cost * (sub.shape[0] + 1) + 1.0)
    chosen_rows, chosen_cols = linear_sum_assignment(blocked)
    keep = allowed[rows[chosen_rows], cols[chosen_cols]]
    return [(int(i), int(j)) for i, j in zip(rows[chosen_rows[keep]], cols[chosen_cols[keep]])]


def merge_links(rows: np.ndarray, tracklets: Tracklets, links: List[Tuple[int, int]]):
    """Give each chain of linked tracklets the identity of its first tracklet.

    Args:
        rows: The ``(R, 10)`` rows ``tracklets`` was made from.
        tracklets: Their tracklets.
        links: ``(i, j)`` pairs from :func:`assign_links`; ``j`` must start after ``i`` ends.

    Returns:
        ``(R, 10)`` rows with merged ids, sorted by frame then id.
    """
    rows = check_rows(rows).copy()
    predecessor = {j: i for i, j in links}
    for j in predecessor:
        if tracklets.starts[j] <= tracklets.ends[predecessor[j]]:
            raise ValueError("a link must join a tracklet to one that starts after it ends")
    for j in sorted(predecessor, key=lambda t: tracklets.starts[t]):
        head = j
        while head in predecessor:
            head = predecessor[head]
        rows[tracklets.members[j], 1] = tracklets.ids[head]
    return rows[np.lexsort((rows[:, 1], rows[:, 0]))]
