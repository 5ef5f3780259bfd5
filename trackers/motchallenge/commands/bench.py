"""``strongsort-track bench``: score tracker configurations on MOTChallenge sequences in seconds.

The detector (the bundled YOLOv8n, another model, or each sequence's ``det/det.txt``) and the
ReID model run once per sequence; their boxes, embeddings and the camera motion are cached
(:mod:`trackers.motchallenge.devcache`, in ``$STRONGSORT_REID_HOME/bench`` by default). Every
configuration is then replayed from the cache and scored with TrackEval: HOTA, IDF1, IDSW per
sequence and their mean, and the tracker's own milliseconds per frame.

Examples:
    strongsort-track bench --mot-root ../shared/data/mot/dev
    strongsort-track bench --mot-root ../shared/data/mot/dev --ablation-table
    strongsort-track bench --mot-root DIR --config tuned.yaml --set max_age=60 --postprocess gsi
    # one row per post-processing chain (aflink, link, gsi in the given order)
    strongsort-track bench --mot-root DIR --ablation +woC --postprocess none gsi aflink,gsi link,gsi
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np

from strongsort_reid.utils.motchallenge import (
    MOTDetections,
    list_sequences,
    read_seqinfo,
    write_results,
)
from strongsort_reid.weights import DEFAULT_DETECTOR, bundled_file

from ...cmc import ECC
from ...strongsort import StrongSORTConfig
from ...strongsort.config import ABLATION_STEPS, DEFAULT_CONFIG_PATH
from ..devcache import CachedSequence, cache_file, load_or_build
from ..evaluation import evaluate_mot
from ..postprocess import (
    STEPS,
    DetectionFeatures,
    apply_postprocess,
    parse_steps,
)
from ..replay import COLUMNS, MEAN, crops_per_frame, format_scores, replay, score_config
from .track_mot import run_config

# Boxes down to this confidence are cached, so replays can try any min_conf above it.
DEFAULT_CONF_FLOOR = 0.1


def add_sequence_arguments(parser: argparse.ArgumentParser, chains: bool = False) -> None:
    """Options that choose the sequences and how their cache is computed (bench and tune);
    with ``chains``, ``--postprocess`` takes post-processing chains (bench), else none|gsi."""
    add = parser.add_argument
    add("--mot-root", required=True, type=Path, help="folder of <seq>/{seqinfo.ini,img1,gt}")
    add("--seqs", nargs="+", help="sequence names (default: all with ground truth)")
    add("--det-file", action="store_true", help="use each sequence's det/det.txt, no detector")
    add("--yolo-model", default=DEFAULT_DETECTOR, help="detector (default: the bundled YOLOv8n)")
    add("--reid-model", default="osnet_x0_25_msmt17", help="ReID weight name or file")
    add("--conf-floor", type=float, default=DEFAULT_CONF_FLOOR, help="lowest cached confidence")
    add("--cache", type=Path, help="cache folder (default: $STRONGSORT_REID_HOME/bench)")
    add("--config", type=Path, default=DEFAULT_CONFIG_PATH, help="StrongSORT YAML parameters")
    add(
        "--ablation",
        choices=list(ABLATION_STEPS),
        help="the paper's switches up to this step on top of --config (+woC: the paper)",
    )
    add("--set", nargs="+", default=[], metavar="KEY=VALUE", help="override parameters")
    if chains:
        add(
            "--postprocess",
            nargs="+",
            default=["none"],
            metavar="CHAIN",
            help="offline post-processing before scoring: none or a comma list of "
            f"{', '.join(STEPS)} (e.g. aflink,gsi); several chains give one row each",
        )
        add("--aflink-weights", type=Path, help="AFLink weights (default: the shipped ones)")
    else:
        add("--postprocess", choices=("none", "gsi"), default="none", help="offline GSI first")
    add("--quiet", action="store_true", help="no progress bars or messages")


def load_sequences(args: argparse.Namespace, say: Callable[[str], None]) -> List[CachedSequence]:
    """The cached sequences the options name, computing the missing caches."""
    from strongsort_reid.models.weights import infer_arch, resolve_weights
    from strongsort_reid.utils.download import cache_dir

    folders = [p for p in list_sequences(args.mot_root) if (p / "gt" / "gt.txt").is_file()]
    if args.seqs:
        by_name = {p.name: p for p in folders}
        unknown = sorted(set(args.seqs) - set(by_name))
        if unknown:
            raise ValueError(f"no sequence {unknown} with ground truth in {args.mot_root}")
        folders = [by_name[name] for name in args.seqs]
    if not folders:
        raise FileNotFoundError(f"no sequence with gt/gt.txt in {args.mot_root}")
    weights = resolve_weights(args.reid_model)
    defaults = StrongSORTConfig()
    ecc = ECC(defaults.ecc_scale, defaults.ecc_max_iter, defaults.ecc_eps)
    reid = _reid_settings(weights, infer_arch(args.reid_model))
    cache_root = args.cache or cache_dir() / "bench"
    builders = _Builders(args, weights, reid["arch"], say)
    sequences = []
    for folder in folders:
        settings = {
            "detections": _detection_settings(args, folder),
            "reid": reid,
            "ecc": [ecc.scale, *ecc.criteria[1:]],
        }
        if not cache_file(folder, settings, cache_root).is_file():
            say(f"caching detections, embeddings and camera motion of {folder.name} (once)")
        sequences.append(
            load_or_build(
                folder,
                builders.detect_for(folder),
                builders,
                settings,
                cache_root,
                ecc,
                progress=not args.quiet,
            )
        )
    return sequences


def configured(
    args: argparse.Namespace, step: Optional[str] = None, chain: Sequence[str] = ()
) -> StrongSORTConfig:
    """The configuration of ``--config``, ``chain``, ``--ablation`` (or ``step``) and ``--set``
    (:func:`~trackers.motchallenge.commands.track_mot.run_config`)."""
    return run_config(args.config, chain, step or args.ablation, args.set)


def sequence_parser(doc: str, prog: str, chains: bool = False) -> argparse.ArgumentParser:
    """A parser with the sequence options, described by a command's module ``doc`` (its first
    paragraph, and its ``Examples:`` as the epilog); ``chains``: see
    :func:`add_sequence_arguments`."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description=doc.split("\n\n")[0],
        epilog="Examples:" + doc.split("Examples:")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_sequence_arguments(parser, chains)
    return parser


def main(argv: Optional[List[str]] = None, prog: str = "strongsort-track bench") -> int:
    parser = sequence_parser(__doc__, prog, chains=True)
    parser.add_argument(
        "--ablation-table",
        action="store_true",
        help="one row per step of the paper's ablation (DeepSORT ... +woC), then --config",
    )
    args = parser.parse_args(argv)
    say = (lambda _m: None) if args.quiet else (lambda m: print(m, file=sys.stderr))
    try:
        chains = [parse_steps(chain) for chain in args.postprocess]
        sequences = load_sequences(args, say)
        labels = [*ABLATION_STEPS, "config"] if args.ablation_table else ["config"]
        start = time.perf_counter()
        rows: Dict[str, Any] = {}
        post = None if chains == [()] else Postprocessing(sequences, args.aflink_weights)
        for label in labels:
            step = None if label == "config" else label
            if post is None:
                rows[label] = score_config(sequences, configured(args, step), args.mot_root)
                continue
            for chain in chains:
                name = f"{label} +{','.join(chain)}" if chain else label
                rows[name] = post.score(configured(args, step, chain), args.mot_root, chain)
    except (ValueError, FileNotFoundError, KeyError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) else exc
        print(f"{prog}: error: {message}", file=sys.stderr)
        return 2
    print(format_scores(rows))
    elapsed = time.perf_counter() - start
    say(f"{len(labels)} configuration(s) x {len(sequences)} sequence(s) in {elapsed:.1f} s")
    return 0


class Postprocessing:
    """Scores of a configuration with a post-processing chain applied to its results.

    The linker's appearance comes from the cached detections and embeddings; the AFLink model
    is loaded once (``weights``: a file, ``None``: the shipped weights).
    """

    def __init__(self, sequences: List[CachedSequence], weights: Optional[Path]):
        self.sequences = sequences
        self.weights = weights
        self._aflink = None
        self.features = {s.name: DetectionFeatures(s.det_frames, s.dets, s.embs) for s in sequences}
        self.frame_rates = {s.name: read_seqinfo(s.seq_dir).frame_rate for s in sequences}

    def score(self, config: StrongSORTConfig, gt_root: Path, chain) -> Dict[str, Dict[str, float]]:
        """Like :func:`~trackers.motchallenge.replay.score_config`, ``chain`` (steps) applied
        to each sequence's results before scoring."""
        if "aflink" in chain and self._aflink is None:
            from ..postprocess.aflink import load_aflink

            self._aflink = load_aflink(self.weights)
        timings, crops = {}, {}
        with tempfile.TemporaryDirectory(prefix="strongsort-bench-") as folder:
            for sequence in self.sequences:
                stats: Dict[str, Any] = {}
                rows, timings[sequence.name] = replay(sequence, config, stats)
                crops[sequence.name] = crops_per_frame(stats)
                rows = apply_postprocess(
                    rows,
                    chain,
                    self.features[sequence.name],
                    self.frame_rates[sequence.name],
                    self._aflink,
                )
                write_results(Path(folder) / f"{sequence.name}.txt", rows)
            names = [s.name for s in self.sequences]
            evaluated = evaluate_mot(gt_root, folder, names)
        scores = {
            name: {
                **{c: evaluated[name][c] for c in COLUMNS[:4]},
                "ms": timings[name],
                "crops": crops[name],
            }
            for name in names
        }
        scores[MEAN] = {c: float(np.mean([scores[n][c] for n in names])) for c in COLUMNS}
        return scores


def _reid_settings(weights: Path, arch: str) -> Dict[str, Any]:
    """What the cached embeddings depend on: the weights' content, the architecture, and the
    runtime and precision the embedder (``build_reid_embedder``, backend ``auto``) computes in."""
    from strongsort_reid.inference.options import openvino_precision, pick_backend
    from strongsort_reid.utils.download import sha256_of

    runtime = pick_backend("auto", "cpu")
    precision = openvino_precision("auto", runtime, False, "CPU") or "f32"
    return {"weights": sha256_of(weights)[:16], "arch": arch, "runtime": runtime,
            "precision": precision}


def _detection_settings(args: argparse.Namespace, folder: Path) -> Dict[str, Any]:
    from strongsort_reid.utils.download import sha256_of

    if args.det_file:
        return {"det_file": sha256_of(folder / "det" / "det.txt")[:16], "floor": args.conf_floor}
    settings = {
        "model": args.yolo_model, "floor": args.conf_floor, "imgsz": 640, "iou": 0.7, "rect": True
    }
    # A local file (or the bundled model of that name) is keyed by its content as well, so a
    # replaced file is detected again instead of replaying its predecessor's boxes.
    path = Path(args.yolo_model)
    path = path if path.is_file() else bundled_file(args.yolo_model)
    if path is not None:
        settings["model_sha256"] = sha256_of(path)[:16]
    return settings


class _Builders:
    """The detector and the embedder, built on first use (not at all when every cache exists)."""

    def __init__(self, args: argparse.Namespace, weights: Path, arch: str, say):
        self.args, self.weights, self.arch, self.say = args, weights, arch, say
        self._detector = self._embedder = None

    def detect_for(self, folder: Path) -> Callable[[int, np.ndarray], np.ndarray]:
        if self.args.det_file:
            detections = MOTDetections(folder / "det" / "det.txt")

            def from_file(number: int, _image: np.ndarray) -> np.ndarray:
                boxes = detections.frame(number)[0]
                return boxes[boxes[:, 4] >= self.args.conf_floor]

            return from_file
        return lambda _number, image: self.detector(image)

    @property
    def detector(self):
        if self._detector is None:
            from ...app.detectors import build_detector

            self._detector = build_detector(
                "yolo", self.args.yolo_model, conf=self.args.conf_floor, say=self.say
            )
        return self._detector

    def from_frame(self, frame: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        if self._embedder is None:
            from ...app.embedder import build_reid_embedder

            self._embedder = build_reid_embedder(
                str(self.weights), self.arch, device="cpu", require=True, say=self.say
            )
        return self._embedder.from_frame(frame, boxes)


if __name__ == "__main__":
    sys.exit(main())
