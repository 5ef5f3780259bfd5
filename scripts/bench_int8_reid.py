"""INT8 ReID report: accuracy (cosine to float32, CUHK01 rank-1/mAP) and speed per runtime.

For each checkpoint: an int8 QDQ ONNX export calibrated on crops cut from the MOT ground truth
(``data/mot/dev`` + ``data/mot/MOT17-mini/train``; half of the identities calibrate, the other
half are held out), then

* cosine similarity to PyTorch float32 on held-out crops (mean / min) for every variant;
* CUHK01 split 0 (camera A queries camera B, 486 test identities, cosine distance) rank-1 and
  mAP for every variant (torchreid's zero-shot fp32 number for osnet_x0_25_msmt17 is
  R1 57.2 / mAP 57.7);
* speed on 32 person crops of a 1080p frame (``scripts/bench_extractor.py``'s workload),
  interleaved with the torchreid-style reference, median of ``--runs`` rounds.

Variants: fp32 ONNX Runtime, fp32 OpenVINO (f32), ``auto`` (the FeatureExtractor default
choice for PyTorch weights), int8 ONNX Runtime, int8 OpenVINO.

Example:
    python scripts/bench_int8_reid.py --runs 5
    python scripts/bench_int8_reid.py --weights osnet_x0_25_msmt17 --no-speed
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_extractor import (  # noqa: E402
    DEFAULT_SHARED,
    FIXED_BOXES,
    ReferenceExtractor,
    read_frame,
)

from strongsort_reid.data.datasets.cuhk01 import CUHK01  # noqa: E402
from strongsort_reid.export import export_model  # noqa: E402
from strongsort_reid.export.calibration import mot_crop_split, sample  # noqa: E402
from strongsort_reid.export.quantize import Int8Options, cosine_to_reference  # noqa: E402
from strongsort_reid.inference import FeatureExtractor, open_backend  # noqa: E402
from strongsort_reid.metrics import evaluate_rank  # noqa: E402
from strongsort_reid.models.loading import load_reid_model  # noqa: E402

ARCH = "osnet_x0_25"


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="../shared folder")
    parser.add_argument(
        "--weights", nargs="+", default=["osnet_x0_25_msmt17", "osnet_x0_25_market1501"]
    )
    parser.add_argument("--calib-count", type=int, default=256)
    parser.add_argument("--method", default="percentile")
    parser.add_argument("--runs", type=int, default=5, help="timed rounds (median reported)")
    parser.add_argument("--min-time", type=float, default=0.5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="cpu: crops per CPU-second of this process (stable on a shared machine; use "
        "with --threads 1)",
    )
    parser.add_argument(
        "--exports", type=Path, default=None, help="keep / reuse the int8 files here"
    )
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument("--no-cuhk01", action="store_true")
    return parser.parse_args(argv)


def extractors(weights: Path, int8: Path, threads: int) -> Dict[str, FeatureExtractor]:
    """The compared variants, all on the CPU with ``threads`` threads."""
    common = dict(device="cpu", num_threads=threads)
    return {
        "fp32 onnxruntime": FeatureExtractor(ARCH, weights, backend="onnx", **common),
        "fp32 openvino f32": FeatureExtractor(ARCH, weights, backend="openvino", **common),
        "auto (weights)": FeatureExtractor(ARCH, weights, backend="auto", **common),
        "int8 onnxruntime": FeatureExtractor(ARCH, int8, backend="onnx", **common),
        "int8 openvino": FeatureExtractor(ARCH, int8, backend="openvino", **common),
    }


def cuhk01_scores(extractor: FeatureExtractor, dataset) -> tuple:
    """Rank-1 and mAP (%) of ``extractor`` on CUHK01 split 0 with the cosine distance."""

    def embed(items):
        return np.concatenate(
            [extractor([item[0] for item in items[i : i + 64]]) for i in range(0, len(items), 64)]
        )

    query, gallery = embed(dataset.query), embed(dataset.gallery)
    distances = 1.0 - query @ gallery.T
    cmc, mean_ap, _ = evaluate_rank(
        distances,
        np.array([q[1] for q in dataset.query]),
        np.array([g[1] for g in dataset.gallery]),
        np.array([q[2] for q in dataset.query]),
        np.array([g[2] for g in dataset.gallery]),
    )
    return 100 * float(cmc[0]), 100 * float(mean_ap)


def crops_per_second(fn: Callable[[], object], crops: int, min_time: float, clock) -> float:
    """Run ``fn`` for at least ``min_time`` seconds of ``clock``; crops per second of it."""
    calls, start = 0, clock()
    while True:
        fn()
        calls += 1
        elapsed = clock() - start
        if elapsed >= min_time:
            return calls * crops / elapsed


def speed_rows(variants, weights: Path, args) -> Dict[str, tuple]:
    """``{name: (median crops/s, ratio to the reference)}`` on 32 crops of a 1080p frame."""
    frame = read_frame(args.shared / "data/video/street_1080p.mp4", 0)
    frame_rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    reference = ReferenceExtractor(load_reid_model(ARCH, weights).model)
    methods = {"reference (torchreid algorithm)": lambda: reference(frame_rgb, FIXED_BOXES)}
    for name, extractor in variants.items():
        methods[name] = lambda e=extractor: e.from_frame(frame, FIXED_BOXES)
    for fn in methods.values():
        fn()
        fn()
    samples: Dict[str, List[float]] = {name: [] for name in methods}
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    for _ in range(args.runs):
        for name, fn in methods.items():
            samples[name].append(crops_per_second(fn, len(FIXED_BOXES), args.min_time, clock))
    base = statistics.median(samples["reference (torchreid algorithm)"])
    return {n: (statistics.median(v), statistics.median(v) / base) for n, v in samples.items()}


def report(name: str, args, folder: Path) -> None:
    weights = args.shared / "data/reid" / f"{name}.pth"
    roots = [args.shared / "data/mot/dev", args.shared / "data/mot/MOT17-mini/train"]
    path = folder / f"{name}_int8.onnx"
    start = time.perf_counter()
    if not path.is_file():
        export_model(
            ARCH,
            weights,
            "onnx",
            path,
            int8=True,
            calib_source=roots,
            calib_count=args.calib_count,
            int8_options=Int8Options(method=args.method),
        )
    calibration = open_backend(path).metadata.calibration
    print(f"\n## {name}: int8 file {time.perf_counter() - start:.0f} s, {calibration}")
    variants = extractors(weights, path, args.threads)
    held_out = sample(mot_crop_split(roots).held_out, 256)
    expected = FeatureExtractor(ARCH, weights, backend="torch", device="cpu")(held_out)
    dataset = (
        None
        if args.no_cuhk01
        else CUHK01(root=str(args.shared / "data/reid-datasets"), split_id=0, verbose=False)
    )
    speed = {} if args.no_speed else speed_rows(variants, weights, args)
    print(
        "| variant | backend (precision) | cosine to fp32 mean / min (256 held-out crops) "
        "| CUHK01 R1 | CUHK01 mAP | crops/s (32 crops, 1080p) | x reference |"
    )
    print("|---|---|---|---:|---:|---:|---:|")
    if speed:
        value, ratio = speed["reference (torchreid algorithm)"]
        print(f"| reference (torchreid algorithm) | torch eager | - | - | - | {value:.0f} | 1.00 |")
    for label, extractor in variants.items():
        mean, low = cosine_to_reference(extractor(held_out), expected)
        r1, m_ap = cuhk01_scores(extractor, dataset) if dataset else (float("nan"),) * 2
        value, ratio = speed.get(label, (float("nan"), float("nan")))
        backend = extractor.backend
        precision = getattr(backend, "precision", "f32")
        print(
            f"| {label} | {backend.name} ({precision}) | {mean:.4f} / {low:.4f} | {r1:.1f} "
            f"| {m_ap:.1f} | {value:.0f} | {ratio:.2f} |"
        )


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(1)
    print(
        f"# torch {torch.__version__}, {args.threads} threads, {args.clock} clock, "
        f"median of {args.runs} runs"
    )
    with tempfile.TemporaryDirectory() as folder:
        for name in args.weights:
            report(name, args, args.exports or Path(folder))


if __name__ == "__main__":
    main()
