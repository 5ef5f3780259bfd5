"""``strongsort-reid``: the appearance package's command-line tools behind one entry point.

    strongsort-reid train --config configs/<recipe>.yaml [section.key=value ...]
    strongsort-reid eval --config configs/<recipe>.yaml model.load_weights=<weights>
    strongsort-reid export --model osnet_x0_25 --weights osnet_x0_25_msmt17 --format onnx
    strongsort-reid weights

``strongsort-reid <command> --help`` shows a command's options. Each command is the ``main``
function of a module of :mod:`strongsort_reid.commands` (``scripts/*.py`` run the same
functions). Expected errors (a missing file, a bad value or config key, an unreadable or corrupt
checkpoint, broken YAML, weights that cannot be downloaded, a diverged training) end with one
``strongsort-reid <command>: error: ...`` message on stderr and exit status 2; Ctrl-C with exit
status 130 (:mod:`strongsort_reid.utils.cli_errors`). Tracking (a video, or MOTChallenge
sequences with ``track-mot`` / ``eval-mot``) is ``strongsort-track``.
"""

from __future__ import annotations

import sys
from typing import List, Optional

from strongsort_reid.commands import export, train, weights
from strongsort_reid.engine.engine import NonFiniteLossError
from strongsort_reid.utils.cli_errors import EXPECTED_ERRORS, run_command

# command -> (module with main(argv), one-line description, arguments appended to argv)
COMMANDS = {
    "train": (train, "train or fine-tune a ReID model", []),
    "eval": (
        train,
        "evaluate a ReID model on a recipe's test sets (rank-k, mAP, mINP)",
        ["test.evaluate=true"],
    ),
    "export": (export, "export to ONNX, OpenVINO or TorchScript", []),
    "weights": (weights, "list the registered ReID weights", []),
}
# Commands that moved to another entry point -> what to run instead.
MOVED = {
    "track-mot": "strongsort-track track-mot",
    "eval-mot": "strongsort-track eval-mot",
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
    if name in MOVED:
        print(f"strongsort-reid: {name!r} moved: run {MOVED[name]} ...", file=sys.stderr)
        return 2
    if name not in COMMANDS:
        print(f"{usage()}\n\nstrongsort-reid: error: unknown command {name!r}", file=sys.stderr)
        return 2
    module, _, extra = COMMANDS[name]
    if extra and not any(a in ("-h", "--help") for a in rest):
        rest = [*rest, *extra]
    prog = f"strongsort-reid {name}"
    return run_command(
        prog, lambda: module.main(rest, prog=prog), (*EXPECTED_ERRORS, NonFiniteLossError)
    )


if __name__ == "__main__":
    sys.exit(main())
