"""k-reciprocal re-ranking (Zhong et al., "Re-ranking Person Re-identification with k-reciprocal
Encoding", CVPR 2017), in the distance-matrix form torchreid uses, vectorised.

Steps, with ``N = num_query + num_gallery`` probes over the joint set:

1. ``d(i, j)``: squared input distances, each column divided by its maximum, transposed.
2. ``R(i, k)``: the k-reciprocal neighbours of ``i``, i.e. ``j`` in the top ``k+1`` of ``i``
   whose own top ``k+1`` contains ``i``.
3. Expansion ``R*(i)``: add ``R(c, k/2)`` for each ``c`` in ``R(i, k1)`` when more than two
   thirds of it already lies in ``R(i, k1)``.
4. ``V(i, j) = exp(-d(i, j)) / sum`` over ``j`` in ``R*(i)`` (0 elsewhere); then local query
   expansion: ``V(i) <- mean of V`` over the ``k2`` nearest neighbours of ``i``.
5. Jaccard distance ``1 - sum_j min(V_i, V_g) / sum_j max(V_i, V_g)``, written as
   ``1 - m / (2 - m)`` with ``m = sum_j min`` because every row of ``V`` sums to one.
6. Final distance ``(1 - lambda) * jaccard + lambda * d``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["re_ranking"]


def re_ranking(
    q_g_dist: np.ndarray,
    q_q_dist: np.ndarray,
    g_g_dist: np.ndarray,
    k1: int = 20,
    k2: int = 6,
    lambda_value: float = 0.3,
) -> np.ndarray:
    """Re-rank a query-gallery distance matrix with k-reciprocal encoding.

    Args:
        q_g_dist: ``(Q, G)`` query-gallery distances.
        q_q_dist: ``(Q, Q)`` query-query distances.
        g_g_dist: ``(G, G)`` gallery-gallery distances.
        k1: neighbourhood size of the k-reciprocal sets (paper: 20).
        k2: neighbourhood size of the local query expansion (paper: 6; 1 disables it).
        lambda_value: weight of the original distance in the final one (paper: 0.3).

    Returns:
        ``(Q, G)`` ``float32`` re-ranked distances.

    Raises:
        ValueError: inconsistent shapes or non-positive ``k1``/``k2``.
    """
    q_g_dist, q_q_dist, g_g_dist = (np.asarray(a) for a in (q_g_dist, q_q_dist, g_g_dist))
    if q_g_dist.ndim != 2:
        raise ValueError(f"q_g_dist must be 2-D (Q, G), got shape {q_g_dist.shape}")
    num_q, num_g = q_g_dist.shape
    if q_q_dist.shape != (num_q, num_q):
        raise ValueError(f"q_q_dist must have shape {(num_q, num_q)}, got {q_q_dist.shape}")
    if g_g_dist.shape != (num_g, num_g):
        raise ValueError(f"g_g_dist must have shape {(num_g, num_g)}, got {g_g_dist.shape}")
    if k1 < 1 or k2 < 1:
        raise ValueError(f"k1 and k2 must be >= 1, got k1={k1}, k2={k2}")
    num_all = num_q + num_g

    dist = np.block([[q_q_dist, q_g_dist], [q_g_dist.T, g_g_dist]])
    dist = np.power(dist, 2).astype(np.float32)
    dist = np.transpose(dist / np.max(dist, axis=0))  # stays float32
    initial_rank = np.argsort(dist, axis=1, kind="stable")

    recip, recip_valid = _k_reciprocal(initial_rank, k1)
    half_k = int(np.around(k1 / 2.0))
    half, half_valid = _k_reciprocal(initial_rank, half_k)
    expansion = _expand(recip, recip_valid, half, half_valid, num_all)

    weight = np.where(expansion, np.exp(-dist), np.float32(0.0))
    total = weight.sum(axis=1, keepdims=True)
    total[total == 0] = 1  # an empty k-reciprocal set leaves its row of V at zero
    V = (weight / total).astype(np.float32)
    if k2 != 1:
        V = _query_expansion(V, initial_rank[:, :k2])

    min_sum = _min_overlap(V, num_q)
    jaccard = (1 - min_sum / (2.0 - min_sum)).astype(np.float32)
    final = jaccard * (1 - lambda_value) + dist[:num_q] * lambda_value
    return final[:, num_q:].astype(np.float32)


def _k_reciprocal(initial_rank: np.ndarray, k: int):
    """k-reciprocal neighbour sets of every probe, in forward-rank order.

    Returns:
        ``(N, k+1)`` candidate indices (the forward top ``k+1``) and a mask of those that are
        reciprocal (``i`` is in their own top ``k+1``).
    """
    num_all = initial_rank.shape[0]
    forward = initial_rank[:, : k + 1]  # (N, k+1)
    # Membership "b in top(a)" as sorted keys a * N + b; reciprocity asks "i in top(j)".
    members = np.sort((np.arange(num_all)[:, None] * num_all + forward).ravel())
    query = forward * num_all + np.arange(num_all)[:, None]
    found = np.searchsorted(members, query)
    valid = members[np.minimum(found, members.size - 1)] == query
    return forward, valid


def _expand(recip, recip_valid, half, half_valid, num_all):
    """Boolean ``(N, N)`` mask of the expanded sets ``R*(i)`` (step 3)."""
    rows = np.arange(num_all)
    in_recip = np.zeros((num_all, num_all), dtype=bool)
    in_recip[np.broadcast_to(rows[:, None], recip.shape)[recip_valid], recip[recip_valid]] = True

    # For every (i, candidate c in R(i)): how much of R(c, k/2) already lies in R(i).
    cand = np.where(recip_valid, recip, 0)  # (N, k+1); invalid slots masked below
    cand_sets = half[cand]  # (N, k+1, h+1)
    cand_valid = half_valid[cand] & recip_valid[:, :, None]
    overlap = (in_recip[rows[:, None, None], cand_sets] & cand_valid).sum(axis=2)
    size = cand_valid.sum(axis=2)
    accept = recip_valid & (overlap > 2.0 / 3 * size)  # (N, k+1)

    expansion = in_recip.copy()
    take = cand_valid & accept[:, :, None]
    owner = np.broadcast_to(rows[:, None, None], cand_sets.shape)
    expansion[owner[take], cand_sets[take]] = True
    return expansion


def _query_expansion(V: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    """Row ``i`` becomes the mean of ``V`` over ``neighbours[i]`` (chunked: bounded memory)."""
    out = np.empty_like(V)
    step = max(1, (1 << 24) // max(V.shape[1] * neighbours.shape[1], 1))
    for start in range(0, V.shape[0], step):
        rows = slice(start, start + step)
        out[rows] = V[neighbours[rows]].mean(axis=1)
    return out


def _min_overlap(V: np.ndarray, num_q: int) -> np.ndarray:
    """``m[i, g] = sum_j min(V[i, j], V[g, j])`` for the query rows ``i < num_q``.

    ``V`` is sparse, so only pairs of non-zeros sharing a column are visited: for each
    non-zero ``(i, j)`` of a query row, every non-zero ``(g, j)`` of column ``j``.
    """
    num_all = V.shape[0]
    col_rows, col_cols = np.nonzero(V.T)  # column-major listing: (column j, row g)
    col_start = np.searchsorted(col_rows, np.arange(num_all + 1))
    q_rows, q_cols = np.nonzero(V[:num_q])
    per_entry = col_start[q_cols + 1] - col_start[q_cols]
    pair_q = np.repeat(q_rows, per_entry)
    pair_col = np.repeat(q_cols, per_entry)
    # Index of each pair's partner inside the column listing.
    first = np.repeat(col_start[q_cols], per_entry)
    within = np.arange(per_entry.sum()) - np.repeat(np.cumsum(per_entry) - per_entry, per_entry)
    partner = col_cols[first + within]
    values = np.minimum(V[pair_q, pair_col], V[partner, pair_col])
    flat = np.bincount(pair_q * num_all + partner, weights=values, minlength=num_q * num_all)
    return flat.reshape(num_q, num_all)
