"""Benchmark ``strongsort-track adapt``: adapt on each dev sequence's own frames (no ground truth
used), then score StrongSORT with the starting and the adapted weights (same detections, same
tracker configuration, the development benchmark's cache and TrackEval), and CUHK01 rank-1 /
mAP of every adapted model (forgetting).

Prints one Markdown table: HOTA / IDF1 / IDSW before -> after per sequence and their mean,
pseudo-identities (held out), crops, epochs, the held-out validation (pseudo-mAP of the start ->
the best epoch, and whether the adapted weights were written), wall and CPU seconds of the
adaptation, CUHK01 mAP after.
With ``--video``: the wall time of each stage (tracking, mining, fine-tune) and the load average.

Example:
    python scripts/bench_adapt.py                                   # dev sequences, 2 minutes
    python scripts/bench_adapt.py --minutes 1 --distill-weight 0 --no-cuhk01
    python scripts/bench_adapt.py --video ../shared/data/video/vtest.avi
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Dict, List

import numpy as np

from strongsort_reid.models.weights import infer_arch, resolve_weights
from strongsort_reid.weights import DEFAULT_DETECTOR
from trackers.adapt.api import adapt
from trackers.adapt.compare import cuhk01_scores, tracking_scores
from trackers.adapt.finetune import FineTuneOptions
from trackers.adapt.mining import MiningConfig
from trackers.adapt.tracking import TrackingSettings

DEFAULT_SHARED = Path(
    os.environ.get("STRONGSORT_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared")
)
METRICS = ("HOTA", "IDF1", "IDSW")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--mot-root", type=Path, default=DEFAULT_SHARED / "data/mot/dev")
    add("--seqs", nargs="+", help="sequence names (default: all with gt)")
    add("--video", type=Path, help="adapt on this video instead (no scores; timings and stats)")
    add("--cuhk01-root", type=Path, default=DEFAULT_SHARED / "data/reid-datasets")
    add("--no-cuhk01", action="store_true", help="skip the CUHK01 evaluation")
    add("--reid-weights", default="osnet_x0_25_msmt17")
    add("--det-file", action="store_true", help="use each sequence's det/det.txt")
    add("--minutes", type=float, default=2.0, help="fine-tune budget per round")
    add("--rounds", type=int, default=1)
    add("--max-epochs", type=int, help="cap on the epochs (default: the recipe's)")
    add("--distill-weight", type=float, default=FineTuneOptions.distill_weight)
    add("--freeze-bn", action=argparse.BooleanOptionalAction, default=True)
    add("--recipe", type=Path, help="training recipe YAML (default: adapt's)")
    add("--set", nargs="+", default=[], metavar="KEY=VALUE", help="recipe overrides")
    add("--seed", type=int, default=1)
    add("--holdout", type=float, default=FineTuneOptions.holdout, help="held-out fraction")
    add("--output", type=Path, help="where adapted weights go (default: a temporary folder)")
    add("--cache", type=Path, help="dev benchmark cache (default: in --output)")
    add("--json", type=Path, help="also write every number to this JSON file")
    return parser.parse_args(argv)


def _adapt(args, source: Path, output: Path, det_file=None):
    return adapt(
        source,
        output=output,
        reid_weights=args.reid_weights,
        minutes=args.minutes,
        rounds=args.rounds,
        recipe=args.recipe,
        recipe_overrides=args.set,
        mining=MiningConfig(),
        training=FineTuneOptions(
            max_epochs=args.max_epochs,
            distill_weight=args.distill_weight,
            freeze_bn=args.freeze_bn,
            seed=args.seed,
            holdout=args.holdout,
        ),
        tracking=TrackingSettings(DEFAULT_DETECTOR, det_file=det_file),
        evaluate=False,
        say=lambda message: print(message, file=sys.stderr),
    )


def _stats(result) -> Dict[str, float]:
    last = result.rounds[-1]
    return {
        "identities": last.mining["identities"],
        "crops": last.mining["crops_written"],
        "negative_pairs": last.mining["negative_pairs"],
        "epochs": len(last.epochs),
        "held_out": last.mining.get("held_out_identities", 0),
        "validation": last.validation,
        "stopped_by": last.stopped_by,
        "tracking_s": sum(r.tracking_seconds for r in result.rounds),
        "mining_s": sum(r.mining_seconds for r in result.rounds),
        "finetune_s": sum(r.training_seconds for r in result.rounds),
        "wall_s": result.wall_seconds,
        "cpu_s": result.cpu_seconds,
    }


def format_stages(name: str, row: Dict, load: List[float]) -> str:
    """Markdown table of one adaptation's stage wall times, with the 1-minute load average
    before and after (the machine's other work slows every stage)."""
    lines = [
        "| source | frames | pseudo-ids (held out) | crops | epochs | validation | tracking s "
        "| mining s | fine-tune s | adapt wall s | adapt CPU s | load avg before / after |",
        "|" + "---|" * 12,
        f"| {name} | {row['frames']} | {row['identities']} ({row['held_out']}) | {row['crops']} | "
        f"{row['epochs']} ({row['stopped_by']}) | {format_validation(row['validation'])} | "
        f"{row['tracking_s']:.1f} | "
        f"{row['mining_s']:.1f} | {row['finetune_s']:.1f} | {row['wall_s']:.1f} | "
        f"{row['cpu_s']:.1f} | {load[0]:.2f} / {load[1]:.2f} |",
    ]
    return "\n".join(lines)


def run_sequences(args, output: Path) -> Dict[str, Dict]:
    folders = sorted(p for p in args.mot_root.iterdir() if (p / "gt" / "gt.txt").is_file())
    folders = [p for p in folders if not args.seqs or p.name in args.seqs]
    start = resolve_weights(args.reid_weights)
    cache = args.cache or output / "cache"
    rows: Dict[str, Dict] = {}
    for folder in folders:
        det_file = str(folder / "det" / "det.txt") if args.det_file else None
        result = _adapt(args, folder, output / folder.name, det_file)
        scores = {
            label: tracking_scores(
                folder,
                weights,
                DEFAULT_DETECTOR,
                args.det_file,
                None,
                cache,
                lambda m: print(m, file=sys.stderr),
            )
            for label, weights in (("before", start), ("after", result.weights))
        }
        rows[folder.name] = {**scores, **_stats(result), "weights": str(result.weights)}
    return rows


def format_validation(validation) -> str:
    """``start -> best epoch (e): kept/adapted`` of the held-out pseudo-mAP."""
    if validation is None:
        return "off"
    scores = validation["scores"]
    decision = "adapted" if validation["adopted"] else "kept start"
    if not scores:
        return f"{decision} (too few ids)"
    best = validation["best_epoch"]
    p_value = validation["p_value"]
    return f"{scores[0]:.1f} -> {scores[best]:.1f} (ep {best}, p {p_value:.2g}): {decision}"


def format_table(rows: Dict[str, Dict]) -> str:
    header = ["sequence"] + [f"{m} before -> after" for m in METRICS]
    header += ["pseudo-ids (held out)", "crops", "epochs", "validation", "wall s", "CPU s"]
    header += ["CUHK01 mAP"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    means = {m: {k: [] for k in ("before", "after")} for m in METRICS}
    for name, row in rows.items():
        cells = [name]
        for metric in METRICS:
            before, after = row["before"][metric], row["after"][metric]
            means[metric]["before"].append(before)
            means[metric]["after"].append(after)
            cells.append(f"{before:.2f} -> {after:.2f} ({after - before:+.2f})")
        cells += [f"{row['identities']} ({row['held_out']})", f"{row['crops']}"]
        cells += [f"{row['epochs']}", format_validation(row["validation"])]
        cells += [f"{row['wall_s']:.0f}", f"{row['cpu_s']:.0f}"]
        cells.append(f"{row['cuhk01']['mAP']:.1f}" if "cuhk01" in row else "-")
        lines.append("| " + " | ".join(cells) + " |")
    cells = ["mean"]
    for metric in METRICS:
        before, after = (float(np.mean(means[metric][k])) for k in ("before", "after"))
        cells.append(f"{before:.2f} -> {after:.2f} ({after - before:+.2f})")
    lines.append("| " + " | ".join(cells + [""] * 7) + " |")
    return "\n".join(lines)


def main(argv: List[str] = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-adapt-") as temp:
        output = args.output or Path(temp)
        if args.video is not None:
            load_before = os.getloadavg()[0]
            result = _adapt(args, args.video, output / args.video.stem)
            row = {**_stats(result), "frames": result.rounds[-1].frames}
            rows = {args.video.stem: {**row, "mining": result.rounds[-1].mining}}
            print(format_stages(args.video.stem, row, [load_before, os.getloadavg()[0]]))
        else:
            rows = run_sequences(args, output)
            if not args.no_cuhk01:
                arch = infer_arch(args.reid_weights)
                base = cuhk01_scores(resolve_weights(args.reid_weights), args.cuhk01_root, arch)
                print(f"CUHK01 starting weights: rank-1 {base['rank1']:.1f} mAP {base['mAP']:.1f}")
                for row in rows.values():
                    row["cuhk01"] = cuhk01_scores(Path(row["weights"]), args.cuhk01_root, arch)
            print(format_table(rows))
        if args.json is not None:
            args.json.write_text(json.dumps(rows, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
