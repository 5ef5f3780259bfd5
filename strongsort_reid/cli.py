"""``strongsort-reid``: the project's command-line tools behind one entry point.

    strongsort-reid train --config configs/<recipe>.yaml [section.key=value ...]
    strongsort-reid eval --config configs/<recipe>.yaml model.load_weights=<weights>
    strongsort-reid export --model osnet_x0_25 --weights osnet_x0_25_msmt17 --format onnx
    strongsort-reid track-mot --mot-root <MOT>/train --reid-weights osnet_x0_25_msmt17
    strongsort-reid eval-mot --gt-root <MOT>/train --results runs/track_mot
    strongsort-reid weights

``strongsort-reid <command> --help`` shows a command's options. Each command is the ``main``
function of a module (``scripts/*.py`` run the same functions); tracking a video is
``strongsort-track``.
"""

from __future__ import annotations

import importlib
import sys
from typing import List, Optional

# command -> (module with main(argv), one-line description, arguments appended to argv)
COMMANDS = {
    "train": ("strongsort_reid.commands.train", "train or fine-tune a ReID model", []),
    "eval": (
        "strongsort_reid.commands.train",
        "evaluate a ReID model on a recipe's test sets (rank-k, mAP, mINP)",
        ["test.evaluate=true"],
    ),
    "export": ("strongsort_reid.commands.export", "export to ONNX, OpenVINO or TorchScript", []),
    "track-mot": ("trackers.commands.track_mot", "run StrongSORT on MOTChallenge sequences", []),
    "eval-mot": ("trackers.commands.eval_mot", "HOTA/MOTA/IDF1 of MOT results (TrackEval)", []),
    "weights": ("strongsort_reid.commands.weights", "list the registered ReID weights", []),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: strongsort-reid <command> [options]", "", "commands:"]
    lines += [f"  {name:<{width}}  {description}" for name, (_, description, _) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    """Dispatch ``argv[0]`` to its command; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"{usage()}\n\nstrongsort-reid: error: unknown command {name!r}", file=sys.stderr)
        return 2
    module, _, extra = COMMANDS[name]
    if extra and not any(a in ("-h", "--help") for a in rest):
        rest = [*rest, *extra]
    return int(importlib.import_module(module).main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
