"""A damaged ``bench``/``tune`` cache file is rebuilt with a warning, never a traceback
(``zipfile.BadZipFile`` or ``KeyError`` from ``np.load``), and never trusted."""

import cv2
import numpy as np
import pytest

from trackers.cmc import ECC
from trackers.motchallenge.devcache import cache_file, load_or_build

SEQINFO = (
    "[Sequence]\nname=SEQ\nimDir=img1\nframeRate=30\nseqLength=3\n"
    "imWidth=64\nimHeight=48\nimExt=.jpg\n"
)


class _Embedder:
    def from_frame(self, frame, boxes):
        return np.tile([[1.0, 2.0, 3.0]], (len(boxes), 1)).astype(np.float32)


def _detect(number, image):
    return np.array([[10.0 + number, 5.0, 30.0 + number, 40.0, 0.9, 0.0]])


@pytest.fixture
def sequence(tmp_path):
    seq = tmp_path / "SEQ"
    (seq / "img1").mkdir(parents=True)
    (seq / "seqinfo.ini").write_text(SEQINFO)
    rng = np.random.default_rng(0)
    for number in range(1, 4):
        image = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
        cv2.imwrite(str(seq / "img1" / f"{number:06d}.jpg"), image)
    return seq


@pytest.mark.parametrize("damage", [b"not a zip file", b""])
def test_a_damaged_cache_file_is_rebuilt(sequence, tmp_path, damage):
    settings = {"detector": "test"}
    built = load_or_build(sequence, _detect, _Embedder(), settings, tmp_path / "cache", ECC())
    path = cache_file(sequence, settings, tmp_path / "cache")
    path.write_bytes(damage)
    with pytest.warns(UserWarning, match=rf"cache file {path} is unreadable .*rebuilt"):
        again = load_or_build(sequence, _detect, _Embedder(), settings, tmp_path / "cache", ECC())
    np.testing.assert_array_equal(again.dets, built.dets)
    np.testing.assert_array_equal(again.det_frames, built.det_frames)
    assert again.frames == built.frames == 3
    reread = load_or_build(sequence, None, None, settings, tmp_path / "cache", ECC())
    np.testing.assert_array_equal(reread.embs, built.embs)  # the rebuilt file is good


def test_a_cache_file_of_another_layout_is_rebuilt(sequence, tmp_path):
    settings = {"detector": "test"}
    path = cache_file(sequence, settings, tmp_path / "cache")
    path.parent.mkdir(parents=True)
    with open(path, "wb") as stream:
        np.savez(stream, something=np.zeros(3))
    with pytest.warns(UserWarning, match="unreadable"):
        cached = load_or_build(sequence, _detect, _Embedder(), settings, tmp_path / "cache", ECC())
    assert cached.frames == 3 and cached.dets.shape == (3, 6)
