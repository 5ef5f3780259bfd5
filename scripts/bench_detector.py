"""Benchmark detectors: person recall/precision against the dev ground truth and ms/frame,
per model file and runtime (ONNX Runtime, OpenVINO).

Models (``--models``, ONNX files; default: the float model behind the shared YOLOv8n, i.e. its
dynamically quantised weights dequantised, and the bundled detector). Each runs through the
same letterbox / decode / NMS code as the demo's direct OpenVINO detector
(:mod:`trackers.app.detectors.openvino_yolo`); ``openvino`` converts the file as the demo does
(:func:`~trackers.app.detectors.openvino_export.openvino_model_folder`).

Quality: every frame of ``../shared/data/mot/dev/*`` (4:3 frames, all ground-truth rows are
pedestrians) and, with ``--sets`` ``mot17-mini``, of ``../shared/data/mot/MOT17-mini/train/*``
(mostly 1920x1080; ground truth: the rows considered, class 1 pedestrian; other people such as
riders or static persons are not in it, so precision there is a lower bound),
person class, detections matched greedily by descending score to the unmatched ground-truth
box of highest IoU >= 0.5; recall = matched / ground-truth boxes, precision = matched /
detections, at each ``--confs`` threshold.

OpenVINO set-ups also vary the input shape (``--shapes``: ``square`` pads every frame to
640x640; ``rect`` pads only to a multiple of the stride, the demo's default) and the compute
precision (``--precisions``: ``default`` is OpenVINO's choice for the CPU, bf16 where it computes
it natively; ``f32``; ``bf16``).

Speed: the whole detector call (letterbox, inference, decoding, NMS) on the first ``--frames``
frames of each video, all set-ups interleaved frame by frame (median ms/frame).

Example:
    python scripts/bench_detector.py
    python scripts/bench_detector.py --models a.onnx b.onnx --runtimes openvino --frames 50
    python scripts/bench_detector.py --runtimes openvino --shapes square rect --precisions f32
"""

from __future__ import annotations

import argparse
import itertools
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
GT_SETS = {"dev": "data/mot/dev", "mot17-mini": "data/mot/MOT17-mini/train"}
SHAPES = ("square", "rect")
PRECISIONS = ("default", "f32", "bf16")


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
    parser.add_argument("--shapes", nargs="+", choices=SHAPES, default=["rect"])
    parser.add_argument("--precisions", nargs="+", choices=PRECISIONS, default=["default"])
    parser.add_argument("--imgsz", nargs="+", type=int, default=[640], help="letterbox sizes")
    parser.add_argument(
        "--frame-width",
        type=int,
        default=0,
        help="resize the ground-truth frames (and boxes) to this width first (0: as they are)",
    )
    parser.add_argument("--sets", nargs="+", choices=list(GT_SETS), default=["dev"])
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


def gt_frames(root: Path, max_images: int, width: int = 0):
    """``[(BGR image, (G, 4) xyxy ground truth)]`` of every sequence's frames under ``root``:
    the considered pedestrian rows (``considered`` 1, class 1; all rows of MOT15 files); with
    ``width``, images and boxes resized to that width (``cv2.INTER_AREA``, aspect kept)."""
    items = []
    for seq in sorted(root.iterdir()):
        gt = read_gt(seq / "gt/gt.txt")
        gt = gt[(gt[:, 6] == 1) & (gt[:, 7] == 1)]
        images = sorted((seq / "img1").glob("*.jpg"))
        for path in images[:max_images] if max_images else images:
            rows = gt[gt[:, 0] == int(path.stem)]
            truth = np.column_stack([rows[:, 2:4], rows[:, 2:4] + rows[:, 4:6]])
            image = cv2.imread(str(path))
            if width:
                scale = width / image.shape[1]
                size = (width, round(image.shape[0] * scale))
                image, truth = cv2.resize(image, size, interpolation=cv2.INTER_AREA), truth * scale
            items.append((image, truth))
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
        for name in names:  # compiles the model for this frame size (once per size)
            detectors[name](frames[0])
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


def build_detectors(models, args, conf: float, cache: Path):
    """``{"<model> <runtime> [<imgsz> <shape> <precision>]": detector}`` for every model and
    runtime, and for OpenVINO every ``args.imgsz``, ``args.shapes`` and ``args.precisions``."""
    detectors = {}
    for model in models:
        for runtime in args.runtimes:
            if runtime == "ort":
                detectors[f"{model.stem} ort square"] = OrtYoloDetector(model, conf)
                continue
            folder = openvino_model_folder(model, 640, cache)
            for imgsz, shape, precision in itertools.product(
                args.imgsz, args.shapes, args.precisions
            ):
                detectors[f"{model.stem} openvino {imgsz} {shape} {precision}"] = (
                    OpenVinoYoloDetector(
                        folder,
                        conf=conf,
                        imgsz=imgsz,
                        rect=shape == "rect",
                        precision=None if precision == "default" else precision,
                    )
                )
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
        detectors = build_detectors(models, args, min(args.confs), Path(scratch) / "ov")
        for name in args.sets:
            frames = gt_frames(args.shared / GT_SETS[name], args.max_images, args.frame_width)
            size = f", resized to width {args.frame_width}" if args.frame_width else ""
            print(f"# person detection on {name} ({len(frames)} frames{size}), IoU 0.5")
            print("| set-up | conf | recall % | precision % | GT boxes | detections |")
            print("|---|---:|---:|---:|---:|---:|")
            print("\n".join(quality_rows(detectors, frames, args.confs)) + "\n")
        videos = {}
        for name in args.videos:
            video = first_frames(args.shared / "data/video" / name, args.frames)
            videos[f"{name} {video[0].shape[1]}x{video[0].shape[0]}"] = video
        print(f"# detector ms/frame (letterbox + inference + NMS), load {os.getloadavg()[0]:.1f}")
        print("| video | set-up | median ms | mean ms |")
        print("|---|---|---:|---:|")
        print("\n".join(speed_rows(detectors, videos)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
