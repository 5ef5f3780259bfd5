"""The demo's loop: explicit decode -> detect -> embed -> track -> write stages."""

import time

import cv2
import numpy as np
import pytest
from shared_assets import shared_path

from strongsort_reid.utils.motchallenge import read_results
from trackers.app.embedder import MotionOnlyEmbedder
from trackers.app.loop import embed_tracked, run_tracking
from trackers.app.sources import open_source
from trackers.app.writers import MOTResultWriter, VideoWriter
from trackers.strongsort import StrongSORT


class CountingEmbedder:
    """Embeds a box by its x position; records how many boxes it was given, and sleeps."""

    def __init__(self, delay=0.0):
        self.boxes, self.delay = [], delay

    def from_frame(self, frame, boxes_xyxy):
        time.sleep(self.delay)
        self.boxes.append(np.array(boxes_xyxy))
        features = np.zeros((len(boxes_xyxy), 8), np.float32)
        features[np.arange(len(boxes_xyxy)), (boxes_xyxy[:, 0] // 100).astype(int) % 8] = 1
        return features


class FixedDetector:
    """Two people walking right, plus a low-confidence box the tracker ignores."""

    def detect(self, frame):
        x = 10 + 3 * frame.number
        people = [[x, 20, x + 30, 100, 0.9, 0], [x + 200, 20, x + 230, 100, 0.8, 0]]
        return np.array([*people, [5, 5, 9, 9, 0.1, 0]])


def _folder(tmp_path, count=6):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(count):
        cv2.imwrite(str(folder / f"{i:03d}.png"), np.full((120, 320, 3), 40 * i, np.uint8))
    return folder


def test_embed_stage_embeds_only_the_rows_the_tracker_uses():
    tracker = StrongSORT(cmc=None, min_conf=0.5)
    embedder = CountingEmbedder()
    image = np.zeros((120, 320, 3), np.uint8)
    dets = FixedDetector().detect(type("F", (), {"number": 1})())
    embs = embed_tracked(embedder, tracker, image, dets)
    assert embs.shape == (3, 8) and not embs[2].any() and embs[:2].any()
    assert [b.shape for b in embedder.boxes] == [(2, 4)]
    assert embed_tracked(embedder, tracker, image, dets[2:]) is None
    assert embed_tracked(embedder, tracker, image, np.empty((0, 6))) is None
    assert len(embedder.boxes) == 1


def test_run_reports_the_embed_stage_separately(tmp_path):
    embedder = CountingEmbedder(delay=0.02)
    tracker = StrongSORT(cmc=None, n_init=1, embed_skip=False)
    with open_source(_folder(tmp_path)) as source:
        results = MOTResultWriter(tmp_path / "out.txt")
        summary = run_tracking(
            source, FixedDetector(), embedder, tracker, results=results, progress=False
        )
    assert summary.frames == 6 and summary.tracks == 2
    assert sum(len(b) for b in embedder.boxes) == 12  # the low-confidence box is never cropped
    assert summary.stage_ms["embed"] >= 20 and summary.stage_ms["track"] < 20
    rows = read_results(tmp_path / "out.txt")
    assert sorted(set(rows[:, 1].astype(int))) == [1, 2]


def test_motion_only_run(tmp_path):
    tracker = StrongSORT(cmc=None, n_init=1)
    with open_source(_folder(tmp_path)) as source:
        video = VideoWriter(tmp_path / "out.mp4", source.fps)
        summary = run_tracking(
            source, FixedDetector(), MotionOnlyEmbedder(), tracker, video=video, progress=False
        )
    assert summary.frames == 6 and summary.tracks == 2 and video.frames == 6
    assert summary.outputs == [tmp_path / "out.mp4"]


def test_interrupted_run_leaves_complete_outputs(tmp_path, monkeypatch, reid_home):
    pytest.importorskip("torch")
    from trackers.app.detectors import HogPeopleDetector

    class InterruptedAfter(HogPeopleDetector):
        calls = 0

        def __call__(self, image):
            self.calls += 1
            if self.calls == 8:
                raise KeyboardInterrupt
            return super().__call__(image)

    source = open_source(shared_path("data/video/vtest.avi"))
    video = VideoWriter(tmp_path / "v.mp4", source.fps)
    results = MOTResultWriter(tmp_path / "v.txt")
    tracker = StrongSORT(reid_weights="osnet_x0_25_msmt17", device="cpu")
    summary = run_tracking(
        source, InterruptedAfter(), tracker.embedder, tracker, video, results, progress=False
    )
    source.close()
    assert summary.interrupted and summary.frames == 7
    capture = cv2.VideoCapture(str(tmp_path / "v.mp4"))
    frames = 0
    while capture.read()[0]:
        frames += 1
    capture.release()
    assert frames == 7
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.mp4", "v.txt"]
    read_results(tmp_path / "v.txt")


@pytest.mark.parametrize("overlap, thread", [(True, "writer"), (False, "MainThread")])
def test_drawing_runs_with_the_encoder_off_the_main_thread(tmp_path, monkeypatch, overlap, thread):
    """Issue #15: at 1080p, drawing and encoding are kept off the tracking loop's path."""
    import threading

    from trackers.plotting import TrackPlotter

    threads = []
    draw = TrackPlotter.draw

    def recording_draw(self, frame, tracks):
        threads.append(threading.current_thread().name)
        return draw(self, frame, tracks)

    monkeypatch.setattr(TrackPlotter, "draw", recording_draw)
    tracker = StrongSORT(cmc=None, n_init=1)
    with open_source(_folder(tmp_path)) as source:
        video = VideoWriter(tmp_path / "out.mp4", source.fps)
        run_tracking(
            source,
            FixedDetector(),
            MotionOnlyEmbedder(),
            tracker,
            video=video,
            overlap=overlap,
            progress=False,
        )
    assert threads == [thread] * 6 and video.frames == 6
