"""Benchmark ECC camera motion compensation: ms/frame and warp accuracy, old vs new.

Three estimators run on the same frames, interleaved frame by frame (rotating order, so that
a busy machine slows all alike):

* ``before``: the original settings (a direct 10x bilinear downscale, every alignment from the
  identity, 100 iterations, eps 1e-5);
* ``paper``: the previous default: :class:`trackers.cmc.ECC`'s downscale and warm start with
  the authors' criteria (100 iterations, eps 1e-5), a retry from the identity only when
  OpenCV raises;
* ``after``: :class:`trackers.cmc.ECC` with its defaults (30 iterations, eps 1e-3, results
  checked by their correlation and retried from the identity, then coarse to fine).

Speed: ms/frame (median, mean, p90; decoding excluded) on ``street_1080p.mp4`` (static camera),
the same frames under a synthetic camera pan (12 px/frame and 0.15 deg/frame, exact warp known)
and ``vtest.avi`` (480x360); median and mean on each MOT17 sequence.

Accuracy: the largest frame-corner displacement (px, full resolution) between each estimate and
a reference: a coarse-to-fine ECC on area-averaged frames up to scale 0.25 with 500 iterations
(MOT17's moving-camera sequences, every frame pair and every second frame), or the exact warp
(the synthetic pan; synthetic camera jumps of 2.5% to 7% of the frame width between still
stretches).

Example:
    python scripts/bench_cmc.py
    python scripts/bench_cmc.py --frames 40 --seqs MOT17-13-FRCNN
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from trackers.app.sources import first_frames
from trackers.cmc import ECC

SHARED = Path(
    os.environ.get("STRONGSORT_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared")
)
MOVING = ["MOT17-05-FRCNN", "MOT17-10-FRCNN", "MOT17-11-FRCNN", "MOT17-13-FRCNN"]
# The synthetic pan: per-frame translation (px) and rotation (degrees) about the frame centre.
PAN_PX, PAN_DEG = 12.0, 0.15
# Camera positions of the synthetic jumps, in frame widths: still, a jump of 2.5% of the width
# (48 px at 1080p), still, 6.5% (125 px), still, 4% back.
JUMPS = [(0, 0), (0, 0), (0.025, 0.01), (0.025, 0.01), (0.025, 0.01), (0.085, 0.035)]
JUMPS += [(0.085, 0.035), (0.045, 0.025), (0.045, 0.025)]


class LegacyECC(ECC):
    """The original estimator: direct bilinear downscale, identity start, 100 it, eps 1e-5."""

    def __init__(self, scale: float = 0.1):
        super().__init__(scale, max_iter=100, eps=1e-5, warm_start=False)

    def _preprocess(self, frame: np.ndarray) -> np.ndarray:
        height, width = frame.shape[:2]
        size = (max(8, round(width * self.scale)), max(8, round(height * self.scale)))
        small = cv2.resize(frame, size, interpolation=cv2.INTER_LINEAR)
        return cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small


class PaperECC(ECC):
    """The previous default: warm start, the authors' criteria, a result trusted unless OpenCV
    raises (then one retry from the identity)."""

    def __init__(self, scale: float = 0.1):
        super().__init__(scale, max_iter=100, eps=1e-5)

    def _align(self, previous, current, start, expected_rho):
        identity = np.eye(2, 3, dtype=np.float32)
        for initial in [identity] if start is None else [start, identity]:
            found = self._run(previous, current, initial)
            if found is not None:
                return found
        return None


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=SHARED, help="../shared folder")
    parser.add_argument("--videos", nargs="+", default=["street_1080p.mp4", "vtest.avi"])
    parser.add_argument("--frames", type=int, default=150, help="video frames timed")
    parser.add_argument("--pan-frames", type=int, default=60, help="frames of the synthetic pan")
    parser.add_argument("--seqs", nargs="+", default=MOVING, help="MOT17-mini sequences")
    return parser.parse_args(argv)


def synthetic_pan(frames):
    """``(panned frames, exact warps)``: ``frames`` seen by a camera that pans and rolls; warp
    ``i`` maps frame ``i - 1`` pixels to frame ``i`` (``None`` for the first)."""
    height, width = frames[0].shape[:2]
    panned, warps, previous = [], [None], None
    for i, frame in enumerate(frames):
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), PAN_DEG * i, 1.0)
        matrix[:, 2] += (PAN_PX * i - PAN_PX * len(frames) / 2, 40 * np.sin(i / 5))
        panned.append(cv2.warpAffine(frame, matrix, (width, height), borderMode=cv2.BORDER_REFLECT))
        if previous is not None:
            current = np.vstack([matrix, [0, 0, 1]])
            warps.append((current @ np.linalg.inv(np.vstack([previous, [0, 0, 1]])))[:2])
        previous = matrix
    return panned, warps


def synthetic_jumps(frame, offsets=JUMPS):
    """``(frames, exact warps)``: ``frame`` seen by a camera at each of ``offsets`` (frame
    widths, translation only); warp ``i`` maps frame ``i - 1`` pixels to frame ``i``."""
    height, width = frame.shape[:2]
    frames, warps, previous = [], [None], None
    for offset in np.asarray(offsets) * width:
        matrix = np.float64([[1, 0, -offset[0]], [0, 1, -offset[1]]])
        frames.append(cv2.warpAffine(frame, matrix, (width, height), borderMode=cv2.BORDER_REFLECT))
        if previous is not None:
            warps.append(
                np.hstack([np.eye(2), [[previous[0] - offset[0]], [previous[1] - offset[1]]]])
            )
        previous = offset
    return frames, warps


def corner_error(warp: np.ndarray, reference: np.ndarray, shape) -> float:
    """Largest displacement (px) between the frame corners mapped by ``warp`` and ``reference``."""
    height, width = shape[:2]
    corners = np.array([[0, 0], [width, 0], [0, height], [width, height]], dtype=float)
    moved = corners @ warp[:, :2].T + warp[:, 2]
    expected = corners @ reference[:, :2].T + reference[:, 2]
    return float(np.linalg.norm(moved - expected, axis=1).max())


def reference_warps(frames):
    """Coarse-to-fine ECC (area-averaged frames at scales 1/16, 1/8, 1/4, 500 iterations,
    eps 1e-8) between consecutive ``frames``; ``None`` first."""
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 500, 1e-8)
    warps = [None]
    for before, after in zip(frames, frames[1:]):
        warp = np.eye(2, 3)
        for scale in (0.0625, 0.125, 0.25):
            pair = [_area_gray(frame, scale) for frame in (before, after)]
            gain = np.array(
                [pair[0].shape[1] / before.shape[1], pair[0].shape[0] / before.shape[0]]
            )
            small = warp.astype(np.float32)
            small[:, 2] *= gain
            _, small = cv2.findTransformECC(
                pair[0], pair[1], small, cv2.MOTION_EUCLIDEAN, criteria, None, 3
            )
            warp = small.astype(np.float64)
            warp[:, 2] /= gain
        warps.append(warp)
    return warps


def _area_gray(frame: np.ndarray, scale: float) -> np.ndarray:
    size = (round(frame.shape[1] * scale), round(frame.shape[0] * scale))
    return cv2.cvtColor(cv2.resize(frame, size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)


def run_interleaved(estimators, frames):
    """``{name: (warps, ms per frame)}`` with the estimators run frame by frame, their order
    rotated each frame; the first frame (no previous one) is excluded from the times."""
    names = list(estimators)
    results = {name: ([], []) for name in names}
    for estimator in estimators.values():
        estimator.reset()
    for index, frame in enumerate(frames):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            warp = estimators[name].estimate(frame)
            elapsed = (time.perf_counter() - start) * 1e3
            results[name][0].append(warp)
            if index:
                results[name][1].append(elapsed)
    return results


def speed_rows(clips, estimators):
    """Markdown rows ``clip | estimator | median | mean | p90 | x before`` of ms/frame."""
    rows = []
    for clip, frames in clips.items():
        results = run_interleaved(estimators, frames)
        base = np.median(results["before"][1]), np.mean(results["before"][1])
        for name, (_, times) in results.items():
            median, mean = np.median(times), np.mean(times)
            rows.append(
                f"| {clip} | {name} | {median:.2f} | {mean:.2f} | {np.percentile(times, 90):.2f} "
                f"| {base[0] / median:.2f} | {base[1] / mean:.2f} |"
            )
    return rows


def accuracy_rows(cases, estimators):
    """Markdown rows ``case | estimator | median | max | ms median | ms mean``: corner errors
    (px) against the reference and the time per frame."""
    rows = []
    for case, (frames, reference) in cases.items():
        results = run_interleaved(estimators, frames)
        for name, (warps, times) in results.items():
            errors = [
                corner_error(warp, truth, frames[0].shape)
                for warp, truth in zip(warps[1:], reference[1:])
            ]
            rows.append(
                f"| {case} | {name} | {np.median(errors):.2f} | {max(errors):.2f} "
                f"| {np.median(times):.2f} | {np.mean(times):.2f} |"
            )
    return rows


def main(argv=None) -> int:
    args = parse_args(argv)
    estimators = {"before": LegacyECC(), "paper": PaperECC(), "after": ECC()}
    videos = {
        name: first_frames(args.shared / "data/video" / name, args.frames) for name in args.videos
    }
    first = next(iter(videos.values()))
    panned, pan_truth = synthetic_pan(first[: args.pan_frames])
    clips = {
        f"{name} {frames[0].shape[1]}x{frames[0].shape[0]}": frames
        for name, frames in videos.items()
    }
    clips[f"{args.videos[0]} + synthetic pan"] = panned
    print(f"# ECC ms/frame, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print("| clip | estimator | median | mean | p90 | median x before | mean x before |")
    print("|---|---|---:|---:|---:|---:|---:|")
    print("\n".join(speed_rows(clips, estimators)))
    cases = {
        f"{args.videos[0]} + synthetic pan (exact)": (panned, pan_truth),
        f"{args.videos[0]} + synthetic jumps (exact)": synthetic_jumps(first[0]),
    }
    for seq in args.seqs:
        folder = args.shared / "data/mot/MOT17-mini/train" / seq / "img1"
        frames = [cv2.imread(str(path)) for path in sorted(folder.glob("*.jpg"))]
        if len(frames) < 3:
            print(f"missing frames in {folder}", file=sys.stderr)
            return 1
        size = f"{frames[0].shape[1]}x{frames[0].shape[0]}"
        cases[f"{seq} {size}"] = (frames, reference_warps(frames))
        cases[f"{seq} {size} every 2nd frame"] = (frames[::2], reference_warps(frames[::2]))
        cases[f"{seq} {size} + synthetic jumps (exact)"] = synthetic_jumps(frames[0])
    print("\n# ECC corner displacement vs reference (px, full resolution) and ms/frame")
    print("| case | estimator | median px | max px | median ms | mean ms |")
    print("|---|---|---:|---:|---:|---:|")
    print("\n".join(accuracy_rows(cases, estimators)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
