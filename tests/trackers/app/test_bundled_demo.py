"""The demo out of the box: no flags but --source, no network, no ../shared -> the bundled
detector and ReID model run, appearance is used, and the outputs are complete.

The clip is made from a street photo that ultralytics ships with its package (people at a bus),
panned a few pixels per frame.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from strongsort_reid.utils.motchallenge import read_results

DEMO = Path(__file__).resolve().parents[3] / "demo" / "track.py"
FRAMES = 12


@pytest.fixture(scope="module")
def street_clip(tmp_path_factory) -> Path:
    """A 12-frame MJPG clip of ultralytics' bus.jpg (810x1080), panned 4 px per frame."""
    import ultralytics

    photo = cv2.imread(str(Path(ultralytics.__file__).parent / "assets" / "bus.jpg"))
    assert photo is not None
    height, width = 720, 720
    path = tmp_path_factory.mktemp("clip") / "street.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (width, height))
    for i in range(FRAMES):
        writer.write(np.ascontiguousarray(photo[100 + 4 * i : 100 + 4 * i + height, :width]))
    writer.release()
    return path


def test_demo_defaults_use_the_bundled_models_offline(street_clip, tmp_path):
    env = {
        **os.environ,
        "PYTHONPATH": str(DEMO.parents[1]),
        # An empty user cache and no reachable weight server: only the bundled files can serve.
        "STRONGSORT_REID_HOME": str(tmp_path / "reid-home"),
        "YOLO_OFFLINE": "1",
        "no_proxy": "",
        "https_proxy": "http://127.0.0.1:9",
        "http_proxy": "http://127.0.0.1:9",
    }
    result = subprocess.run(
        [sys.executable, str(DEMO), "--source", str(street_clip), "--output", "out"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    log = result.stderr + result.stdout
    assert "HOG" not in log and "motion only" not in log, log
    assert "yolov8n_int8.onnx" in log and "ReID: osnet_x0_25" in log
    embed_ms = float(re.search(r"embed (\d+\.\d+)", result.stdout).group(1))
    assert embed_ms > 0, result.stdout
    capture = cv2.VideoCapture(str(tmp_path / "out" / "street.mp4"))
    frames = 0
    while capture.read()[0]:
        frames += 1
    capture.release()
    assert frames == FRAMES
    rows = read_results(tmp_path / "out" / "street.txt")
    # Two people stand clear of the frame's edges (confidence ~0.9); tracks are confirmed
    # after n_init = 3 frames and keep their identity across the pan.
    assert rows.shape[0] >= 2 * (FRAMES - 2), "the people at the bus are tracked"
    assert rows[:, 0].max() == FRAMES and (rows[:, 6] >= 0.6).all()
    assert 2 <= len({int(i) for i in rows[:, 1]}) <= 3
    outputs = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert outputs == ["street.mp4", "street.txt"], "no partial outputs"
