"""``strongsort-track tune``: search the tracker's parameters on your own annotated sequences.

A seeded Optuna search (``pip install 'strongsort-reid[tune]'``) over the parameters of
:data:`trackers.motchallenge.tune.SEARCH_SPACE`, replayed from the ``bench`` cache, so 100
trials take a minute or two on short sequences. The first trial is the starting configuration
(``--config``); ``--fix`` keeps parameters out of the search. The best configuration is written
as a YAML that ``StrongSORT(config=...)``, ``strongsort-track --tracker-config`` and
``strongsort-track track-mot --config`` accept.

Examples:
    strongsort-track tune --mot-root ../shared/data/mot/dev --trials 100 --output tuned.yaml
    strongsort-track tune --mot-root DIR --objective idf1 --fix cmc=null min_conf=0.5
    strongsort-track tune --mot-root DIR --objective pareto     # HOTA vs ms per frame
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import List, Optional

import yaml

from strongsort_reid.utils.atomic import atomic_write_text

from ..replay import MEAN, format_scores
from ..tune import OBJECTIVES, SEARCH_SPACE, tune
from .bench import configured, load_sequences, sequence_parser
from .track_mot import parse_overrides


def build_parser(prog: str) -> argparse.ArgumentParser:
    parser = sequence_parser(__doc__, prog)
    add = parser.add_argument
    add("--trials", type=int, default=100, help="configurations to evaluate (default 100)")
    add("--objective", choices=OBJECTIVES, default="hota", help="mean HOTA, IDF1 or the front")
    add("--fix", nargs="+", default=[], metavar="KEY=VALUE", help="parameters not searched")
    add("--seed", type=int, default=0, help="sampler seed")
    add("--output", type=Path, default=Path("tuned.yaml"), help="where the best YAML goes")
    return parser


def main(argv: Optional[List[str]] = None, prog: str = "strongsort-track tune") -> int:
    args = build_parser(prog).parse_args(argv)
    say = (lambda _m: None) if args.quiet else (lambda m: print(m, file=sys.stderr))
    try:
        fixed = parse_overrides(args.fix)
        unknown = sorted(set(fixed) - set(configured(args).to_dict()))
        if unknown:
            raise ValueError(f"--fix names unknown parameters {unknown}")
        if args.trials < 1:
            raise ValueError(f"--trials must be >= 1, got {args.trials}")
        sequences = load_sequences(args, say)
        start = time.perf_counter()
        post = None if args.postprocess == "none" else args.postprocess
        result = tune(
            sequences, args.mot_root, configured(args, chain=(post,) if post else ()),
            args.trials, args.objective, fixed, args.seed, post,
        )
    except (ValueError, FileNotFoundError, ImportError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - start
    print(format_scores({"start": result.start.scores, "best": result.best.scores}))
    if result.front:
        print("\nPareto front (mean HOTA, ms/frame):")
        for point in result.front:
            mean = point.scores[MEAN]
            print(f"  trial {point.number}: {mean['HOTA']:.2f} HOTA, {mean['ms']:.3f} ms")
    searched = {k: v for k, v in result.best.params.items() if k in SEARCH_SPACE}
    print(f"\nbest (trial {result.best.number}): {searched}")
    header = (
        f"# Tuned by strongsort-track tune on {', '.join(s.name for s in sequences)}\n"
        f"# objective {args.objective}, {args.trials} trials, seed {args.seed}, fixed {fixed}\n"
    )
    body = yaml.safe_dump(result.config.to_dict(), sort_keys=False)
    atomic_write_text(args.output, header + body)
    print(f"wrote {args.output} ({args.trials} trials in {elapsed:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
