"""Run StrongSORT over MOTChallenge sequences from their public detections (det.txt).

Examples:
    # appearance from the ReID model on the frames whose images exist
    strongsort-track track-mot --mot-root ../shared/data/mot/MOT17-mini/train \
        --reid-weights ../shared/data/reid/osnet_x0_25_msmt17.pth --output runs/mot17mini
    # precomputed embeddings <features-dir>/<seq>.npy, row-aligned with det.txt
    strongsort-track track-mot --mot-root DIR --features-dir FEATS --postprocess gsi
    # StrongSORT++: the AFLink tracklet link, then GSI (aflink, link, gsi in any order)
    strongsort-track track-mot --mot-root DIR --features-dir FEATS --postprocess aflink,gsi
    # one step of the paper's ablation (DeepSORT, +BoT, +ECC, +NSA, +EMA, +MC, +woC)
    strongsort-track track-mot --mot-root DIR --features-dir FEATS --ablation +NSA

Writes one MOTChallenge results file per sequence, <output>/<seq>.txt, ready for
``strongsort-track eval-mot``, and the effective parameters to <output>/strongsort.yaml.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Optional

import cv2
import numpy as np
import yaml

from strongsort_reid.utils.atomic import atomic_write_text
from strongsort_reid.utils.motchallenge import (
    MOTDetections,
    image_paths,
    list_sequences,
    read_seqinfo,
    write_results,
)

from ...strongsort import StrongSORT, StrongSORTConfig
from ...strongsort.config import ABLATION_STEPS, DEFAULT_CONFIG_PATH, ablation_overrides
from ..postprocess import (
    DetectionFeatures,
    apply_postprocess,
    linear_interpolation,
    parse_steps,
    tracker_settings,
)
from ..runs import track_sequence

PROG = "strongsort-track track-mot"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument(
        "--mot-root",
        required=True,
        type=Path,
        help="folder of sequences <seq>/{seqinfo.ini,det/det.txt,img1/}",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=Path("runs/track_mot"),
        help="folder for the <seq>.txt results (default: runs/track_mot)",
    )
    parser.add_argument("--seqs", nargs="+", help="sequence names (default: all)")
    parser.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_CONFIG_PATH,
        help="StrongSORT YAML parameters (default: trackers/configs/strongsort.yaml)",
    )
    parser.add_argument(
        "--ablation",
        choices=list(ABLATION_STEPS),
        help="apply the paper's ablation switches up to this step on top of --config",
    )
    parser.add_argument(
        "--set",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="override parameters, e.g. --set cmc=null min_conf=0.4",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--reid-weights", help="ReID weight name or checkpoint path")
    source.add_argument(
        "--features-dir", type=Path, help="folder of <seq>.npy embeddings row-aligned with det.txt"
    )
    parser.add_argument("--reid-model", help="architecture of --reid-weights (if not inferable)")
    parser.add_argument("--device", default="cpu", help="device of the ReID model")
    parser.add_argument(
        "--postprocess",
        type=postprocess_chain,
        default=(),
        metavar="CHAIN",
        help="offline post-processing: none, linear, or a comma list of aflink (appearance-free "
        "link, StrongSORT++), link (appearance-aware link) and gsi (interval 20, tau 10), "
        "applied in the given order, e.g. aflink,gsi",
    )
    parser.add_argument(
        "--aflink-weights", type=Path, help="AFLink weights (default: the shipped ones)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser.parse_args(argv)


def postprocess_chain(text: str):
    """``--postprocess`` value: ``"linear"``, or the steps of a chain (``()`` for none)."""
    if text.strip().lower() == "linear":
        return "linear"
    try:
        return parse_steps(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def parse_overrides(pairs) -> dict:
    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--set expects KEY=VALUE, got {pair!r}")
        overrides[key] = yaml.safe_load(value)
    return overrides


def run_config(config_path, chain, step: Optional[str], pairs) -> StrongSORTConfig:
    """The tracker configuration of a run: the YAML ``config_path``, then the settings that
    suit the post-processing ``chain`` (:func:`..postprocess.tracker_settings`), then the
    ablation ``step`` (it stays the paper's configuration whatever the chain), then the
    ``--set`` ``pairs``, each winning over the ones before."""
    steps = ablation_overrides(step) if step else {}
    settings = {**tracker_settings(chain), **steps, **parse_overrides(pairs)}
    return StrongSORTConfig.from_yaml(config_path, **settings)


def write_config(path: Path, config: StrongSORTConfig) -> Path:
    """Write the effective parameters as YAML, atomically (temporary file + rename)."""
    return atomic_write_text(path, yaml.safe_dump(config.to_dict(), sort_keys=False))


def link_features(
    rows: np.ndarray, seq_dir: Path, features_path: Optional[Path], tracker: StrongSORT
) -> DetectionFeatures:
    """Appearance for the ``link`` step: the detections of ``det.txt`` with their precomputed
    embeddings (``features_path``), else the tracker's embedder run again on the result boxes
    of the frames whose image exists."""
    if features_path is not None:
        detections = MOTDetections(seq_dir / "det" / "det.txt", features_path)
        return DetectionFeatures(detections.frames, detections.boxes, detections.features)
    images = image_paths(seq_dir, read_seqinfo(seq_dir))
    rows = rows[np.isin(rows[:, 0], list(images))]
    rows = rows[np.argsort(rows[:, 0], kind="stable")]  # embeddings are computed frame by frame
    boxes = np.concatenate([rows[:, 2:4], rows[:, 2:4] + rows[:, 4:6]], axis=1)
    embeddings = []
    for frame in np.unique(rows[:, 0]).astype(int):
        image = cv2.imread(str(images[frame]), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"cannot read image {images[frame]}")
        features = tracker.embedder.from_frame(image, boxes[rows[:, 0] == frame])
        embeddings.append(np.asarray(features[0] if isinstance(features, tuple) else features))
    if not embeddings:
        return DetectionFeatures(np.empty(0), np.empty((0, 4)), np.empty((0, 1)))
    return DetectionFeatures(rows[:, 0], boxes, np.concatenate(embeddings))


def main(argv=None) -> int:
    args = parse_args(argv)
    legacy_linear = args.postprocess == "linear"
    chain = () if legacy_linear else args.postprocess
    aflink_model = None
    if "aflink" in chain:
        from ..postprocess.aflink import load_aflink

        aflink_model = load_aflink(args.aflink_weights)
    config = run_config(args.config, chain, args.ablation, args.set)
    sequences = list_sequences(args.mot_root)
    if args.seqs:
        by_name = {p.name: p for p in sequences}
        unknown = [s for s in args.seqs if s not in by_name]
        if unknown:
            raise SystemExit(f"unknown sequences {unknown} in {args.mot_root}")
        sequences = [by_name[s] for s in args.seqs]
    progress = not args.quiet and sys.stderr.isatty()
    write_config(args.output / "strongsort.yaml", config)
    tracker = StrongSORT(
        config=config,
        reid_weights=args.reid_weights,
        reid_model=args.reid_model,
        device=args.device,
    )
    for seq_dir in sequences:
        features = None if args.features_dir is None else args.features_dir / f"{seq_dir.name}.npy"
        tracker.reset()
        start = time.perf_counter()
        rows = track_sequence(seq_dir, tracker, features, progress=progress)
        elapsed = time.perf_counter() - start
        if legacy_linear:
            rows = linear_interpolation(rows)
        elif chain:
            source = link_features(rows, seq_dir, features, tracker) if "link" in chain else None
            frame_rate = read_seqinfo(seq_dir).frame_rate
            rows = apply_postprocess(rows, chain, source, frame_rate, aflink_model)
        path = write_results(args.output / f"{seq_dir.name}.txt", rows)
        frames = tracker.stats["frames"]
        print(
            f"{seq_dir.name}: {frames} frames, {len(rows)} boxes, "
            f"{frames / max(elapsed, 1e-9):.1f} FPS -> {path}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
