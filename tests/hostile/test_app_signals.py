"""Issue #17 case 3: a second Ctrl-C 50 ms after the first, or SIGTERM, still leaves a playable
video and a parseable results file under their final names."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from hostile.app_hostile import DEMO, REPO, fast_args, leftovers, readable_frames, write_det_file
from shared_assets import shared_path

from strongsort_reid.utils.motchallenge import read_results
from trackers.app.embedder import MotionOnlyEmbedder
from trackers.app.loop import StopSignals, run_tracking
from trackers.app.sources import open_source
from trackers.app.writers import MOTResultWriter, VideoWriter
from trackers.strongsort import StrongSORT


def _start_tracking(tmp_path):
    """The demo tracking all of vtest.avi in a subprocess, once it has written something."""
    det = write_det_file(tmp_path / "det.txt", 795)
    out = tmp_path / "out"
    args = fast_args(shared_path("data/video/vtest.avi"), det, out)
    config = tmp_path / "tracker.yaml"
    config.write_text("n_init: 1\n")  # rows from the first frames: the signal comes early
    args += ["--tracker-config", str(config)]
    process = subprocess.Popen(
        [sys.executable, str(DEMO), *args],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not (out.is_dir() and any(_size(path) for path in out.iterdir())):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the demo did not start tracking"
        time.sleep(0.02)
    return process, out


def _size(path):
    try:
        return path.stat().st_size
    except FileNotFoundError:  # renamed meanwhile
        return 0


def _assert_complete(out, stdout):
    assert leftovers(out) == []
    frames = int(stdout.split(" frames")[0])
    assert 0 < frames < 795 and "(interrupted)" in stdout
    assert readable_frames(out / "vtest.mp4") == frames
    rows = read_results(out / "vtest.txt")
    assert rows.shape[0] > 0 and rows[:, 0].max() <= frames


@pytest.mark.parametrize(
    "signals, code",
    [((signal.SIGINT, signal.SIGINT), 130), ((signal.SIGTERM,), 143)],
    ids=["sigint-twice", "sigterm"],
)
def test_signals_leave_complete_outputs(tmp_path, signals, code):
    process, out = _start_tracking(tmp_path)
    for number in signals:
        process.send_signal(number)
        time.sleep(0.05)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == code, stderr
    assert "Traceback" not in stderr
    _assert_complete(out, stdout)


def test_stop_signals_record_the_first_signal_and_restore_the_handlers():
    with StopSignals() as signals:
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.01)
    assert signals.received == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


class _SignalledWhileClosing(VideoWriter):
    """Receives Ctrl-C and SIGTERM in the middle of finishing the file."""

    def close(self):
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.01)
        super().close()


class _Walkers:
    def detect(self, frame):
        x = 10 + 3 * frame.number
        return np.array([[x, 20, x + 30, 100, 0.9, 0]], dtype=np.float32)


def test_signals_while_finishing_the_outputs_do_not_cut_them_short(tmp_path):
    import cv2

    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(5):
        cv2.imwrite(str(folder / f"{i}.png"), np.full((120, 160, 3), 30 * i, np.uint8))
    with open_source(folder) as source:
        video = _SignalledWhileClosing(tmp_path / "v.mp4", source.fps)
        results = MOTResultWriter(tmp_path / "v.txt")
        tracker = StrongSORT(cmc=None, n_init=1)
        summary = run_tracking(
            source, _Walkers(), MotionOnlyEmbedder(), tracker, video, results, progress=False
        )
    assert summary.frames == 5 and summary.interrupted and summary.signal == signal.SIGINT
    assert summary.outputs == [tmp_path / "v.mp4", tmp_path / "v.txt"]
    assert readable_frames(tmp_path / "v.mp4") == 5
    assert read_results(tmp_path / "v.txt")[:, 0].max() == 5
