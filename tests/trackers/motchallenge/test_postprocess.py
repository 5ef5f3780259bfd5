"""GSI and linear interpolation of result rows."""

import numpy as np
import pytest

from strongsort_reid.utils.motchallenge import read_results, write_results
from trackers.motchallenge.postprocess import (
    gaussian_smooth,
    gsi,
    linear_interpolation,
    postprocess_file,
)


def _track(track_id, frames, x0=100.0, vx=2.0, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    frames = np.asarray(frames, dtype=float)
    rows = np.full((frames.size, 10), -1.0)
    rows[:, 0] = frames
    rows[:, 1] = track_id
    rows[:, 2] = x0 + vx * frames + rng.normal(0, noise, frames.size)
    rows[:, 3] = 50.0
    rows[:, 4] = 40.0
    rows[:, 5] = 100.0
    rows[:, 6] = 1.0
    return rows


def test_linear_interpolation_fills_short_gaps_exactly():
    frames = [1, 2, 3, 8, 9, 40, 41]  # gap of 4 missing frames, then a gap of 30
    rows = np.vstack([_track(1, frames), _track(2, [5, 7])])
    out = linear_interpolation(rows, interval=20)
    track1 = out[out[:, 1] == 1]
    assert track1[:, 0].tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 40, 41]
    np.testing.assert_allclose(track1[:, 2], 100 + 2 * track1[:, 0])
    assert out[out[:, 1] == 2][:, 0].tolist() == [5, 6, 7]
    assert np.all(np.diff(out[:, 0]) >= 0)  # sorted by frame
    np.testing.assert_array_equal(out[:, 7:], -1)


def test_interval_boundary_follows_strongsort():
    rows = _track(1, [1, 20])  # 20 - 1 = 19 < 20: filled
    assert len(linear_interpolation(rows, 20)) == 20
    rows = _track(1, [1, 21])  # 20 frames apart: left alone
    assert len(linear_interpolation(rows, 20)) == 2


def test_gaussian_smoothing_reduces_noise_and_keeps_rows():
    rows = np.vstack([_track(1, range(1, 151), noise=3.0), _track(2, range(1, 4))])
    out = gaussian_smooth(rows, tau=10)
    assert out.shape == rows.shape
    np.testing.assert_array_equal(np.sort(out[:, :2], axis=0), np.sort(rows[:, :2], axis=0))
    track1 = out[out[:, 1] == 1]
    error_before = np.std(rows[rows[:, 1] == 1][:, 2] - (100 + 2 * track1[:, 0]))
    error_after = np.std(track1[:, 2] - (100 + 2 * track1[:, 0]))
    assert error_after < 0.7 * error_before
    np.testing.assert_allclose(
        out[:, 3:6], rows[np.lexsort((rows[:, 1], rows[:, 0]))][:, 3:6], atol=1e-3
    )  # constant coordinates stay put


def test_gsi_and_file_round_trip(tmp_path):
    rows = _track(3, [1, 2, 3, 6, 7, 8], noise=1.0)
    out = gsi(rows)
    assert out[:, 0].tolist() == [1, 2, 3, 4, 5, 6, 7, 8]
    src = write_results(tmp_path / "in.txt", rows)
    dst = postprocess_file(src, tmp_path / "out.txt", method="linear")
    assert len(read_results(dst)) == 8
    postprocess_file(src, src, method="gsi")
    assert len(read_results(src)) == 8
    with pytest.raises(ValueError, match="method"):
        postprocess_file(src, dst, method="aflink")


def test_empty_and_bad_inputs():
    assert linear_interpolation(np.empty((0, 10))).shape == (0, 10)
    assert gaussian_smooth(np.empty((0, 10))).shape == (0, 10)
    with pytest.raises(ValueError, match="rows"):
        gsi(np.zeros((3, 7)))


def test_gsi_smoothing_is_the_gp_posterior_mean_with_the_adaptive_length_scale():
    """Reference: GP regression with a fixed RBF kernel and noise 1e-10 (the authors' sklearn
    GaussianProcessRegressor), predicted at the track's own frames."""
    rows = _track(1, [2, 3, 5, 6, 9, 10, 11], noise=2.0, seed=3)
    out = gaussian_smooth(rows, tau=10)
    times = rows[:, 0]
    length_scale = np.clip(10 * np.log(10**3 / len(times)), 1 / 10, 10**2)
    assert length_scale == pytest.approx(10 * np.log(1000 / 7))
    kernel = np.exp(-0.5 * ((times[:, None] - times[None, :]) / length_scale) ** 2)
    expected = kernel @ np.linalg.lstsq(kernel + 1e-10 * np.eye(len(times)), rows[:, 2:6])[0]
    np.testing.assert_allclose(out[:, 2:6], expected, atol=1e-4)
    np.testing.assert_array_equal(out[:, [0, 1, 6]], rows[:, [0, 1, 6]])


def test_gsi_leaves_very_long_tracks_almost_unsmoothed():
    # Beyond tau**3 frames the length scale is clipped to 1 / tau: neighbours barely correlate.
    rows = _track(1, range(1, 1101), noise=2.0, seed=4)
    out = gaussian_smooth(rows, tau=10)
    np.testing.assert_allclose(out[:, 2:6], rows[:, 2:6], atol=1e-6)


def test_gsi_default_interval_is_20():
    rows = _track(1, [1, 20, 41])  # gaps of 19 (filled) and 21 (left alone) frames
    assert gsi(rows)[:, 0].tolist() == [*range(1, 21), 41]
