"""Detectors for the demo, all with ``detect(frame) -> (N, 6) [x1, y1, x2, y2, conf, cls]``:
an ultralytics model, precomputed MOTChallenge detections, or OpenCV's HOG people detector."""

from __future__ import annotations

from typing import Callable, Optional, Sequence

from strongsort_reid.weights import DEFAULT_DETECTOR

from .base import ImageDetector
from .det_file import DetFileDetector
from .hog import HogPeopleDetector
from .yolo import RUNTIMES, DetectorError, DetectorUnavailable, YoloDetector

DETECTOR_KINDS = ("auto", "yolo", "hog")


def build_detector(
    kind: str = "auto",
    yolo_model: str = DEFAULT_DETECTOR,
    det_file: Optional[str] = None,
    conf: float = 0.25,
    iou: float = 0.7,
    imgsz: int = 640,
    device: str = "cpu",
    half: bool = False,
    classes: Optional[Sequence[int]] = (0,),
    runtime: str = "auto",
    say: Callable[[str], None] = print,
    progress: bool = True,
    rect: bool = True,
):
    """The detector the command line asks for.

    Args:
        kind: ``"yolo"`` (fail when the model cannot be loaded), ``"hog"`` (OpenCV's HOG people
            detector) or ``"auto"``: the ultralytics model, falling back to HOG (with one line
            through ``say``) when its weights are not on disk and cannot be downloaded.
        yolo_model: What ultralytics should load (default: the bundled YOLOv8n; see
            :class:`YoloDetector` for how a name is looked up).
        det_file: A MOTChallenge ``det.txt``; when given, it is used instead of any detector.
        conf, iou, imgsz, device, half, classes, runtime, rect: Detector settings (see
            :class:`YoloDetector`); ``conf`` also filters ``det_file`` rows and HOG detections.
        say: Where the fallback message goes.
        progress: Show a progress bar during a one-time OpenVINO conversion.

    Raises:
        DetectorUnavailable: ``kind="yolo"`` and the weights cannot be obtained.
        DetectorError: The model file cannot be loaded.
    """
    if kind not in DETECTOR_KINDS:
        raise DetectorError(f"detector must be one of {DETECTOR_KINDS}, got {kind!r}")
    if det_file is not None:
        return DetFileDetector(det_file, min_conf=conf)
    if kind == "hog":
        return HogPeopleDetector(min_conf=conf)
    try:
        return YoloDetector(
            yolo_model,
            conf,
            iou,
            imgsz,
            device,
            half,
            classes,
            runtime=runtime,
            say=say,
            progress=progress,
            rect=rect,
        )
    except DetectorUnavailable as exc:
        if kind == "yolo":
            raise
        say(f"{exc}; falling back to OpenCV's HOG people detector (much less accurate)")
        return HogPeopleDetector(min_conf=conf)


__all__ = [
    "DETECTOR_KINDS",
    "DetFileDetector",
    "DetectorError",
    "DetectorUnavailable",
    "HogPeopleDetector",
    "ImageDetector",
    "RUNTIMES",
    "YoloDetector",
    "build_detector",
]
