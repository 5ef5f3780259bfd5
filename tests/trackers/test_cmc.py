"""ECC camera motion compensation."""

import cv2
import numpy as np
import pytest
from shared_assets import shared_path

from trackers.cmc import ECC, warp_tracks


def _shift(image, dx, dy):
    matrix = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(
        image, matrix, (image.shape[1], image.shape[0]), borderMode=cv2.BORDER_REFLECT
    )


@pytest.fixture(scope="module")
def mot_frame():
    path = shared_path("data/mot/MOT17-mini/train/MOT17-09-FRCNN/img1/000001.jpg")
    return cv2.imread(str(path))


def test_recovers_a_known_camera_translation(mot_frame):
    ecc = ECC(scale=0.1)
    assert np.array_equal(ecc.estimate(mot_frame), np.eye(2, 3)) and ecc.last_status == "first"
    # Scene content moves 20 px right and 10 px down: previous point p is now at p + (20, 10).
    warp = ecc.estimate(_shift(mot_frame, 20, 10))
    assert ecc.last_status == "ok"
    np.testing.assert_allclose(warp[:, :2], np.eye(2), atol=0.01)
    np.testing.assert_allclose(warp[:, 2], [20, 10], atol=2.0)


def test_frame_size_change_resets_and_skip_stores_frame(mot_frame):
    ecc = ECC()
    ecc.estimate(mot_frame)
    small = cv2.resize(mot_frame, (640, 360))
    assert np.array_equal(ecc.estimate(small), np.eye(2, 3)) and ecc.last_status == "reset"
    assert np.array_equal(ecc.estimate(small, skip=True), np.eye(2, 3))
    assert ecc.last_status == "skipped"
    ecc.estimate(_shift(small, 8, 0))
    assert ecc.last_status == "ok"
    ecc.reset()
    ecc.estimate(small)
    assert ecc.last_status == "first"


def test_failure_gives_identity():
    ecc = ECC()
    flat = np.zeros((200, 300, 3), dtype=np.uint8)
    ecc.estimate(flat)
    warp = ecc.estimate(flat)  # no texture: ECC cannot converge
    assert ecc.last_status == "failed"
    assert np.array_equal(warp, np.eye(2, 3))


def test_grayscale_frames_and_bad_arguments():
    ecc = ECC()
    rng = np.random.default_rng(0)
    gray = cv2.GaussianBlur(rng.integers(0, 255, (240, 320), dtype=np.uint8), (0, 0), 3)
    ecc.estimate(gray)
    ecc.estimate(gray)
    assert ecc.last_status == "ok"
    with pytest.raises(ValueError, match="scale"):
        ECC(scale=0)
    with pytest.raises(ValueError, match="motion"):
        ECC(motion="homography")


def test_warp_tracks_moves_centres_and_rotates_velocity():
    angle = np.deg2rad(10)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    warp = np.hstack([rotation, [[5.0], [-3.0]]])
    mean = np.array([[100.0, 50.0, 0.5, 80.0, 2.0, 0.0, 0.0, 1.0]])
    cov = np.diag(np.arange(1.0, 9.0))[None].copy()
    before = cov.copy()
    warp_tracks(mean, cov, warp)
    np.testing.assert_allclose(mean[0, :2], rotation @ [100, 50] + [5, -3])
    np.testing.assert_allclose(mean[0, 4:6], rotation @ [2, 0])
    np.testing.assert_allclose(mean[0, [2, 3, 6, 7]], [0.5, 80, 0, 1])
    np.testing.assert_allclose(cov[0, :2, :2], rotation @ before[0, :2, :2] @ rotation.T)
    np.testing.assert_allclose(cov[0, 2:4, 2:4], before[0, 2:4, 2:4])
