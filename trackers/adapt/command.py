"""``strongsort-track adapt``: adapt the ReID model to your camera, without labels.

Tracks the source with the current weights, mines pseudo-identities from the tracks (long,
confident, unoccluded tracklets; people seen in the same frame are different people), fine-tunes
the model on their crops within a time budget, and writes the adapted weights with a report
(report.json, report.txt). Held-out pseudo-identities decide: unless the fine-tune scores
better on them than the starting weights by more than the noise, the starting weights are
written unchanged. Pass the weights' path wherever ReID weights are accepted.

Examples:
    strongsort-track adapt --source video.mp4 --minutes 3
    strongsort-track adapt --source MOT17-04 --det-file MOT17-04/det/det.txt --rounds 2
    strongsort-track adapt --source video.mp4 --cuhk01-root ../shared/data/reid-datasets
    strongsort-track --source video.mp4 --reid-model runs/adapt/video/osnet_x0_25_adapted.pth
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import List, Optional

PROG = "strongsort-track adapt"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``adapt``."""
    from .finetune import FineTuneOptions
    from .mining import MiningConfig

    add = parser.add_argument
    add("--source", required=True, help="video, image folder/glob or MOTChallenge sequence")
    add("--output", type=Path, help="output folder (default: runs/adapt/<source name>)")
    add("--reid-model", default="osnet_x0_25_msmt17", help="starting ReID weights (name/file)")
    add("--minutes", type=float, default=FineTuneOptions.minutes, help="fine-tune budget/round")
    add("--rounds", type=int, default=1, help="track-mine-fine-tune rounds")
    add("--max-epochs", type=int, help="cap on the epochs (default: the recipe's)")
    add("--recipe", type=Path, help="training YAML (default: finetune_small + adapt's overrides)")
    add("--set", nargs="+", default=[], metavar="KEY=VALUE", help="recipe overrides")
    add(
        "--distill-weight",
        type=float,
        default=FineTuneOptions.distill_weight,
        help="weight of the feature distillation to the starting model (0: off)",
    )
    add(
        "--freeze-bn",
        action=argparse.BooleanOptionalAction,
        default=FineTuneOptions.freeze_bn,
        help="keep the starting model's BatchNorm statistics",
    )
    add("--seed", type=int, help="seed (default: the recipe's train.seed)")
    add(
        "--holdout",
        type=float,
        default=FineTuneOptions.holdout,
        help="fraction of pseudo-identities held out to validate (0: keep the last epoch)",
    )
    add(
        "--min-frames",
        type=int,
        default=MiningConfig.min_frames,
        help="clean frames a tracklet needs to become a pseudo-identity",
    )
    add("--samples", type=int, default=MiningConfig.samples, help="crops per pseudo-identity")
    add(
        "--max-gap",
        type=float,
        default=MiningConfig.max_gap_s,
        help="seconds without a clean box that cut a tracklet",
    )
    add("--yolo-model", help="detector (default: the bundled YOLOv8n)")
    add("--det-file", help="precomputed MOTChallenge det.txt instead of a detector")
    add("--tracker-config", type=Path, help="StrongSORT YAML")
    add("--max-frames", type=int, help="use only the first frames of the source")
    add("--reid-backend", default="auto", help="embedder runtime: auto, torch, onnx, openvino")
    add("--device", default="cpu", help="cpu or cuda:N (detector, embedder and training)")
    add("--cuhk01-root", type=Path, help="folder with CUHK01: report rank-1/mAP before/after")
    add("--no-evaluate", action="store_true", help="do not score a sequence's ground truth")
    add("--quiet", action="store_true", help="no progress, only the summary")


def main(argv: Optional[List[str]] = None, prog: str = PROG) -> int:
    """Run ``adapt``; returns the exit status (0 ok, 2 user error, 130 interrupted)."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description=__doc__.split("\n\n")[1].replace("\n", " "),
        epilog="examples:" + __doc__.split("Examples:")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    if args.quiet:
        logging.getLogger("ultralytics").setLevel(logging.WARNING)
    say = (lambda _m: None) if args.quiet else (lambda m: print(m, file=sys.stderr))
    from strongsort_reid.utils.download import WeightsUnavailableError

    from ..app.detectors import DetectorUnavailable
    from ..app.embedder import ReidUnavailable

    user_errors = (ValueError, KeyError, OSError, DetectorUnavailable, ReidUnavailable)
    try:
        result = run(args, say)
    except (*user_errors, WeightsUnavailableError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"{prog}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    print(result.summary())
    print(f"wrote {result.weights}, {result.report_json}, {result.report_text}")
    return 0


def run(args: argparse.Namespace, say):
    """:func:`~trackers.adapt.api.adapt` with the parsed options."""
    from strongsort_reid.weights import DEFAULT_DETECTOR

    from .api import adapt
    from .finetune import FineTuneOptions
    from .mining import MiningConfig
    from .tracking import TrackingSettings

    if args.max_frames is not None and args.max_frames < 1:
        raise ValueError(f"--max-frames must be >= 1, got {args.max_frames}")
    return adapt(
        args.source,
        output=args.output,
        reid_weights=args.reid_model,
        minutes=args.minutes,
        rounds=args.rounds,
        recipe=args.recipe,
        recipe_overrides=args.set,
        mining=MiningConfig(
            min_frames=args.min_frames, samples=args.samples, max_gap_s=args.max_gap
        ),
        training=FineTuneOptions(
            max_epochs=args.max_epochs,
            distill_weight=args.distill_weight,
            freeze_bn=args.freeze_bn,
            seed=args.seed,
            use_gpu=args.device.startswith("cuda"),
            holdout=args.holdout,
        ),
        tracking=TrackingSettings(
            args.yolo_model or DEFAULT_DETECTOR,
            det_file=args.det_file,
            tracker_config=args.tracker_config,
            max_frames=args.max_frames,
            device=args.device,
            reid_backend=args.reid_backend,
        ),
        cuhk01_root=args.cuhk01_root,
        evaluate=not args.no_evaluate,
        say=say,
        progress=not args.quiet,
    )


if __name__ == "__main__":
    sys.exit(main())
