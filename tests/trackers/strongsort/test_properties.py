"""Property tests on random detection streams (hypothesis)."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trackers import StrongSORT

DIM = 8
_special = st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -5.0])


@st.composite
def detection_streams(draw):
    """Frames of (dets (N, 6), embs (N, DIM)) with drifting boxes and occasional garbage."""
    seed = draw(st.integers(0, 2**32 - 1))
    frames = draw(st.integers(1, 25))
    rng = np.random.default_rng(seed)
    base = rng.uniform(0, 500, (12, 2))
    stream = []
    for t in range(frames):
        count = draw(st.integers(0, 12))
        pick = rng.choice(12, count, replace=False)
        xy = base[pick] + t * rng.normal(2, 3, (count, 2))
        wh = rng.uniform(1, 120, (count, 2))
        conf = rng.uniform(0, 1, count)
        cls = rng.integers(0, 3, count).astype(float)
        dets = np.column_stack([xy, xy + wh, conf, cls])
        if count and draw(st.booleans()):
            dets[draw(st.integers(0, count - 1)), draw(st.integers(0, 5))] = draw(_special)
        embs = rng.standard_normal((count, DIM)) + np.eye(12, DIM)[pick] * 3
        stream.append((dets, embs))
    return stream


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    detection_streams(),
    st.fixed_dictionaries(
        {
            "n_init": st.integers(1, 3),
            "max_age": st.integers(0, 5),
            "per_class": st.booleans(),
            "matching": st.sampled_from(["global", "cascade"]),
            "ema_alpha": st.sampled_from([0.9, None]),
            "output_predicted": st.integers(0, 2),
            "min_conf": st.sampled_from([0.0, 0.3]),
            "reentry_max_age": st.sampled_from([0, 8]),
            "conf_boost": st.sampled_from([None, 0.9]),
            "ema_adaptive": st.booleans(),
            "iou_height_modulated": st.booleans(),
        }
    ),
)
def test_outputs_are_finite_ids_unique_and_rows_valid(stream, params):
    tracker = StrongSORT(cmc=None, nn_budget=3, **params)
    retired = set()
    previous_known = set()
    for dets, embs in stream:
        out = tracker.update(dets, embs=embs)
        assert out.ndim == 2 and out.shape[1] == 8
        assert np.isfinite(out).all()
        ids = out[:, 4].astype(int)
        assert len(set(ids.tolist())) == len(ids)  # one row per identity
        # Deleted identities come back only from the re-entry gallery.
        assert not retired.intersection(ids.tolist())
        matched = out[out[:, 7] >= 0]
        index = matched[:, 7].astype(int)
        assert np.all(index < len(dets))
        assert len(set(index.tolist())) == len(index)  # a detection feeds one track
        if len(index):
            rows = dets[index]
            assert np.isfinite(rows).all()
            assert np.all(rows[:, 2] > rows[:, 0]) and np.all(rows[:, 3] > rows[:, 1])
            lowest = params["min_conf"]
            if params["conf_boost"] is not None:  # boosted boxes may follow tracks
                lowest = min(lowest, tracker.config.boost_min_conf)
            assert np.all(rows[:, 4] >= lowest)
            np.testing.assert_array_equal(matched[:, 5], rows[:, 4])
            np.testing.assert_array_equal(matched[:, 6], rows[:, 5])
        live = [
            int(i)
            for t in tracker._trackers.values()
            if t.tracks is not None
            for i in t.tracks.track_id
        ]
        waiting = [
            int(i)
            for t in tracker._trackers.values()
            if t.gallery is not None
            for i in t.gallery.track_id
        ]
        assert len(set(live + waiting)) == len(live) + len(waiting)  # never two holders
        known = set(live + waiting)
        retired |= previous_known - known
        previous_known = known
    stats = tracker.stats
    assert stats["frames"] == len(stream)
    assert stats["detections"] == sum(len(d) for d, _ in stream)
