"""Helpers of the hostile-user tests of the video app (``tests/hostile/test_app_*.py``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "demo" / "track.py"


def write_det_file(path: Path, frames: int) -> Path:
    """A MOTChallenge ``det.txt`` with three people walking right in a 480x360 frame for frames
    ``1..frames`` (what the tests track instead of running a detector)."""
    rows = []
    for frame in range(1, frames + 1):
        for person in range(3):
            x = (20 + 150 * person + frame) % 400
            rows.append(f"{frame},-1,{x},{60 + 20 * person},40,120,0.9,-1,-1,-1")
    path.write_text("\n".join(rows) + "\n")
    return path


def fast_args(source: Path, det_file: Path, output: Path) -> List[str]:
    """``strongsort-track`` arguments that track ``source`` from ``det_file`` without ReID."""
    return [
        "--source",
        str(source),
        "--det-file",
        str(det_file),
        "--reid-model",
        "none",
        "--output",
        str(output),
        "--quiet",
    ]


def run_demo(args, cwd: Path, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    """``python demo/track.py *args`` in a fresh interpreter."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, str(DEMO), *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )


def readable_frames(path: Path) -> int:
    """Frames ``cv2.VideoCapture`` decodes from ``path`` (0 when it cannot open it)."""
    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    return count


def leftovers(folder: Path) -> List[str]:
    """Temporary files (hidden ``.name.XXXX.tmp.ext`` or ``.part``) left in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if ".tmp" in p.name or p.suffix == ".part")


def truncated_copy(source: Path, destination: Path, keep: float = 0.5) -> Path:
    """The first ``keep`` fraction of the bytes of ``source``, as ``destination``."""
    data = source.read_bytes()
    destination.write_bytes(data[: int(len(data) * keep)])
    return destination


def blank_frames(count: int, size=(64, 48), value: Optional[int] = None):
    """``count`` ``uint8`` BGR frames of ``size`` ``(W, H)``."""
    for index in range(count):
        shade = (index * 20) % 256 if value is None else value
        yield np.full((size[1], size[0], 3), shade, dtype=np.uint8)
