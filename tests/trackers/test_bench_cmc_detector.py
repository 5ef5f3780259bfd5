"""The CMC and detector benchmark scripts run end to end on small inputs, and their
detection matching counts what it should."""

import runpy
from pathlib import Path

import numpy as np
from shared_assets import shared_path

from strongsort_reid.weights import BUNDLED_DIR, DEFAULT_DETECTOR

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def _script(name):
    return runpy.run_path(str(SCRIPTS / name), run_name="script_under_test")


def test_bench_cmc_quick(capsys):
    shared = shared_path(".")
    argv = ["--shared", str(shared), "--frames", "4", "--pan-frames", "4"]
    assert _script("bench_cmc.py")["main"](argv + ["--seqs", "MOT17-05-FRCNN"]) == 0
    out = capsys.readouterr().out
    for row in (
        "| street_1080p.mp4 1920x1080 | before |",
        "| vtest.avi 480x360 | after |",
        "| street_1080p.mp4 + synthetic pan (exact) | after |",
        "| MOT17-05-FRCNN 640x480 every 2nd frame | paper |",
    ):
        assert row in out
    for case in ("MOT17-05-FRCNN 640x480", "MOT17-05-FRCNN 640x480 + synthetic jumps (exact)"):
        after = [line for line in out.splitlines() if line.startswith(f"| {case} | after")]
        assert float(after[0].split("|")[4]) < 2.0  # max corner error, px


def test_bench_detector_quick(capsys):
    shared = shared_path(".")
    argv = ["--shared", str(shared), "--models", str(BUNDLED_DIR / DEFAULT_DETECTOR)]
    argv += ["--runtimes", "openvino", "--frames", "2", "--max-images", "3"]
    argv += ["--videos", "vtest.avi"]
    assert _script("bench_detector.py")["main"](argv) == 0
    out = capsys.readouterr().out
    rows = [line.split("|") for line in out.splitlines() if line.startswith("| yolov8n_int8")]
    quality = [row for row in rows if len(row) == 8]
    assert [row[2].strip() for row in quality] == ["0.6", "0.3"]
    assert all(float(row[3]) > 50 and float(row[4]) > 50 for row in quality)
    assert any("vtest.avi 480x360" in line for line in out.splitlines())


def test_match_count_is_one_to_one_by_descending_score():
    match_count = _script("bench_detector.py")["match_count"]
    truth = np.array([[0, 0, 10, 10], [20, 0, 30, 10]], dtype=float)
    detections = np.array(
        [
            [0, 0, 10, 10, 0.5],  # exact match of the first box, but lower score
            [1, 0, 11, 10, 0.9],  # IoU 0.82 with the first box: takes it first
            [20, 0, 26, 10, 0.8],  # IoU 0.6 with the second box
            [50, 50, 60, 60, 0.95],  # nothing there
        ]
    )
    assert match_count(detections, truth) == 2
    assert match_count(detections[:, :], truth[:1]) == 1
    assert match_count(detections[2:3], truth, threshold=0.7) == 0
    assert match_count(np.empty((0, 5)), truth) == 0
