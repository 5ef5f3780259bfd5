"""What ``StrongSORT.update`` receives, at its worst (issue #17, cases 7 and 10).

The documented contract (:meth:`trackers.StrongSORT.update`): an array that is not ``(N, 6)``
numbers is a ``ValueError``; inside a well-shaped array, invalid rows (NaN/inf, non-positive
size, coordinates beyond 1e6) are dropped and counted in ``stats["dropped_invalid"]``, rows
below ``min_conf`` in ``stats["dropped_low_conf"]``; embeddings with NaN/inf make their
detection missing (dropped, counted as invalid); at most ``MAX_DETECTIONS_PER_FRAME`` detections
are tracked per frame (:mod:`trackers.strongsort.inputs`).
"""

import time
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trackers import StrongSORT
from trackers.strongsort.appearance import normalize_rows
from trackers.strongsort.inputs import (
    MAX_DETECTIONS_PER_FRAME,
    DetectionLimitWarning,
    normalize_embeddings,
)

DIM = 6
MIN_CONF = 0.3
# Ways to spoil one value of a row: (column, value).
SPOILERS = [
    (0, np.nan),
    (1, np.inf),
    (2, -np.inf),
    (3, np.nan),
    (4, np.nan),
    (5, np.inf),
    (0, 5e6),  # coordinate beyond MAX_ABS_COORDINATE
    (2, -10.0),  # x2 < x1: negative width
    (3, -10.0),  # y2 < y1: negative height
]
CONFS = [0.95, 0.5, 1.0, 1.7, 0.0, -0.4, 0.29]  # out of [0, 1] too
BAD_SHAPES = [(3, 5), (3, 7), (6,), (2, 3, 6)]


def _is_valid(row: np.ndarray) -> bool:
    """The tracker's definition of a row it may use (see the module docstring)."""
    return bool(
        np.isfinite(row).all()
        and (np.abs(row[:4]) <= 1e6).all()
        and row[2] > row[0]
        and row[3] > row[1]
    )


@st.composite
def frames(draw):
    """``(dets, embs)`` per frame: 0-8 people drifting, some rows spoiled, some frames empty,
    a few frames with a wrong shape (``dets`` is then a tuple ``("bad", shape)``)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    start = rng.uniform(0, 400, (8, 2))
    out = []
    for t in range(draw(st.integers(1, 15))):
        if draw(st.integers(0, 9)) == 0:
            out.append((("bad", draw(st.sampled_from(BAD_SHAPES))), None))
            continue
        people = rng.choice(8, draw(st.integers(0, 8)), replace=False)
        xy = start[people] + 3.0 * t
        conf = rng.choice(CONFS, people.size)
        dets = np.column_stack([xy, xy + [40.0, 100.0], conf, np.zeros(people.size)])
        for _ in range(draw(st.integers(0, 3)) if people.size else 0):
            column, value = SPOILERS[draw(st.integers(0, len(SPOILERS) - 1))]
            dets[draw(st.integers(0, people.size - 1)), column] = value
        embs = np.eye(8, DIM)[people] * 5 + rng.normal(0, 0.1, (people.size, DIM))
        if people.size and draw(st.integers(0, 4)) == 0:
            embs[draw(st.integers(0, people.size - 1)), 0] = np.nan
        if draw(st.booleans()) and people.size == 0:
            dets, embs = np.empty((0,)), np.empty((0, DIM))  # the 1-D empty form
        out.append((dets, embs))
    return out


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames(), st.integers(0, 4), st.integers(1, 3))
def test_invariants_over_mixed_valid_and_invalid_streams(stream, max_age, n_init):
    # Without the re-entry gallery, which gives a deleted identity back on purpose.
    tracker = StrongSORT(
        cmc=None, min_conf=MIN_CONF, max_age=max_age, n_init=n_init, reentry_max_age=0
    )
    last_seen, frame_number, rows_seen, expected_invalid = {}, 0, 0, 0
    for dets, embs in stream:
        if isinstance(dets, tuple):
            before = dict(tracker.stats)
            with pytest.raises(ValueError, match="dets must have shape"):
                tracker.update(np.zeros(dets[1]), embs=np.zeros((3, DIM)))
            assert tracker.stats == before  # a refused frame changes nothing
            continue
        frame_number += 1
        rows_seen += len(dets)
        # embed_skip: rows the tracker gives its track's embedding are never read.
        read = tracker.select(dets)
        out = tracker.update(dets, embs=embs)
        assert isinstance(out, np.ndarray) and out.dtype == np.float64
        assert out.ndim == 2 and out.shape[1] == 8 and np.isfinite(out).all()
        ids = out[:, 4]
        assert np.all(ids >= 1) and np.all(ids == np.round(ids))
        assert len(set(ids.tolist())) == len(ids)
        for track_id in ids.astype(int).tolist():
            # A deleted identity never comes back: an id is seen again within max_age frames.
            assert frame_number - last_seen.get(track_id, frame_number) <= max_age + 1
            last_seen[track_id] = frame_number
        index = out[:, 7].astype(int)
        assert np.all((index == -1) | ((index >= 0) & (index < len(dets))))
        used = index[index >= 0]
        assert len(set(used.tolist())) == used.size
        for row, i in zip(out[index >= 0], used):
            assert _is_valid(dets[i]) and dets[i, 4] >= MIN_CONF
            assert np.isfinite(embs[i]).all() or not read[i]
            assert (row[5], row[6]) == (dets[i, 4], dets[i, 5])
        valid = np.array([_is_valid(r) for r in dets.reshape(-1, 6)], dtype=bool)
        confident = valid & (dets.reshape(-1, 6)[:, 4] >= MIN_CONF)
        bad_embedding = ~np.isfinite(embs.reshape(len(valid), DIM)).all(axis=1)
        expected_invalid += int((~valid).sum() + (confident & bad_embedding & read).sum())
    assert tracker.stats["frames"] == frame_number
    assert tracker.stats["detections"] == rows_seen
    assert tracker.stats["dropped_invalid"] == expected_invalid


def test_detections_beyond_the_per_frame_limit_keep_the_most_confident():
    rng = np.random.default_rng(0)
    count = 10 * MAX_DETECTIONS_PER_FRAME
    xy = rng.uniform(0, 5000, (count, 2))
    conf = rng.uniform(0.5, 1.0, count)
    dets = np.column_stack([xy, xy + [20.0, 50.0], conf, np.zeros(count)])
    embs = rng.standard_normal((count, 16)).astype(np.float32)
    tracker = StrongSORT(cmc=None, n_init=1, min_conf=0.5)
    with pytest.warns(DetectionLimitWarning):
        assert tracker.select(dets).sum() == MAX_DETECTIONS_PER_FRAME
    start = time.perf_counter()
    with pytest.warns(DetectionLimitWarning, match=f"only the {MAX_DETECTIONS_PER_FRAME} most"):
        out = tracker.update(dets, embs=embs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DetectionLimitWarning)
        tracker.update(dets, embs=embs)
    elapsed = time.perf_counter() - start
    assert len(out) == MAX_DETECTIONS_PER_FRAME
    threshold = np.sort(conf)[-MAX_DETECTIONS_PER_FRAME]
    assert np.all(conf[out[:, 7].astype(int)] >= threshold)
    assert tracker.num_tracks == MAX_DETECTIONS_PER_FRAME
    assert tracker.stats["dropped_low_conf"] == 2 * (count - MAX_DETECTIONS_PER_FRAME)
    assert elapsed < 20.0  # about 1 s on a loaded 2-core machine (before: 8-44 s, 7.8 GB)


@pytest.mark.parametrize("scale", [1e30, 1e-30])
def test_huge_or_tiny_finite_embeddings_keep_their_direction(scale):
    rows = np.array([[3.0, 4.0, 0.0], [0.0, 0.0, 0.0], [1.0, -1.0, 1.0]], dtype=np.float32)
    unit = normalize_embeddings(rows)
    np.testing.assert_allclose(normalize_embeddings(rows * np.float32(scale)), unit, rtol=1e-6)
    np.testing.assert_array_equal(unit, normalize_rows(rows))  # ordinary rows: as before
    np.testing.assert_allclose(unit[0], [0.6, 0.8, 0.0])
    assert not unit[1].any()  # zero stays zero


def _swap_scene(scale, dtype):
    """Two people side by side for 6 frames; in frame 7 they swap places by 10 px. Only
    appearance tells who is who. Returns the ids of the left box in frames 6 and 7."""
    tracker = StrongSORT(cmc=None, n_init=1, min_conf=0.1)
    a, b = np.array([1.0, 0.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0, 0.0])
    left, right = [100.0, 100.0, 140.0, 200.0, 0.9, 0], [110.0, 100.0, 150.0, 200.0, 0.9, 0]
    ids = []
    for embs in [[a, b]] * 6 + [[b, a]]:
        out = tracker.update(np.array([left, right]), embs=(np.array(embs) * scale).astype(dtype))
        ids.append(int(out[out[:, 7] == 0][0, 4]))
    return ids[-2:]


@pytest.mark.parametrize(("scale", "dtype"), [(1e30, np.float32), (1e300, np.float64)])
def test_huge_embeddings_still_decide_identities(scale, dtype):
    reference = _swap_scene(1.0, np.float32)
    assert reference[0] != reference[1]  # appearance moved the left identity to the right box
    assert _swap_scene(scale, dtype) == reference
