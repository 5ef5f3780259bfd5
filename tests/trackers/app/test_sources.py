"""Frame sources: every kind of --source, frame numbering, strides and broken inputs."""

import shutil

import cv2
import numpy as np
import pytest
from shared_assets import shared_path

from trackers.app.sources import ImageSequenceSource, SourceError, VideoCaptureSource, open_source


def _write_video(path, frames=12, size=(64, 48), codec="MJPG"):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), 10.0, size)
    for i in range(frames):
        image = np.full((size[1], size[0], 3), i * 20 % 255, dtype=np.uint8)
        cv2.putText(image, str(i), (5, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2)
        writer.write(image)
    writer.release()
    return path


def _write_images(folder, count=5, size=(32, 24)):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        image = np.full((size[1], size[0], 3), i * 40 % 255, dtype=np.uint8)
        cv2.imwrite(str(folder / f"img{i + 1}.png"), image)
    return folder


def test_video_file_yields_every_frame_numbered_from_one(tmp_path):
    path = _write_video(tmp_path / "clip.avi", frames=12)
    with open_source(path) as source:
        assert isinstance(source, VideoCaptureSource)
        assert source.name == "clip" and source.length == 12 and not source.live
        assert source.fps == pytest.approx(10.0)
        frames = list(source)
    assert [f.number for f in frames] == list(range(1, 13))
    assert all(f.image.shape == (48, 64, 3) and f.image.dtype == np.uint8 for f in frames)


def test_vid_stride_keeps_original_frame_numbers(tmp_path):
    path = _write_video(tmp_path / "clip.avi", frames=10)
    with open_source(path, vid_stride=3) as source:
        assert source.length == 4 and source.fps == pytest.approx(10.0 / 3)
        numbers = [f.number for f in source]
    assert numbers == [1, 4, 7, 10]


def test_real_video_metadata():
    path = shared_path("data/video/vtest.avi")
    with open_source(path) as source:
        assert source.length == 795 and source.fps == pytest.approx(10.0)
        first = next(iter(source))
    assert first.image.shape == (360, 480, 3)


def test_folder_is_sorted_naturally_and_skips_unreadable_images(tmp_path):
    folder = _write_images(tmp_path / "frames", count=12)
    (folder / "img5.png").write_bytes(b"not a png")
    (folder / "notes.txt").write_text("ignored")
    with open_source(folder) as source:
        assert isinstance(source, ImageSequenceSource) and source.length == 12
        numbers = [f.number for f in source]
        assert source.skipped == 1
    assert numbers == [1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12]


def test_glob_and_single_image(tmp_path):
    folder = _write_images(tmp_path / "frames", count=4)
    with open_source(str(folder / "img*.png")) as source:
        assert source.length == 4 and source.name == "frames"
    with open_source(folder / "img2.png") as source:
        assert [f.number for f in source] == [1]


def test_mot_sequence_uses_the_image_numbers_and_frame_rate(tmp_path):
    seq = shared_path("data/mot/MOT17-mini/train/MOT17-09-FRCNN")
    with open_source(seq) as source:
        frames = list(source)
        assert source.name == "MOT17-09-FRCNN" and source.fps == pytest.approx(30.0)
    files = sorted(p.stem for p in (seq / "img1").iterdir())
    assert [f.number for f in frames] == [int(s) for s in files]
    assert frames[0].image.shape == (1080, 1920, 3)


def test_truncated_video_ends_cleanly(tmp_path):
    full = _write_video(tmp_path / "full.avi", frames=40, size=(160, 120))
    data = full.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])
    with open_source(cut) as source:
        frames = list(source)
    assert 0 < len(frames) < 40


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: d / "missing.mp4", "not found"),
        (lambda d: _touch(d / "notes.txt", b"hello"), "unknown source type"),
        (lambda d: _touch(d / "broken.mp4", b"\x00" * 4096), "cannot"),
        (lambda d: _mkdir(d / "empty"), "holds no images"),
        (lambda d: str(d / "nothing*.jpg"), "no images match"),
    ],
)
def test_bad_sources_raise_source_error(tmp_path, make, message):
    with pytest.raises(SourceError, match=message):
        open_source(make(tmp_path))


def test_unopenable_stream_is_a_source_error():
    with pytest.raises(SourceError, match="cannot open stream 'rtsp://127.0.0.1:9/none'"):
        open_source("rtsp://127.0.0.1:9/none")


def test_bad_stride_is_rejected(tmp_path):
    folder = _write_images(tmp_path / "frames", count=2)
    with pytest.raises(SourceError, match="vid_stride"):
        open_source(folder, vid_stride=0)


def test_mot_sequence_without_images(tmp_path):
    seq = shared_path("data/mot/MOT17-mini/train/MOT17-09-FRCNN")
    copy = tmp_path / "seq"
    copy.mkdir()
    shutil.copy(seq / "seqinfo.ini", copy / "seqinfo.ini")
    with pytest.raises(SourceError, match="no images"):
        open_source(copy)


def _touch(path, data):
    path.write_bytes(data)
    return path


def _mkdir(path):
    path.mkdir()
    return path
