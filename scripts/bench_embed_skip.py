"""Benchmark ``embed_skip`` (embed only what is needed): accuracy, crops and ms per frame.

Two parts, each printing a table:

* ``dev``: the development benchmark (``strongsort-track bench``'s cache of detections,
  embeddings and camera motion; bundled YOLOv8n, or ``det/det.txt`` with ``--det-file``):
  HOTA / IDF1 / IDSW per sequence, crops embedded per frame and how many reused detections
  ended with another track (``misses``), for ``embed_skip`` off and a few threshold settings.
* ``demo``: the demo loop (bundled detector and ReID model, default settings, no video output)
  on the shared videos, ``embed_skip`` off and on interleaved run by run: crops embedded and the
  embed stage's ms per frame (median run), overall FPS, and the identity agreement of the two
  runs (IDF1 of the ``embed_skip`` run scored against the run without it, detections paired by
  their row: 100 means the same identities).

Example:
    python scripts/bench_embed_skip.py --parts dev demo --frames 300 --runs 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

from strongsort_reid.weights import DEFAULT_DETECTOR
from trackers.app.detectors import build_detector
from trackers.app.embedder import build_reid_embedder
from trackers.app.loop import run_tracking
from trackers.app.sources import open_source
from trackers.motchallenge.commands import bench
from trackers.motchallenge.replay import MEAN, replay, score_config
from trackers.strongsort import StrongSORT

SHARED = Path(__file__).resolve().parents[2] / "shared"
# Label -> --set overrides (on top of the default configuration).
SETTINGS = {
    "off": {"embed_skip": False},
    "on, default (iou 0.6, rival 0.1, refresh 3)": {"embed_skip": True},
    "on (iou 0.6, rival 0.1, refresh 5)": dict(embed_skip=True, embed_skip_refresh=5),
    "on (iou 0.5, rival 0.2, refresh 5)": dict(
        embed_skip=True, embed_skip_iou=0.5, embed_skip_rival_iou=0.2, embed_skip_refresh=5
    ),
    "on (iou 0.7, rival 0.1, refresh 3)": dict(embed_skip=True, embed_skip_iou=0.7),
}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=SHARED, help="../shared folder")
    parser.add_argument("--parts", nargs="+", choices=("dev", "demo"), default=["dev", "demo"])
    parser.add_argument("--det-file", action="store_true", help="dev: det/det.txt boxes")
    parser.add_argument("--videos", nargs="+", default=["vtest.avi", "street_1080p.mp4"])
    parser.add_argument("--frames", type=int, default=300, help="demo: frames per run")
    parser.add_argument("--runs", type=int, default=3, help="demo: runs per setting")
    return parser.parse_args(argv)


def dev_table(shared: Path, det_file: bool) -> str:
    """Markdown rows: per setting, per sequence HOTA / IDF1 / IDSW, crops/frame, misses."""
    argv = ["--mot-root", str(shared / "data/mot/dev"), "--quiet"]
    args = bench.sequence_parser(bench.__doc__, "bench").parse_args(
        argv + (["--det-file"] if det_file else [])
    )
    sequences = bench.load_sequences(args, lambda _m: None)
    names = [s.name for s in sequences]
    header = ["setting"] + [f"{n} HOTA / IDF1 / IDSW" for n in names + [MEAN]]
    header += ["crops/frame", "tracked/frame", "misses"]
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    for label, overrides in SETTINGS.items():
        args.set = [f"{k}={v}" for k, v in overrides.items()]
        config = bench.configured(args)
        scores = score_config(sequences, config, args.mot_root)
        totals = dict.fromkeys(("frames", "embedded", "reused", "reuse_misses"), 0)
        for sequence in sequences:
            stats = {}
            replay(sequence, config, stats)
            for key in totals:
                totals[key] += stats[key]
        cells = [label]
        for name in names + [MEAN]:
            row = scores[name]
            cells.append(f"{row['HOTA']:.2f} / {row['IDF1']:.2f} / {row['IDSW']:g}")
        tracked = totals["embedded"] + totals["reused"]
        cells += [
            f"{totals['embedded'] / totals['frames']:.2f}",
            f"{tracked / totals['frames']:.2f}",
            f"{totals['reuse_misses']}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    source = "det/det.txt" if det_file else "bundled YOLOv8n"
    return f"# dev sequences ({source}, cached osnet_x0_25_msmt17 embeddings)\n" + "\n".join(lines)


class RecordingStrongSORT(StrongSORT):
    """StrongSORT that keeps every frame's output (for the identity agreement)."""

    def reset(self) -> None:
        super().reset()
        self.history = []

    def update(self, dets, frame=None, embs=None, camera_warp=None):
        tracks = super().update(dets, frame, embs, camera_warp)
        self.history.append(tracks.copy())
        return tracks


def identity_agreement(reference, other) -> float:
    """IDF1 (percent) of ``other``'s per-frame ``(M, 8)`` outputs scored against
    ``reference``'s, boxes paired by their detection row (``det_index``)."""
    pairs, count_ref, count_other = [], 0, 0
    for ref, out in zip(reference, other):
        ref, out = ref[ref[:, 7] >= 0], out[out[:, 7] >= 0]
        count_ref, count_other = count_ref + len(ref), count_other + len(out)
        by_row = {int(r[7]): int(r[4]) for r in ref}
        pairs += [(by_row[int(o[7])], int(o[4])) for o in out if int(o[7]) in by_row]
    if not pairs:
        return 0.0
    pairs = np.array(pairs)
    ref_ids, ref_index = np.unique(pairs[:, 0], return_inverse=True)
    out_ids, out_index = np.unique(pairs[:, 1], return_inverse=True)
    counts = np.zeros((ref_ids.size, out_ids.size))
    np.add.at(counts, (ref_index, out_index), 1)
    rows, cols = linear_sum_assignment(-counts)
    return 100.0 * 2 * counts[rows, cols].sum() / (count_ref + count_other)


def demo_run(video: Path, shared: Path, frames: int, skip: bool):
    """One demo run; returns ``(summary, tracker)``."""
    detector = build_detector("yolo", DEFAULT_DETECTOR, device="cpu", say=lambda _m: None)
    embedder = build_reid_embedder(
        str(shared / "data/reid/osnet_x0_25_msmt17.pth"),
        device="cpu",
        require=True,
        say=lambda _m: None,
    )
    tracker = RecordingStrongSORT(embed_skip=skip)
    with open_source(video) as source:
        summary = run_tracking(
            source, detector, embedder, tracker, max_frames=frames, progress=False
        )
    return summary, tracker


def demo_table(shared: Path, videos, frames: int, runs: int) -> str:
    """Markdown rows per video and setting: crops/frame, embed ms, FPS, identity agreement."""
    lines = [
        "| video | embed_skip | crops/frame | embed ms/frame | track ms/frame | FPS "
        "| identity agreement |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name in videos:
        results = {False: [], True: []}
        for _ in range(runs):
            for skip in (False, True):
                results[skip].append(demo_run(shared / "data/video" / name, shared, frames, skip))
        agreement = identity_agreement(results[False][0][1].history, results[True][0][1].history)
        for skip, done in results.items():
            summary, tracker = sorted(done, key=lambda r: r[0].stage_ms["embed"])[len(done) // 2]
            crops = tracker.stats["embedded"] / max(tracker.stats["frames"], 1)
            fps = statistics.median(r[0].fps for r in done)
            lines.append(
                f"| {name} | {'on' if skip else 'off'} | {crops:.2f} "
                f"| {summary.stage_ms['embed']:.1f} | {summary.stage_ms['track']:.1f} "
                f"| {fps:.1f} | {100.0 if not skip else agreement:.1f} |"
            )
    load = os.getloadavg()[0]
    title = (
        f"# demo, {frames} frames x {runs} interleaved runs (median run), "
        f"{os.cpu_count()} cores, load average {load:.1f}"
    )
    return title + "\n" + "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    if not args.shared.is_dir():
        print(f"missing {args.shared}", file=sys.stderr)
        return 1
    if "dev" in args.parts:
        print(dev_table(args.shared, args.det_file) + "\n")
    if "demo" in args.parts:
        print(demo_table(args.shared, args.videos, args.frames, args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
