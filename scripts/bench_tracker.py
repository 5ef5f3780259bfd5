"""Benchmark StrongSORT's update loop, ECC camera motion compensation and a long stream.

Prints one table (median over ``--runs`` runs of the per-run statistic):

* update ms/frame (median, p90) on the full-length public det.txt of MOT17-04 (dense crowd)
  and MOT17-02 with CMC off, with fixed random unit embeddings (``random``: appearance never
  matches, association falls back to IoU) and with identity-coherent embeddings
  (``coherent``: detections linked frame to frame by IoU share a noisy identity vector, so the
  appearance stage does the matching, as with a real ReID model);
* ECC ms/frame at 1080p on frames of ``street_1080p.mp4`` (decoding excluded);
* a long synthetic stream (default 100,000 frames) with targets appearing and vanishing:
  ms/frame, peak live tracks and the bytes held by the tracker (live tracks and re-entry
  gallery), to show memory stays bounded.

With ``--select`` every update follows ``tracker.select(dets)`` as in the demo (which embeds only
the rows ``select`` returns): ``update`` then reuses the embed plan ``select`` computed, and
``select`` gets its own row.

Every case runs the shipped defaults (CMC off); ``--set KEY=VALUE`` changes parameters, e.g.
``--set reentry_max_age=0 output_predicted=0 ema_adaptive=false`` for the previous defaults.

Example:
    python scripts/bench_tracker.py                 # full benchmark (a few minutes)
    python scripts/bench_tracker.py --runs 1 --stream-frames 2000 --max-frames 200
    python scripts/bench_tracker.py --set conf_boost=0.9 --ecc-frames 0 --stream-frames 0
    python scripts/bench_tracker.py --select --seqs MOT17-04-FRCNN --ecc-frames 0 --stream-frames 0
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import yaml

from strongsort_reid.utils.motchallenge import MOTDetections
from trackers import StrongSORT
from trackers.cmc import ECC
from trackers.strongsort.iou_matching import iou_matrix

DEFAULT_SHARED = Path(
    os.environ.get("STRONGSORT_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared")
)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--mot-root", type=Path, default=DEFAULT_SHARED / "data/mot/MOT17-mini/train"
    )
    parser.add_argument("--seqs", nargs="+", default=["MOT17-04-FRCNN", "MOT17-02-FRCNN"])
    parser.add_argument(
        "--video", type=Path, default=DEFAULT_SHARED / "data/video/street_1080p.mp4"
    )
    parser.add_argument("--runs", type=int, default=5, help="repetitions (median reported)")
    parser.add_argument("--dim", type=int, default=512, help="embedding dimension")
    parser.add_argument(
        "--max-frames", type=int, default=0, help="limit frames per sequence (0: all)"
    )
    parser.add_argument("--ecc-frames", type=int, default=60, help="1080p frames for ECC")
    parser.add_argument(
        "--stream-frames",
        type=int,
        default=100_000,
        help="length of the synthetic long stream (0: skip)",
    )
    parser.add_argument("--solver", choices=("lapjv", "scipy"), default="lapjv")
    parser.add_argument(
        "--select",
        action="store_true",
        help="call select() before each update() as the demo does (also timed, own row)",
    )
    parser.add_argument(
        "--set", nargs="+", default=[], metavar="KEY=VALUE", help="tracker parameters"
    )
    args = parser.parse_args(argv)
    overrides = {}
    for pair in args.set:
        key, sep, value = pair.partition("=")
        if not sep:
            parser.error(f"--set expects KEY=VALUE, got {pair!r}")
        overrides[key] = yaml.safe_load(value)
    args.params = {**overrides, "assignment_solver": args.solver, "cmc": None}
    return args


def load_sequence(seq_dir: Path, max_frames: int):
    """Per-frame ``(N, 6)`` dets of the whole det.txt."""
    detections = MOTDetections(seq_dir / "det" / "det.txt")
    last = detections.last_frame if max_frames <= 0 else min(max_frames, detections.last_frame)
    return [detections.frame(f)[0] for f in range(1, last + 1)]


def random_embeddings(frames, dim, rng):
    out = []
    for dets in frames:
        emb = rng.standard_normal((len(dets), dim)).astype(np.float32)
        out.append(emb / np.linalg.norm(emb, axis=1, keepdims=True))
    return out


def coherent_embeddings(frames, dim, rng, noise=0.3):
    """Link detections to the previous frame by IoU > 0.5 and share identity vectors."""
    out, previous_boxes, previous_ids, identities = [], np.empty((0, 4)), np.empty(0, int), []
    for dets in frames:
        boxes = dets[:, :4]
        ids = np.full(len(boxes), -1)
        if len(boxes) and len(previous_boxes):
            overlap = iou_matrix(boxes, previous_boxes)
            best = overlap.argmax(axis=1)
            linked = overlap[np.arange(len(boxes)), best] > 0.5
            ids[linked] = previous_ids[best[linked]]
        for i in np.flatnonzero(ids < 0):
            ids[i] = len(identities)
            identities.append(rng.standard_normal(dim))
        emb = np.array([identities[i] for i in ids]).reshape(-1, dim)
        emb = emb + rng.normal(0, noise, emb.shape)
        out.append((emb / np.linalg.norm(emb, axis=1, keepdims=True)).astype(np.float32))
        previous_boxes, previous_ids = boxes, ids
    return out


def time_updates(frames, embeddings, params, select=False):
    """``(update ms (F,), select ms (F,) or None, mean live tracks)``; with ``select`` each
    update follows ``tracker.select(dets)`` as in the demo (timed apart)."""
    tracker = StrongSORT(**params)
    times = np.empty(len(frames))
    select_times = np.empty(len(frames)) if select else None
    live = 0
    for i, (dets, embs) in enumerate(zip(frames, embeddings)):
        if select:
            start = time.perf_counter()
            tracker.select(dets)
            select_times[i] = time.perf_counter() - start
        start = time.perf_counter()
        tracker.update(dets, embs=embs)
        times[i] = time.perf_counter() - start
        live += tracker.num_tracks
    select_ms = None if select_times is None else select_times * 1e3
    return times * 1e3, select_ms, live / max(1, len(frames))


def time_ecc(video: Path, count: int):
    capture = cv2.VideoCapture(str(video))
    frames = []
    while len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    if len(frames) < 2:
        raise FileNotFoundError(f"cannot read at least 2 frames from {video}")
    ecc = ECC()
    ecc.estimate(frames[0])
    times = []
    for frame in frames[1:]:
        start = time.perf_counter()
        ecc.estimate(frame)
        times.append(time.perf_counter() - start)
    return np.array(times) * 1e3, frames[0].shape


def tracker_bytes(tracker: StrongSORT) -> int:
    total = 0
    for group in tracker._trackers.values():
        if group.tracks is not None:
            total += sum(v.nbytes for v in vars(group.tracks).values() if isinstance(v, np.ndarray))
        if group.gallery is not None:
            total += group.gallery.nbytes
    return total


def long_stream(frames: int, params, dim: int = 128, max_targets: int = 40, seed: int = 0):
    """Targets born and lost at random; returns (ms per frame, peak tracks, peak bytes)."""
    rng = np.random.default_rng(seed)
    tracker = StrongSORT(**params)
    capacity = max_targets
    position = np.zeros((capacity, 2))
    velocity = np.zeros(capacity)
    identity = np.zeros((capacity, dim), dtype=np.float32)
    alive = np.zeros(capacity, dtype=bool)
    peak_tracks, peak_bytes = 0, 0
    times = np.empty(frames)
    for t in range(frames):
        alive &= rng.random(capacity) > 0.02
        free = np.flatnonzero(~alive)
        if free.size and rng.random() < 0.5:
            slot = free[0]
            alive[slot] = True
            position[slot] = rng.uniform([0, 0], [1800, 900])
            velocity[slot] = rng.normal(0, 3)
            identity[slot] = rng.standard_normal(dim)
        position[:, 0] += velocity
        xy = position[alive]
        dets = np.column_stack([xy, xy + [40, 100], np.full(len(xy), 0.9), np.zeros(len(xy))])
        start = time.perf_counter()
        tracker.update(dets, embs=identity[alive])
        times[t] = time.perf_counter() - start
        if t % 100 == 0:
            peak_tracks = max(peak_tracks, tracker.num_tracks)
            peak_bytes = max(peak_bytes, tracker_bytes(tracker))
    return times * 1e3, peak_tracks, peak_bytes, tracker._ids.next_id - 1


def main(argv=None) -> int:
    args = parse_args(argv)
    rng = np.random.default_rng(0)
    rows = []
    for name in args.seqs:
        frames = load_sequence(args.mot_root / name, args.max_frames)
        dets_per_frame = sum(len(d) for d in frames) / len(frames)
        for kind, make in (("random", random_embeddings), ("coherent", coherent_embeddings)):
            embeddings = make(frames, args.dim, rng)
            stats = {"update": ([], []), "select": ([], [])}
            live = 0.0
            for _ in range(args.runs):
                times, select_times, live = time_updates(
                    frames, embeddings, args.params, args.select
                )
                for stage, values in (("update", times), ("select", select_times)):
                    if values is not None:
                        stats[stage][0].append(np.median(values))
                        stats[stage][1].append(np.percentile(values, 90))
            for stage, (medians, p90s) in stats.items():
                if medians:
                    rows.append(
                        (
                            f"{stage} {name[:8]} {kind}",
                            len(frames),
                            f"{dets_per_frame:.1f}",
                            f"{live:.1f}",
                            np.median(medians),
                            np.median(p90s),
                        )
                    )
    if args.ecc_frames > 1:
        medians, p90s = [], []
        for _ in range(args.runs):
            times, shape = time_ecc(args.video, args.ecc_frames)
            medians.append(np.median(times))
            p90s.append(np.percentile(times, 90))
        rows.append(
            (
                f"ECC {shape[1]}x{shape[0]} scale 0.1",
                len(times) + 1,
                "-",
                "-",
                np.median(medians),
                np.median(p90s),
            )
        )
    stream_note = ""
    if args.stream_frames > 0:
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        times, peak_tracks, peak_bytes, identities = long_stream(args.stream_frames, args.params)
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        rows.append(
            (
                f"long stream ({identities} ids)",
                args.stream_frames,
                "<=40",
                f"peak {peak_tracks}",
                np.median(times),
                np.percentile(times, 90),
            )
        )
        stream_note = (
            f"long stream: peak tracker arrays {peak_bytes / 1024:.0f} KiB, "
            f"max RSS {rss_before / 1024:.0f} -> {rss_after / 1024:.0f} MiB"
        )
    header = f"{'case':<34}{'frames':>8}{'dets/f':>8}{'tracks':>10}{'median ms':>11}{'p90 ms':>9}"
    print(
        f"StrongSORT benchmark (solver {args.solver}, embeddings {args.dim}-d, "
        f"{args.runs} runs, load average {os.getloadavg()[0]:.2f}, set {args.set or '-'})"
    )
    print(header)
    print("-" * len(header))
    for case, frames, dets, tracks, median, p90 in rows:
        print(f"{case:<34}{frames:>8}{dets:>8}{tracks:>10}{median:>11.3f}{p90:>9.3f}")
    if stream_note:
        print(stream_note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
