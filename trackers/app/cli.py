"""``strongsort-track``: the tracker's command line. Without a subcommand (or with ``track``) it
tracks people in a video, like ``python demo/track.py``; ``track-mot`` and ``eval-mot`` run and
score StrongSORT on MOTChallenge folders (:mod:`trackers.motchallenge.commands`).

Examples:
    strongsort-track --source video.mp4                      # annotated video + MOT results
    strongsort-track --source 0 --show --no-save             # webcam
    strongsort-track --source rtsp://camera/stream --max-frames 1000
    strongsort-track --source MOT17-04-FRCNN --det-file MOT17-04-FRCNN/det/det.txt
    strongsort-track --source frames/ --yolo-model yolov8s.onnx --reid-model osnet_x1_0_msmt17
    strongsort-track track-mot --mot-root MOT17/train --reid-weights osnet_x0_25_msmt17
    strongsort-track eval-mot --gt-root MOT17/train --results runs/track_mot

Outputs go to ``runs/track/<source name>`` (a new numbered folder when it exists): ``<name>.mp4``
(boxes, identities, trails) and ``<name>.txt`` (``frame,id,x,y,w,h,conf,-1,-1,-1``), each
renamed into place only when complete; an output that would replace an input is refused. User
errors of every command (bad source, unwritable output or full disk, missing or malformed
files) print one line and exit with status 2; Ctrl-C or SIGTERM stop the run with complete
outputs and exit with status 130 or 143.
"""

from __future__ import annotations

import argparse
import configparser
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import yaml

from strongsort_reid.weights import DEFAULT_DETECTOR

from ..adapt import command as adapt_command
from ..motchallenge.commands import bench, eval_mot, track_mot, train_aflink, tune
from ..strongsort import StrongSORT
from . import offline
from .detectors import (
    DETECTOR_KINDS,
    RUNTIMES,
    DetectorError,
    DetectorUnavailable,
    build_detector,
)
from .embedder import REID_BACKENDS, ReidUnavailable, build_reid_embedder
from .loop import StopSignals, run_tracking
from .sources import STREAM_TIMEOUT_S, ImageSequenceSource, SourceError, open_source
from .writers import MOTResultWriter, OutputError, VideoWriter, check_outputs

PROG = "strongsort-track"
EXAMPLES = __doc__.split("Examples:")[1].split("\n\n")[0]
USER_ERRORS = (
    SourceError,
    OutputError,
    DetectorError,
    DetectorUnavailable,
    ReidUnavailable,
    OSError,  # FileNotFoundError, PermissionError, a full disk...
    ValueError,
    KeyError,
    yaml.YAMLError,
    configparser.Error,
)

STREAM_TIMEOUT_HELP = (
    "seconds a stream URL may take to open and to deliver each frame before the run fails or "
    "ends (also the longest Ctrl-C waits on a stalled stream; default: %(default)g)"
)


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    """The options of the video-tracking program (``strongsort-track [track]``)."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Detect, embed and track people in a video with StrongSORT.",
        epilog=f"{_commands_help()}\n\nexamples:{EXAMPLES}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--source", required=True, help="video, image/folder/glob, webcam index, URL, MOT seq")
    add(
        "--yolo-model",
        default=DEFAULT_DETECTOR,
        help="detector: a file ultralytics loads (.pt, .onnx, OpenVINO folder) or a release name "
        "it downloads (yolov8n.pt); default: the bundled YOLOv8n (int8 ONNX, AGPL-3.0)",
    )
    add(
        "--detector",
        choices=DETECTOR_KINDS,
        default="auto",
        help="auto: the YOLO model, OpenCV HOG (with a message) when it cannot be obtained; "
        "hog: force HOG",
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
    add(
        "--conf",
        type=float,
        help="confidence threshold of the detector and of the tracker (its min_conf) alike; "
        "default: min_conf of --tracker-config (0.6)",
    )
    add("--iou", type=float, default=0.7, help="detector NMS IoU threshold")
    add("--imgsz", type=int, default=640, help="detector inference size")
    add("--device", default="auto", help="auto, cpu or cuda:N")
    add("--half", action="store_true", help="float16 inference on CUDA")
    add("--vid-stride", type=int, default=1, help="track every N-th frame")
    add("--stream-timeout", type=float, default=STREAM_TIMEOUT_S, help=STREAM_TIMEOUT_HELP)
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
    add("--postprocess", type=offline.parse_chain, default=(), help=offline.HELP)
    add("--aflink-weights", type=Path, help="AFLink weights (default: the shipped ones)")
    add("--output", type=Path, help="output folder (default: runs/track/<source name>)")
    add("--no-overlap", action="store_true", help="decode and encode in the main thread")
    add("--quiet", action="store_true", help="no progress bar or messages, only the summary")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """``strongsort-track [command] [options]``: run a subcommand of :data:`COMMANDS`, or track
    a video when the first argument is an option; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and not argv[0].startswith("-"):
        if argv[0] not in COMMANDS:
            message = f"{PROG}: error: unknown command {argv[0]!r}"
            print(f"{message}\n{_commands_help()}", file=sys.stderr)
            return 2
        run, _ = COMMANDS[argv[0]]
        return _guarded(lambda: int(run(argv[1:]) or 0), f"{PROG} {argv[0]}")
    return track(argv)


def track(argv: Optional[List[str]] = None, prog: str = PROG) -> int:
    """Track a video; returns the exit status (0 ok, 2 user error, 130 Ctrl-C, 143 SIGTERM)."""
    args = build_parser(prog).parse_args(argv)
    say = (lambda _message: None) if args.quiet else (lambda m: print(m, file=sys.stderr))
    if args.quiet:  # ultralytics reports every model it loads
        logging.getLogger("ultralytics").setLevel(logging.WARNING)
    return _guarded(lambda: _run(args, say), prog)


def _guarded(run: Callable[[], int], prog: str) -> int:
    """``run()``, with expected errors as one line on stderr and exit status 2, Ctrl-C as 130,
    and ``SystemExit("message")`` of a subcommand as a user error."""
    try:
        return run()
    except SystemExit as exc:
        if not isinstance(exc.code, str):
            raise
        message: object = exc.code
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 128 + signal.SIGINT
    except Exception as exc:
        if not _is_user_error(exc):
            raise
        message = _one_line(exc)
    print(f"{prog}: error: {message}", file=sys.stderr)
    return 2


def _is_user_error(exc: Exception) -> bool:
    """Errors about the user's input or environment rather than a bug (TrackEval's own
    exception, on malformed results, is matched by name: importing TrackEval is slow)."""
    return isinstance(exc, USER_ERRORS) or type(exc).__name__ == "TrackEvalException"


def _one_line(exc: Exception) -> str:
    """The message of ``exc`` on one line."""
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    if isinstance(exc, yaml.YAMLError):
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        return f"invalid YAML: {getattr(exc, 'problem', None) or exc}{where}"
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        return f"{exc.filename}: {exc.strerror}"
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return "; ".join(lines) if lines else type(exc).__name__


def _run(args: argparse.Namespace, say) -> int:
    if args.max_frames is not None and args.max_frames < 1:
        raise ValueError(f"--max-frames must be >= 1, got {args.max_frames}")
    source = open_source(args.source, args.vid_stride, stream_timeout=args.stream_timeout)
    try:
        outputs = _output_files(args, source)
        tracker = _build_tracker(args)
        detector = build_detector(
            args.detector,
            args.yolo_model,
            args.det_file,
            conf=tracker.config.detector_conf,
            iou=args.iou,
            imgsz=args.imgsz,
            device=args.device,
            half=args.half,
            classes=args.classes,
            runtime=args.detector_runtime,
            say=say,
            progress=not args.quiet,
        )
        embedder = build_reid_embedder(
            args.reid_model,
            args.reid_arch,
            backend=args.reid_backend,
            device=args.device,
            half=args.half,
            require=args.require_reid,
            say=say,
        )
        say(
            f"source {args.source}: {source.length or 'live'} frames at {source.fps:g} FPS; "
            f"detector: {detector.name}"
        )
        return _track(args, source, outputs, detector, embedder, tracker, say)
    finally:
        source.close()


def _build_tracker(args: argparse.Namespace) -> StrongSORT:
    try:
        return StrongSORT(config=args.tracker_config, **_tracker_overrides(args))
    except yaml.YAMLError as exc:
        raise ValueError(f"--tracker-config {args.tracker_config}: {_one_line(exc)}") from None


def _tracker_overrides(args: argparse.Namespace) -> Dict[str, object]:
    """Tracker parameters set on the command line.

    ``--conf`` is the one confidence threshold: the tracker ignores detections below its
    ``min_conf``, so the detector keeps exactly the boxes the tracker will use (down to its
    ``detector_conf`` when a low-confidence stage is on; a lower detector threshold only costs
    time).
    """
    overrides: Dict[str, object] = {"per_class": True} if args.per_class else {}
    if args.conf is not None:
        overrides["min_conf"] = args.conf
    return overrides


def _track(args, source, outputs, detector, embedder, tracker, say) -> int:
    video_path, results_path = outputs
    _make_folder((video_path or results_path or Path(".")).parent)
    video = VideoWriter(video_path, source.fps) if video_path else None
    results = MOTResultWriter(results_path) if results_path else None
    summary = run_tracking(
        source,
        detector,
        embedder,
        tracker,
        video=video,
        results=results,
        max_frames=args.max_frames,
        show=_display() if args.show else None,
        progress=not args.quiet,
        overlap=not args.no_overlap,
    )
    if summary.signal:
        # The outputs are complete and the exit status is the first signal's: a second Ctrl-C
        # arriving while the process winds down must not kill it with a bare SIGINT.
        for number in StopSignals.SIGNALS:
            signal.signal(number, signal.SIG_IGN)
    print(summary.format())
    if tracker.stats["dropped_invalid"]:
        say(f"{tracker.stats['dropped_invalid']} invalid detections dropped")
    if summary.interrupted:
        return 128 + (summary.signal or signal.SIGINT)
    if summary.frames == 0:
        raise SourceError(f"no frame of {args.source} could be decoded")
    if args.postprocess:
        post = offline.postprocess_results(results_path, args.postprocess, args.aflink_weights)
        print(f"post-processed ({','.join(args.postprocess)}): {post}")
    return 0


def _output_files(args, source) -> Tuple[Optional[Path], Optional[Path]]:
    """The video and results files the run will write (``None`` when not wanted), checked not
    to replace a folder or any input (source, det file, models, config)."""
    folder = args.output if args.output is not None else _fresh_folder(source.name)
    video = folder / f"{source.name}.mp4" if args.save else None
    results = folder / f"{source.name}.txt" if args.save_txt else None
    if args.postprocess and results is None:
        raise ValueError("--postprocess works on the saved MOT text: drop --no-save-txt")
    post = offline.post_path(results) if args.postprocess else None
    inputs = [("source", Path(args.source)), ("--det-file", args.det_file)]
    inputs += [("--yolo-model", args.yolo_model), ("--reid-model", args.reid_model)]
    inputs += [("--tracker-config", args.tracker_config), ("--aflink-weights", args.aflink_weights)]
    if isinstance(source, ImageSequenceSource):
        inputs += [("source image", path) for path in source.paths]
    check_outputs(
        [path for path in (video, results, post) if path is not None],
        [(role, Path(path)) for role, path in inputs if path is not None],
    )
    return video, results


def _fresh_folder(name: str) -> Path:
    """``runs/track/<name>``, or ``<name>-N`` with the first N that does not exist yet."""
    base = Path("runs") / "track" / name
    folder, number = base, 2
    while folder.exists():
        folder, number = base.with_name(f"{name}-{number}"), number + 1
    return folder


def _make_folder(folder: Path) -> None:
    """Create the output folder; :class:`OutputError` when impossible or not writable."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output folder {folder}: {exc.strerror}") from None
    if not os.access(folder, os.W_OK):
        raise OutputError(f"output folder {folder} is not writable")


def _display():
    """A ``show(frame) -> keep going`` callback with an OpenCV window."""
    import cv2

    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        raise OutputError("--show needs a display (DISPLAY is not set)")

    def show(frame) -> bool:
        cv2.imshow(PROG, frame)
        return cv2.waitKey(1) & 0xFF != ord("q")

    return show


# command -> (its main(argv) -> exit status, one-line description); "track" is the default.
COMMANDS: Dict[str, Tuple[Callable[[Optional[List[str]]], int], str]] = {
    "track": (lambda argv: track(argv, f"{PROG} track"), "track a video (the default command)"),
    "track-mot": (track_mot.main, "run StrongSORT on MOTChallenge sequences"),
    "eval-mot": (eval_mot.main, "HOTA/MOTA/IDF1 of MOT results (TrackEval)"),
    "bench": (bench.main, "score tracker configurations on MOT sequences from a cache"),
    "tune": (tune.main, "search the tracker's parameters on annotated sequences (Optuna)"),
    "train-aflink": (train_aflink.main, "train the AFLink tracklet-link model on MOT ground truth"),
    "adapt": (
        adapt_command.main,
        "adapt the ReID model to a camera without labels (pseudo-identities from tracks)",
    ),
}


def _commands_help() -> str:
    """The subcommands, one line each, for ``--help`` and errors."""
    width = max(map(len, COMMANDS))
    lines = [f"  {name:<{width}}  {help_}" for name, (_, help_) in COMMANDS.items()]
    return "\n".join([f"commands ({PROG} <command> --help):", *lines])


if __name__ == "__main__":
    sys.exit(main())
