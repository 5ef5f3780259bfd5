"""Batched Kalman filter: filterpy side by side, gating distance, NSA noise."""

import numpy as np
import pytest
from filterpy.kalman import KalmanFilter

from trackers.strongsort.kalman_filter import CHI2_95_4DOF, KalmanFilterXYAH


def _start_measurements(rng, count):
    return np.column_stack(
        [
            rng.uniform(0, 1920, count),
            rng.uniform(0, 1080, count),
            rng.uniform(0.3, 0.6, count),
            rng.uniform(40, 300, count),
        ]
    )


@pytest.mark.parametrize("nsa", [False, True])
def test_matches_filterpy_step_by_step(nsa):
    rng = np.random.default_rng(0)
    kf = KalmanFilterXYAH()
    tracks = 5
    start = _start_measurements(rng, tracks)
    mean, cov = kf.initiate(start)
    references = []
    for i in range(tracks):
        ref = KalmanFilter(dim_x=8, dim_z=4)
        ref.F = kf.motion_mat.copy()
        ref.H = kf.update_mat.copy()
        ref.x = mean[i].copy()
        ref.P = cov[i].copy()
        references.append(ref)
    truth = start.copy()
    for step in range(40):
        # Same Q as ours, computed from the state before prediction.
        for ref in references:
            ref.Q = np.diag(kf.process_variance(ref.x[None, :])[0])
            ref.predict()
        mean, cov = kf.predict(mean, cov)
        for i, ref in enumerate(references):
            np.testing.assert_allclose(mean[i], ref.x, rtol=1e-9, atol=1e-9)
            np.testing.assert_allclose(cov[i], ref.P, rtol=1e-9, atol=1e-9)
        if step % 5 == 4:
            continue  # a missed frame: prediction only
        truth[:, :2] += rng.normal(3, 1, (tracks, 2))
        measurement = truth + rng.normal(0, 1, truth.shape) * [2, 2, 0.01, 2]
        conf = rng.uniform(0.3, 0.99, tracks) if nsa else None
        for i, ref in enumerate(references):
            ref_conf = None if conf is None else conf[i : i + 1]
            ref.R = np.diag(kf.measurement_variance(ref.x[None, :], ref_conf)[0])
            ref.update(measurement[i])
        mean, cov = kf.update(mean, cov, measurement, conf)
        for i, ref in enumerate(references):
            np.testing.assert_allclose(mean[i], ref.x, rtol=1e-9, atol=1e-9)
            np.testing.assert_allclose(cov[i], ref.P, rtol=1e-9, atol=1e-9)


def test_initiate_and_noise_follow_deepsort_weights():
    kf = KalmanFilterXYAH()
    mean, cov = kf.initiate(np.array([[10.0, 20.0, 0.5, 100.0]]))
    np.testing.assert_array_equal(mean[0], [10, 20, 0.5, 100, 0, 0, 0, 0])
    expected_std = [10, 10, 1e-2, 10, 100 / 16, 100 / 16, 1e-5, 100 / 16]
    np.testing.assert_allclose(np.sqrt(np.diag(cov[0])), expected_std)
    np.testing.assert_allclose(np.sqrt(kf.measurement_variance(mean)[0]), [5, 5, 0.1, 5])
    np.testing.assert_allclose(
        np.sqrt(kf.process_variance(mean)[0]), [5, 5, 1e-2, 5, 0.625, 0.625, 1e-5, 0.625]
    )


def test_nsa_scales_measurement_noise_by_one_minus_confidence():
    kf = KalmanFilterXYAH()
    mean, _ = kf.initiate(np.array([[0, 0, 0.5, 80.0]] * 3))
    conf = np.array([0.0, 0.25, 0.9])
    plain = kf.measurement_variance(mean)
    scaled = kf.measurement_variance(mean, conf)
    np.testing.assert_allclose(scaled, plain * (1 - conf)[:, None])
    # A confidence of 1 keeps the innovation covariance invertible.
    assert np.all(kf.measurement_variance(mean, np.ones(3)) > 0)


def test_high_confidence_pulls_state_to_measurement():
    kf = KalmanFilterXYAH()
    mean, cov = kf.predict(*kf.initiate(np.array([[100, 100, 0.5, 100.0]] * 2)))
    measurement = np.array([[110, 100, 0.5, 100.0]] * 2)
    new_mean, _ = kf.update(mean, cov, measurement, np.array([0.1, 0.95]))
    assert abs(new_mean[1, 0] - 110) < abs(new_mean[0, 0] - 110)


def test_gating_distance_is_squared_mahalanobis():
    rng = np.random.default_rng(1)
    kf = KalmanFilterXYAH()
    mean, cov = kf.predict(*kf.initiate(_start_measurements(rng, 4)))
    measurements = mean[:3, :4] + rng.normal(0, 5, (3, 4)) * [1, 1, 0.01, 1]
    distance = kf.gating_distance(mean, cov, measurements)
    assert distance.shape == (4, 3)
    projected_mean, projected_cov = kf.project(mean, cov)
    for t in range(4):
        for n in range(3):
            d = measurements[n] - projected_mean[t]
            expected = d @ np.linalg.solve(projected_cov[t], d)
            assert distance[t, n] == pytest.approx(expected, rel=1e-9)
    position = kf.gating_distance(mean, cov, measurements, only_position=True)
    d = measurements[0, :2] - projected_mean[0, :2]
    assert position[0, 0] == pytest.approx(d @ np.linalg.solve(projected_cov[0, :2, :2], d))
    # A track's own projected mean is at distance 0, far-away boxes are gated out.
    assert kf.gating_distance(mean, cov, mean[:, :4]).diagonal() == pytest.approx(np.zeros(4))
    far = mean[:, :4] + [500, 0, 0, 0]
    assert np.all(kf.gating_distance(mean, cov, far).diagonal() > CHI2_95_4DOF)


def test_empty_batches():
    kf = KalmanFilterXYAH()
    mean, cov = kf.initiate(np.empty((0, 4)))
    assert mean.shape == (0, 8) and cov.shape == (0, 8, 8)
    mean, cov = kf.predict(mean, cov)
    assert kf.gating_distance(mean, cov, np.ones((3, 4))).shape == (0, 3)
