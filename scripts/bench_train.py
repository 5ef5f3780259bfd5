"""Benchmark ReID training throughput: our engine against torchreid's engine algorithm.

Two measurements, each printed as a table with images/s and the ratio ours / torchreid:

1. ``step``: one optimisation step (forward, loss, backward, Adam step) on a fixed random
   256x128 batch, so the number measures the model and the engine, not JPEG decoding.
   ``ours`` is the engine's ``forward_backward`` with its defaults (``precision='auto'``:
   bfloat16 autocast on a CPU with native bfloat16, float16 on CUDA; channels-last layout).
   ``torchreid`` re-implements what torchreid's ``ImageSoftmaxEngine`` /
   ``ImageTripletEngine`` do per batch: float32 eager forward in the default layout, its
   label-smoothed cross entropy (one-hot targets built on the CPU) and its batch-hard triplet
   loss (a Python loop over the anchors, ``MarginRankingLoss``), ``loss.backward()``,
   ``optimizer.step()`` of a plain ``torch.optim.Adam``, then ``loss.item()`` and the
   accuracy. Both start from the same weights (same seed, same architecture from our
   registry). The two alternate step by step (A, B, A, B ...) so machine load hits both alike;
   the table shows the median seconds per step over ``--iters`` steps after ``--warmup``.
2. ``full`` (with ``--data-root``): whole training steps including data loading on real
   images (CUHK01 train split, P x K sampler, ``--workers`` DataLoader workers, flip
   augmentation): ours with ``ImageDataManager``'s loader, torchreid with its loading
   algorithm (PIL decode + torchvision transforms per image in the workers). Runs alternate
   in blocks (a fresh loader each, ``--warmup`` untimed steps, then ``--block`` timed ones) so
   only one loader's workers are alive at a time; the median block rate is reported.

Example:
    python scripts/bench_train.py                      # osnet_x0_25, batch 32, 256x128
    python scripts/bench_train.py --data-root ../shared/data/reid-datasets   # + full steps
    python scripts/bench_train.py --precision fp32     # our engine without bfloat16
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from types import SimpleNamespace
from typing import Callable, Dict, Iterator, List

import torch
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms as T

from strongsort_reid.data import ImageDataManager
from strongsort_reid.data.samplers import RandomIdentitySampler
from strongsort_reid.engine import ImageSoftmaxEngine, ImageTripletEngine, set_random_seed
from strongsort_reid.engine.precision import PRECISIONS
from strongsort_reid.metrics import accuracy
from strongsort_reid.models import build_model
from strongsort_reid.optim import build_optimizer

NUM_CLASSES = 751  # Market-1501's training identities (the step benchmark's classifier)
Step = Callable[[Dict[str, torch.Tensor]], None]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="osnet_x0_25")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--iters", type=int, default=7, help="timed steps per engine (>= 5)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    parser.add_argument("--losses", nargs="+", default=["softmax", "triplet"],
                        choices=["softmax", "triplet"])
    parser.add_argument("--precision", default="auto", choices=PRECISIONS,
                        help="our engine's precision option")
    parser.add_argument("--no-channels-last", action="store_true",
                        help="our engine in the default memory layout")
    parser.add_argument("--data-root", default="",
                        help="folder holding CUHK01: also time full steps with data loading")
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers (full steps)")
    parser.add_argument("--blocks", type=int, default=3, help="timed blocks per engine (full)")
    parser.add_argument("--block", type=int, default=6, help="timed steps per block (full)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    parser.add_argument("--cpu", action="store_true", help="stay on the CPU even with CUDA")
    args = parser.parse_args(argv)
    if args.iters < 5:
        parser.error("--iters must be >= 5 (the median of at least 5 runs is reported)")
    if args.batch_size % 4:
        parser.error("--batch-size must be a multiple of 4 (P x K batches, K = 4)")
    return args


##########
# torchreid's algorithm
##########


class TorchreidCrossEntropy(nn.Module):
    """torchreid's ``CrossEntropyLoss``: log-softmax against label-smoothed one-hot targets
    that are built on the CPU and then moved to the logits' device."""

    def __init__(self, num_classes: int, epsilon: float = 0.1) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.epsilon = epsilon

    def forward(self, logits: torch.Tensor, pids: torch.Tensor) -> torch.Tensor:
        log_probs = torch.log_softmax(logits, dim=1)
        onehot = torch.zeros(log_probs.size()).scatter_(1, pids.unsqueeze(1).cpu(), 1)
        smooth = (1 - self.epsilon) * onehot.to(logits.device) + self.epsilon / self.num_classes
        return (-smooth * log_probs).mean(0).sum()


class TorchreidTripletLoss(nn.Module):
    """torchreid's ``TripletLoss``: squared norms expanded to ``(n, n)``, in-place ``addmm_``,
    clamped square root, then per anchor (a Python loop) the largest distance among its
    identity and the smallest among the others, fed to ``MarginRankingLoss``."""

    def __init__(self, margin: float = 0.3) -> None:
        super().__init__()
        self.ranking_loss = nn.MarginRankingLoss(margin=margin)

    def forward(self, features: torch.Tensor, pids: torch.Tensor) -> torch.Tensor:
        n = features.size(0)
        dist = features.pow(2).sum(dim=1, keepdim=True).expand(n, n)
        dist = dist + dist.t()
        dist.addmm_(features, features.t(), beta=1, alpha=-2)
        dist = dist.clamp(min=1e-12).sqrt()
        mask = pids.expand(n, n).eq(pids.expand(n, n).t())
        hardest_pos = torch.cat([dist[i][mask[i]].max().unsqueeze(0) for i in range(n)])
        hardest_neg = torch.cat([dist[i][mask[i] == 0].min().unsqueeze(0) for i in range(n)])
        return self.ranking_loss(hardest_neg, hardest_pos, torch.ones_like(hardest_neg))


def torchreid_step(model: nn.Module, loss: str, num_classes: int, device: torch.device) -> Step:
    """One training step as torchreid's image engines run it (see the module docstring)."""
    model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-4, weight_decay=5e-4, betas=(0.9, 0.99))
    criterion_x = TorchreidCrossEntropy(num_classes)
    criterion_t = TorchreidTripletLoss()

    def step(batch: Dict[str, torch.Tensor]) -> None:
        imgs, pids = batch["img"].to(device), batch["pid"].to(device)
        optimizer.zero_grad()
        if loss == "softmax":
            outputs = model(imgs)
            parts = [criterion_x(outputs, pids)]
        else:
            outputs, features = model(imgs)
            parts = [criterion_t(features, pids), criterion_x(outputs, pids)]
        sum(parts).backward()
        optimizer.step()
        [part.item() for part in parts]  # the engines log every loss term
        accuracy(outputs, pids)[0].item()

    return step


class TorchreidStyleImages(Dataset):
    """torchreid's train-set reading: PIL decode to RGB, then the torchvision transforms."""

    def __init__(self, items: List, height: int, width: int) -> None:
        self.items = items
        self.transform = T.Compose([
            T.Resize((height, width)),
            T.RandomHorizontalFlip(),
            T.ToTensor(),
            T.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
        ])

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> Dict[str, object]:
        path, pid, camid = self.items[index][:3]
        with Image.open(path) as image:
            img = self.transform(image.convert("RGB"))
        return {"img": img, "pid": pid, "camid": camid, "impath": path}


##########
# Our engine
##########


def our_engine(model: nn.Module, loss: str, datamanager, args: argparse.Namespace, use_gpu: bool):
    """Our softmax/triplet engine with ``--precision`` and the channels-last option."""
    optimizer = build_optimizer(model, "adam", lr=3e-4)
    engine_cls = ImageSoftmaxEngine if loss == "softmax" else ImageTripletEngine
    engine = engine_cls(datamanager, model, optimizer, use_gpu=use_gpu,
                        precision=args.precision, channels_last=not args.no_channels_last)
    engine.set_model_mode("train")
    return engine


def build_pair(args: argparse.Namespace, loss: str, num_classes: int, datamanager) -> Dict:
    """``{"torchreid": step, "ours": step}`` over identically initialised networks."""
    use_gpu = torch.cuda.is_available() and not args.cpu
    device = torch.device("cuda" if use_gpu else "cpu")
    set_random_seed(0)
    reference = build_model(args.model, num_classes, loss=loss, pretrained=False)
    set_random_seed(0)
    model = build_model(args.model, num_classes, loss=loss, pretrained=False)
    engine = our_engine(model, loss, datamanager, args, use_gpu)
    return {"torchreid": torchreid_step(reference, loss, num_classes, device),
            "ours": engine.forward_backward}


def sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


##########
# Measurements
##########


def time_steps(args: argparse.Namespace, loss: str) -> Dict[str, List[float]]:
    """Seconds per step of each engine on one random batch, interleaved step by step."""
    datamanager = SimpleNamespace(train_loader=None, test_loader={}, num_train_pids=NUM_CLASSES)
    steps = build_pair(args, loss, NUM_CLASSES, datamanager)
    pids = torch.arange(args.batch_size // 4).repeat_interleave(4)  # P x K identities
    batch = {"img": torch.randn(args.batch_size, 3, args.height, args.width), "pid": pids}
    times: Dict[str, List[float]] = {name: [] for name in steps}
    for index in range(args.warmup + args.iters):
        for name, step in steps.items():
            start = time.perf_counter()
            step(batch)
            sync()
            if index >= args.warmup:
                times[name].append(time.perf_counter() - start)
    return times


def endless(loader: DataLoader) -> Iterator:
    while True:
        yield from loader


def time_full_steps(args: argparse.Namespace, loss: str) -> Dict[str, List[float]]:
    """Seconds per step (block medians) of whole steps including data loading."""
    datamanager = ImageDataManager(
        root=args.data_root, sources="cuhk01", height=args.height, width=args.width,
        transforms=["random_flip"], batch_size_train=args.batch_size, workers=args.workers,
        train_sampler="RandomIdentitySampler", num_instances=4, seed=0, verbose=False,
        use_gpu=torch.cuda.is_available() and not args.cpu,
    )
    num_classes = datamanager.num_train_pids
    steps = build_pair(args, loss, num_classes, datamanager)
    items = datamanager.train_set.train
    torchreid_loader = DataLoader(
        TorchreidStyleImages(items, args.height, args.width),
        sampler=RandomIdentitySampler(items, args.batch_size, 4, seed=0),
        batch_size=args.batch_size, num_workers=args.workers, drop_last=True,
        pin_memory=torch.cuda.is_available() and not args.cpu,
    )
    loaders = {"torchreid": torchreid_loader, "ours": datamanager.train_loader}
    times: Dict[str, List[float]] = {name: [] for name in steps}
    for _ in range(args.blocks):
        for name, step in steps.items():
            batches = endless(loaders[name])
            for _ in range(args.warmup):
                step(next(batches))
            sync()
            start = time.perf_counter()
            for _ in range(args.block):
                step(next(batches))
            sync()
            times[name].append((time.perf_counter() - start) / args.block)
            batches.close()  # shut this loader's workers down before the other one runs
    return times


def table(args: argparse.Namespace, kind: str, results: Dict[str, Dict[str, List[float]]],
          device: str) -> str:
    header = (
        "| measure | model | loss | batch | input | device | engine | s/step median | min | max"
        " | images/s | ours / torchreid |\n|---|---|---|---|---|---|---|---|---|---|---|---|"
    )
    rows = []
    for loss, times in results.items():
        rate = {name: args.batch_size / statistics.median(ts) for name, ts in times.items()}
        for name, ts in times.items():
            ratio = f"{rate['ours'] / rate['torchreid']:.2f}x" if name == "ours" else ""
            rows.append(
                f"| {kind} | {args.model} | {loss} | {args.batch_size} | "
                f"{args.height}x{args.width} | {device} | {name} | {statistics.median(ts):.3f} | "
                f"{min(ts):.3f} | {max(ts):.3f} | {rate[name]:.1f} | {ratio} |"
            )
    return "\n".join([header, *rows])


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if torch.cuda.is_available() and not args.cpu:
        device = torch.cuda.get_device_name()
    else:
        device = f"CPU, {torch.get_num_threads()} threads"
    layout = "NCHW" if args.no_channels_last else "channels-last"
    print(f"ours: precision={args.precision}, {layout}; torchreid: float32, NCHW")
    results = {loss: time_steps(args, loss) for loss in args.losses}
    print(f"\nstep on a random batch: median of {args.iters} interleaved steps after "
          f"{args.warmup} warm-up")
    print(table(args, "step", results, device))
    if args.data_root:
        full = {loss: time_full_steps(args, loss) for loss in args.losses}
        print(f"\nfull step incl. data loading (CUHK01, {args.workers} workers): median of "
              f"{args.blocks} alternating blocks of {args.block} steps after {args.warmup} warm-up")
        print(table(args, "full", full, device))
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"\nmachine load average {load}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
