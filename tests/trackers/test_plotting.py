"""Drawing tracks: boxes, identities and trails over the frames drawn."""

import numpy as np
import pytest

from trackers.plotting import TrackPlotter, draw_tracks


def _tracks(t, ids=(1, 2)):
    rows = [[50 + 100 * i + 10 * t, 40, 90 + 100 * i + 10 * t, 140, i, 0.9, 0, 0] for i in ids]
    return np.array(rows, dtype=np.float64)


def test_trails_span_the_last_trail_length_drawn_frames():
    frame = np.zeros((200, 400, 3), np.uint8)
    plotter = TrackPlotter(trail_length=3)
    for t in range(6):
        drawn = plotter.draw(frame, _tracks(t))
    assert not frame.any() and drawn.any()
    expected = draw_tracks(
        frame,
        _tracks(5),
        {i: np.array([[70 + 100 * i + 10 * t, 90] for t in (3, 4, 5)], float) for i in (1, 2)},
    )
    assert np.array_equal(drawn, expected)


def test_reset_forgets_the_trails_and_bad_tracks_raise():
    frame = np.zeros((200, 400, 3), np.uint8)
    plotter = TrackPlotter(trail_length=5)
    for t in range(4):
        plotter.draw(frame, _tracks(t))
    plotter.reset()
    assert np.array_equal(plotter.draw(frame, _tracks(4)), draw_tracks(frame, _tracks(4), {}))
    with pytest.raises(ValueError, match="tracks"):
        plotter.draw(frame, np.zeros((2, 5)))
