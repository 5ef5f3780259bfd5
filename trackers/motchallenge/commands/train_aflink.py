"""``strongsort-track train-aflink``: train the AFLink tracklet-link model on ground truth.

Reads ``<seq>/gt/gt.txt`` of every sequence of ``--mot-root`` (tracks of 30+ frames), cuts
them into pieces as in StrongSORT++ and trains the model on the CPU, seeded. Use the weights
with ``track-mot``/``bench --postprocess aflink,gsi --aflink-weights FILE``.

Examples:
    strongsort-track train-aflink --mot-root MOT17/train --output aflink_mot17.pth
    strongsort-track train-aflink --mot-root ../shared/data/mot/dev --seqs TUD-Campus \
        --output runs/aflink_tud.pth --steps 300 --seed 0
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import List, Optional

from strongsort_reid.utils.motchallenge import list_sequences

PROG = "strongsort-track train-aflink"


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=__doc__.split("\n\n")[0],
        epilog="Examples:" + __doc__.split("Examples:")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--mot-root", required=True, type=Path, help="folder of <seq>/gt/gt.txt")
    add("--seqs", nargs="+", help="sequence names (default: all with ground truth)")
    add("--output", required=True, type=Path, help="weights file to write (.pth)")
    add("--steps", type=int, default=300, help="optimiser steps (default: 300)")
    add("--batch", type=int, default=16, help="track cuts per step, 5 pairs each (default: 16)")
    add("--seed", type=int, default=0, help="seed of the sampling and the initial weights")
    add("--threads", type=int, default=1, help="torch CPU threads (default: 1)")
    add("--check-cuts", type=int, default=100, help="track cuts of the final accuracy check")
    add("--quiet", action="store_true", help="no progress messages")
    return parser.parse_args(argv)


def ground_truth_files(mot_root: Path, seqs: Optional[List[str]]) -> List[Path]:
    """``gt.txt`` of the named (default: all) sequences of ``mot_root`` that have one."""
    folders = [p for p in list_sequences(mot_root) if (p / "gt" / "gt.txt").is_file()]
    if seqs:
        by_name = {p.name: p for p in folders}
        unknown = sorted(set(seqs) - set(by_name))
        if unknown:
            raise ValueError(f"no sequence {unknown} with ground truth in {mot_root}")
        folders = [by_name[name] for name in seqs]
    if not folders:
        raise FileNotFoundError(f"no sequence with gt/gt.txt in {mot_root}")
    return [p / "gt" / "gt.txt" for p in folders]


def main(argv: Optional[List[str]] = None) -> int:
    from ..postprocess.aflink_train import save_aflink, train_aflink

    args = parse_args(argv)
    say = (lambda _m: None) if args.quiet else (lambda m: print(m, file=sys.stderr))
    if min(args.steps, args.batch, args.check_cuts) < 1:
        print(f"{PROG}: error: --steps, --batch and --check-cuts must be >= 1", file=sys.stderr)
        return 2
    try:
        files = ground_truth_files(args.mot_root, args.seqs)
        every = max(1, args.steps // 10)

        def progress(step: int, loss: float) -> None:
            if step % every == 0:
                say(f"step {step}/{args.steps}: loss {loss:.3f}")

        start = time.perf_counter()
        result = train_aflink(
            files, args.steps, args.batch, args.seed, args.threads, progress, args.check_cuts
        )
        meta = {
            "sequences": [f.parent.parent.name for f in files],
            "steps": args.steps,
            "batch": args.batch,
            "seed": args.seed,
        }
        path = save_aflink(result, args.output, meta)
    except (ValueError, FileNotFoundError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    print(
        f"trained on {result.tracks} tracks of {len(files)} sequence(s) in "
        f"{time.perf_counter() - start:.0f} s; pair accuracy {result.accuracy:.3f} -> {path}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
