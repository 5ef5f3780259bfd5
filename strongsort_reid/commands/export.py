"""Export a ReID feature network to ONNX, OpenVINO IR or TorchScript and check it.

The export is run at batch 1 and 16 against PyTorch and must reach a per-row cosine
similarity >= 0.9999 (0.999 with --half); otherwise the file is removed and the exit status
is 1. The batch axis is dynamic unless --no-dynamic-batch is given.

Examples:
    strongsort-reid export --model osnet_x0_25 --weights osnet_x0_25_msmt17 --format onnx
    strongsort-reid export --model osnet_x0_25 --weights path/to/model.pth \\
        --format openvino --output exports/osnet.xml
    strongsort-reid export --model osnet_x0_25 --weights osnet_x0_25_msmt17 \\
        --format onnx --no-dynamic-batch --batch-size 8
    strongsort-reid export --model osnet_x0_25 --weights osnet_x0_25_msmt17 \\
        --format onnx --int8 --calib-source ../shared/data/mot/dev

With --int8 the network is statically quantised (int8 QDQ; ONNX Runtime and OpenVINO both run
the .onnx file) on person crops cut from the MOT ground truth under --calib-source, and checked
on crops of other identities: the mean cosine similarity to float32 must reach 0.98.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

from strongsort_reid.export import FORMATS, export_model
from strongsort_reid.export.quantize import (
    CALIBRATION_METHODS,
    DEFAULT_CALIB_COUNT,
    DEFAULT_METHOD,
    Int8Options,
)


def parse_args(
    argv: Optional[List[str]] = None, prog: str = "strongsort-reid export"
) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=prog,
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", required=True, help="architecture, e.g. osnet_x0_25")
    parser.add_argument("--weights", default=None, help="registered weight name or checkpoint file")
    parser.add_argument("--format", required=True, choices=FORMATS)
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="destination file (default: <weights name><.onnx|.xml|.torchscript> here)",
    )
    parser.add_argument(
        "--dynamic-batch",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="dynamic batch axis (default); --no-dynamic-batch fixes it to --batch-size",
    )
    parser.add_argument("--batch-size", type=int, default=1, help="batch of a static export")
    parser.add_argument(
        "--image-size",
        type=int,
        nargs=2,
        metavar=("HEIGHT", "WIDTH"),
        default=None,
        help="input size (default: the weights' training size, else 256 128)",
    )
    parser.add_argument("--half", action="store_true", help="float16 weights")
    parser.add_argument(
        "--no-verify", action="store_true", help="skip the round-trip check against PyTorch"
    )
    parser.add_argument("--int8", action="store_true", help="static int8 quantisation (QDQ)")
    parser.add_argument(
        "--calib-source",
        type=Path,
        nargs="+",
        default=[],
        metavar="MOT_ROOT",
        help="with --int8: MOTChallenge folders of sequences (gt/gt.txt + img1/) to cut "
        "calibration crops from",
    )
    parser.add_argument(
        "--calib-count", type=int, default=DEFAULT_CALIB_COUNT, help="calibration crops"
    )
    parser.add_argument(
        "--calib-method", choices=CALIBRATION_METHODS, default=DEFAULT_METHOD, help="with --int8"
    )
    args = parser.parse_args(argv)
    if args.int8 and not args.calib_source:
        parser.error("--int8 needs --calib-source MOT_ROOT (real person crops to calibrate on)")
    return args


def main(argv: Optional[List[str]] = None, prog: str = "strongsort-reid export") -> int:
    """Run the export; returns the exit status (1: the export failed or did not verify)."""
    args = parse_args(argv, prog)
    try:
        result = export_model(
            args.model,
            args.weights,
            args.format,
            output=args.output,
            image_size=tuple(args.image_size) if args.image_size else None,
            dynamic_batch=args.dynamic_batch,
            batch_size=args.batch_size,
            half=args.half,
            verify=not args.no_verify,
            int8=args.int8,
            calib_source=args.calib_source,
            calib_count=args.calib_count,
            int8_options=Int8Options(method=args.calib_method),
        )
    except (ValueError, FileNotFoundError, KeyError, ImportError) as exc:
        print(f"export failed: {exc}", file=sys.stderr)
        return 1
    metadata = result.metadata
    batch = "N" if metadata.dynamic_batch else str(metadata.batch_size)
    print(
        f"wrote {result.path} ({metadata.format}, {metadata.arch}, input "
        f"{batch}x3x{metadata.image_size[0]}x{metadata.image_size[1]}, "
        f"{metadata.feature_dim}-d features{', float16' if metadata.half else ''}"
        f"{', int8: ' + metadata.calibration if metadata.int8 else ''})"
    )
    if result.int8_cosine is not None:
        mean, low = result.int8_cosine
        print(f"  held-out real crops: cosine vs float32 mean {mean:.4f}, min {low:.4f}")
    for size, cosine in result.min_cosine.items():
        print(f"  batch {size:>2}: min cosine vs PyTorch {cosine:.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
