"""Synthetic scenes: crossing targets, long streams with bounded memory."""

import numpy as np

from trackers import StrongSORT


def _bounce_scene(frames=40, meet=15, speed=4.0):
    """Two walkers approach, overlap completely at frame ``meet`` and walk back.

    Returns a list of ``(2, 4)`` boxes per frame: row 0 is walker A, row 1 walker B.
    """
    scene = []
    for t in range(frames):
        offset = speed * (meet - abs(meet - t))  # distance walked towards the meeting point
        xa, xb = 200 + offset, 200 + 2 * speed * meet - offset
        scene.append(np.array([[xa, 300, xa + 50, 420], [xb, 300, xb + 50, 420]], dtype=float))
    return scene


def _run(tracker, scene, embeddings):
    """Identity per walker and frame (0 while unconfirmed)."""
    ids = np.zeros((len(scene), 2), dtype=int)
    for t, boxes in enumerate(scene):
        dets = np.column_stack([boxes, np.full(2, 0.9), np.zeros(2)])
        out = tracker.update(dets, embs=embeddings)
        ids[t, out[:, 7].astype(int)] = out[:, 4]
    return ids


def test_appearance_keeps_identities_that_motion_alone_swaps():
    scene = _bounce_scene()
    rng = np.random.default_rng(0)
    distinct = rng.standard_normal((2, 128)).astype(np.float32)
    identical = np.ones((2, 128), dtype=np.float32)

    with_appearance = _run(StrongSORT(cmc=None), scene, distinct)
    confirmed = with_appearance[3:]
    assert np.all(confirmed[:, 0] == confirmed[0, 0]) and np.all(confirmed[:, 1] == confirmed[0, 1])
    assert confirmed[0, 0] != confirmed[0, 1]

    motion_only = _run(StrongSORT(cmc=None), scene, identical)
    before, after = motion_only[10], motion_only[-1]
    # Constant-velocity prediction carries each identity straight on: the walkers swap.
    assert before[0] == after[1] and before[1] == after[0]


def test_crossing_at_constant_velocity_keeps_identities():
    rng = np.random.default_rng(1)
    embeddings = rng.standard_normal((2, 64)).astype(np.float32)
    tracker = StrongSORT(cmc=None)
    for t in range(60):
        xa, xb = 100 + 6 * t, 460 - 6 * t
        boxes = np.array([[xa, 200, xa + 40, 300], [xb, 205, xb + 40, 305]], dtype=float)
        dets = np.column_stack([boxes, np.full(2, 0.95), np.zeros(2)])
        # Half of the frames around the crossing lose the occluded walker.
        keep = [0] if 25 <= t <= 35 and t % 2 else [0, 1]
        noise = rng.normal(0, 0.05, (len(keep), 64))
        out = tracker.update(dets[keep], embs=embeddings[keep] + noise)
        if t == 10:
            start = {int(row[7]): row[4] for row in out}
    end = {int(row[7]): row[4] for row in out}
    assert start == end


def _churn_stream(tracker, frames, seed=0, dim=32, max_targets=40):
    """Targets that are born, walk and vanish; returns the largest track count seen."""
    rng = np.random.default_rng(seed)
    targets = {}  # name -> (x, y, vx, embedding)
    next_name = 0
    peak = 0
    for _ in range(frames):
        if len(targets) < max_targets and rng.random() < 0.5:
            targets[next_name] = (
                rng.uniform(0, 1800),
                rng.uniform(0, 900),
                rng.normal(0, 3),
                rng.standard_normal(dim),
            )
            next_name += 1
        for name in [n for n in targets if rng.random() < 0.02]:
            del targets[name]
        boxes, embs = [], []
        for name, (x, y, vx, emb) in targets.items():
            targets[name] = (x + vx, y, vx, emb)
            boxes.append([x, y, x + 40, y + 100])
            embs.append(emb)
        dets = np.column_stack(
            [np.array(boxes).reshape(-1, 4), np.full(len(boxes), 0.9), np.zeros(len(boxes))]
        )
        out = tracker.update(dets, embs=np.array(embs, dtype=np.float32).reshape(-1, dim))
        assert not np.isnan(out).any()
        peak = max(peak, tracker.num_tracks)
    return peak


def test_memory_stays_bounded_on_a_long_stream():
    for params in ({}, {"ema_alpha": None, "nn_budget": 20}):
        tracker = StrongSORT(cmc=None, **params)
        peak = _churn_stream(tracker, 1500)
        # Live targets (<= 40) plus lost tracks kept for max_age frames after births/deaths.
        assert peak <= 40 + 2 * 30
        (group,) = tracker._trackers.values()
        tracks = group.tracks
        assert tracks.features.shape[1] == tracker.config.feature_budget
        assert tracks.features.shape[0] == len(tracks) <= 100
        assert tracker._ids.next_id > 300  # many identities came and went


def test_ecc_keeps_identities_through_a_camera_jump():
    import cv2

    rng = np.random.default_rng(0)
    world = cv2.GaussianBlur((rng.random((900, 1600, 3)) * 255).astype(np.uint8), (0, 0), 6)
    world = cv2.normalize(world, None, 0, 255, cv2.NORM_MINMAX)
    targets = np.array([[300, 300], [500, 320], [700, 280], [900, 350]], dtype=float)
    embeddings = rng.standard_normal((4, 64)).astype(np.float32)

    def final_ids(cmc):
        tracker = StrongSORT(cmc=cmc)
        camera = np.array([100.0, 50.0])
        for t in range(12):
            if t == 6:
                camera += [45, 20]  # the camera jumps: every box moves 45 px left, 20 px up
            x, y = camera.astype(int)
            frame = world[y : y + 720, x : x + 1280]
            xy = targets - camera
            dets = np.column_stack([xy, xy + [30, 70], np.full(4, 0.9), np.zeros(4)])
            out = tracker.update(dets, frame, embeddings)
        return sorted(out[:, 4].astype(int).tolist()), tracker.stats

    with_cmc, stats = final_ids("ecc")
    assert with_cmc == [1, 2, 3, 4] and stats["cmc_failures"] == 0
    without_cmc, _ = final_ids(None)
    assert without_cmc == [5, 6, 7, 8]  # the jump breaks every track without CMC
