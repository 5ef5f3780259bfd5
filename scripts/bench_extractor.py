"""Benchmark FeatureExtractor backends against a torchreid-style reference path (crops/s).

Workload: 32 person boxes on frame 0 of ``street_1080p.mp4`` (1920x1080). Default boxes are
fixed: the 16 YOLOv8n detections of frame 0 plus the 16 of frame 10 (the same street scene a
third of a second later), all cropped from frame 0; ``--detect`` recomputes them with the
shared detector. Batch B uses the first B boxes.

Each backend is timed end to end on ``extractor.from_frame(frame_bgr, boxes)`` (crop, resize,
normalise, network, L2 normalisation). The reference does what torchreid's FeatureExtractor
does: per crop a PIL image, torchvision ``Resize`` / ``ToTensor`` / ``Normalize``, then
``torch.stack`` and an fp32 eager forward under ``torch.no_grad`` (it gets the RGB frame for
free, converted before timing). Methods are timed in interleaved rounds so that background
load hits all of them alike; the table reports the median over ``--runs`` rounds.

Example:
    python scripts/bench_extractor.py                       # full table (a few minutes)
    python scripts/bench_extractor.py --archs osnet_x0_25 --batch-sizes 32 --runs 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

import cv2
import numpy as np
import torch
from torchvision import transforms

from strongsort_reid.inference import FeatureExtractor
from strongsort_reid.inference.backends import RUNTIMES
from strongsort_reid.inference.options import BACKENDS
from strongsort_reid.models import build_model
from strongsort_reid.models.loading import load_reid_model

DEFAULT_SHARED = Path(
    os.environ.get("STRONGSORT_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared")
)
# YOLOv8n (shared int8 ONNX, conf 0.25, persons) on street_1080p.mp4 frames 0 and 10.
FIXED_BOXES = np.array(
    [
        [1649, 116, 1717, 286], [1604, 611, 1715, 864], [801, 239, 860, 423],
        [249, 787, 382, 1079], [712, 226, 787, 409], [884, 72, 943, 230],
        [1452, 34, 1541, 193], [1799, 176, 1868, 368], [1566, 908, 1720, 1080],
        [292, 291, 374, 478], [981, 1, 1034, 125], [628, 1007, 750, 1080],
        [1354, 20, 1403, 122], [869, 391, 980, 577], [1160, 4, 1194, 78],
        [869, 393, 977, 514], [732, 217, 810, 407], [201, 832, 326, 1077],
        [819, 235, 884, 413], [1804, 172, 1886, 345], [992, 1, 1050, 122],
        [1649, 111, 1715, 279], [1599, 631, 1717, 884], [1459, 32, 1545, 187],
        [844, 412, 949, 616], [309, 157, 414, 411], [654, 970, 798, 1078],
        [1379, 7, 1433, 119], [311, 201, 396, 408], [894, 66, 951, 223],
        [1154, 3, 1188, 79], [217, 224, 271, 393],
    ],
    dtype=np.float32,
)  # fmt: skip
WEIGHTS = {"osnet_x0_25": "data/reid/osnet_x0_25_msmt17.pth"}
# FeatureExtractor arguments of each set-up (besides the architecture and weights).
METHODS = {
    **{name: dict(backend=name) for name in BACKENDS},
    "openvino-bf16": dict(backend="openvino", half="bf16"),
    "default": None,  # FeatureExtractor(arch, weights): what a plain caller gets
}


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="../shared folder")
    parser.add_argument("--archs", nargs="+", default=["osnet_x0_25", "osnet_x1_0"])
    parser.add_argument(
        "--backends",
        nargs="+",
        default=[*RUNTIMES, "default"],
        choices=list(METHODS),
        help="FeatureExtractor set-ups: a backend (openvino computes in f32); openvino-bf16; "
        "default (FeatureExtractor(arch, weights), no other argument)",
    )
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[1, 8, 32])
    parser.add_argument("--runs", type=int, default=7, help="timed rounds (median reported)")
    parser.add_argument(
        "--min-time", type=float, default=0.5, help="seconds each method runs per round"
    )
    parser.add_argument(
        "--threads", type=int, default=os.cpu_count(), help="CPU threads for every method"
    )
    parser.add_argument("--detect", action="store_true", help="detect boxes with YOLOv8n")
    args = parser.parse_args(argv)
    if args.runs < 5:
        parser.error("--runs must be >= 5 (the table reports a median)")
    return args


def read_frame(video: Path, index: int) -> np.ndarray:
    """Frame ``index`` of ``video`` as BGR."""
    capture = cv2.VideoCapture(str(video))
    capture.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, frame = capture.read()
    capture.release()
    if not ok:
        raise FileNotFoundError(f"cannot read frame {index} of {video}")
    return frame


def detect_boxes(video: Path, detector: Path, count: int = 32) -> np.ndarray:
    """Person boxes of frames 0, 10, 20, ... until ``count`` are found (cropped from frame 0)."""
    from ultralytics import YOLO

    model = YOLO(str(detector), task="detect")
    boxes: List[np.ndarray] = []
    index = 0
    while sum(len(b) for b in boxes) < count:
        result = model.predict(read_frame(video, index), classes=[0], conf=0.25, verbose=False)
        boxes.append(result[0].boxes.xyxy.cpu().numpy())
        index += 10
    return np.concatenate(boxes)[:count].round().astype(np.float32)


class ReferenceExtractor:
    """What torchreid's FeatureExtractor does with numpy crops, kept as the speed baseline."""

    def __init__(self, model: torch.nn.Module, image_size=(256, 128)) -> None:
        self.model = model.eval()
        self.transform = transforms.Compose(
            [
                transforms.Resize(image_size),
                transforms.ToTensor(),
                transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
            ]
        )
        self.to_pil = transforms.ToPILImage()

    def __call__(self, frame_rgb: np.ndarray, boxes: np.ndarray) -> torch.Tensor:
        crops = [frame_rgb[y1:y2, x1:x2] for x1, y1, x2, y2 in boxes.astype(int).tolist()]
        batch = torch.stack([self.transform(self.to_pil(crop)) for crop in crops])
        with torch.no_grad():
            return self.model(batch)


def crops_per_second(fn: Callable[[], object], crops: int, min_time: float) -> float:
    """Run ``fn`` repeatedly for at least ``min_time`` seconds; crops per second."""
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return calls * crops / elapsed


def cpu_stall_us() -> Optional[int]:
    """Linux PSI: total microseconds in which some runnable task waited for a CPU."""
    try:
        line = Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except OSError:
        return None
    return int(line.rsplit("total=", 1)[1])


def weights_for(arch: str, args, folder: Path) -> Path:
    """The shared checkpoint of ``arch``, else one random initialisation saved to ``folder``
    (timing does not need trained weights, but every method must run the same network)."""
    shared = args.shared / WEIGHTS.get(arch, "-")
    if shared.is_file():
        return shared
    path = folder / f"{arch}_random.pth"
    torch.manual_seed(0)
    torch.save(build_model(arch, num_classes=1, pretrained=False).state_dict(), path)
    return path


def bench_arch(arch: str, args, frame_bgr: np.ndarray, boxes: np.ndarray) -> List[dict]:
    with tempfile.TemporaryDirectory() as folder:
        weights = weights_for(arch, args, Path(folder))
        reference = ReferenceExtractor(load_reid_model(arch, weights).model)
        extractors = {}
        for name in args.backends:
            options = METHODS[name]
            if options is not None:
                options = dict(options, device="cpu", num_threads=args.threads)
            extractors[name] = FeatureExtractor(arch, weights, **(options or {}))
    frame_rgb = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)
    expected = torch.nn.functional.normalize(reference(frame_rgb, boxes), dim=1).numpy()
    agreement = {
        name: float((extractor.from_frame(frame_bgr, boxes) * expected).sum(1).min())
        for name, extractor in extractors.items()
    }
    rows = []
    for batch in args.batch_sizes:
        subset = boxes[:batch]
        methods: Dict[str, Callable[[], object]] = {
            "reference": lambda subset=subset: reference(frame_rgb, subset)
        }
        for name, extractor in extractors.items():
            methods[name] = lambda e=extractor, subset=subset: e.from_frame(frame_bgr, subset)
        for fn in methods.values():  # warm-up: lazy initialisation, allocator, caches
            fn()
            fn()
        samples: Dict[str, List[float]] = {name: [] for name in methods}
        stall_start, time_start = cpu_stall_us(), time.perf_counter()
        for _ in range(args.runs):
            for name, fn in methods.items():
                samples[name].append(crops_per_second(fn, len(subset), args.min_time))
        stall = None
        if stall_start is not None:
            elapsed_us = (time.perf_counter() - time_start) * 1e6
            stall = 100.0 * (cpu_stall_us() - stall_start) / elapsed_us
        base = statistics.median(samples["reference"])
        for name, values in samples.items():
            speed = statistics.median(values)
            rows.append(
                {
                    "arch": arch,
                    "method": name,
                    "batch": len(subset),
                    "speed": speed,
                    "spread": (min(values), max(values)),
                    "ratio": speed / base,
                    "cosine": agreement.get(name),
                    "stall": stall,
                }
            )
    return rows


def print_table(rows: List[dict]) -> None:
    print(
        "| model | method | batch | crops/s (median) | min-max | x reference "
        "| min cos vs reference | CPU stall % |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        low, high = row["spread"]
        cosine = "-" if row["cosine"] is None else f"{row['cosine']:.4f}"
        stall = "n/a" if row["stall"] is None else f"{row['stall']:.0f}"
        print(
            f"| {row['arch']} | {row['method']} | {row['batch']} | {row['speed']:.1f} "
            f"| {low:.1f}-{high:.1f} | {row['ratio']:.2f} | {cosine} | {stall} |"
        )
    print(
        "\nCPU stall %: share of the group's wall time in which some runnable task (of any "
        "process, this one included) waited for a CPU (Linux PSI); high values mean the "
        "machine was shared and the numbers are noisy."
    )


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(1)  # crops are resized one by one; OpenCV threads would only contend
    video = args.shared / "data/video/street_1080p.mp4"
    frame = read_frame(video, 0)
    if args.detect:
        boxes = detect_boxes(video, args.shared / "data/detectors/yolov8n_int8.onnx")
    else:
        boxes = FIXED_BOXES
    boxes = boxes[: max(args.batch_sizes)]
    heights = boxes[:, 3] - boxes[:, 1]
    print(
        f"# {len(boxes)} person crops from a {frame.shape[1]}x{frame.shape[0]} frame "
        f"(height {heights.min():.0f}-{heights.max():.0f} px, median {np.median(heights):.0f}); "
        f"torch {torch.__version__}, {args.threads} threads; "
        f"median of {args.runs} runs x >= {args.min_time} s"
    )
    rows = []
    for arch in args.archs:
        rows.extend(bench_arch(arch, args, frame, boxes))
    print_table(rows)


if __name__ == "__main__":
    main()
