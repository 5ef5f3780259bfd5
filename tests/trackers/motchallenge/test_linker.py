"""The appearance-aware offline tracklet linker and its detection-embedding lookup."""

import numpy as np
import pytest

from trackers.motchallenge.postprocess import DetectionFeatures, link_tracklets
from trackers.motchallenge.postprocess.tracklets import Tracklets, assign_links, merge_links


def walk(identity, frames, x0, speed=2.0, y=100.0, height=120.0):
    """Rows of a person walking right at ``speed`` px/frame over ``frames``."""
    frames = np.asarray(list(frames), dtype=float)
    rows = np.full((frames.size, 10), -1.0)
    rows[:, 0], rows[:, 1] = frames, identity
    rows[:, 2], rows[:, 3] = x0 + speed * (frames - frames[0]), y
    rows[:, 4], rows[:, 5], rows[:, 6] = height / 2, height, 1.0
    return rows


def unit(vector):
    vector = np.asarray(vector, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def embeddings_by_id(rows, table):
    return np.stack([table[int(i)] for i in rows[:, 1]])


A, B = unit([1, 0, 0, 0]), unit([0, 1, 0, 0])


def test_a_broken_track_is_joined_and_a_different_person_is_not():
    # person A: ids 1 (frames 1-20) and 2 (frames 26-40, where A would be after the gap);
    # person B appears where A would be, right after id 1 ends, but looks different.
    rows = np.concatenate(
        [walk(1, range(1, 21), 0), walk(2, range(26, 41), 50), walk(3, range(22, 36), 42)]
    )
    embeddings = embeddings_by_id(rows, {1: A, 2: A, 3: B})
    out = link_tracklets(rows, embeddings, frame_rate=25)
    ids = {int(f): set(out[out[:, 0] == f, 1].astype(int)) for f in (10, 30)}
    assert ids[10] == {1} and ids[30] == {1, 3}
    assert len(out) == len(rows) and np.unique(out[:, 1]).tolist() == [1, 3]


@pytest.mark.parametrize(
    "later, reason",
    [
        (walk(2, range(200, 210), 50), "gap beyond max_gap_s"),
        (walk(2, range(26, 41), 600), "jump beyond the space gate"),
        (walk(2, range(26, 41), 50, height=300), "height changes too much"),
        (walk(2, range(15, 41), 30), "overlaps in time"),
    ],
)
def test_infeasible_links_are_refused(later, reason):
    rows = np.concatenate([walk(1, range(1, 21), 0), later])
    out = link_tracklets(rows, embeddings_by_id(rows, {1: A, 2: A}), frame_rate=25)
    assert np.unique(out[:, 1]).tolist() == [1, 2], reason


def test_the_assignment_is_global_and_appearance_decides_between_close_candidates():
    # two people end at the same place and time; their continuations start side by side
    rows = np.concatenate(
        [
            walk(1, range(1, 21), 0),
            walk(2, range(1, 21), 10),
            walk(3, range(24, 40), 45),
            walk(4, range(24, 40), 50),
        ]
    )
    out = link_tracklets(rows, embeddings_by_id(rows, {1: A, 2: B, 3: B, 4: A}), frame_rate=25)
    late = out[out[:, 0] == 30]
    assert dict(zip(late[:, 2], late[:, 1])) == {57.0: 2.0, 62.0: 1.0}  # B (id 3) -> 2, A -> 1


def test_tracklets_without_embeddings_are_never_linked():
    rows = np.concatenate([walk(1, range(1, 21), 0), walk(2, range(26, 41), 50)])
    embeddings = np.full((len(rows), 4), np.nan)
    out = link_tracklets(rows, embeddings, frame_rate=25)
    assert np.unique(out[:, 1]).tolist() == [1, 2]


def test_bad_inputs_are_rejected():
    rows = walk(1, range(1, 5), 0)
    with pytest.raises(ValueError, match="embeddings must have shape"):
        link_tracklets(rows, np.zeros((3, 4)))
    with pytest.raises(ValueError, match="frame_rate"):
        link_tracklets(rows, np.zeros((4, 4)), frame_rate=0)
    with pytest.raises(ValueError, match=r"\(R, 10\)"):
        link_tracklets(rows[:, :6], np.zeros((4, 4)))


def test_detection_features_give_each_row_its_overlapping_detection():
    rows = np.concatenate([walk(1, [1, 2], 0), walk(2, [1, 2], 300)])
    frames = np.array([2, 1, 1, 2])  # unsorted on purpose
    boxes = np.array(
        [[302, 100, 362, 220], [0, 100, 60, 220], [301, 101, 361, 221], [800, 0, 900, 100]],
        dtype=float,
    )
    embeddings = np.stack([2 * B, A, B, A])  # normalised on the way in
    found = DetectionFeatures(frames, boxes, embeddings).for_rows(rows)
    by_row = {(int(r[0]), int(r[1])): e for r, e in zip(rows, found)}
    np.testing.assert_allclose(by_row[(1, 1)], A)
    np.testing.assert_allclose(by_row[(1, 2)], B)
    np.testing.assert_allclose(by_row[(2, 2)], B)
    assert np.isnan(by_row[(2, 1)]).all()  # frame 2's other detection does not overlap
    with pytest.raises(ValueError, match="same number of rows"):
        DetectionFeatures(frames[:3], boxes, embeddings)


def test_merge_follows_chains_and_assign_links_respects_the_cost_limit():
    rows = np.concatenate(
        [walk(5, range(1, 5), 0), walk(7, range(6, 9), 0), walk(9, range(10, 12), 0)]
    )
    tracklets = Tracklets.from_rows(rows)
    cost = np.full((3, 3), np.inf)
    cost[0, 1], cost[1, 2], cost[0, 2] = 0.1, 0.2, 0.05
    links = assign_links(cost, 0.5)
    assert sorted(links) == [(0, 1), (1, 2)]  # 0->2 is cheaper alone, worse in total
    assert np.unique(merge_links(rows, tracklets, links)[:, 1]).tolist() == [5]
    assert assign_links(cost, 0.08) == [(0, 2)]
    with pytest.raises(ValueError, match="starts after it ends"):
        merge_links(rows, tracklets, [(1, 0)])
