"""Constant-velocity Kalman filter on ``xyah`` boxes, batched over all tracks.

The state of one track is the 8-vector ``(x, y, a, h, vx, vy, va, vh)``: box centre ``(x, y)``,
aspect ratio ``a = w / h``, height ``h`` (pixels) and their velocities (per frame). The box
``(x, y, a, h)`` is observed directly (linear observation model ``H = [I 0]``).

Every method works on ``T`` tracks at once: means are ``(T, 8)`` and covariances ``(T, 8, 8)``
float64 arrays, so the tracker never loops over tracks in Python.

Noise follows DeepSORT: standard deviations proportional to the box height with weights
``1/20`` (position) and ``1/160`` (velocity), and ``1e-2`` / ``1e-5`` / ``1e-1`` for the aspect
ratio, which barely changes. StrongSORT's NSA Kalman filter scales the measurement noise by the
detection confidence ``c``: ``R_nsa = (1 - c) * R`` (the paper's NSA formula; the authors' code
scales the standard deviations instead, i.e. ``(1 - c)**2 * R``).
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

# 0.95 quantile of the chi-square distribution with 4 degrees of freedom: the Mahalanobis gate
# for a 4-d (x, y, a, h) measurement.
CHI2_95_4DOF = 9.4877
# 0.95 quantile with 2 degrees of freedom, for gating on the centre position only.
CHI2_95_2DOF = 5.9915
# Smallest NSA noise factor 1 - c: keeps R positive definite for confidences of 1.
_MIN_NSA_FACTOR = 1e-6


class KalmanFilterXYAH:
    """Batched constant-velocity Kalman filter for ``(x, y, a, h)`` boxes.

    Args:
        std_weight_position: Position noise standard deviation per pixel of box height.
        std_weight_velocity: Velocity noise standard deviation per pixel of box height.
    """

    ndim = 4

    def __init__(
        self, std_weight_position: float = 1.0 / 20, std_weight_velocity: float = 1.0 / 160
    ):
        self.std_weight_position = float(std_weight_position)
        self.std_weight_velocity = float(std_weight_velocity)
        # F = [[I, I], [0, I]] with dt = 1 frame; H = [I, 0].
        self.motion_mat = np.eye(2 * self.ndim)
        self.motion_mat[: self.ndim, self.ndim :] = np.eye(self.ndim)
        self.update_mat = np.eye(self.ndim, 2 * self.ndim)
        self._diag8 = np.arange(2 * self.ndim)
        self._diag4 = np.arange(self.ndim)
        self._build_noise_vectors()

    # -- noise models -------------------------------------------------------------------------
    # Every standard deviation is ``weight * h + constant``, so the noise of all tracks is one
    # outer product with the (weight, constant) vectors built here once.

    def _build_noise_vectors(self) -> None:
        wp, wv = self.std_weight_position, self.std_weight_velocity
        self._initial_weights = np.array([2 * wp, 2 * wp, 0, 2 * wp, 10 * wv, 10 * wv, 0, 10 * wv])
        self._initial_constants = np.array([0, 0, 1e-2, 0, 0, 0, 1e-5, 0])
        self._process_weights = np.array([wp, wp, 0, wp, wv, wv, 0, wv])
        self._process_constants = np.array([0, 0, 1e-2, 0, 0, 0, 1e-5, 0])
        self._measurement_weights = np.array([wp, wp, 0, wp])
        self._measurement_constants = np.array([0, 0, 1e-1, 0])

    def initial_variance(self, heights: np.ndarray) -> np.ndarray:
        """Diagonal of the initial state covariance, ``(N, 8)``, for box heights ``(N,)``."""
        std = heights[:, None] * self._initial_weights + self._initial_constants
        return std * std

    def process_variance(self, mean: np.ndarray) -> np.ndarray:
        """Diagonal of the process noise ``Q``, ``(T, 8)``, for state means ``(T, 8)``."""
        std = mean[:, 3:4] * self._process_weights + self._process_constants
        return std * std

    def measurement_variance(
        self, mean: np.ndarray, confidence: Optional[np.ndarray] = None
    ) -> np.ndarray:
        """Diagonal of the measurement noise ``R``, ``(T, 4)``.

        Args:
            mean: ``(T, 8)`` state means (the noise scales with their height).
            confidence: ``(T,)`` detection confidences for NSA, or ``None`` for the plain
                DeepSORT noise. The factor ``1 - confidence`` is clipped to ``[1e-6, 1]`` so that
                a confidence of 1 (common in public detections) keeps the innovation covariance
                invertible.
        """
        std = mean[:, 3:4] * self._measurement_weights + self._measurement_constants
        var = std * std
        if confidence is not None:
            var *= np.minimum(np.maximum(1.0 - confidence, _MIN_NSA_FACTOR), 1.0)[:, None]
        return var

    # -- filter steps -------------------------------------------------------------------------

    def initiate(self, measurements: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Start tracks from unassociated measurements.

        Args:
            measurements: ``(N, 4)`` boxes ``(x, y, a, h)``.

        Returns:
            ``(mean (N, 8), covariance (N, 8, 8))``; velocities start at zero.
        """
        n = measurements.shape[0]
        mean = np.zeros((n, 2 * self.ndim))
        mean[:, : self.ndim] = measurements
        covariance = np.zeros((n, 2 * self.ndim, 2 * self.ndim))
        covariance[:, self._diag8, self._diag8] = self.initial_variance(measurements[:, 3])
        return mean, covariance

    def predict(self, mean: np.ndarray, covariance: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Propagate ``(T, 8)`` means and ``(T, 8, 8)`` covariances one frame forward.

        Returns:
            ``(F x, F P F^T + Q)`` as new arrays.
        """
        q = self.process_variance(mean)
        # F = [[I, I], [0, I]]: F x adds the velocities to the box, and F P F^T adds the
        # velocity rows to the box rows, then the velocity columns to the box columns.
        n = self.ndim
        new_mean = mean.copy()
        new_mean[:, :n] += mean[:, n:]
        new_cov = covariance.copy()
        new_cov[:, :n, :] += new_cov[:, n:, :]
        new_cov[:, :, :n] += new_cov[:, :, n:]
        new_cov[:, self._diag8, self._diag8] += q
        return new_mean, new_cov

    def project(
        self, mean: np.ndarray, covariance: np.ndarray, confidence: Optional[np.ndarray] = None
    ) -> Tuple[np.ndarray, np.ndarray]:
        """Project states into measurement space.

        Returns:
            ``(H x (T, 4), H P H^T + R (T, 4, 4))``; ``R`` is NSA-scaled when ``confidence`` is
            given (see :meth:`measurement_variance`).
        """
        projected_cov = covariance[:, : self.ndim, : self.ndim].copy()
        projected_cov[:, self._diag4, self._diag4] += self.measurement_variance(mean, confidence)
        return mean[:, : self.ndim], projected_cov

    def update(
        self,
        mean: np.ndarray,
        covariance: np.ndarray,
        measurements: np.ndarray,
        confidence: Optional[np.ndarray] = None,
    ) -> Tuple[np.ndarray, np.ndarray]:
        """Correct predicted states with one measurement each.

        Args:
            mean: ``(T, 8)`` predicted means.
            covariance: ``(T, 8, 8)`` predicted covariances.
            measurements: ``(T, 4)`` associated boxes ``(x, y, a, h)``.
            confidence: ``(T,)`` detection confidences for NSA, or ``None``.

        Returns:
            ``(mean (T, 8), covariance (T, 8, 8))`` after the correction
            ``K = P H^T S^-1``, ``x + K (z - H x)``, ``P - K S K^T``.
        """
        projected_mean, projected_cov = self.project(mean, covariance, confidence)
        cross_cov = covariance[:, :, : self.ndim]  # P H^T, (T, 8, 4)
        gain = cross_cov @ np.linalg.inv(projected_cov)  # K = P H^T S^-1, (T, 8, 4)
        innovation = measurements - projected_mean
        new_mean = mean + (gain @ innovation[:, :, None])[:, :, 0]
        # K S K^T = (P H^T) K^T because K S = P H^T.
        new_cov = covariance - cross_cov @ gain.transpose(0, 2, 1)
        return new_mean, new_cov

    def gating_distance(
        self,
        mean: np.ndarray,
        covariance: np.ndarray,
        measurements: np.ndarray,
        only_position: bool = False,
    ) -> np.ndarray:
        """Squared Mahalanobis distance of every measurement to every track.

        Uses the plain (not NSA-scaled) measurement noise, as DeepSORT and StrongSORT do.
        Compare with :data:`CHI2_95_4DOF` (or :data:`CHI2_95_2DOF` with ``only_position``).

        Args:
            mean: ``(T, 8)`` predicted means.
            covariance: ``(T, 8, 8)`` predicted covariances.
            measurements: ``(N, 4)`` boxes ``(x, y, a, h)``.
            only_position: Use the centre ``(x, y)`` only.

        Returns:
            ``(T, N)`` float64 squared distances.
        """
        projected_mean, projected_cov = self.project(mean, covariance)
        dims = 2 if only_position else self.ndim
        # (T, d, N) differences, so that S^-1 d is one small matmul per track.
        diff = measurements[:, :dims].T[None, :, :] - projected_mean[:, :dims, None]
        inverse = np.linalg.inv(projected_cov[:, :dims, :dims])  # (T, d, d)
        return ((inverse @ diff) * diff).sum(axis=1)
