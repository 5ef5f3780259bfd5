"""Issue #17, the video app's inputs: streams that never answer or stall, truncated videos,
empty images, malformed sequence and tracker files each get one clear message, in bounded
time."""

import socket
import threading
import time

import cv2
import numpy as np
import pytest
from hostile.app_hostile import fast_args, truncated_copy, write_det_file
from shared_assets import shared_path

from trackers.app.cli import main
from trackers.app.sources import SourceError, open_source


class _SilentServer:
    """A loopback TCP server that accepts connections and, after sending ``prelude`` (if any),
    never says anything more."""

    def __init__(self, prelude: bytes = b""):
        self.prelude = prelude
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._connections = []
        self.port = self._socket.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            self._connections.append(connection)
            if self.prelude:
                connection.recv(4096)
                connection.sendall(self.prelude)

    def close(self):
        for connection in [*self._connections, self._socket]:
            connection.close()


def _mjpeg_prelude(frames: int) -> bytes:
    """An HTTP multipart-JPEG stream's header and its first ``frames`` frames."""
    jpeg = cv2.imencode(".jpg", np.full((48, 64, 3), 128, np.uint8))[1].tobytes()
    part = b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(jpeg)
    head = b"HTTP/1.0 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=frame\r\n\r\n"
    return head + (part + jpeg + b"\r\n") * frames


@pytest.mark.parametrize("scheme", ["http", "rtsp"])
def test_a_server_that_never_answers_fails_within_the_timeout(scheme):
    """Case 10: was 31 s (FFmpeg's 30 s default)."""
    server = _SilentServer()
    start = time.monotonic()
    try:
        with pytest.raises(SourceError, match="no answer within 1 s"):
            open_source(f"{scheme}://127.0.0.1:{server.port}/stream", stream_timeout=1.0)
    finally:
        server.close()
    assert time.monotonic() - start < 5


def test_a_stream_that_stalls_ends_within_the_timeout_and_says_so():
    """Case 10: a stalled stream (and Ctrl-C on it, which waits for the read) was 22-30 s."""
    server = _SilentServer(_mjpeg_prelude(frames=4))
    try:
        source = open_source(f"http://127.0.0.1:{server.port}/video.mjpg", stream_timeout=1.0)
        start = time.monotonic()
        frames = list(source)
        waited = time.monotonic() - start
        source.close()
    finally:
        server.close()
    assert len(frames) >= 1 and waited < 5
    assert source.end_note == "the stream delivered no frame for 1 s: stopped"


def test_stream_timeout_must_be_positive():
    with pytest.raises(SourceError, match="stream timeout must be"):
        open_source("rtsp://127.0.0.1:9/none", stream_timeout=0)


def test_a_truncated_video_says_where_it_ended(tmp_path):
    """Case 11: was "30 unreadable frames skipped" with 373 frames lost, and no word of it."""
    cut = truncated_copy(shared_path("data/video/vtest.avi"), tmp_path / "cut.avi")
    with open_source(cut) as source:
        frames = list(source)
    assert len(frames) == 422 and source.skipped == 0
    assert source.end_note == (
        "the video ended early: frame 422 of 795 was the last readable one (373 frames "
        "missing; the file is truncated or corrupt)"
    )


def test_the_demo_reports_the_early_end(tmp_path, capsys):
    cut = truncated_copy(shared_path("data/video/vtest.avi"), tmp_path / "cut.avi", keep=0.1)
    det = write_det_file(tmp_path / "det.txt", 10)
    assert main([*fast_args(cut, det, tmp_path / "out"), "--no-save"]) == 0
    out = capsys.readouterr().out
    assert "0 unreadable frames skipped" in out and "the video ended early: frame" in out


def test_a_zero_byte_image_is_a_clear_error(tmp_path, capsys):
    """Case 11: was a raw cv2.error (or a 0-frame run with exit 0)."""
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(SourceError, match="cannot decode image .*empty.jpg .the file is empty"):
        open_source(empty)
    det = write_det_file(tmp_path / "det.txt", 1)
    assert main(fast_args(empty, det, tmp_path / "out")) == 2
    assert "the file is empty" in capsys.readouterr().err


def test_a_folder_of_undecodable_images_is_an_error(tmp_path, capsys):
    folder = tmp_path / "frames"
    folder.mkdir()
    for name in ("a.jpg", "b.png"):
        (folder / name).write_bytes(b"not an image")
    det = write_det_file(tmp_path / "det.txt", 2)
    assert main(fast_args(folder, det, tmp_path / "out")) == 2
    captured = capsys.readouterr()
    assert "none of the 2 images of frames could be decoded" in captured.out
    assert "error: no frame of" in captured.err


def _sequence(tmp_path, seqinfo: str):
    seq = tmp_path / "seq"
    (seq / "img1").mkdir(parents=True)
    cv2.imwrite(str(seq / "img1" / "000001.jpg"), np.zeros((48, 64, 3), np.uint8))
    (seq / "seqinfo.ini").write_text(seqinfo)
    return seq


@pytest.mark.parametrize(
    "seqinfo, message",
    [
        ("name=seq\nframeRate=30\n", "bad MOTChallenge sequence"),
        (
            "[Sequence]\nname=seq\nimDir=img1\nframeRate=0\nseqLength=1\nimWidth=64\n"
            "imHeight=48\nimExt=.jpg\n",
            "frameRate",
        ),
    ],
    ids=["no-section-header", "frame-rate-0"],
)
def test_bad_seqinfo_is_one_line_exit_2(tmp_path, capsys, seqinfo, message):
    """Case 9: a traceback (no header) and "cannot write video ... no codec" (frameRate=0)."""
    seq = _sequence(tmp_path, seqinfo)
    det = write_det_file(tmp_path / "det.txt", 1)
    assert main(fast_args(seq, det, tmp_path / "out")) == 2
    err = capsys.readouterr().err
    assert message in err and "seqinfo.ini" in err and len(err.strip().splitlines()) == 1


def test_invalid_tracker_config_yaml_is_one_line_exit_2(tmp_path, capsys):
    """Case 9: was a yaml.parser.ParserError traceback."""
    config = tmp_path / "tracker.yaml"
    config.write_text("max_age: [1, 2\n")
    image = tmp_path / "frame.png"
    cv2.imwrite(str(image), np.zeros((48, 64, 3), np.uint8))
    det = write_det_file(tmp_path / "det.txt", 1)
    args = [*fast_args(image, det, tmp_path / "out"), "--tracker-config", str(config)]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"strongsort-track: error: --tracker-config {config}: invalid YAML")
    assert "line 2" in err and len(err.splitlines()) == 1
