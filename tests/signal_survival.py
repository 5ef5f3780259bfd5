"""Run a snippet in a fresh interpreter, then deliver a signal to a Python handler there.

For native-library bugs that leave a thread on a broken signal stack: the failure is a
segmentation fault, which must not take the test session down with it.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

DELIVER_A_SIGNAL = """
import os as _os, signal as _signal, time as _time
_received = []
_signal.signal(_signal.SIGUSR1, lambda *_: _received.append(1))
_os.kill(_os.getpid(), _signal.SIGUSR1)
_time.sleep(0.05)
assert _received == [1], "the signal handler did not run"
print("survived")
"""


def assert_survives_a_signal(code: str, timeout: float = 300) -> None:
    """Run ``code`` (dedented) in a new interpreter, deliver SIGUSR1, and expect a clean exit."""
    program = textwrap.dedent(code) + DELIVER_A_SIGNAL
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
    assert "survived" in result.stdout
