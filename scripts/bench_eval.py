"""Benchmark: Market-1501-sized ReID evaluation end to end (distance matrix + evaluate_rank).

Synthetic but realistically structured data: 3,368 queries and 15,913 gallery images with
512-d L2-normalised features, 750 identities seen by 6 cameras (each query has gallery
matches in other cameras and same-camera "junk"), plus distractor (pid 0) and junk (pid -1)
gallery images, as in Market-1501.

Usage:
    python scripts/bench_eval.py [--runs 5] [--metric euclidean] [--threads N] [--cuhk03]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from strongsort_reid.metrics import compute_distance_matrix, evaluate_rank  # noqa: E402

NUM_QUERY, NUM_GALLERY, FEAT_DIM, NUM_IDS, NUM_CAMS = 3368, 15913, 512, 750, 6
NUM_DISTRACTORS, NUM_JUNK = 2000, 800


def make_market_like(seed: int = 0):
    """Query/gallery features, pids and camids shaped like Market-1501's test split."""
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((NUM_IDS, FEAT_DIM)).astype(np.float32)
    cam_shift = 0.6 * rng.standard_normal((NUM_CAMS, FEAT_DIM)).astype(np.float32)

    num_id_gallery = NUM_GALLERY - NUM_DISTRACTORS - NUM_JUNK
    g_pids = np.concatenate(
        [
            rng.integers(1, NUM_IDS + 1, num_id_gallery),
            np.zeros(NUM_DISTRACTORS, int),
            -np.ones(NUM_JUNK, int),
        ]
    )
    g_camids = rng.integers(0, NUM_CAMS, NUM_GALLERY)
    q_pids = rng.integers(1, NUM_IDS + 1, NUM_QUERY)
    q_camids = rng.integers(0, NUM_CAMS, NUM_QUERY)

    def features(pids, camids):
        base = np.where(
            (pids > 0)[:, None],
            centers[np.maximum(pids, 1) - 1],
            rng.standard_normal((pids.size, FEAT_DIM)).astype(np.float32),
        )
        noisy = base + cam_shift[camids] + 1.8 * rng.standard_normal(base.shape).astype(np.float32)
        return torch.nn.functional.normalize(torch.from_numpy(noisy.astype(np.float32)), dim=1)

    return (
        features(q_pids, q_camids),
        features(g_pids, g_camids),
        q_pids,
        g_pids,
        q_camids,
        g_camids,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--metric", default="euclidean", choices=["euclidean", "cosine"])
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    parser.add_argument("--cuhk03", action="store_true", help="also time the CUHK03 protocol once")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    qf, gf, q_pids, g_pids, q_camids, g_camids = make_market_like()
    times = {"distance": [], "evaluate_rank": [], "total": []}
    for _ in range(args.runs):
        t0 = time.perf_counter()
        distmat = compute_distance_matrix(qf, gf, metric=args.metric).numpy()
        t1 = time.perf_counter()
        cmc, mAP, mINP = evaluate_rank(distmat, q_pids, g_pids, q_camids, g_camids, max_rank=50)
        t2 = time.perf_counter()
        times["distance"].append(t1 - t0)
        times["evaluate_rank"].append(t2 - t1)
        times["total"].append(t2 - t0)

    print(
        f"Market-1501-sized evaluation: {NUM_QUERY} queries x {NUM_GALLERY} gallery, "
        f"{FEAT_DIM}-d, {NUM_IDS} ids, {NUM_CAMS} cams, metric={args.metric}, "
        f"torch threads={torch.get_num_threads()}, runs={args.runs}"
    )
    print(f"rank-1 {cmc[0]:.4f}  rank-5 {cmc[4]:.4f}  mAP {mAP:.4f}  mINP {mINP:.4f}")
    print(f"| {'stage':<14} | {'median (s)':>10} | {'min (s)':>8} | {'max (s)':>8} |")
    print(f"|{'-' * 16}|{'-' * 12}|{'-' * 10}|{'-' * 10}|")
    for stage, values in times.items():
        print(
            f"| {stage:<14} | {statistics.median(values):>10.3f} | {min(values):>8.3f} "
            f"| {max(values):>8.3f} |"
        )
    if args.cuhk03:
        t0 = time.perf_counter()
        cmc03, _, _ = evaluate_rank(
            distmat,
            q_pids,
            g_pids,
            q_camids,
            g_camids,
            use_metric_cuhk03=True,
            random_state=np.random.RandomState(0),
        )
        print(
            f"CUHK03 protocol (10 repeats, 1 run): {time.perf_counter() - t0:.3f} s, "
            f"rank-1 {cmc03[0]:.4f}"
        )


if __name__ == "__main__":
    main()
