"""Appearance memory of tracks and the cosine distance to detection embeddings.

Each track keeps a bank of ``B`` L2-normalised embeddings, stored for all ``T`` tracks in one
``(T, B, D)`` float32 array:

* StrongSORT (**EMA**, ``B = 1``): ``e_t = alpha * e_{t-1} + (1 - alpha) * f_t``, re-normalised
  (the paper uses ``alpha = 0.9``).
* DeepSORT (gallery, ``B = nn_budget``): a ring buffer of the last ``B`` embeddings; the distance
  of a track to a detection is the smallest cosine distance over its gallery.
"""

from __future__ import annotations

import numpy as np

# OpenBLAS runs a GEMM multi-threaded once m * n * k exceeds about 2**18. For the small products
# of a tracker, waking threads costs more than it saves, and when the cores are busy (a ReID
# model in the same process, other jobs) a threaded call can stall for milliseconds, so
# products are split into row blocks that stay single-threaded.
_GEMM_SINGLE_THREAD_SIZE = 1 << 18


def normalize_rows(features: np.ndarray) -> np.ndarray:
    """L2-normalise ``(N, D)`` rows to float32; all-zero rows stay zero (no NaN)."""
    features = np.asarray(features, dtype=np.float32)
    norms = np.sqrt(np.einsum("ij,ij->i", features, features))
    return features / np.maximum(norms, np.float32(1e-12))[:, None]


def cosine_distance(bank: np.ndarray, counts: np.ndarray, features: np.ndarray) -> np.ndarray:
    """Smallest cosine distance between each track's stored embeddings and each detection.

    Args:
        bank: ``(T, B, D)`` float32 unit embeddings of ``T`` tracks.
        counts: ``(T,)`` number of embeddings ever stored per track; slots ``>= min(count, B)``
            are empty.
        features: ``(N, D)`` float32 unit detection embeddings.

    Returns:
        ``(T, N)`` float64 distances ``1 - cos`` in ``[0, 2]``.
    """
    n_tracks, budget, dim = bank.shape
    similarity = small_matmul(bank.reshape(n_tracks * budget, dim), features.T)
    if budget > 1:
        similarity = similarity.reshape(n_tracks, budget, -1)
        empty = np.arange(budget)[None, :] >= counts[:, None]
        similarity[empty] = -np.inf
        similarity = similarity.max(axis=1)
    return 1.0 - similarity.astype(np.float64)


def small_matmul(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``left @ right`` for ``(M, K) @ (K, N)`` float32, in single-threaded BLAS row blocks."""
    rows_per_call = max(1, _GEMM_SINGLE_THREAD_SIZE // max(1, right.shape[0] * right.shape[1]))
    if left.shape[0] <= rows_per_call:
        return left @ right
    out = np.empty((left.shape[0], right.shape[1]), dtype=np.result_type(left, right))
    for start in range(0, left.shape[0], rows_per_call):  # a few blocks, not one per track
        np.matmul(
            left[start : start + rows_per_call], right, out=out[start : start + rows_per_call]
        )
    return out


def ema_update(bank: np.ndarray, rows: np.ndarray, features: np.ndarray, alpha) -> None:
    """Blend new embeddings into single-slot banks in place (StrongSORT EMA).

    Args:
        bank: ``(T, 1, D)`` float32 bank, modified in place.
        rows: ``(K,)`` track rows to update.
        features: ``(K, D)`` float32 unit embeddings of the matched detections.
        alpha: Weight of the previous embedding: a float, or ``(K,)`` per row.
    """
    alpha = np.asarray(alpha, dtype=np.float32)
    if alpha.ndim:
        alpha = alpha[:, None]
    blended = alpha * bank[rows, 0, :] + (1.0 - alpha) * features
    bank[rows, 0, :] = normalize_rows(blended)


def latest_features(bank: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``(T, D)`` the current embedding of each track: the EMA (``B = 1``), or the gallery's
    most recent one, from a ``(T, B, D)`` bank with ``(T,)`` counts (each at least 1)."""
    slots = (counts - 1) % bank.shape[1]
    return bank[np.arange(bank.shape[0]), slots]


def adaptive_alpha(conf: np.ndarray, alpha: float, min_conf: float) -> np.ndarray:
    """Deep OC-SORT's confidence-adaptive EMA weight of the previous embedding.

    ``alpha_t = alpha + (1 - alpha) * (1 - (conf - min_conf) / (1 - min_conf))``: a detection
    at ``min_conf`` leaves the embedding unchanged, one of confidence 1 updates it with the
    plain ``alpha``.

    Args:
        conf: ``(K,)`` detection confidences.
        alpha: The EMA weight for a fully confident detection.
        min_conf: The tracker's confidence threshold.

    Returns:
        ``(K,)`` float64 weights in ``[alpha, 1]``.
    """
    trust = (np.asarray(conf, dtype=np.float64) - min_conf) * (1.0 / max(1.0 - min_conf, 1e-6))
    # alpha + (1 - alpha) * (1 - trust), with trust clipped to [0, 1]; maximum/minimum are
    # cheaper than np.clip on the few rows of a frame.
    return 1.0 - (1.0 - alpha) * np.minimum(np.maximum(trust, 0.0), 1.0)


def gallery_push(
    bank: np.ndarray, counts: np.ndarray, rows: np.ndarray, features: np.ndarray
) -> None:
    """Append embeddings to ring-buffer galleries in place (DeepSORT ``nn_budget``).

    Args:
        bank: ``(T, B, D)`` float32 galleries, modified in place.
        counts: ``(T,)`` int64 embeddings stored so far per track, incremented in place.
        rows: ``(K,)`` distinct track rows.
        features: ``(K, D)`` float32 unit embeddings.
    """
    slots = counts[rows] % bank.shape[1]
    bank[rows, slots, :] = features
    counts[rows] += 1
