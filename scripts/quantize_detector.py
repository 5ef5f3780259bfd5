"""Build a static-int8 YOLOv8n from the shared one, calibrated on the project's frames.

The source is ``../shared/data/detectors/yolov8n_int8.onnx`` (dynamically quantised weights, float
activations); its weights are dequantised and the model is re-quantised statically by NNCF (QDQ,
per-channel int8 weights, calibrated activation ranges, bias correction; the first convolution
and the head's output tail stay in float) by
:func:`trackers.app.detectors.quantize.quantize_detector`. The output is reproducible: the same
inputs give the same file (sha256 fb92440d... with nncf 3.4 and onnx as installed here). Pass it
to the demo with ``--yolo-model``. Needs ``pip install nncf`` (in the ``export`` extra).
Calibration frames: every image of
MOT17-mini (``train/*/img1``, 39 frames) and frames spread over ``vtest.avi`` (40),
``campus_720p.mp4`` (20) and ``street_1080p.mp4`` (30). The dev sequences are left out: they
are the held-out set of ``scripts/bench_detector.py``.

Example:
    python scripts/quantize_detector.py yolov8n_int8_static.onnx
    strongsort-track --source VIDEO --yolo-model yolov8n_int8_static.onnx
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import cv2

from trackers.app.detectors.quantize import quantize_detector

SHARED = Path(
    os.environ.get("STRONGSORT_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared")
)
# (video, take every n-th frame, frames taken)
CALIBRATION_VIDEOS = (
    ("vtest.avi", 20, 40),
    ("campus_720p.mp4", 8, 20),
    ("street_1080p.mp4", 10, 30),
)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("target", type=Path, help="the .onnx file to write")
    parser.add_argument("--shared", type=Path, default=SHARED, help="../shared folder")
    return parser.parse_args(argv)


def calibration_frames(shared: Path):
    """The calibration images (BGR), in a fixed order."""
    paths = sorted((shared / "data/mot/MOT17-mini/train").glob("*/img1/*.jpg"))
    frames = [cv2.imread(str(path)) for path in paths]
    for name, step, count in CALIBRATION_VIDEOS:
        capture = cv2.VideoCapture(str(shared / "data/video" / name))
        index = taken = 0
        while taken < count:
            ok, frame = capture.read()
            if not ok:
                break
            if index % step == 0:
                frames.append(frame)
                taken += 1
            index += 1
        capture.release()
    if any(frame is None for frame in frames) or len(frames) < len(paths) + 3:
        raise FileNotFoundError(f"calibration frames missing under {shared / 'data'}")
    return frames


def main(argv=None) -> int:
    args = parse_args(argv)
    frames = calibration_frames(args.shared)
    source = args.shared / "data/detectors/yolov8n_int8.onnx"
    target = quantize_detector(source, args.target, frames)
    print(f"{target}: {len(frames)} calibration frames, {target.stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
