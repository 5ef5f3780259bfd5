"""Issue #17, the video app's outputs: nothing the user owns is overwritten, a failed write
(disk full) leaves nothing half-written under the final name, and each cause gets its own
message with exit status 2."""

import os
import resource
import shutil

import cv2
import numpy as np
import pytest
from hostile.app_hostile import (
    blank_frames,
    fast_args,
    leftovers,
    readable_frames,
    run_demo,
    write_det_file,
)
from shared_assets import shared_path

from strongsort_reid.utils.motchallenge import read_results
from trackers.app.cli import main
from trackers.app.writers import MOTResultWriter, OutputError, VideoWriter, check_outputs


@pytest.fixture
def vtest():
    return shared_path("data/video/vtest.avi")


def test_output_in_the_source_folder_never_overwrites_the_source(tmp_path, vtest, capsys):
    """Case 1: ``--output .`` next to ``cam.mp4`` (and a det file named ``cam.txt``)."""
    source = tmp_path / "cam.mp4"
    shutil.copyfile(vtest, source)
    det = write_det_file(tmp_path / "cam.txt", 20)
    before = (source.read_bytes(), det.read_bytes())
    assert main([*fast_args(source, det, tmp_path), "--max-frames", "5"]) == 2
    err = capsys.readouterr().err
    assert f"would overwrite the source {source}" in err and "--output" in err
    assert main([*fast_args(source, det, tmp_path), "--max-frames", "5", "--no-save"]) == 2
    assert f"would overwrite the --det-file {det}" in capsys.readouterr().err
    assert (source.read_bytes(), det.read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cam.mp4", "cam.txt"]


def test_every_output_is_checked_against_every_input_also_through_links(tmp_path):
    weights = tmp_path / "weights.pth"
    weights.write_bytes(b"model")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "seq.mp4").symlink_to(weights)
    with pytest.raises(OutputError, match="overwrite the --reid-model"):
        check_outputs(
            [tmp_path / "out" / "seq.txt", tmp_path / "out" / "seq.mp4"],
            [("source", tmp_path / "missing"), ("--reid-model", weights)],
        )
    (tmp_path / "out" / "seq.txt").mkdir()
    with pytest.raises(OutputError, match="a folder of that name exists"):
        check_outputs([tmp_path / "out" / "seq.txt"], [])
    check_outputs([tmp_path / "out" / "new.txt"], [("--reid-model", weights)])


def test_a_folder_named_like_the_results_file_is_a_clear_error(tmp_path, vtest, capsys):
    """Case 9: a directory ``<name>.txt`` in the output folder (IsADirectoryError before)."""
    det = write_det_file(tmp_path / "det.txt", 10)
    out = tmp_path / "out"
    (out / "vtest.txt").mkdir(parents=True)
    assert main([*fast_args(vtest, det, out), "--max-frames", "3"]) == 2
    assert f"cannot write {out / 'vtest.txt'}: a folder of that name exists" in (
        capsys.readouterr().err
    )
    assert sorted(p.name for p in out.iterdir()) == ["vtest.txt"]


_REAL_VIDEO_WRITER = cv2.VideoWriter


class _LosingWriter:
    """``cv2.VideoWriter`` whose file loses its end when released, as on a full disk."""

    def __init__(self, path, *args):
        self._real, self._path = _REAL_VIDEO_WRITER(path, *args), path

    def __getattr__(self, name):
        return getattr(self._real, name)

    def release(self):
        self._real.release()
        with open(self._path, "r+b") as stream:
            stream.truncate(os.path.getsize(self._path) // 3)


def test_video_that_did_not_reach_the_disk_is_an_error_and_removed(tmp_path, vtest, monkeypatch):
    """Case 2 (injected): VideoWriter.write reports nothing; the close check catches it."""
    monkeypatch.setattr(cv2, "VideoWriter", _LosingWriter)
    writer = VideoWriter(tmp_path / "out.mp4", fps=10)
    for frame in blank_frames(12):
        writer.write(frame)
    with pytest.raises(OutputError, match="of 12 frames reached the disk"):
        writer.close()
    assert list(tmp_path.iterdir()) == [] and not writer.published


def test_cli_reports_a_lost_video_and_keeps_the_complete_results(tmp_path, vtest, monkeypatch):
    monkeypatch.setattr(cv2, "VideoWriter", _LosingWriter)
    det = write_det_file(tmp_path / "det.txt", 20)
    out = tmp_path / "out"
    code = main([*fast_args(vtest, det, out), "--max-frames", "20"])
    assert code == 2
    assert sorted(p.name for p in out.iterdir()) == ["vtest.txt"]
    assert read_results(out / "vtest.txt")[:, 0].max() == 20


def _file_size_limit(limit):
    def apply():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.parametrize(
    "extra, limit, message",
    [
        ([], 200_000, "cannot write video"),  # the video outgrows the limit, the results do not
        (["--no-save"], 2_000, "cannot write results file"),
    ],
)
def test_a_real_write_failure_exits_2_with_nothing_half_written(
    tmp_path, vtest, extra, limit, message
):
    """Case 2 with the OS refusing writes (RLIMIT_FSIZE: EFBIG, like ENOSPC on a full disk)."""
    det = write_det_file(tmp_path / "det.txt", 60)
    out = tmp_path / "out"
    out.mkdir()
    args = [*fast_args(vtest, det, out), "--max-frames", "60", *extra]
    result = run_demo(args, cwd=tmp_path, preexec_fn=_file_size_limit(limit))
    assert result.returncode == 2, result.stderr[-2000:]
    assert message in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert leftovers(out) == []
    for path in out.iterdir():  # whatever was published is complete
        assert path.suffix == ".txt" and read_results(path)[:, 0].max() == 60


def test_results_writer_failure_removes_the_temporary_file(tmp_path, monkeypatch):
    writer = MOTResultWriter(tmp_path / "seq.txt")
    tracks = np.array([[10, 20, 40, 80, 3, 0.9, 0, 1]])
    writer.write(1, tracks)

    def disk_full(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writer._stream, "flush", disk_full)
    with pytest.raises(OutputError, match="seq.txt: No space left on device"):
        writer.write(2, tracks)
    writer.close()
    assert list(tmp_path.iterdir()) == [] and not writer.published


@pytest.mark.parametrize(
    "size, fps, message",
    [
        ((1, 1), 30.0, "encoder refuses 1x1 frames at 30 FPS"),
        ((64, 48), 0.0, "frame rate must be > 0, got 0"),
        ((64, 48), float("nan"), "frame rate must be > 0, got nan"),
    ],
)
def test_video_writer_names_the_real_cause(tmp_path, size, fps, message):
    """Case 9: was "cannot write video (folder not writable or no codec)"."""
    with pytest.raises(OutputError, match=message):
        writer = VideoWriter(tmp_path / "out.mp4", fps)
        writer.write(next(blank_frames(1, size)))
    assert list(tmp_path.iterdir()) == []


def test_a_1x1_image_source_fails_with_the_frame_size(tmp_path, capsys):
    image = tmp_path / "dot.png"
    cv2.imwrite(str(image), np.zeros((1, 1, 3), np.uint8))
    det = write_det_file(tmp_path / "det.txt", 1)
    assert main(fast_args(image, det, tmp_path / "out")) == 2
    assert "refuses 1x1 frames" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["dot.txt"]


def test_published_video_is_complete_and_shared_like_a_normal_file(tmp_path):
    writer = VideoWriter(tmp_path / "out.avi", fps=5)
    for frame in blank_frames(7):
        writer.write(frame)
    writer.close()
    assert readable_frames(tmp_path / "out.avi") == 7 and writer.published
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "out.avi").stat().st_mode & 0o777 == 0o666 & ~umask
    assert leftovers(tmp_path) == []
