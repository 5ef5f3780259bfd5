"""Linear interpolation of track gaps and Gaussian-smoothed interpolation (GSI).

GSI (from the StrongSORT paper) first fills short gaps of every track linearly, then replaces each
track's boxes by the posterior mean of Gaussian process regression over time with an RBF kernel
whose length scale adapts to the track length ``l``:
``lambda = clip(tau * log(tau^3 / l), 1 / tau, tau^2)`` (``tau = 10``), with a fixed noise
level of ``1e-10`` (the default of the regressor the authors used).

A track of ``n`` rows costs ``O(n^3)`` time and ``O(n^2)`` memory in one regression (a
20,000-frame track: 90 s and 3 GB), so tracks longer than :data:`GP_MAX_ROWS` rows are solved in
windows of :data:`GP_BLOCK` rows, each with ``12 * lambda`` rows of context on both sides:
correlations fade within a few length scales, and the windowed posterior mean stayed within
``1e-3`` px of the full one in our checks (results files keep ``0.01``); time and memory grow
linearly with ``n``. With ``tau = 10`` a track that long has ``lambda = 1 / tau``, and the
result equals one regression's. Tracks up to ``GP_MAX_ROWS`` rows are solved in one regression,
as before.

The rows must hold finite values and at most one box per ``(frame, id)``: a second box of an
identity in a frame is a ``ValueError`` (it would be averaged into a box nobody saw).

All functions take and return result rows ``(R, 10)`` ``frame, id, x, y, w, h, conf, -1, -1,
-1`` (see :mod:`strongsort_reid.utils.motchallenge`), sorted by frame then id.
"""

from __future__ import annotations

from pathlib import Path
from typing import Union

import numpy as np
import scipy.linalg

from strongsort_reid.utils.motchallenge import read_results, write_results

# Noise variance of the Gaussian process (observation jitter).
GP_NOISE = 1e-10
# Most rows of a track solved in one regression; longer tracks are solved in windows of
# GP_BLOCK rows plus GP_CONTEXT length scales of context rows on each side. Windows of about 100
# rows stay below the size where OpenBLAS goes multi-threaded (on a busy machine a threaded
# Cholesky of 128 rows took 100-400 ms instead of 0.1 ms).
GP_MAX_ROWS = 1000
GP_BLOCK = 64
GP_CONTEXT = 12.0


def _check_rows(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float64)
    if rows.size == 0:
        return np.empty((0, 10))
    if rows.ndim != 2 or rows.shape[1] != 10:
        raise ValueError(f"rows must have shape (R, 10), got {rows.shape}")
    if not np.isfinite(rows[:, :7]).all():
        raise ValueError("rows must not hold NaN or inf values")
    order = np.lexsort((rows[:, 1], rows[:, 0]))
    same = (np.diff(rows[order, 0]) == 0) & (np.diff(rows[order, 1]) == 0)
    if same.any():
        frame, track_id = rows[order[np.argmax(same)], :2]
        raise ValueError(
            f"rows hold 2 boxes for id {track_id:g} in frame {frame:g} ({int(same.sum())} "
            "repeated (frame, id) in all): one box per identity and frame"
        )
    return rows


def _by_frame(rows: np.ndarray) -> np.ndarray:
    return rows[np.lexsort((rows[:, 1], rows[:, 0]))]


def linear_interpolation(rows: np.ndarray, interval: int = 20) -> np.ndarray:
    """Fill missing frames inside tracks by linear interpolation.

    A gap between consecutive boxes of one identity at frames ``f0 < f1`` is filled when
    ``1 < f1 - f0 < interval`` (so at most ``interval - 2`` missing frames), as in StrongSORT.
    Every column (box and confidence) is interpolated.

    Args:
        rows: ``(R, 10)`` result rows.
        interval: Gap limit, see above.

    Returns:
        ``(R + filled, 10)`` rows sorted by frame then id.
    """
    rows = _check_rows(rows)
    if rows.shape[0] < 2:
        return rows.copy()
    rows = rows[np.lexsort((rows[:, 0], rows[:, 1]))]  # by id, then frame
    step = rows[1:, 0] - rows[:-1, 0]
    fill = (rows[1:, 1] == rows[:-1, 1]) & (step > 1) & (step < interval)
    counts = np.where(fill, step - 1, 0).astype(np.int64)
    if counts.sum() == 0:
        return _by_frame(rows)
    gap = np.repeat(np.arange(step.size), counts)  # the row before each filled frame
    offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + 1
    fraction = (offset / step[gap])[:, None]
    filled = rows[gap] + (rows[gap + 1] - rows[gap]) * fraction
    filled[:, 0] = rows[gap, 0] + offset  # exact integer frames
    return _by_frame(np.concatenate([rows, filled]))


def gaussian_smooth(rows: np.ndarray, tau: float = 10.0, max_rows: int = GP_MAX_ROWS) -> np.ndarray:
    """Smooth every track's ``x, y, w, h`` by Gaussian process regression over its frames.

    Args:
        rows: ``(R, 10)`` result rows.
        tau: Controls the adaptive RBF length scale (see the module docstring).
        max_rows: Most rows of one regression; longer tracks are solved in windows of
            ``min(GP_BLOCK, max_rows)`` rows (module docstring).

    Returns:
        ``(R, 10)`` rows (same frames, ids and confidences) sorted by frame then id.
    """
    rows = _check_rows(rows)
    if rows.shape[0] == 0:
        return rows.copy()
    rows = rows[np.lexsort((rows[:, 0], rows[:, 1]))]
    out = rows.copy()
    starts = np.flatnonzero(np.r_[True, rows[1:, 1] != rows[:-1, 1]])
    stops = np.r_[starts[1:], rows.shape[0]]
    for start, stop in zip(starts, stops):  # one regression per track
        times = rows[start:stop, 0]
        length_scale = np.clip(tau * np.log(tau**3 / times.size), 1.0 / tau, tau**2)
        out[start:stop, 2:6] = _smooth_track(times, rows[start:stop, 2:6], length_scale, max_rows)
    return _by_frame(out)


def _smooth_track(
    times: np.ndarray, values: np.ndarray, length_scale: float, max_rows: int
) -> np.ndarray:
    """GP posterior mean of one track ``(n,)`` times, ``(n, 4)`` values: one regression up to
    ``max_rows`` rows, else windows of ``block = min(GP_BLOCK, max_rows)`` rows with
    ``GP_CONTEXT`` length scales of context rows on each side (each regression then has at
    most ``block + 2 * context`` rows)."""
    n = times.size
    if n <= max_rows:
        return _gp_posterior_mean(times, values, length_scale)
    block = min(GP_BLOCK, max_rows)
    context = int(np.ceil(GP_CONTEXT * length_scale)) + 1
    out = np.empty_like(values)
    for start in range(0, n, block):
        stop = min(start + block, n)
        low, high = max(0, start - context), min(n, stop + context)
        mean = _gp_posterior_mean(times[low:high], values[low:high], length_scale)
        out[start:stop] = mean[start - low : stop - low]
    return out


def _gp_posterior_mean(times: np.ndarray, values: np.ndarray, length_scale: float) -> np.ndarray:
    """``K (K + noise I)^-1 Y`` for an RBF kernel ``K`` on ``times`` ``(n,)``, ``Y (n, 4)``."""
    diff = times[:, None] - times[None, :]
    kernel = np.exp(-0.5 * (diff / length_scale) ** 2)
    try:
        factor = scipy.linalg.cho_factor(kernel + GP_NOISE * np.eye(times.size), lower=True)
        return kernel @ scipy.linalg.cho_solve(factor, values)
    except np.linalg.LinAlgError:
        # Rounding can make the nearly singular kernel indefinite; the eigendecomposition gives
        # the same posterior mean without needing positive definiteness.
        eigenvalues, vectors = np.linalg.eigh(kernel)
        eigenvalues = np.maximum(eigenvalues, 0.0)
        shrink = eigenvalues / (eigenvalues + GP_NOISE)
        return vectors @ (shrink[:, None] * (vectors.T @ values))


def gsi(rows: np.ndarray, interval: int = 20, tau: float = 10.0) -> np.ndarray:
    """Gaussian-smoothed interpolation: :func:`linear_interpolation` then
    :func:`gaussian_smooth`."""
    return gaussian_smooth(linear_interpolation(rows, interval), tau)


def postprocess_file(
    source: Union[str, Path],
    destination: Union[str, Path],
    method: str = "gsi",
    interval: int = 20,
    tau: float = 10.0,
) -> Path:
    """Post-process a MOTChallenge results file and write the result atomically.

    Args:
        source: Results file to read.
        destination: File to write (may equal ``source``).
        method: ``"gsi"`` or ``"linear"``.
        interval: Gap limit of the interpolation.
        tau: GSI smoothing parameter.
    """
    if method not in ("gsi", "linear"):
        raise ValueError(f"method must be 'gsi' or 'linear', got {method!r}")
    rows = read_results(source)
    rows = gsi(rows, interval, tau) if method == "gsi" else linear_interpolation(rows, interval)
    return write_results(destination, rows)
