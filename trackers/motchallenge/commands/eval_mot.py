"""Evaluate MOTChallenge results (HOTA, DetA, AssA, MOTA, IDF1, IDSW) with TrackEval.

Example:
    strongsort-track eval-mot --gt-root ../shared/data/mot/MOT17-mini/train \
        --results runs/track_mot

Works on any MOTChallenge-layout folder, including sequences whose gt.txt covers only their
first frames (``--frames gt``, the default, evaluates frames 1..last annotated frame).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from strongsort_reid.utils.atomic import atomic_write_text

from ..evaluation import evaluate_mot, find_sequences, format_table

PROG = "strongsort-track eval-mot"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument(
        "--gt-root",
        required=True,
        type=Path,
        help="folder of sequences <seq>/{seqinfo.ini,gt/gt.txt}",
    )
    parser.add_argument(
        "--results", required=True, type=Path, help="folder of results files <seq>.txt"
    )
    parser.add_argument(
        "--seqs", nargs="+", help="sequences to evaluate (default: all with results)"
    )
    parser.add_argument(
        "--frames",
        choices=("gt", "seqinfo"),
        default="gt",
        help="evaluate frames up to the last gt frame (default) or seqLength",
    )
    parser.add_argument("--benchmark", default="MOT17", help="TrackEval benchmark (MOT17, MOT20)")
    parser.add_argument("--json", type=Path, help="also write the scores to this JSON file")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    names, missing = find_sequences(args.gt_root, args.results, args.seqs)
    if missing:
        print(f"no results for {', '.join(missing)}: skipped", file=sys.stderr)
    scores = evaluate_mot(args.gt_root, args.results, names, args.frames, args.benchmark)
    print(format_table(scores))
    if args.json is not None:
        atomic_write_text(args.json, json.dumps(scores, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
