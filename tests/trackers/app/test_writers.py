"""Output writers and the background threads around them."""

import threading

import cv2
import numpy as np
import pytest

from strongsort_reid.utils.motchallenge import read_results
from trackers.app.prefetch import BackgroundWorker, Prefetcher
from trackers.app.writers import MOTResultWriter, OutputError, VideoWriter


def test_video_writer_takes_the_first_frame_size(tmp_path):
    writer = VideoWriter(tmp_path / "out.mp4", fps=12.0)
    for i in range(5):
        writer.write(np.full((40, 60, 3), i * 30, dtype=np.uint8))
    writer.write(np.zeros((80, 120, 3), dtype=np.uint8))  # resized to the first size
    writer.close()
    writer.close()
    capture = cv2.VideoCapture(str(tmp_path / "out.mp4"))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 6 == writer.frames
    assert (capture.get(cv2.CAP_PROP_FRAME_WIDTH), capture.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (
        60,
        40,
    )
    capture.release()


def test_video_writer_in_an_impossible_folder_fails_clearly(tmp_path):
    (tmp_path / "file").write_text("")
    writer = VideoWriter(tmp_path / "file" / "out.mp4", fps=10)
    with pytest.raises(OutputError, match="cannot write .*out.mp4"):
        writer.write(np.zeros((20, 20, 3), dtype=np.uint8))


def test_mot_writer_is_atomic_and_matches_the_results_format(tmp_path):
    path = tmp_path / "seq.txt"
    writer = MOTResultWriter(path)
    tracks = np.array([[10, 20, 40, 80, 3, 0.9, 0, 1], [0, 0, 5, 5, 7, 0.5, 0, 0]])
    writer.write(1, tracks)
    writer.write(2, np.empty((0, 8)))
    writer.write(3, tracks[:1])
    (temp,) = tmp_path.glob(".seq.*.tmp.txt")  # a hidden temporary file until closed
    assert not path.exists() and temp.read_text().count("\n") == 3
    writer.close()
    writer.close()
    assert [p.name for p in tmp_path.iterdir()] == ["seq.txt"] and writer.published
    rows = read_results(path)
    assert rows.shape == (3, 10) and writer.rows == 3
    np.testing.assert_allclose(rows[0, :7], [1, 3, 10, 20, 30, 60, 0.9])
    assert path.read_text().splitlines()[0] == "1,3,10.00,20.00,30.00,60.00,0.90,-1,-1,-1"


def test_mot_writer_in_an_impossible_folder_fails_clearly(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError, match="cannot write .*seq.txt"):
        MOTResultWriter(tmp_path / "file" / "seq.txt")


def test_prefetcher_yields_in_order_and_reraises_producer_errors():
    def produce():
        yield from range(5)
        raise RuntimeError("decoder broke")

    prefetcher = Prefetcher(produce(), depth=2)
    seen = []
    with pytest.raises(RuntimeError, match="decoder broke"):
        for item in prefetcher:
            seen.append(item)
    prefetcher.close()
    assert seen == [0, 1, 2, 3, 4] and prefetcher.seconds >= 0


def test_prefetcher_close_stops_an_endless_producer():
    def endless():
        i = 0
        while True:
            yield i
            i += 1

    prefetcher = Prefetcher(endless(), depth=3)
    assert next(iter(prefetcher)) == 0
    prefetcher.close()
    assert not any(t.name == "prefetch" and t.is_alive() for t in threading.enumerate())


def test_background_worker_runs_in_order_and_reports_errors():
    done = []
    worker = BackgroundWorker(done.append, depth=2)
    for i in range(10):
        worker.submit(i)
    worker.close()
    assert done == list(range(10))

    def fail(item):
        raise OSError(f"disk full at {item}")

    failing = BackgroundWorker(fail)
    failing.submit(1)
    with pytest.raises(OSError, match="disk full at 1"):
        failing.close()
