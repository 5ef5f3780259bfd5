"""GSI and linear interpolation of result rows."""

import numpy as np
import pytest

from trackers.mot import read_results, write_results
from trackers.postprocess import gaussian_smooth, gsi, linear_interpolation, postprocess_file


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
