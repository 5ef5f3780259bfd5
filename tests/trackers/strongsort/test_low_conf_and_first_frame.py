"""ByteTrack's additions: the low-confidence stage (``low_conf``), first-frame confirmation
(``confirm_first_frame``), and the embed plan that ``select`` hands to ``update``."""

import numpy as np
import pytest

from trackers import StrongSORT
from trackers.strongsort import embed_plan

DIM = 8


def _person(t: int, x0: float = 100.0, conf: float = 0.9) -> np.ndarray:
    """``(1, 6)`` detection of a person walking right 4 px per frame."""
    x = x0 + 4.0 * t
    return np.array([[x, 100.0, x + 50.0, 220.0, conf, 0.0]])


def _emb(index: int = 0) -> np.ndarray:
    return np.eye(DIM, dtype=np.float32)[[index]]


@pytest.mark.parametrize("per_class", [False, True])
def test_low_confidence_detection_keeps_a_track_but_is_never_embedded_nor_born(per_class):
    tracker = StrongSORT(cmc=None, n_init=1, low_conf=0.2, output_predicted=0, per_class=per_class)
    for t in range(3):
        tracker.update(_person(t), embs=_emb())
    tracks = tracker._trackers[0 if per_class else None].tracks
    before = tracks.features.copy()
    low = np.concatenate([_person(3, conf=0.3), _person(3, x0=400.0, conf=0.3)])
    assert not tracker.select(low).any()  # nothing to embed below min_conf
    out = tracker.update(low, embs=np.full((2, DIM), np.nan, dtype=np.float32))
    assert out[:, [4, 7]].tolist() == [[1, 0]]  # the track took row 0, row 1 started nothing
    assert out[0, 5] == pytest.approx(0.3)
    assert tracker.num_tracks == 1 and tracker.stats["low_conf_matched"] == 1
    assert tracker.stats["dropped_low_conf"] == 2 and tracker.stats["dropped_invalid"] == 0
    np.testing.assert_array_equal(tracks.features, before)


def test_low_confidence_stage_is_off_by_default_and_below_low_conf():
    for params in ({}, {"low_conf": 0.4}):
        tracker = StrongSORT(cmc=None, n_init=1, output_predicted=0, **params)
        for t in range(3):
            tracker.update(_person(t), embs=_emb())
        assert len(tracker.update(_person(3, conf=0.3), embs=_emb())) == 0
        assert tracker.stats["low_conf_matched"] == 0


def test_low_confidence_stage_follows_only_tracks_seen_in_the_previous_frame():
    tracker = StrongSORT(cmc=None, n_init=1, low_conf=0.2, output_predicted=0)
    for t in range(3):
        tracker.update(_person(t), embs=_emb())
    tracker.update(np.empty((0, 6)))  # missed once: lost, as in ByteTrack
    assert len(tracker.update(_person(4, conf=0.3), embs=_emb())) == 0


def test_people_in_the_first_frame_are_confirmed_at_once_later_ones_are_tentative():
    tracker = StrongSORT(cmc=None, n_init=3, output_predicted=0)
    assert len(tracker.update(np.empty((0, 6)))) == 0  # an empty start changes nothing
    first = tracker.update(_person(0), embs=_emb(0))
    assert first[:, 4].tolist() == [1]
    both = np.concatenate([_person(1), _person(1, x0=400.0)])
    embs = np.concatenate([_emb(0), _emb(1)])
    assert tracker.update(both, embs=embs)[:, 4].tolist() == [1]  # the newcomer is tentative
    tracker.update(both, embs=embs)
    assert sorted(tracker.update(both, embs=embs)[:, 4].tolist()) == [1, 2]
    paper = StrongSORT(cmc=None, n_init=3, confirm_first_frame=False)
    assert len(paper.update(_person(0), embs=_emb(0))) == 0


def test_update_reuses_the_plan_of_select_only_for_the_same_detections(monkeypatch):
    calls = []
    original = embed_plan.plan_reuse

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr("trackers.strongsort.tracker.plan_reuse", counting)
    tracker = StrongSORT(cmc=None, n_init=1)
    tracker.update(_person(0), embs=_emb())
    dets = _person(1)
    assert not tracker.select(dets).any()  # reuses the track's embedding
    planned = len(calls)
    tracker.update(dets, embs=np.full((1, DIM), np.nan, dtype=np.float32))  # row not read
    assert len(calls) == planned and tracker.stats["reused"] == 1
    dets = _person(2)
    tracker.select(dets)
    dets[0, [0, 2]] += 300.0  # moved after select: the plan is computed again
    tracker.update(dets, embs=_emb())
    assert len(calls) == planned + 2 and tracker.stats["embedded"] == 2


def test_detector_conf_is_the_lowest_confidence_the_tracker_uses():
    from trackers.strongsort import StrongSORTConfig

    assert StrongSORTConfig().detector_conf == 0.6
    assert StrongSORTConfig(low_conf=0.2).detector_conf == 0.2
    assert StrongSORTConfig(conf_boost=0.9, boost_min_conf=0.3, low_conf=0.4).detector_conf == 0.3
    assert StrongSORTConfig(min_conf=0.1, low_conf=0.2).detector_conf == 0.1
