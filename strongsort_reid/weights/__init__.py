"""The default models shipped inside the package, so that the main job works offline.

``BUNDLED`` lists each file with its sha256 and licence (see ``README.md`` next to this file
and the project's ``NOTICE``). The folder is package data: an editable install, a wheel and an
sdist all carry it. This module imports nothing, so the tracker's application can find the
bundled detector without importing torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional

BUNDLED_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class BundledFile:
    """One shipped model file.

    Attributes:
        filename: File name inside :data:`BUNDLED_DIR`.
        sha256: Hex digest of the shipped file.
        licence: Licence of the weights.
        source: Where the weights come from and what was changed.
    """

    filename: str
    sha256: str
    licence: str
    source: str


BUNDLED: Dict[str, BundledFile] = {
    "osnet_x0_25_msmt17": BundledFile(
        "osnet_x0_25_msmt17.pth",
        "06dbcdeb0edfe6d40ef94a30436a38a51318aba1a453a3a314a444bd7394a492",
        "MIT (torchreid model zoo); trained on MSMT17, a research-use data set",
        "torchreid model zoo osnet_x0_25_msmt17 (sha256 6f57607f...), classifier removed: "
        "it is unused for features",
    ),
    "yolov8n_int8": BundledFile(
        "yolov8n_int8.onnx",
        "47b4358ab7310318e2815138c60c186ab14e9debed6040c400efb768450a5f7f",
        "AGPL-3.0 (Ultralytics)",
        "Ultralytics YOLOv8n COCO detector, ONNX export with dynamic int8 weights",
    ),
}

# The demo's default detector (a file name in BUNDLED_DIR).
DEFAULT_DETECTOR = BUNDLED["yolov8n_int8"].filename


def bundled_file(filename: str) -> Optional[Path]:
    """The shipped file called ``filename``, or ``None`` when the package does not carry it."""
    path = BUNDLED_DIR / filename
    return path if path.is_file() else None
