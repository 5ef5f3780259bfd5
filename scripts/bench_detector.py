"""Benchmark detectors: person recall/precision against the dev ground truth and ms/frame,
per model file and runtime (ONNX Runtime, OpenVINO).

Models (``--models``, ONNX files; default: the float model behind the shared YOLOv8n, i.e. its
dynamically quantised weights dequantised, and the bundled detector). Each runs through the
same letterbox / decode / NMS code as the demo's direct OpenVINO detector
(:mod:`trackers.app.detectors.openvino_yolo`); ``openvino`` converts the file as the demo does
(:func:`~trackers.app.detectors.openvino_export.openvino_model_folder`).

Quality: every frame of ``../shared/data/mot/dev/*`` (all ground-truth rows are pedestrians),
person class, detections matched greedily by descending score to the unmatched ground-truth
box of highest IoU >= 0.5; recall = matched / ground-truth boxes, precision = matched /
detections, at each ``--confs`` threshold.

Speed: the whole detector call (letterbox, inference, decoding, NMS) on the first ``--frames``
frames of each video, all set-ups interleaved frame by frame (median ms/frame).

Example:
    python scripts/bench_detector.py
    python scripts/bench_detector.py --models a.onnx b.onnx --runtimes openvino --frames 50
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from strongsort_reid.utils.motchallenge import read_gt
from strongsort_reid.weights import BUNDLED_DIR, DEFAULT_DETECTOR
from trackers.app.detectors.openvino_export import openvino_model_folder
from trackers.app.detectors.openvino_yolo import (
    OpenVinoYoloDetector,
    batched_nms,
    decode,
    letterbox,
    unletterbox,
)
from trackers.app.sources import first_frames
from trackers.strongsort.iou_matching import iou_matrix

SHARED = Path(
    os.environ.get("STRONGSORT_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared")
)
SHARED_DETECTOR = "data/detectors/yolov8n_int8.onnx"
RUNTIMES = ("ort", "openvino")


class OrtYoloDetector:
    """The direct detector's pipeline with ONNX Runtime as the engine (CPU, all cores)."""

    def __init__(self, path: Path, conf: float, iou: float = 0.7, max_det: int = 300):
        import onnxruntime as ort

        self.session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        shape = self.session.get_inputs()[0].shape
        self.input_name, self.input_hw = self.session.get_inputs()[0].name, (shape[2], shape[3])
        self.conf, self.iou, self.max_det = conf, iou, max_det

    def __call__(self, image: np.ndarray) -> np.ndarray:
        batch, scale, pad = letterbox(image, self.input_hw)
        output = self.session.run(None, {self.input_name: batch})[0][0]
        boxes, scores, labels = decode(output, self.conf, np.array([0]))
        keep = batched_nms(boxes, scores, labels, self.iou)[: self.max_det]
        detections = np.empty((keep.size, 6), dtype=np.float32)
        detections[:, :4] = unletterbox(boxes[keep], scale, pad, image.shape[:2])
        detections[:, 4], detections[:, 5] = scores[keep], labels[keep]
        return detections


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=SHARED, help="../shared folder")
    parser.add_argument("--models", nargs="+", type=Path, help="ONNX detectors (see above)")
    parser.add_argument("--runtimes", nargs="+", choices=RUNTIMES, default=list(RUNTIMES))
    parser.add_argument("--confs", nargs="+", type=float, default=[0.6, 0.3])
    parser.add_argument("--videos", nargs="+", default=["vtest.avi", "street_1080p.mp4"])
    parser.add_argument("--frames", type=int, default=60, help="video frames timed per set-up")
    parser.add_argument(
        "--max-images", type=int, default=0, help="dev frames per sequence (0: all)"
    )
    return parser.parse_args(argv)


def match_count(detections: np.ndarray, truth: np.ndarray, threshold: float = 0.5) -> int:
    """Detections (``(N, >=5)`` xyxy + score) matched one-to-one to ``truth`` (``(G, 4)`` xyxy):
    by descending score, each takes the free ground-truth box of highest IoU >= ``threshold``."""
    if not len(detections) or not len(truth):
        return 0
    overlaps = iou_matrix(detections[np.argsort(-detections[:, 4], kind="stable"), :4], truth)
    free = np.ones(len(truth), dtype=bool)
    matched = 0
    for row in overlaps:
        candidates = np.where(free & (row >= threshold), row, -1.0)
        best = int(candidates.argmax())
        if candidates[best] >= threshold:
            free[best] = False
            matched += 1
    return matched


def dev_frames(shared: Path, max_images: int):
    """``[(BGR image, (G, 4) xyxy ground truth)]`` of every dev sequence's frames."""
    items = []
    for seq in sorted((shared / "data/mot/dev").iterdir()):
        gt = read_gt(seq / "gt/gt.txt")
        images = sorted((seq / "img1").glob("*.jpg"))
        for path in images[:max_images] if max_images else images:
            rows = gt[gt[:, 0] == int(path.stem)]
            truth = np.column_stack([rows[:, 2:4], rows[:, 2:4] + rows[:, 4:6]])
            items.append((cv2.imread(str(path)), truth))
    return items


def quality_rows(detectors, frames, confs):
    """Markdown rows ``set-up | conf | recall | precision | GT | detections``."""
    rows = []
    total_truth = sum(len(truth) for _, truth in frames)
    for name, detector in detectors.items():
        outputs = [(detector(image), truth) for image, truth in frames]
        for conf in confs:
            kept = [(dets[dets[:, 4] > conf], truth) for dets, truth in outputs]
            matched = sum(match_count(dets, truth) for dets, truth in kept)
            found = sum(len(dets) for dets, _ in kept)
            rows.append(
                f"| {name} | {conf:g} | {100 * matched / total_truth:.2f} | "
                f"{100 * matched / max(found, 1):.2f} | {total_truth} | {found} |"
            )
    return rows


def speed_rows(detectors, videos):
    """Markdown rows ``video | set-up | median ms | mean ms`` with set-ups interleaved."""
    rows = []
    for video, frames in videos.items():
        names = list(detectors)
        times = {name: [] for name in names}
        for index, frame in enumerate(frames):
            for name in names if index % 2 == 0 else names[::-1]:
                start = time.perf_counter()
                detectors[name](frame)
                times[name].append((time.perf_counter() - start) * 1e3)
        for name in names:
            rows.append(
                f"| {video} | {name} | {np.median(times[name]):.1f} | {np.mean(times[name]):.1f} |"
            )
    return rows


def build_detectors(models, runtimes, conf: float, cache: Path):
    """``{"<model> <runtime>": detector}`` for every model and runtime."""
    detectors = {}
    for model in models:
        for runtime in runtimes:
            if runtime == "ort":
                detector = OrtYoloDetector(model, conf)
            else:
                folder = openvino_model_folder(model, 640, cache)
                detector = OpenVinoYoloDetector(folder, conf=conf)
            detectors[f"{model.stem} {runtime}"] = detector
    return detectors


def float_reference(shared: Path, folder: Path) -> Path:
    """The float model of the shared dynamic-int8 YOLOv8n (weights dequantised), in ``folder``."""
    import onnx

    from trackers.app.detectors.openvino_export import dequantize_dynamic_int8

    target = folder / "yolov8n_fp32.onnx"
    onnx.save(dequantize_dynamic_int8(onnx.load(str(shared / SHARED_DETECTOR))), str(target))
    return target


def main(argv=None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        models = args.models or [
            float_reference(args.shared, Path(scratch)),
            BUNDLED_DIR / DEFAULT_DETECTOR,
        ]
        detectors = build_detectors(models, args.runtimes, min(args.confs), Path(scratch) / "ov")
        frames = dev_frames(args.shared, args.max_images)
        print(f"# person detection on dev ({len(frames)} frames), IoU 0.5, {os.cpu_count()} cores")
        print("| set-up | conf | recall % | precision % | GT boxes | detections |")
        print("|---|---:|---:|---:|---:|---:|")
        print("\n".join(quality_rows(detectors, frames, args.confs)))
        videos = {}
        for name in args.videos:
            video = first_frames(args.shared / "data/video" / name, args.frames)
            videos[f"{name} {video[0].shape[1]}x{video[0].shape[0]}"] = video
        print(f"\n# detector ms/frame (letterbox + inference + NMS), load {os.getloadavg()[0]:.1f}")
        print("| video | set-up | median ms | mean ms |")
        print("|---|---|---:|---:|")
        print("\n".join(speed_rows(detectors, videos)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
