"""What a tracker consumes from a MOTChallenge sequence, computed once and cached on disk.

A tracker configuration is replayed (:mod:`trackers.motchallenge.replay`) in well under a second
per sequence because everything expensive is done once per sequence and kept in one ``.npz``:

* detections: the boxes of the detector (or of ``det.txt``) down to a low confidence floor, so
  that replays may use any ``min_conf`` above it;
* embeddings: one L2-normalised row per cached box;
* camera motion: the ECC warp from each frame to the next (ECC depends on the frames only, so a
  replay applies the cached warp exactly where the tracker would have computed it).

The cache file is named by a hash of everything that determines its content (the sequence
folder, the detector and ReID settings, the ECC settings and :data:`CACHE_VERSION`); a change of
any of them makes a new file. Only frames ``1 .. L`` whose images exist are cached. A cache file
that cannot be read (damaged, or of another layout) is rebuilt with a warning.
"""

from __future__ import annotations

import hashlib
import json
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import cv2
import numpy as np
from tqdm import tqdm

from strongsort_reid.utils.atomic import atomic_path
from strongsort_reid.utils.motchallenge import image_paths, read_seqinfo

from ..cmc import ECC

CACHE_VERSION = 4
# The arrays of a cache file.
_ARRAYS = ("frames", "det_frames", "dets", "embs", "warps", "warp_ok")

# ``detect(frame_number, image) -> (N, 6) [x1, y1, x2, y2, conf, cls]``.
Detect = Callable[[int, np.ndarray], np.ndarray]


@dataclass
class CachedSequence:
    """Detections, embeddings and camera motion of frames ``1 .. frames`` of one sequence.

    Attributes:
        name: Sequence name (its folder name).
        seq_dir: The sequence folder.
        frames: Number of cached frames ``L`` (frames ``1 .. L``).
        det_frames: ``(R,)`` int64 frame number of each cached box, sorted.
        dets: ``(R, 6)`` float32 ``[x1, y1, x2, y2, conf, cls]``.
        embs: ``(R, D)`` float32 L2-normalised embeddings.
        warps: ``(L, 2, 3)`` float64 camera warp from frame ``t - 1`` to ``t`` (identity first).
        warp_ok: ``(L,)`` bool: the ECC estimate of that frame converged.
    """

    name: str
    seq_dir: Path
    frames: int
    det_frames: np.ndarray
    dets: np.ndarray
    embs: np.ndarray
    warps: np.ndarray
    warp_ok: np.ndarray

    def frame(self, number: int) -> Tuple[np.ndarray, np.ndarray]:
        """``(dets (N, 6), embs (N, D))`` of frame ``number`` (``N`` may be 0)."""
        start, stop = np.searchsorted(self.det_frames, [number, number + 1])
        return self.dets[start:stop], self.embs[start:stop]

    def warp(self, number: int) -> Optional[np.ndarray]:
        """The camera warp into frame ``number``, or ``None`` where ECC did not converge."""
        return self.warps[number - 1] if self.warp_ok[number - 1] else None


def cache_key(seq_dir: Path, settings: Dict[str, Any]) -> str:
    """16 hex digits naming the cache of ``seq_dir`` computed with ``settings`` (JSON-able)."""
    text = json.dumps(
        {"version": CACHE_VERSION, "sequence": str(Path(seq_dir).resolve()), **settings},
        sort_keys=True,
    )
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def cache_file(seq_dir: Path, settings: Dict[str, Any], cache_root: Path) -> Path:
    """The cache file of ``seq_dir`` for ``settings`` (it may not exist yet)."""
    return Path(cache_root) / f"{Path(seq_dir).name}-{cache_key(seq_dir, settings)}.npz"


def tracked_frames(seq_dir: Path) -> Dict[int, Path]:
    """``{frame: image}`` of frames ``1 .. L``, up to the first missing image."""
    images = image_paths(seq_dir, read_seqinfo(seq_dir))
    frames: Dict[int, Path] = {}
    while len(frames) + 1 in images:
        frames[len(frames) + 1] = images[len(frames) + 1]
    if not frames:
        raise FileNotFoundError(f"no image for frame 1 in {seq_dir}")
    return frames


def load_or_build(
    seq_dir: Path,
    detect: Detect,
    embedder: Any,
    settings: Dict[str, Any],
    cache_root: Path,
    ecc: ECC,
    progress: bool = False,
) -> CachedSequence:
    """The cached sequence, computed now (and saved) when the cache has no file for it.

    Args:
        seq_dir: Sequence folder (``seqinfo.ini``, ``img1/``).
        detect: ``detect(frame_number, image)`` -> boxes; all its boxes are cached.
        embedder: ``from_frame(frame, boxes) -> (N, D)`` (a FeatureExtractor).
        settings: What determines the content besides the frames (detector, ReID, ECC);
            hashed into the file name (:func:`cache_key`).
        cache_root: Folder of the cache files.
        ecc: The camera motion estimator (its settings belong in ``settings``).
        progress: Show a progress bar while computing.
    """
    seq_dir = Path(seq_dir)
    path = cache_file(seq_dir, settings, cache_root)
    if path.is_file():
        cached = _read(path, seq_dir)
        if cached is not None:
            return cached
    cached = _compute(seq_dir, detect, embedder, ecc, progress)
    with atomic_path(path) as temp:
        with open(temp, "wb") as stream:  # np.savez would add ".npz" to a path
            np.savez(
                stream,
                frames=cached.frames,
                det_frames=cached.det_frames,
                dets=cached.dets,
                embs=cached.embs,
                warps=cached.warps,
                warp_ok=cached.warp_ok,
            )
    return cached


def _read(path: Path, seq_dir: Path) -> Optional[CachedSequence]:
    """The sequence cached in ``path``, or ``None`` (with a warning) if it cannot be read."""
    try:
        data = np.load(path)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError("not an .npz archive")
        with data:
            arrays = {name: data[name] for name in _ARRAYS}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        warnings.warn(f"cache file {path} is unreadable ({reason}): it is rebuilt", stacklevel=3)
        return None
    return CachedSequence(seq_dir.name, seq_dir, int(arrays.pop("frames")), **arrays)


def _compute(seq_dir: Path, detect: Detect, embedder: Any, ecc: ECC, progress: bool):
    frames = tracked_frames(seq_dir)
    det_frames: List[np.ndarray] = []
    dets: List[np.ndarray] = []
    embs: List[np.ndarray] = []
    warps = np.repeat(np.eye(2, 3)[None], len(frames), axis=0)
    warp_ok = np.zeros(len(frames), dtype=bool)
    ecc.reset()
    bar = tqdm(frames.items(), desc=f"caching {seq_dir.name}", disable=None if progress else True)
    for number, path in bar:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"cannot read image {path}")
        boxes = np.asarray(detect(number, image), dtype=np.float32).reshape(-1, 6)
        features = embedder.from_frame(image, boxes[:, :4])
        if isinstance(features, tuple):  # extractors may also return a validity mask
            features = features[0]
        features = np.asarray(features, dtype=np.float32)
        det_frames.append(np.full(len(boxes), number, dtype=np.int64))
        dets.append(boxes)
        embs.append(features.reshape(len(boxes), -1))
        warps[number - 1] = ecc.estimate(image)
        warp_ok[number - 1] = ecc.last_status == "ok"
    dim = max((e.shape[1] for e in embs if e.size), default=1)
    embs = [e if e.size else np.empty((0, dim), dtype=np.float32) for e in embs]
    return CachedSequence(
        seq_dir.name,
        seq_dir,
        len(frames),
        np.concatenate(det_frames),
        np.concatenate(dets),
        np.concatenate(embs),
        warps,
        warp_ok,
    )
