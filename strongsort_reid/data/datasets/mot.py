"""A ReID dataset cut from MOTChallenge ground truth: fine-tune on your own annotated video.

Every ``<root>/<sequence>/gt/gt.txt`` row ``frame, id, x, y, w, h, considered, class,
visibility`` whose frame image exists in ``img1/`` becomes one person crop:

* identity = (sequence, track id); camid = index of the sequence (sorted by name);
* kept only if ``considered == 1``, ``class == 1`` (pedestrian), ``visibility >=
  min_visibility`` and the box, clipped to the frame, is at least ``min_width x min_height``
  pixels (missing columns count as 1, for hand-made ground truth with fewer columns);
* identities with fewer than ``min_samples`` crops are dropped (no positive pair to learn from).

Crops are written once to ``<cache_dir>/<sequence>-<key>/<track id>_<frame>.jpg`` (temporary
file + rename, so an interrupted run leaves no half-written crop) and reused by later builds;
``key`` hashes the ground truth and frame folder, so edited annotations get fresh crops.

A seeded ``test_ratio`` of the identities is held out. Their crops are split across frames: the
earlier half of each track is the query and the later half the gallery. Because query and
gallery come from the same camera, gallery camids are shifted by the number of sequences
(``camid = num_sequences + sequence index``) so the standard evaluation, which ignores gallery
images with the query's pid and camid, keeps the true matches.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from tqdm import tqdm

from ...utils.atomic import atomic_write_bytes
from ...utils.download import cache_dir as default_cache_home
from ...utils.motchallenge import SeqInfo, read_gt, read_seqinfo
from .base import ImageDataset, Item, pick_held_out, relabel
from .files import check_root, is_image_file

logger = logging.getLogger(__name__)

MOT_LAYOUT = """\
  <root>/<sequence>/gt/gt.txt       frame, id, x, y, w, h, considered, class, visibility
  <root>/<sequence>/img1/000001.jpg ...   (only the frames that exist are used)
  <root>/<sequence>/seqinfo.ini     (optional; if present MOTChallenge's [Sequence] section:
                                    imDir, imExt, imWidth, imHeight, frameRate, seqLength)"""

# Bump when the crop format changes so old caches are not reused.
CROP_FORMAT = "mot-crop-v1"
PEDESTRIAN_CLASS = 1


class MOTReID(ImageDataset):
    """Person crops from MOTChallenge sequences (see the module docstring for all rules).

    Args:
        root: Folder of sequence folders, e.g. ``.../MOT17/train``.
        sequences: Sequence folder names to use (default: every folder with ``gt/gt.txt``).
        cache_dir: Where crops are stored; default ``<STRONGSORT_REID_HOME>/mot_reid_crops``.
        min_visibility: Lowest ground-truth visibility ratio kept, in ``[0, 1]``.
        min_height, min_width: Smallest clipped box kept, in pixels.
        frame_stride: Keep frames ``1, 1 + stride, ...`` (consecutive frames are near copies).
        min_samples: Fewest crops an identity needs to be kept (>= 1).
        test_ratio: Fraction of identities held out for query/gallery, in ``[0, 1)``.
        split_seed: Seed of the identity shuffle that picks the held-out identities.
        jpeg_quality: JPEG quality of the cached crops (1-100).
        **kwargs: ``transform``, ``mode``, ``combineall``, ``verbose`` (see ImageDataset).

    Attributes:
        sequences: Names of the sequences used; ``camid`` indexes this list.
        crops_written, crops_reused: Crops extracted by this build and found in the cache.
        num_unreadable_frames: Frames that failed to decode (their crops are left out).

    Raises:
        FileNotFoundError: ``root`` does not exist, holds no sequence with ``gt/gt.txt``, or
            no crop survives the filters.
        ValueError: Unknown sequence names, bad filter values, or a malformed ``gt.txt``.
    """

    def __init__(
        self,
        root: str = "",
        sequences: Optional[Sequence[str]] = None,
        cache_dir: Optional[str] = None,
        min_visibility: float = 0.3,
        min_height: int = 32,
        min_width: int = 8,
        frame_stride: int = 1,
        min_samples: int = 2,
        test_ratio: float = 0.5,
        split_seed: int = 0,
        jpeg_quality: int = 95,
        verbose: bool = True,
        **kwargs: Any,
    ):
        if not 0.0 <= min_visibility <= 1.0:
            raise ValueError(f"min_visibility must be in [0, 1], got {min_visibility}")
        if min_height < 1 or min_width < 1:
            raise ValueError(f"min_height/min_width must be >= 1, got {min_height}/{min_width}")
        if frame_stride < 1 or min_samples < 1:
            raise ValueError(
                f"frame_stride and min_samples must be >= 1, got {frame_stride}/{min_samples}"
            )
        if not 1 <= jpeg_quality <= 100:
            raise ValueError(f"jpeg_quality must be in [1, 100], got {jpeg_quality}")
        self.filters = dict(
            min_visibility=min_visibility,
            min_height=min_height,
            min_width=min_width,
            frame_stride=frame_stride,
            min_samples=min_samples,
        )
        self.jpeg_quality = jpeg_quality
        self.data_dir = check_root(root, "mot", MOT_LAYOUT).resolve()
        seq_dirs = self._sequence_dirs(sequences)
        self.sequences = [d.name for d in seq_dirs]
        base_cache = Path(cache_dir) if cache_dir else default_cache_home() / "mot_reid_crops"
        self.cache_dir = base_cache.expanduser().resolve()
        self.crops_written = 0
        self.crops_reused = 0
        self.num_unreadable_frames = 0

        # identity (sequence index, track id) -> crop paths in frame order
        tracks: Dict[tuple, List[str]] = {}
        for seq_index, seq_dir in enumerate(seq_dirs):
            for track_id, paths in self._sequence_crops(seq_dir, verbose).items():
                if len(paths) >= min_samples:
                    tracks[(seq_index, track_id)] = paths
        if not tracks:
            raise FileNotFoundError(
                f"mot: no identity with >= {min_samples} crops after filtering {self.filters} "
                f"in {str(self.data_dir)!r}; expected layout:\n{MOT_LAYOUT}"
            )
        identities = sorted(tracks)
        held_out = pick_held_out(len(identities), test_ratio, split_seed, "mot")
        num_sequences = len(seq_dirs)
        train: List[Item] = []
        query: List[Item] = []
        gallery: List[Item] = []
        for pid, (seq_index, track_id) in enumerate(identities):
            paths = tracks[(seq_index, track_id)]
            if not held_out[pid]:
                train += [(p, pid, seq_index, 0) for p in paths]
                continue
            num_query = len(paths) // 2
            query += [(p, pid, seq_index, 0) for p in paths[:num_query]]
            gallery += [(p, pid, num_sequences + seq_index, 0) for p in paths[num_query:]]
        super().__init__(relabel(train), query, gallery, verbose=verbose, **kwargs)

    def _sequence_dirs(self, names: Optional[Sequence[str]]) -> List[Path]:
        available = sorted(
            p for p in self.data_dir.iterdir() if p.is_dir() and (p / "gt" / "gt.txt").is_file()
        )
        if not available:
            raise FileNotFoundError(
                f"mot: no sequence folder with gt/gt.txt in {str(self.data_dir)!r}; "
                f"expected layout:\n{MOT_LAYOUT}"
            )
        if names is None:
            return available
        names = [names] if isinstance(names, str) else list(names)
        by_name = {p.name: p for p in available}
        unknown = [n for n in names if n not in by_name]
        if unknown:
            raise ValueError(f"sequences {unknown} not found; available: {sorted(by_name)}")
        return [by_name[n] for n in sorted(set(names))]

    def _sequence_crops(self, seq_dir: Path, verbose: bool) -> Dict[int, List[str]]:
        """Track id -> cached crop paths (frame order) of one sequence, extracting missing ones."""
        # Without a seqinfo.ini: MOTChallenge's default layout, size read from a frame.
        info = read_seqinfo(seq_dir) if (seq_dir / "seqinfo.ini").is_file() else None
        image_dir = seq_dir / (info.im_dir if info else "img1")
        extension = info.im_ext if info else ".jpg"
        frame_paths = {}
        if image_dir.is_dir():
            for entry in os.scandir(image_dir):
                stem, suffix = os.path.splitext(entry.name)
                if suffix == extension and stem.isdigit() and is_image_file(entry.name):
                    frame_paths[int(stem)] = Path(entry.path)
        if not frame_paths:
            logger.warning("mot: no %s frames in %s; sequence skipped", extension, image_dir)
            return {}
        gt_path = seq_dir / "gt" / "gt.txt"
        rows = read_gt(gt_path)
        height, width = self._frame_size(info, frame_paths)
        boxes = self._filter_rows(rows, np.fromiter(frame_paths, dtype=np.int64), height, width)

        key = hashlib.sha1(
            gt_path.read_bytes() + str(image_dir.resolve()).encode() + CROP_FORMAT.encode()
        ).hexdigest()[:12]
        crop_dir = self.cache_dir / f"{seq_dir.name}-{key}"
        crop_dir.mkdir(parents=True, exist_ok=True)
        crop_paths = [crop_dir / f"{int(t):06d}_{int(f):06d}.jpg" for f, t in boxes[:, :2]]
        exists = np.array([p.is_file() for p in crop_paths], dtype=bool)
        self.crops_reused += int(exists.sum())
        readable = self._extract(
            boxes[~exists],
            np.asarray(crop_paths, dtype=object)[~exists],
            frame_paths,
            verbose,
            seq_dir.name,
        )
        keep = exists.copy()
        keep[~exists] = readable

        tracks: Dict[int, List[str]] = {}
        for track_id, path, kept in zip(boxes[:, 1], crop_paths, keep):
            if kept:
                tracks.setdefault(int(track_id), []).append(str(path))
        return tracks

    @staticmethod
    def _frame_size(info: Optional[SeqInfo], frame_paths: Dict[int, Path]) -> Tuple[int, int]:
        """``(height, width)`` of the sequence's frames: from ``info``, else the first frame."""
        if info is not None:
            return info.im_height, info.im_width
        image = cv2.imread(str(frame_paths[min(frame_paths)]))
        if image is None:
            raise ValueError(
                f"mot: cannot decode {frame_paths[min(frame_paths)]} to get the frame size"
            )
        return image.shape[:2]

    def _filter_rows(self, rows: np.ndarray, frames: np.ndarray, height: int, width: int):
        """Rows passing the filters, of tracks with >= ``min_samples`` of them, as ``(K, 6)``
        int64 ``frame, id, x1, y1, x2, y2`` (clipped to the frame), sorted by track id, frame."""
        x1 = np.clip(np.floor(rows[:, 2]), 0, width)
        y1 = np.clip(np.floor(rows[:, 3]), 0, height)
        x2 = np.clip(np.ceil(rows[:, 2] + rows[:, 4]), 0, width)
        y2 = np.clip(np.ceil(rows[:, 3] + rows[:, 5]), 0, height)
        frame = rows[:, 0].astype(np.int64)
        keep = (
            np.isin(frame, frames)
            & (rows[:, 6] == 1)
            & (rows[:, 7] == PEDESTRIAN_CLASS)
            & (rows[:, 8] >= self.filters["min_visibility"])
            & ((frame - 1) % self.filters["frame_stride"] == 0)
            & (x2 - x1 >= self.filters["min_width"])
            & (y2 - y1 >= self.filters["min_height"])
        )
        boxes = np.stack([frame, rows[:, 1], x1, y1, x2, y2], axis=1)[keep].astype(np.int64)
        # Tracks too short to be kept are not worth extracting.
        track_ids, counts = np.unique(boxes[:, 1], return_counts=True)
        boxes = boxes[np.isin(boxes[:, 1], track_ids[counts >= self.filters["min_samples"]])]
        return boxes[np.lexsort((boxes[:, 0], boxes[:, 1]))]

    def _extract(self, boxes, paths, frame_paths, verbose: bool, name: str) -> np.ndarray:
        """Write the crops ``boxes`` (``frame, id, x1, y1, x2, y2``) to ``paths``, decoding each
        frame once. Returns a bool mask of the crops that could be written."""
        written = np.zeros(len(boxes), dtype=bool)
        # Group crop indices by frame once (argsort), not with one mask per frame.
        order = np.argsort(boxes[:, 0], kind="stable")
        frames, starts = np.unique(boxes[order, 0], return_index=True)
        groups = np.split(order, starts[1:])
        progress = tqdm(
            zip(frames, groups),
            total=len(frames),
            desc=f"mot crops {name}",
            unit="frame",
            disable=None if verbose else True,
        )
        for frame, indices in progress:
            image = cv2.imread(str(frame_paths[int(frame)]))
            if image is None:
                self.num_unreadable_frames += 1
                logger.warning(
                    "mot: cannot decode frame %s; its crops are left out", frame_paths[int(frame)]
                )
                continue
            for index in indices:
                _, _, x1, y1, x2, y2 = boxes[index]
                crop = image[y1:y2, x1:x2]
                if crop.size == 0:
                    continue
                ok, encoded = cv2.imencode(
                    ".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality]
                )
                if ok:
                    atomic_write_bytes(paths[index], encoded.tobytes())
                    written[index] = True
        self.crops_written += int(written.sum())
        return written
