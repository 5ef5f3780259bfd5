"""Hostile inputs to ``track-mot`` (issue #17, cases 7, 8 and 10): a det.txt row at frame 1e9
no longer makes the run walk a billion frames, bad rows are one ``file:line`` message, and
embeddings too large for float32 keep their direction. The sequences are made here.
"""

import subprocess
import sys
import time

import numpy as np
import pytest

from strongsort_reid.utils.motchallenge import MOTDetections
from trackers import StrongSORT
from trackers.motchallenge.commands import track_mot
from trackers.motchallenge.runs import track_sequence

SEQINFO = (
    "[Sequence]\nname=SEQ\nimDir=img1\nframeRate=30\nseqLength={length}\n"
    "imWidth=640\nimHeight=480\nimExt=.jpg\n"
)


def _det_lines(frames=10):
    """Two people walking right over ``frames`` frames, as det.txt lines."""
    return [f"{f},-1,{10 + 5 * f},{y},40,100,0.9" for f in range(1, frames + 1) for y in (50, 250)]


def _sequence(root, lines, length=10, features=None):
    """``root/mot/SEQ`` with ``lines`` as det.txt; features as ``root/features/SEQ.npy``."""
    seq = root / "mot" / "SEQ"
    (seq / "det").mkdir(parents=True)
    (seq / "seqinfo.ini").write_text(SEQINFO.format(length=length))
    (seq / "det" / "det.txt").write_text("\n".join(lines) + "\n")
    if features is None:
        features = np.tile(np.eye(2, 8), (len(lines) // 2, 1)).astype(np.float32)
    (root / "features").mkdir()
    np.save(root / "features" / "SEQ.npy", features)
    return seq, root / "features" / "SEQ.npy"


def test_a_detection_at_frame_1e9_is_refused_at_once(tmp_path):
    seq, features = _sequence(tmp_path, [*_det_lines(), "1000000000,-1,10,50,40,100,0.9"])
    features_array = np.load(features)
    np.save(features, np.vstack([features_array, features_array[:1]]))
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"det\.txt:21: frame must be a whole number in 1\.\.10"):
        track_sequence(seq, StrongSORT(cmc=None), features)
    assert time.perf_counter() - start < 5.0


def test_a_detection_beyond_seq_length_is_refused(tmp_path):
    seq, features = _sequence(tmp_path, _det_lines(12), length=10)
    with pytest.raises(ValueError, match=r"det\.txt:21: frame .* 1\.\.10, got 11 \(3 more rows\)"):
        track_sequence(seq, StrongSORT(cmc=None), features)


def test_the_default_frame_limit_without_a_sequence_is_documented(tmp_path):
    path = tmp_path / "det.txt"
    path.write_text("2000000,-1,10,50,40,100,0.9\n")
    with pytest.raises(
        ValueError, match=r"det\.txt:1: frame must be a whole number in 1\.\.1000000"
    ):
        MOTDetections(path)


def test_valid_sequence_tracks_every_frame_up_to_seq_length(tmp_path):
    seq, features = _sequence(tmp_path, _det_lines(8), length=10)
    tracker = StrongSORT(cmc=None, n_init=1)
    rows = track_sequence(seq, tracker, features)
    assert tracker.stats["frames"] == 10
    assert sorted(set(rows[:, 1].tolist())) == [1.0, 2.0] and rows[:, 0].max() <= 10


def test_huge_float64_features_keep_their_direction(tmp_path):
    lines = _det_lines(4)
    features = np.tile(np.eye(2, 8), (len(lines) // 2, 1))
    seq, path = _sequence(tmp_path, lines, features=features * 1e300)
    loaded = MOTDetections(seq / "det" / "det.txt", path).features
    assert loaded.dtype == np.float32 and np.isfinite(loaded).all()
    np.testing.assert_array_equal(loaded > 0, features > 0)


def test_header_line_in_det_txt_through_track_mot_names_the_line(tmp_path):
    _sequence(tmp_path, ["frame,id,x,y,w,h,conf", *_det_lines()[:-1]])
    argv = ["--mot-root", str(tmp_path / "mot"), "--features-dir", str(tmp_path / "features")]
    argv += ["--output", str(tmp_path / "out"), "--set", "cmc=null", "--quiet"]
    with pytest.raises(ValueError, match=r"det\.txt:1: detection row holds 'frame'"):
        track_mot.main(argv)
    assert not (tmp_path / "out" / "SEQ.txt").exists()


def test_the_cli_turns_a_bad_det_txt_into_one_line_and_exit_2(tmp_path):
    """Through ``strongsort-track`` (its error wrapper): no traceback, status 2."""
    _sequence(tmp_path, [*_det_lines(), "0,-1,10,50,40,100,0.9"])
    argv = ["track-mot", "--mot-root", str(tmp_path / "mot")]
    argv += ["--features-dir", str(tmp_path / "features"), "--output", str(tmp_path / "out")]
    code = "import sys; from trackers.app.cli import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run(
        [sys.executable, "-c", code, *argv, "--quiet"], capture_output=True, text=True
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "det.txt:21: frame must be a whole number" in done.stderr
    assert not (tmp_path / "out" / "SEQ.txt").exists()
