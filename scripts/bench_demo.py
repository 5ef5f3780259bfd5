"""Benchmark the demo end to end: per-stage ms/frame and overall FPS on the shared videos.

Runs what ``strongsort-track`` runs (decode -> detect -> embed -> StrongSORT -> write the annotated
video and the MOT file) with osnet_x0_25_msmt17 and a YOLOv8n, in three set-ups:

* ``stock``: the shared YOLOv8n-int8 ONNX (dynamically quantised weights) as ultralytics runs it
  (ONNX Runtime), the PyTorch ReID backend, everything in the main thread - what a plain
  integration of the same models does;
* ``previous``: the demo's defaults with the shared detector file and ECC with the authors'
  criteria (100 iterations, eps 1e-5), otherwise as ``default``;
* ``square``: as ``default``, but the detector pads every frame to its full 640x640 input (as
  ultralytics runs exported models) instead of only to a multiple of the stride;
* ``default``: the demo's defaults (the bundled detector, run by the direct OpenVINO detector,
  ``--reid-backend auto``, the default tracker configuration, decoding and encoding in
  background threads).

Runs alternate between the set-ups (run 1 of each, then run 2...), so that a busy machine
slows them alike.

Example:
    python scripts/bench_demo.py --frames 200 --runs 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from strongsort_reid.weights import DEFAULT_DETECTOR
from trackers.app.detectors import build_detector
from trackers.app.embedder import build_reid_embedder
from trackers.app.loop import STAGES, run_tracking
from trackers.app.sources import open_source
from trackers.app.writers import MOTResultWriter, VideoWriter
from trackers.strongsort import StrongSORT

SHARED = Path(__file__).resolve().parents[2] / "shared"
SHARED_DETECTOR = "data/detectors/yolov8n_int8.onnx"
AUTHORS_ECC = dict(ecc_max_iter=100, ecc_eps=1e-5)
SETUPS = {
    "stock": dict(
        detector=SHARED_DETECTOR, runtime="native", reid_backend="torch", overlap=False, tracker={}
    ),
    "previous": dict(
        detector=SHARED_DETECTOR,
        runtime="auto",
        reid_backend="auto",
        overlap=True,
        tracker=AUTHORS_ECC,
    ),
    "square": dict(
        detector=None, runtime="auto", reid_backend="auto", overlap=True, tracker={}, rect=False
    ),
    "default": dict(detector=None, runtime="auto", reid_backend="auto", overlap=True, tracker={}),
}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=SHARED, help="../shared folder")
    parser.add_argument("--videos", nargs="+", default=["vtest.avi", "street_1080p.mp4"])
    parser.add_argument("--frames", type=int, default=150, help="frames per run (from the start)")
    parser.add_argument("--runs", type=int, default=3, help="runs per set-up (median reported)")
    parser.add_argument("--setups", nargs="+", choices=sorted(SETUPS), default=list(SETUPS))
    return parser.parse_args(argv)


def run_once(video: Path, shared: Path, setup: dict, frames: int, out: Path):
    """One demo run; returns its :class:`~trackers.app.loop.RunSummary`."""
    detector = build_detector(
        "yolo",
        str(shared / setup["detector"]) if setup["detector"] else DEFAULT_DETECTOR,
        device="cpu",
        runtime=setup["runtime"],
        say=lambda _m: None,
        rect=setup.get("rect", True),
    )
    embedder = build_reid_embedder(
        str(shared / "data" / "reid" / "osnet_x0_25_msmt17.pth"),
        backend=setup["reid_backend"],
        device="cpu",
        require=True,
        say=lambda _m: None,
    )
    tracker = StrongSORT(**setup["tracker"])
    with open_source(video) as source:
        return run_tracking(
            source,
            detector,
            embedder,
            tracker,
            video=VideoWriter(out / f"{video.stem}.mp4", source.fps),
            results=MOTResultWriter(out / f"{video.stem}.txt"),
            max_frames=frames,
            progress=False,
            overlap=setup["overlap"],
        )


def main(argv=None) -> int:
    args = parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        os.environ.setdefault("STRONGSORT_DETECTOR_CACHE", str(Path(scratch) / "detectors"))
        for name in args.videos:
            video = args.shared / "data" / "video" / name
            if not video.is_file():
                print(f"missing {video}", file=sys.stderr)
                return 1
            summaries = {name: [] for name in args.setups}
            for _ in range(args.runs):
                for setup_name in args.setups:
                    summary = run_once(
                        video, args.shared, SETUPS[setup_name], args.frames, Path(scratch)
                    )
                    summaries[setup_name].append(summary)
            fps = {name: statistics.median(s.fps for s in runs) for name, runs in summaries.items()}
            for setup_name, runs in summaries.items():
                median_run = sorted(runs, key=lambda s: s.fps)[len(runs) // 2]
                rows.append((name, setup_name, median_run, fps[setup_name], fps))
    load = os.getloadavg()[0]
    print(
        f"# demo end to end: YOLOv8n + osnet_x0_25_msmt17, CPU, {os.cpu_count()} cores, "
        f"{args.frames} frames x {args.runs} runs (median run shown), load average {load:.1f}"
    )
    header = "| video | set-up | " + " | ".join(f"{s} ms" for s in STAGES)
    print(header + " | FPS | x stock |")
    print("|---|---|" + "---:|" * (len(STAGES) + 2))
    for name, setup_name, summary, fps, all_fps in rows:
        ratio = f"{fps / all_fps['stock']:.2f}" if "stock" in all_fps else "-"  # not measured
        stages = " | ".join(f"{summary.stage_ms[s]:.1f}" for s in STAGES)
        print(f"| {name} | {setup_name} | {stages} | {fps:.1f} | {ratio} |")
    print(
        "\nStage times are each stage's own cost per frame; with background decoding/encoding "
        "they overlap, so FPS can exceed 1000 / (sum of stages)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
