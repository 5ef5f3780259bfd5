"""The tracker benchmark script runs end to end (small inputs)."""

import runpy
from pathlib import Path

from shared_assets import shared_path

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def _main(name):
    return runpy.run_path(str(SCRIPTS / name), run_name="script_under_test")["main"]


def test_bench_tracker_quick(capsys):
    mot_root = shared_path("data/mot/MOT17-mini/train")
    video = shared_path("data/video/street_1080p.mp4")
    argv = [
        "--mot-root",
        str(mot_root),
        "--seqs",
        "MOT17-02-FRCNN",
        "--runs",
        "1",
        "--max-frames",
        "40",
        "--ecc-frames",
        "3",
        "--stream-frames",
        "200",
        "--video",
        str(video),
        "--dim",
        "64",
    ]
    assert _main("bench_tracker.py")(argv) == 0
    out = capsys.readouterr().out
    for case in (
        "update MOT17-02 random",
        "update MOT17-02 coherent",
        "ECC 1920x1080",
        "long stream",
    ):
        assert case in out
