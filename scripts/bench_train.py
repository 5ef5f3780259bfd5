"""Benchmark ReID training throughput: train images/s of one optimisation step.

Times the engine's ``forward_backward`` (forward, loss, backward, optimizer step; float16
autocast with gradient scaling on CUDA) on random 256x128 batches, so the number measures the
model and the engine, not JPEG decoding. Prints one table row per loss: median, min and max
seconds per iteration over ``--iters`` timed iterations after ``--warmup`` untimed ones, and the
median images/s.

Example:
    python scripts/bench_train.py                      # osnet_x0_25, batch 32, 256x128
    python scripts/bench_train.py --model osnet_x1_0 --batch-size 64 --iters 10
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from types import SimpleNamespace

import torch

from strongsort_reid.engine import ImageSoftmaxEngine, ImageTripletEngine, set_random_seed
from strongsort_reid.models import build_model
from strongsort_reid.optim import build_optimizer

NUM_CLASSES = 751  # Market-1501's training identities


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="osnet_x0_25")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--iters", type=int, default=7, help="timed iterations (>= 5)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed iterations first")
    parser.add_argument("--losses", nargs="+", default=["softmax", "triplet"],
                        choices=["softmax", "triplet"])
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    parser.add_argument("--cpu", action="store_true", help="stay on the CPU even with CUDA")
    args = parser.parse_args(argv)
    if args.iters < 5:
        parser.error("--iters must be >= 5 (the median of at least 5 runs is reported)")
    if args.batch_size % 4:
        parser.error("--batch-size must be a multiple of 4 (P x K batches, K = 4)")
    return args


def time_steps(args: argparse.Namespace, loss: str) -> list:
    """Seconds of each timed ``forward_backward`` call."""
    set_random_seed(0)
    use_gpu = torch.cuda.is_available() and not args.cpu
    model = build_model(args.model, NUM_CLASSES, loss=loss, pretrained=False)
    optimizer = build_optimizer(model, "adam", lr=3e-4)
    datamanager = SimpleNamespace(train_loader=None, test_loader={}, num_train_pids=NUM_CLASSES)
    engine_cls = ImageSoftmaxEngine if loss == "softmax" else ImageTripletEngine
    engine = engine_cls(datamanager, model, optimizer, use_gpu=use_gpu)
    engine.set_model_mode("train")
    pids = torch.arange(args.batch_size // 4).repeat_interleave(4)  # P x K identities
    batch = {"img": torch.randn(args.batch_size, 3, args.height, args.width), "pid": pids}
    times = []
    for step in range(args.warmup + args.iters):
        start = time.perf_counter()
        engine.forward_backward(batch)
        if use_gpu:
            torch.cuda.synchronize()
        if step >= args.warmup:
            times.append(time.perf_counter() - start)
    return times


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if torch.cuda.is_available() and not args.cpu:
        device = f"{torch.cuda.get_device_name()} (AMP)"
    else:
        device = f"CPU, {torch.get_num_threads()} threads"
    header = (
        "| model | loss | batch | input | device | s/iter median | min | max | images/s |\n"
        "|---|---|---|---|---|---|---|---|---|"
    )
    rows = []
    for loss in args.losses:
        times = time_steps(args, loss)
        median = statistics.median(times)
        rows.append(
            f"| {args.model} | {loss} | {args.batch_size} | {args.height}x{args.width} | "
            f"{device} | {median:.3f} | {min(times):.3f} | {max(times):.3f} | "
            f"{args.batch_size / median:.1f} |"
        )
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"train throughput, median of {args.iters} iterations after {args.warmup} warm-up "
        f"(machine load average {load})"
    )
    print("\n".join([header, *rows]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
