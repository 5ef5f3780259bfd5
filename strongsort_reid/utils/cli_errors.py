"""Expected errors of a command-line program: one message on stderr and exit status 2.

A user's mistake (a missing file, a bad value, an unknown name, an unreadable checkpoint, a
broken YAML file, a full disk, weights that cannot be downloaded) is reported as
``<prog>: error: <message>`` with exit status 2, the same status ``argparse`` gives a bad
option; a traceback would bury the message. Ctrl-C ends with ``<prog>: interrupted`` and exit
status 130. Any other exception is a bug and keeps its traceback.

>>> sys.exit(run_command("strongsort-reid train", lambda: train(argv)))  # doctest: +SKIP
"""

from __future__ import annotations

import sys
from typing import Callable, Optional, Tuple, Type

import yaml

from strongsort_reid.utils.download import WeightsUnavailableError

__all__ = ["EXPECTED_ERRORS", "error_message", "run_command"]

# OSError covers missing, unreadable and unwritable files and a full disk; ImportError an
# optional runtime (onnxruntime, openvino) that is not installed (its message says what to
# install).
EXPECTED_ERRORS: Tuple[Type[BaseException], ...] = (
    OSError,
    ValueError,
    KeyError,
    ImportError,
    yaml.YAMLError,
    WeightsUnavailableError,
)


def error_message(exc: BaseException) -> str:
    """The text of ``exc`` for a user: a ``KeyError``'s message without the quotes ``str``
    adds, the exception's type name when it has no message."""
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    return str(exc) or type(exc).__name__


def run_command(
    prog: str,
    command: Callable[[], Optional[int]],
    expected: Tuple[Type[BaseException], ...] = EXPECTED_ERRORS,
) -> int:
    """Run ``command()`` and return its exit status (``None`` counts as 0).

    Args:
        prog: Program name that starts the error line, e.g. ``"strongsort-reid train"``.
        command: The program's body.
        expected: Exception types reported as one message with exit status 2.

    Returns:
        The command's status; 2 after an expected error, 130 after Ctrl-C.
    """
    try:
        return int(command() or 0)
    except expected as exc:
        print(f"{prog}: error: {error_message(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
