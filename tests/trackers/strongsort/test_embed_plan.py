"""Embed only what is needed (``embed_skip``): the plan, select/update and the appearance."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from trackers import StrongSORT, StrongSORTConfig
from trackers.strongsort.config import ablation_overrides
from trackers.strongsort.embed_plan import plan_reuse

SKIP = dict(embed_skip=True, n_init=1, cmc=None, embed_skip_refresh=5)


def unit(rows):
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def walkers(t: int, count: int = 2, step: float = 2.0, spacing: float = 200.0) -> np.ndarray:
    """``(count, 6)`` detections of people walking right, ``spacing`` pixels apart."""
    x = 10 + spacing * np.arange(count) + step * t
    return np.stack(
        [
            x,
            np.full(count, 20.0),
            x + 40,
            np.full(count, 120.0),
            np.full(count, 0.9),
            np.zeros(count),
        ],
        axis=1,
    )


def test_plan_reuses_only_a_lone_strong_overlap_with_an_eligible_track():
    tracks = np.array([[0, 0, 10, 20], [100, 0, 110, 20], [200, 0, 210, 20]], dtype=float)
    dets = np.array(
        [
            [0.5, 0, 10.5, 20],  # lone, strong overlap with track 0: reused
            [100, 0, 110, 20],  # track 1 is not eligible: embedded
            [200, 0, 210, 20],  # track 2 ...
            [203, 0, 213, 20],  # ... and a second detection on it: both embedded
            [400, 0, 410, 20],  # new: embedded
        ]
    )
    reuse = plan_reuse(dets, tracks, np.array([True, False, True]), 0.6, 0.1)
    assert reuse.tolist() == [0, -1, -1, -1, -1]
    # A second track near the detection makes it ambiguous too.
    crowded = np.concatenate([tracks, [[2, 0, 12, 20]]])
    assert plan_reuse(dets[:1], crowded, np.ones(4, bool), 0.6, 0.1).tolist() == [-1]
    # Too little overlap with its own track.
    assert plan_reuse(dets[:1] + [4, 0, 4, 0], tracks, np.ones(3, bool), 0.6, 0.1)[0] == -1
    assert plan_reuse(np.empty((0, 4)), tracks, np.ones(3, bool), 0.6, 0.1).shape == (0,)


@pytest.mark.parametrize("per_class", [False, True])
def test_select_leaves_out_reused_rows_and_the_refresh_period_is_honoured(per_class):
    tracker = StrongSORT(**SKIP, per_class=per_class)
    embs = unit([[1, 0, 0], [0, 1, 0]])
    selected = []
    for t in range(12):
        dets = walkers(t)
        dets[1, 5] = 1  # two classes: one tracker each with per_class
        selected.append(tracker.select(dets).tolist())
        tracker.update(dets, embs=embs)
    # Born (embedded) at frame 0, reused in frames 1-4, embedded again every 5th frame.
    every = [[True, True]] + ([[False, False]] * 4 + [[True, True]]) * 2 + [[False, False]]
    assert selected == every
    assert tracker.stats["embedded"] == 6 and tracker.stats["reused"] == 18
    assert tracker.stats["reuse_misses"] == 0


def test_new_reappearing_and_tentative_detections_are_embedded():
    tracker = StrongSORT(**{**SKIP, "n_init": 3, "confirm_first_frame": False})
    for t in range(3):  # tentative in frames 0-1, confirmed by frame 2's update
        assert tracker.select(walkers(t, 1)).tolist() == [True]
        tracker.update(walkers(t, 1), embs=unit([[1, 0]]))
    assert tracker.select(walkers(3, 1)).tolist() == [False]
    tracker.update(np.empty((0, 6)))  # missed: re-appearing next frame
    assert tracker.select(walkers(5, 1)).tolist() == [True]
    newcomer = np.concatenate([walkers(5, 1), walkers(5, 1) + [300, 0, 300, 0, 0, 0]])
    assert tracker.select(newcomer).tolist() == [True, True]


def test_crowded_people_are_embedded():
    tracker = StrongSORT(**SKIP)
    for t in range(3):
        dets = walkers(t, 2, spacing=30.0)  # boxes 40 px wide, 30 px apart: overlapping
        assert tracker.select(dets).all()
        tracker.update(dets, embs=unit([[1, 0], [0, 1]]))
    assert tracker.stats["reused"] == 0


def test_planning_changes_no_state_and_update_ignores_reused_rows():
    tracker = StrongSORT(**SKIP)
    embs = unit([[1, 0, 0], [0, 1, 0]])
    for t in range(3):
        tracker.update(walkers(t), embs=embs)
    before = copy.deepcopy(tracker._trackers[None].tracks.__dict__)
    dets = walkers(3)
    chosen = tracker.select(dets)
    for name, value in tracker._trackers[None].tracks.__dict__.items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)
    assert not chosen.any()
    # Rows that select() left out are never read: NaN there is no invalid embedding.
    out = tracker.update(dets, embs=np.full((2, 3), np.nan))
    assert out[:, 4].tolist() == [1, 2] and tracker.stats["dropped_invalid"] == 0


@pytest.mark.parametrize("params", [{}, {"ema_adaptive": False}, {"ema_alpha": None}])
def test_a_reused_row_leaves_the_appearance_unchanged(params):
    tracker = StrongSORT(**{**SKIP, **params})
    embs = unit([[1, 0.2, 0], [0, 1, 0.3]])
    tracker.update(walkers(0), embs=embs)
    tracks = tracker._trackers[None].tracks
    bank, counts = tracks.features.copy(), tracks.feature_count.copy()
    for t in (1, 2):
        tracker.update(walkers(t), embs=unit([[0, 0, 1], [0, 0, 1]]))  # reused: not read
    assert tracker.stats["reused"] == 4 and tracker.stats["embedded"] == 2
    np.testing.assert_array_equal(tracks.features, bank)
    np.testing.assert_array_equal(tracks.feature_count, counts)


@pytest.mark.parametrize("adaptive", [False, True])
def test_a_new_embedding_after_reuses_counts_for_the_skipped_frames(adaptive):
    """EMA after 4 reused frames and one new embedding ~ EMA of 5 embedded frames."""
    before, after = unit([[1, 0, 0]]), unit([[0.6, 0.8, 0]])
    features = {}
    for skip in (False, True):
        tracker = StrongSORT(**{**SKIP, "embed_skip": skip, "ema_adaptive": adaptive})
        for t in range(6):
            tracker.update(walkers(t, 1), embs=before if t == 0 else after)
        features[skip] = tracker._trackers[None].tracks.features[0, 0]
    assert tracker.stats["reused"] == 4
    np.testing.assert_allclose(features[True], features[False], atol=0.02)
    assert features[True][1] > 0.25  # one plain EMA step would give about 0.09


def test_the_tracker_embeds_only_the_needed_crops_itself():
    class CountingEmbedder:
        def __init__(self):
            self.crops = []

        def from_frame(self, frame, boxes):
            self.crops.append(len(boxes))
            return np.tile(unit([[1, 0]]), (len(boxes), 1))

    embedder = CountingEmbedder()
    tracker = StrongSORT(embedder, **SKIP)
    frame = np.zeros((200, 600, 3), np.uint8)
    for t in range(6):
        tracker.update(walkers(t), frame)
    assert embedder.crops == [2, 2]  # frames 0 and 5; frames 1-4 call no embedder
    assert tracker.stats["embedded"] == 4


def test_switched_off_nothing_changes_and_the_paper_keeps_it_off():
    assert not StrongSORTConfig(**ablation_overrides("+woC")).embed_skip
    rng = np.random.default_rng(0)
    trackers = [
        StrongSORT(cmc=None, embed_skip=False),
        StrongSORT(cmc=None, embed_skip=False, embed_skip_iou=0.3),
        StrongSORT(cmc=None, embed_skip=True, embed_skip_refresh=1),  # never reuses
    ]
    for t in range(20):
        dets = walkers(t, 4, spacing=35.0) + rng.normal(0, 2, (4, 6)) * [1, 1, 1, 1, 0, 0]
        dets[t % 4, 4] = 0.3  # one row below min_conf each frame
        embs = rng.normal(size=(4, 8))
        chosen = [tracker.select(dets).tolist() for tracker in trackers]
        outputs = [tracker.update(dets, embs=embs) for tracker in trackers]
        assert chosen[0] == chosen[1] == chosen[2]
        np.testing.assert_array_equal(outputs[0], outputs[1])
        np.testing.assert_array_equal(outputs[0], outputs[2])
    assert [t.stats["reused"] for t in trackers] == [0, 0, 0]
    assert trackers[0].stats["embedded"] == 60


def test_thresholds_are_checked():
    with pytest.raises(ValueError, match="embed_skip_rival_iou"):
        StrongSORTConfig(embed_skip_iou=0.3, embed_skip_rival_iou=0.3)
    with pytest.raises(ValueError, match="embed_skip_refresh"):
        StrongSORTConfig(embed_skip_refresh=0)
