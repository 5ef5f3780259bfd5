"""``StrongSORT(reid_weights=...)`` builds its FeatureExtractor on first use, inferring the
architecture from the file name (also for files the weights catalogue does not know)."""

import shutil

import numpy as np
import pytest
from shared_assets import shared_path

from trackers import StrongSORT


def test_weights_with_an_unregistered_name_build_and_track(tmp_path):
    pytest.importorskip("torch")
    weights = tmp_path / "osnet_x0_25_mine.pth"
    shutil.copyfile(shared_path("data/reid/osnet_x0_25_msmt17.pth"), weights)
    tracker = StrongSORT(reid_weights=weights, device="cpu", cmc=None, n_init=1)
    frame = np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    dets = np.array([[20, 30, 80, 200, 0.9, 0], [150, 40, 210, 220, 0.8, 0]])
    tracks = tracker.update(dets, frame)
    assert tracker.embedder.feature_dim == 512
    assert tracks.shape == (2, 8) and sorted(tracks[:, 7].tolist()) == [0, 1]
