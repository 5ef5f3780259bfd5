"""Which heavy modules an import statement pulls in, measured in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
from typing import List, Sequence

HEAVY = ("torch", "cv2", "onnxruntime", "openvino")


def heavy_modules_after(statement: str, heavy: Sequence[str] = HEAVY) -> List[str]:
    """The modules of ``heavy`` loaded after running ``statement`` in a new Python process."""
    listing = f"print(','.join(m for m in {tuple(heavy)!r} if m in sys.modules))"
    code = f"import sys; {statement}; {listing}"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return [name for name in result.stdout.strip().split(",") if name]
