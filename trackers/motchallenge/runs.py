"""Run a tracker over a MOTChallenge sequence from its ``det.txt``.

Embeddings come either from a row-aligned ``.npy`` file (frames ``1 .. seqLength`` are
tracked) or from the tracker's embedder on the frames whose image exists (the sequence is
tracked from frame 1 up to the first missing image). ``seqLength`` bounds the frame numbers of
``det.txt`` (a row beyond it is a ``ValueError`` naming ``file:line``), and ``seqinfo.ini``
bounds ``seqLength`` by :data:`~strongsort_reid.utils.motchallenge.MAX_FRAME`, so a run never
walks further than the sequence.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Union

import cv2
import numpy as np
from tqdm import tqdm

from strongsort_reid.utils.motchallenge import (
    MOTDetections,
    image_paths,
    read_seqinfo,
    tracks_to_rows,
)

from ..strongsort import StrongSORT

PathLike = Union[str, Path]


def track_sequence(
    seq_dir: PathLike,
    tracker: StrongSORT,
    features_path: Optional[PathLike] = None,
    progress: bool = False,
) -> np.ndarray:
    """Track one sequence and return its result rows.

    Args:
        seq_dir: Sequence folder with ``seqinfo.ini``, ``det/det.txt`` and ``img1/``.
        tracker: A fresh (or :meth:`~StrongSORT.reset`) tracker; with ``features_path=None`` it
            must have an embedder.
        features_path: ``.npy`` embeddings row-aligned with ``det.txt``; frames are then tracked
            up to ``seqLength`` and images are read only where they exist (for CMC).
        progress: Show a tqdm progress bar.

    Returns:
        ``(R, 10)`` rows ``frame, id, x, y, w, h, conf, -1, -1, -1``.

    Raises:
        ValueError: An invalid ``seqinfo.ini`` or ``det.txt`` (a frame beyond ``seqLength``
            included), or features that do not match ``det.txt``.
        FileNotFoundError: A missing file, or no image for frame 1 without ``features_path``.
    """
    seq_dir = Path(seq_dir)
    info = read_seqinfo(seq_dir)
    detections = MOTDetections(seq_dir / "det" / "det.txt", features_path, info.seq_length)
    images = image_paths(seq_dir, info)
    if features_path is not None:
        last_frame = info.seq_length
    else:
        if tracker.embedder is None:
            raise ValueError("tracker has no embedder and no features_path was given")
        last_frame = 0
        while last_frame + 1 in images:
            last_frame += 1
        if last_frame == 0:
            raise FileNotFoundError(f"no image for frame 1 in {seq_dir / info.im_dir}")
    needs_frames = features_path is None or tracker.config.cmc is not None
    rows = []
    for number in tqdm(range(1, last_frame + 1), desc=info.name, disable=not progress, leave=False):
        dets, features = detections.frame(number)
        frame = _read_image(images[number]) if needs_frames and number in images else None
        tracks = tracker.update(dets, frame, features)
        rows.append(tracks_to_rows(number, tracks))
    return np.concatenate(rows) if rows else np.empty((0, 10))


def _read_image(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"cannot read image {path}")
    return image
