"""The mined crops as a training set: one folder per pseudo-identity, in the layout of the ReID
package's ``folder`` dataset (``<root>/<identity>/<image>.jpg``), so the project's
``ImageDataManager`` and ``RandomIdentitySampler`` serve them as P x K batches."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Tuple

import cv2
import numpy as np

from .mining import PseudoIdentities
from .tracking import frames_of

JPEG_QUALITY = 95


def identity_folder(label: int) -> str:
    """Folder name of pseudo-identity ``label``; zero-padded so that the dataset's sorted
    relabelling gives back ``label``."""
    return f"{label:06d}"


def write_crops(
    identities: PseudoIdentities,
    source_spec: str,
    root: Path,
    max_frames: Optional[int] = None,
) -> int:
    """Cut every sampled box out of its frame and write ``root/<label>/<frame>.jpg``.

    Args:
        identities: The mined boxes (``frames``, ``boxes``, ``labels``).
        source_spec: The tracked source, read again for the frames that hold a sample.
        root: Output folder (created; must not hold crops of another mining).
        max_frames: The frame limit the source was tracked with.

    Returns:
        Number of crops written (boxes with no area inside the frame are skipped).
    """
    return write_crop_sets({Path(root): identities}, source_spec, max_frames)[Path(root)]


def write_crop_sets(
    sets: Mapping[Path, PseudoIdentities], source_spec: str, max_frames: Optional[int] = None
) -> Dict[Path, int]:
    """:func:`write_crops` of several sets (e.g. training and held-out identities) in one pass
    over the source; returns the crops written into each root."""
    by_frame: Dict[int, List[Tuple[np.ndarray, Path]]] = defaultdict(list)
    for root, identities in sets.items():
        root.mkdir(parents=True, exist_ok=True)
        for frame, box, label in zip(identities.frames, identities.boxes, identities.labels):
            by_frame[int(frame)].append((box, root / identity_folder(int(label))))
        for label in np.unique(identities.labels):
            (root / identity_folder(int(label))).mkdir(parents=True, exist_ok=True)
    written = {root: 0 for root in sets}
    for number, image in frames_of(source_spec, by_frame, max_frames):
        height, width = image.shape[:2]
        for box, folder in by_frame[number]:
            x1, y1 = int(max(0, np.floor(box[0]))), int(max(0, np.floor(box[1])))
            x2, y2 = int(min(width, np.ceil(box[2]))), int(min(height, np.ceil(box[3])))
            if x2 <= x1 or y2 <= y1:
                continue
            path = folder / f"{number:07d}.jpg"
            quality = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]
            if not cv2.imwrite(str(path), image[y1:y2, x1:x2], quality):
                raise OSError(f"cannot write crop {path}")
            written[folder.parent] += 1
    return written
