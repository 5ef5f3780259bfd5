"""``strongsort-track`` / ``demo/track.py`` end to end on the shared videos and MOT17 frames."""

import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest
from shared_assets import shared_path

from strongsort_reid.utils.motchallenge import read_results
from trackers.app.cli import main

DEMO = Path(__file__).resolve().parents[3] / "demo" / "track.py"


@pytest.fixture(scope="module")
def yolo_onnx():
    pytest.importorskip("onnxruntime")
    return str(shared_path("data/detectors/yolov8n_int8.onnx"))


def _outputs(folder, name):
    return folder / f"{name}.mp4", folder / f"{name}.txt"


def _video_info(path):
    capture = cv2.VideoCapture(str(path))
    frames = 0
    while capture.read()[0]:
        frames += 1
    size = (capture.get(cv2.CAP_PROP_FRAME_WIDTH), capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    capture.release()
    return frames, size


def _assert_inside(rows, width, height):
    x, y, w, h = rows[:, 2], rows[:, 3], rows[:, 4], rows[:, 5]
    assert (x >= 0).all() and (y >= 0).all() and (w > 0).all() and (h > 0).all()
    assert (x + w <= width + 0.01).all() and (y + h <= height + 0.01).all()


def test_vtest_with_yolo_and_osnet(tmp_path, reid_home, yolo_onnx, capsys):
    source = shared_path("data/video/vtest.avi")
    out = tmp_path / "run"
    argv = ["--source", str(source), "--yolo-model", yolo_onnx, "--max-frames", "100"]
    assert main([*argv, "--output", str(out), "--device", "cpu", "--quiet"]) == 0
    summary = capsys.readouterr().out
    assert "100 frames" in summary and "FPS overall" in summary and "embed" in summary
    video, txt = _outputs(out, "vtest")
    assert _video_info(video) == (100, (480.0, 360.0))
    rows = read_results(txt)
    assert rows.shape[0] > 200 and rows[:, 0].min() >= 1 and rows[:, 0].max() <= 100
    _assert_inside(rows, 480, 360)
    lengths = Counter(rows[:, 1].astype(int).tolist())
    assert len(lengths) >= 5
    assert sum(n > 10 for n in lengths.values()) > len(lengths) / 2  # identities persist


def test_mot_sequence_with_det_file(tmp_path, reid_home):
    seq = shared_path("data/mot/MOT17-mini/train/MOT17-04-FRCNN")
    out = tmp_path / "mot"
    argv = ["--source", str(seq), "--det-file", str(seq / "det" / "det.txt"), "--no-save"]
    assert main([*argv, "--output", str(out), "--device", "cpu", "--quiet"]) == 0
    assert not (out / "MOT17-04-FRCNN.mp4").exists()
    rows = read_results(out / "MOT17-04-FRCNN.txt")
    frames = sorted(int(p.stem) for p in (seq / "img1").iterdir())
    assert set(rows[:, 0].astype(int)) <= set(frames) and rows[:, 0].max() == frames[-1]
    _assert_inside(rows, 1920, 1080)
    assert len(set(rows[:, 1])) >= 10  # a dense crowd


def test_image_folder_source(tmp_path, reid_home, yolo_onnx):
    frames = tmp_path / "frames"
    frames.mkdir()
    capture = cv2.VideoCapture(str(shared_path("data/video/vtest.avi")))
    for i in range(8):
        cv2.imwrite(str(frames / f"frame_{i}.jpg"), capture.read()[1])
    capture.release()
    out = tmp_path / "out"
    argv = ["--source", str(frames), "--yolo-model", yolo_onnx, "--reid-backend", "torch"]
    assert main([*argv, "--output", str(out), "--quiet", "--no-overlap"]) == 0
    assert _video_info(out / "frames.mp4") == (8, (480.0, 360.0))
    rows = read_results(out / "frames.txt")
    assert rows.shape[0] > 0 and rows[:, 0].max() <= 8


def test_forced_hog_detector_tracks_people_on_vtest(tmp_path, reid_home):
    out = tmp_path / "hog"
    argv = ["--source", str(shared_path("data/video/vtest.avi")), "--detector", "hog"]
    assert main([*argv, "--max-frames", "15", "--output", str(out), "--no-save"]) == 0
    rows = read_results(out / "vtest.txt")
    assert rows.shape[0] >= 10 and len(set(rows[:, 1])) >= 1
    _assert_inside(rows, 480, 360)


def test_motion_only_when_reid_weights_cannot_be_obtained(tmp_path, monkeypatch, capsys):
    from strongsort_reid.utils import download

    def offline(url, *args, **kwargs):
        raise download.WeightsUnavailableError(f"cannot download {url}: network unreachable")

    monkeypatch.setenv("STRONGSORT_REID_HOME", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(download, "download_file", offline)
    seq = shared_path("data/mot/MOT17-mini/train/MOT17-09-FRCNN")
    argv = ["--source", str(seq), "--det-file", str(seq / "det" / "det.txt"), "--no-save"]
    argv += ["--reid-model", "osnet_x1_0_msmt17", "--output", str(tmp_path / "out")]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "tracking by motion only" in err and "osnet_x1_0_msmt17" in err
    assert read_results(tmp_path / "out" / "MOT17-09-FRCNN.txt").shape[0] > 0
    assert main([*argv, "--require-reid"]) == 2
    assert "error: ReID weights osnet_x1_0_msmt17 unavailable" in capsys.readouterr().err


def _cli(*args, cwd):
    env = {**os.environ, "PYTHONPATH": str(DEMO.parents[1])}
    return subprocess.run(
        [sys.executable, str(DEMO), *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_user_errors_exit_2_without_a_traceback(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a video")
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(os.urandom(20000))
    blocker = tmp_path / "file"
    blocker.write_text("")
    bad_config = tmp_path / "tracker.yaml"
    bad_config.write_text("max_agee: 10\n")
    seq = shared_path("data/mot/MOT17-mini/train/MOT17-09-FRCNN")
    det = seq / "det" / "det.txt"
    cases = [
        (["--source", tmp_path / "missing.mp4"], "source not found"),
        (["--source", notes], "unknown source type"),
        (["--source", corrupt], "cannot"),
        (["--source", seq, "--det-file", det, "--output", blocker / "out"], "output folder"),
        (["--source", seq, "--det-file", tmp_path / "det.txt"], "not found"),
        (["--source", seq, "--det-file", det, "--tracker-config", bad_config], "max_agee"),
        (["--source", seq, "--yolo-model", tmp_path / "models" / "x.pt"], "not found"),
        (["--source", seq, "--det-file", det, "--reid-model", tmp_path / "m.pth"], "not found"),
    ]
    for args, message in cases:
        reid = [] if "--reid-model" in args else ["--reid-model", "none"]
        result = _cli(*args, *reid, "--quiet", cwd=tmp_path)
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr and message in result.stderr, result.stderr


def test_library_integration_with_ultralytics(reid_home, yolo_onnx):
    """The README's two-line integration: any detector's (N, 6) boxes plus the frame."""
    from ultralytics import YOLO

    from trackers import StrongSORT

    tracker = StrongSORT(reid_weights="osnet_x0_25_msmt17", device="cpu")
    source = str(shared_path("data/video/vtest.avi"))
    outputs = []
    for i, r in enumerate(
        YOLO(yolo_onnx, task="detect").predict(source, stream=True, verbose=False)
    ):
        tracks = tracker.update(r.boxes.data.cpu().numpy(), r.orig_img)
        outputs.append(tracks)
        if i == 11:
            break
    assert all(t.ndim == 2 and t.shape[1] == 8 for t in outputs)
    late = np.concatenate(outputs[6:])
    assert late.shape[0] > 0 and (late[:, 4] >= 1).all()
    ids = [set(t[:, 4].astype(int)) for t in outputs[6:]]
    assert len(set.intersection(*ids)) >= 2  # the same people keep their identities


@pytest.mark.skipif(shutil.which("strongsort-track") is None, reason="package not installed")
def test_console_entry_point_is_installed():
    result = subprocess.run(
        ["strongsort-track", "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and "--source" in result.stdout
    for command in ("track-mot", "eval-mot"):
        assert command in result.stdout


@pytest.mark.parametrize(
    "command, option",
    [("track", "--source"), ("track-mot", "--mot-root"), ("eval-mot", "--gt-root")],
)
def test_subcommand_help(command, option, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    assert f"usage: strongsort-track {command}" in out and option in out


def test_unknown_subcommand_is_a_user_error(capsys):
    assert main(["trak-mot"]) == 2
    err = capsys.readouterr().err
    assert "unknown command 'trak-mot'" in err and "track-mot" in err


def test_track_subcommand_and_no_subcommand_track_alike(tmp_path, reid_home):
    seq = shared_path("data/mot/MOT17-mini/train/MOT17-09-FRCNN")
    argv = ["--source", str(seq), "--det-file", str(seq / "det" / "det.txt"), "--no-save"]
    argv += ["--device", "cpu", "--quiet"]
    assert main([*argv, "--output", str(tmp_path / "plain")]) == 0
    assert main(["track", *argv, "--output", str(tmp_path / "track")]) == 0
    plain = read_results(tmp_path / "plain" / "MOT17-09-FRCNN.txt")
    assert plain.shape[0] > 0
    assert np.array_equal(plain, read_results(tmp_path / "track" / "MOT17-09-FRCNN.txt"))
