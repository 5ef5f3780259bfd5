"""Pseudo-identities from synthetic tracks: filtering, gap cutting, occlusion, co-occurrence."""

from __future__ import annotations

import numpy as np
import pytest

from trackers.adapt.mining import MiningConfig, box_coverage, clean_mask, mine_identities

CONFIG = MiningConfig(min_height=40, min_conf=0.5, max_coverage=0.25, max_gap_s=0.5,
                      min_frames=5, samples=4)  # fmt: skip
FPS = 10.0  # max_gap_s = 0.5 s -> 5 frames


def track(track_id, frames, x, height=100.0, conf=0.9):
    """Rows ``[frame, id, x1, y1, x2, y2, conf]`` of a 40 x ``height`` box at column ``x``."""
    frames = np.asarray(list(frames), dtype=np.float64)
    rows = np.zeros((len(frames), 7))
    rows[:, 0], rows[:, 1] = frames, track_id
    rows[:, 2:6] = [x, 10.0, x + 40.0, 10.0 + height]
    rows[:, 6] = conf
    return rows


def test_co_occurring_tracks_are_negatives_and_later_ones_are_not():
    rows = np.concatenate(
        [track(1, range(1, 21), 0), track(2, range(1, 21), 200), track(3, range(30, 50), 0)]
    )
    mined = mine_identities(rows, FPS, CONFIG)
    assert mined.num_identities == 3
    assert mined.track_ids.tolist() == [1, 2, 3]
    expected = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]], dtype=bool)
    np.testing.assert_array_equal(mined.cooccur, expected)
    assert mined.stats["negative_pairs"] == 1
    np.testing.assert_array_equal(mined.spans, [[1, 20], [1, 20], [30, 49]])


def test_samples_spread_over_the_whole_span():
    mined = mine_identities(track(7, range(1, 31), 0), FPS, CONFIG)
    assert mined.frames.tolist() == [1, 11, 20, 30]
    assert mined.labels.tolist() == [0, 0, 0, 0]
    np.testing.assert_allclose(mined.boxes[0], [0, 10, 40, 110])


def test_a_long_gap_cuts_a_track_into_two_identities_that_are_not_negatives():
    rows = np.concatenate([track(1, range(1, 11), 0), track(1, range(17, 27), 0)])  # 6-frame gap
    mined = mine_identities(rows, FPS, CONFIG)
    assert mined.num_identities == 2
    assert mined.track_ids.tolist() == [1, 1]
    assert not mined.cooccur.any()
    short_gap = np.concatenate([track(1, range(1, 11), 0), track(1, range(15, 25), 0)])
    assert mine_identities(short_gap, FPS, CONFIG).num_identities == 1


def test_short_small_and_unconfident_tracks_are_dropped():
    rows = np.concatenate(
        [
            track(1, range(1, 5), 0),  # 4 frames < min_frames
            track(2, range(1, 21), 100, height=30),  # too small
            track(3, range(1, 21), 200, conf=0.3),  # not confident
            track(4, range(1, 21), 300),
        ]
    )
    mined = mine_identities(rows, FPS, CONFIG)
    assert mined.track_ids.tolist() == [4]
    assert mined.stats["tracks"] == 4
    assert mined.stats["clean_boxes"] == 4 + 20


def test_occluded_boxes_are_left_out_and_cut_the_tracklet():
    walker = track(1, range(1, 31), 0)
    crossing = track(2, range(11, 18), 10)  # covers walker's box in frames 11..17
    rows = np.concatenate([walker, crossing])
    mask = clean_mask(rows, CONFIG)
    occluded_frames = rows[: len(walker)][~mask[: len(walker)], 0]
    assert occluded_frames.tolist() == list(range(11, 18))
    mined = mine_identities(rows, FPS, CONFIG)
    # walker: frames 1..10 and 18..30 (7 occluded frames > 5: cut); crossing: all occluded.
    assert mined.track_ids.tolist() == [1, 1]
    np.testing.assert_array_equal(mined.spans, [[1, 10], [18, 30]])
    assert not np.isin(mined.frames, range(11, 18)).any()


def test_box_coverage_is_the_largest_covered_fraction():
    boxes = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [100, 100, 110, 110]], dtype=np.float32)
    np.testing.assert_allclose(box_coverage(boxes), [0.5, 0.5, 0.0])
    assert box_coverage(boxes[:1]).tolist() == [0.0]


def test_no_track_gives_no_identity():
    mined = mine_identities(np.empty((0, 7)), FPS, CONFIG)
    assert mined.num_identities == 0
    assert mined.cooccur.shape == (0, 0)
    assert mined.frames.shape == (0,)


@pytest.mark.parametrize(
    "rows, fps, message",
    [
        (np.zeros((3, 6)), FPS, r"\(R, 7\)"),
        (np.full((1, 7), np.nan), FPS, "NaN"),
        (np.zeros((1, 7)), 0.0, "fps"),
    ],
)
def test_bad_input_is_a_clear_error(rows, fps, message):
    with pytest.raises(ValueError, match=message):
        mine_identities(rows, fps, CONFIG)


def test_bad_config_is_a_clear_error():
    with pytest.raises(ValueError, match="min_frames"):
        MiningConfig(min_frames=1)
    with pytest.raises(ValueError, match="max_coverage"):
        MiningConfig(max_coverage=1.5)
