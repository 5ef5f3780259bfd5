"""Re-entry gallery: a person who leaves and comes back gets the old identity, within bounds."""

import numpy as np
import pytest

from trackers import StrongSORT, StrongSORTConfig

DIM = 32


def _identities(count, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((count, DIM)).astype(np.float32)


def _dets(boxes, cls=0.0):
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    return np.column_stack([boxes, np.full(len(boxes), 0.9), np.full(len(boxes), cls)])


def _leave_and_return(tracker, away=60, return_shift=(30.0, 0.0), return_scale=1.0, seed=0):
    """Walker A walks, is not detected for ``away`` frames, then reappears; walker B stays in
    view all along, and walker C (another person) appears while A is away.

    Returns ``(id of A before, id of A after, id of B before, id of B after, id of C)``.
    """
    rng = np.random.default_rng(seed)
    people = _identities(3, seed)
    ids = {}
    frames = 20 + away + 20
    for t in range(frames):
        boxes, embs, names = [], [], []
        a_visible = t < 20 or t >= 20 + away
        if a_visible:
            x = 100 + 2 * min(t, 20)
            if t >= 20 + away:
                x += return_shift[0] + 2 * (t - 20 - away)
            height = 120 * (return_scale if t >= 20 + away else 1.0)
            y = 200 + (return_shift[1] if t >= 20 + away else 0.0)
            boxes.append([x, y, x + height / 2.5, y + height])
            embs.append(people[0])
            names.append("A")
        boxes.append([500, 220, 550, 340])
        embs.append(people[1])
        names.append("B")
        if 30 <= t < 20 + away:
            boxes.append([300, 400, 350, 520])
            embs.append(people[2])
            names.append("C")
        noisy = np.array(embs) + rng.normal(0, 0.05, (len(embs), DIM))
        out = tracker.update(_dets(boxes), embs=noisy)
        assert len(np.unique(out[:, 4])) == len(out)  # no identity held twice
        for row in out:
            name = names[int(row[7])]
            ids.setdefault(name, []).append(int(row[4]))
    a, b = ids["A"], ids["B"]
    return a[0], a[-1], b[0], b[-1], ids["C"][-1]


def test_a_returning_person_gets_the_old_identity_with_reentry_only():
    a0, a1, b0, b1, c = _leave_and_return(StrongSORT(cmc=None, reentry_max_age=120))
    assert a1 == a0 and b1 == b0 and c not in (a0, b0)

    a0, a1, b0, b1, c = _leave_and_return(StrongSORT(cmc=None, reentry_max_age=0))
    assert a1 != a0 and b1 == b0  # off: the paper's behaviour, a new identity

    # Beyond reentry_max_age the gallery has forgotten the track.
    a0, a1, *_ = _leave_and_return(StrongSORT(cmc=None, reentry_max_age=60))
    assert a1 != a0


@pytest.mark.parametrize(
    "shift, scale",
    [
        ((3000.0, 0.0), 1.0),  # farther than (1 + speed * gap) heights in the time it was away
        ((30.0, 0.0), 2.0),  # twice as tall: not the same person at this distance
    ],
)
def test_the_motion_gate_rejects_implausible_returns(shift, scale):
    tracker = StrongSORT(cmc=None, reentry_max_age=120)
    a0, a1, *_ = _leave_and_return(tracker, return_shift=shift, return_scale=scale)
    assert a1 != a0
    (group,) = tracker._trackers.values()
    assert a0 in group.gallery.track_id  # still waiting in the gallery


def test_newly_confirmed_tracks_are_matched_also_when_born_confirmed():
    a0, a1, b0, b1, _ = _leave_and_return(StrongSORT(cmc=None, n_init=1, reentry_max_age=120))
    assert a1 == a0 and b1 == b0


def test_per_class_gallery_outlives_the_class_tracks():
    people = _identities(1)
    tracker = StrongSORT(cmc=None, per_class=True, reentry_max_age=200)
    box = [100, 200, 150, 320]
    for _ in range(10):
        first = tracker.update(_dets(box, cls=3.0), embs=people)
    for _ in range(80):  # nothing of class 3 in view: its tracker holds only the gallery
        tracker.update(np.empty((0, 6)))
    for _ in range(3):
        last = tracker.update(_dets([120, 200, 170, 320], cls=3.0), embs=people)
    assert last[0, 4] == first[0, 4]


def test_gallery_and_memory_stay_bounded_on_an_endless_stream():
    rng = np.random.default_rng(3)
    cap = 12
    tracker = StrongSORT(
        cmc=None, max_age=5, reentry_max_age=100_000, reentry_gallery_size=cap, n_init=1
    )
    slots = 4
    position = rng.uniform(0, 800, (slots, 2))
    identity = rng.standard_normal((slots, 16)).astype(np.float32)
    alive = np.zeros(slots, dtype=bool)
    peak_gallery, seen = 0, set()
    for t in range(20_000):
        alive &= rng.random(slots) > 0.08
        born = ~alive & (rng.random(slots) < 0.2)
        # Half of the newcomers are former people coming back (same appearance, same place).
        fresh = born & (rng.random(slots) < 0.5)
        position[fresh] = rng.uniform(0, 800, (int(fresh.sum()), 2))
        identity[fresh] = rng.standard_normal((int(fresh.sum()), 16))
        alive |= born
        xy = position[alive]
        out = tracker.update(
            np.column_stack([xy, xy + [40, 100], np.full(len(xy), 0.9), np.zeros(len(xy))]),
            embs=identity[alive],
        )
        assert len(np.unique(out[:, 4])) == len(out)
        seen.update(out[:, 4].astype(int).tolist())
        if t % 50 == 0:
            (group,) = tracker._trackers.values()
            live_ids = group.tracks.track_id
            assert len(np.unique(live_ids)) == len(live_ids)
            assert not np.isin(group.gallery.track_id, live_ids).any()
            peak_gallery = max(peak_gallery, len(group.gallery))
            assert group.gallery.nbytes <= cap * (16 * 4 + 80)
    assert peak_gallery == cap  # the cap, not the (endless) reentry_max_age, bounds it
    taken = tracker._ids.next_id - 1
    assert taken > 1000  # many identities came and went
    assert len(seen) < 0.9 * taken  # returning people took back their old identities


@pytest.mark.parametrize(
    "name, value",
    [
        ("reentry_max_age", -1),
        ("reentry_gallery_size", 0),
        ("reentry_max_cos_dist", -0.1),
        ("reentry_max_speed", -1.0),
        ("reentry_max_scale", 0.5),
    ],
)
def test_invalid_reentry_parameters_name_themselves(name, value):
    with pytest.raises(ValueError, match=name):
        StrongSORTConfig(**{name: value})
