"""``strongsort-track`` / ``python demo/track.py``: track people in a video with one command.

Examples:
    strongsort-track --source video.mp4                      # annotated video + MOT results
    strongsort-track --source 0 --show --no-save             # webcam
    strongsort-track --source rtsp://camera/stream --max-frames 1000
    strongsort-track --source MOT17-04-FRCNN --det-file MOT17-04-FRCNN/det/det.txt
    strongsort-track --source frames/ --yolo-model yolov8s.onnx --reid-model osnet_x1_0_msmt17

Outputs go to ``runs/track/<source name>`` (a new numbered folder when it exists): ``<name>.mp4``
(boxes, identities, trails) and ``<name>.txt`` (``frame,id,x,y,w,h,conf,-1,-1,-1``). User
errors (bad source, unwritable output, missing files) print one message and exit with status 2.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import List, Optional

from .detectors import (
    DETECTOR_KINDS,
    RUNTIMES,
    DetectorError,
    DetectorUnavailable,
    build_detector,
)
from .pipeline import MotionOnlyEmbedder, TimedEmbedder, run_tracking
from .reid_setup import REID_BACKENDS, ReidUnavailable, build_reid_embedder
from .strongsort import StrongSORT
from .video import MOTResultWriter, OutputError, SourceError, VideoWriter, open_source

PROG = "strongsort-track"
USER_ERRORS = (
    SourceError,
    OutputError,
    DetectorError,
    DetectorUnavailable,
    ReidUnavailable,
    FileNotFoundError,
    ValueError,
    KeyError,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Detect, embed and track people in a video with StrongSORT.",
        epilog=__doc__.split("Examples:")[1].split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--source", required=True, help="video, image/folder/glob, webcam index, URL, MOT seq")
    add("--yolo-model", default="yolov8n.pt", help="any model ultralytics loads (.pt, .onnx, ...)")
    add(
        "--detector",
        choices=DETECTOR_KINDS,
        default="auto",
        help="auto: the YOLO model, OpenCV HOG when it cannot be obtained; hog: force HOG",
    )
    add(
        "--detector-runtime",
        choices=RUNTIMES,
        default="auto",
        help="auto: on the CPU, run .pt/.onnx detectors converted (once) to OpenVINO",
    )
    add("--det-file", help="precomputed MOTChallenge det.txt instead of a detector")
    add(
        "--reid-model",
        default="osnet_x0_25_msmt17",
        help="ReID weight name or file; 'none' for motion only",
    )
    add("--reid-arch", help="architecture of --reid-model (default: inferred from its name)")
    add(
        "--reid-backend",
        choices=REID_BACKENDS,
        default="auto",
        help="auto: OpenVINO, else ONNX Runtime, else PyTorch on the CPU",
    )
    add("--require-reid", action="store_true", help="fail instead of tracking by motion only")
    add("--tracker-config", type=Path, help="StrongSORT YAML (trackers/configs/strongsort.yaml)")
    add("--classes", type=int, nargs="+", default=[0], help="class ids to track (COCO 0: person)")
    add("--conf", type=float, default=0.25, help="detector confidence threshold")
    add("--iou", type=float, default=0.7, help="detector NMS IoU threshold")
    add("--imgsz", type=int, default=640, help="detector inference size")
    add("--device", default="auto", help="auto, cpu or cuda:N")
    add("--half", action="store_true", help="float16 inference on CUDA")
    add("--vid-stride", type=int, default=1, help="track every N-th frame")
    add("--max-frames", type=int, help="stop after this many frames")
    add("--per-class", action="store_true", help="track each class separately")
    add("--show", action="store_true", help="display the annotated frames (q quits)")
    add(
        "--save",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="write the annotated video (default: yes)",
    )
    add(
        "--save-txt",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="write the MOTChallenge results file (default: yes)",
    )
    add("--output", type=Path, help="output folder (default: runs/track/<source name>)")
    add("--no-overlap", action="store_true", help="decode and encode in the main thread")
    add("--quiet", action="store_true", help="no progress bar or messages, only the summary")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 user error, 130 interrupted)."""
    args = build_parser().parse_args(argv)
    say = (lambda _message: None) if args.quiet else (lambda m: print(m, file=sys.stderr))
    if args.quiet:  # ultralytics reports every model it loads
        logging.getLogger("ultralytics").setLevel(logging.WARNING)
    try:
        return _run(args, say)
    except USER_ERRORS as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace, say) -> int:
    if args.max_frames is not None and args.max_frames < 1:
        raise ValueError(f"--max-frames must be >= 1, got {args.max_frames}")
    source = open_source(args.source, vid_stride=args.vid_stride)
    try:
        detector = build_detector(
            args.detector,
            args.yolo_model,
            args.det_file,
            conf=args.conf,
            iou=args.iou,
            imgsz=args.imgsz,
            device=args.device,
            half=args.half,
            classes=args.classes,
            runtime=args.detector_runtime,
            say=say,
        )
        extractor = build_reid_embedder(
            args.reid_model,
            args.reid_arch,
            backend=args.reid_backend,
            device=args.device,
            half=args.half,
            require=args.require_reid,
            say=say,
        )
        embedder = TimedEmbedder(extractor if extractor is not None else MotionOnlyEmbedder())
        overrides = {"per_class": True} if args.per_class else {}
        tracker = StrongSORT(embedder, config=args.tracker_config, **overrides)
        say(
            f"source {args.source}: {source.length or 'live'} frames at {source.fps:g} FPS; "
            f"detector: {detector.name}"
        )
        return _track(args, source, detector, tracker, say)
    finally:
        source.close()


def _track(args, source, detector, tracker, say) -> int:
    output = _output_dir(args.output, source.name)
    video = VideoWriter(output / f"{source.name}.mp4", source.fps) if args.save else None
    results = MOTResultWriter(output / f"{source.name}.txt") if args.save_txt else None
    summary = run_tracking(
        source,
        detector,
        tracker,
        video=video,
        results=results,
        max_frames=args.max_frames,
        show=_display() if args.show else None,
        progress=not args.quiet,
        overlap=not args.no_overlap,
    )
    print(summary.format())
    if tracker.stats["dropped_invalid"]:
        say(f"{tracker.stats['dropped_invalid']} invalid detections dropped")
    return 130 if summary.interrupted else 0


def _output_dir(requested: Optional[Path], name: str) -> Path:
    """The output folder, created; the default is a fresh ``runs/track/<name>[-N]``."""
    if requested is None:
        base = Path("runs") / "track" / name
        folder, number = base, 2
        while folder.exists():
            folder, number = base.with_name(f"{name}-{number}"), number + 1
    else:
        folder = requested
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output folder {folder}: {exc.strerror}") from None
    if not os.access(folder, os.W_OK):
        raise OutputError(f"output folder {folder} is not writable")
    return folder


def _display():
    """A ``show(frame) -> keep going`` callback with an OpenCV window."""
    import cv2

    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        raise OutputError("--show needs a display (DISPLAY is not set)")

    def show(frame) -> bool:
        cv2.imshow(PROG, frame)
        return cv2.waitKey(1) & 0xFF != ord("q")

    return show


if __name__ == "__main__":
    sys.exit(main())
