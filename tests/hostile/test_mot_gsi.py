"""GSI on hostile result rows (issue #17, cases 7 and 10): duplicate ``(frame, id)`` rows are
refused instead of silently averaged, and one very long track costs bounded time and memory
while normal tracks keep exactly their previous result."""

import time
import tracemalloc

import numpy as np
import pytest

from trackers.motchallenge.postprocess.interpolation import (
    GP_MAX_ROWS,
    _gp_posterior_mean,
    gaussian_smooth,
    gsi,
    linear_interpolation,
    postprocess_file,
)


def _track(track_id, frames, noise=2.0, seed=0):
    """``(F, 10)`` result rows of one identity walking right, with noisy boxes."""
    rng = np.random.default_rng(seed)
    frames = np.asarray(frames, dtype=float)
    rows = np.full((frames.size, 10), -1.0)
    rows[:, 0], rows[:, 1], rows[:, 6] = frames, track_id, 1.0
    rows[:, 2] = 100 + 2 * frames + rng.normal(0, noise, frames.size)
    rows[:, 3] = 50 + rng.normal(0, noise, frames.size)
    rows[:, 4] = 40 + rng.normal(0, noise / 4, frames.size)
    rows[:, 5] = 100 + rng.normal(0, noise / 2, frames.size)
    return rows


@pytest.mark.parametrize("method", [gsi, linear_interpolation, gaussian_smooth])
def test_duplicate_frame_and_id_rows_are_refused(method):
    rows = np.vstack([_track(1, range(1, 11)), _track(2, range(1, 6))])
    duplicated = np.vstack([rows, rows[rows[:, 1] == 2][3]])  # id 2 twice in frame 4
    with pytest.raises(ValueError, match=r"2 boxes for id 2 in frame 4 .*one box per identity"):
        method(duplicated)


def test_non_finite_rows_are_refused():
    rows = _track(1, range(1, 11))
    rows[4, 3] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        gsi(rows)


def test_a_duplicated_results_file_names_the_line(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("1,1,10,20,30,60,1,-1,-1,-1\n1,1,12,20,30,60,1,-1,-1,-1\n")
    with pytest.raises(ValueError, match=rf"{source}:2: second box of id 1 in frame 1"):
        postprocess_file(source, tmp_path / "out.txt")
    assert not (tmp_path / "out.txt").exists()


@pytest.mark.parametrize("max_rows", [GP_MAX_ROWS, 60])
def test_tracks_up_to_max_rows_are_solved_in_one_regression_as_before(max_rows):
    rows = np.vstack([_track(1, range(1, 61)), _track(2, range(5, 95), seed=1)])
    out = gaussian_smooth(rows, tau=10, max_rows=max_rows)
    for track_id in (1, 2):
        mine = rows[rows[:, 1] == track_id]
        length_scale = np.clip(10 * np.log(1000 / len(mine)), 0.1, 100)
        expected = _gp_posterior_mean(mine[:, 0], mine[:, 2:6], length_scale)
        if len(mine) <= max_rows:
            np.testing.assert_array_equal(out[out[:, 1] == track_id][:, 2:6], expected)


def test_windows_of_a_long_track_match_the_exact_regression():
    """400 rows (gaps included), length scale 9 frames, in windows of 64 + 2 x 111 rows."""
    frames = np.cumsum(np.random.default_rng(2).integers(1, 3, 400))
    rows = _track(1, frames, seed=3)
    exact = gaussian_smooth(rows, tau=10, max_rows=10_000)
    windowed = gaussian_smooth(rows, tau=10, max_rows=100)
    np.testing.assert_allclose(windowed[:, 2:6], exact[:, 2:6], atol=5e-3)  # files keep 0.01
    np.testing.assert_array_equal(windowed[:, [0, 1, 6]], exact[:, [0, 1, 6]])


def test_one_twenty_thousand_frame_track_costs_bounded_time_and_memory():
    rows = _track(7, range(1, 20_001))
    tracemalloc.start()
    start = time.perf_counter()
    try:
        out = gsi(rows)
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert out.shape == rows.shape and np.isfinite(out).all()
    # Beyond tau**3 = 1000 frames the length scale is 1 / tau: the boxes barely move.
    np.testing.assert_allclose(out[:, 2:6], rows[:, 2:6], atol=1e-6)
    assert peak < 200e6  # before: one 20k x 20k kernel, 3.2 GB
    assert elapsed < 30.0  # a few seconds on a loaded 2-core machine (before: 90 s)
