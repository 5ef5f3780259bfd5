"""MOTChallenge file formats: ``seqinfo.ini``, ``det.txt`` (+ ``.npy`` features), ``gt.txt`` and
tracker results.

Text files hold one comma-separated row per box, frames counted from 1, boxes as top-left
``x, y`` and ``w, h`` in pixels:

* ``det.txt``: ``frame, -1, x, y, w, h, conf[, x3d, y3d, z3d]``
* ``gt.txt``: ``frame, id, x, y, w, h, considered, class, visibility``
* results: ``frame, id, x, y, w, h, conf, -1, -1, -1``

Inside the project boxes are ``x1, y1, x2, y2`` (see DESIGN.md); conversion happens here.

The readers are strict (a skipped or truncated row is a wrong score later): a header line, a
row with another column count, a non-number, NaN or inf, a frame that is not a whole number in
``1 .. MAX_FRAME`` (or ``seqLength``), and in ground truth and results a fractional id or a
second box of one id in one frame raise a ``ValueError`` naming ``file:line``.

This is the project's one reader and writer of these files: the tracker's MOTChallenge tools
(:mod:`trackers.motchallenge`), the demo's ``--det-file`` and the ReID data set cut from
ground truth (:mod:`strongsort_reid.data.datasets.mot`) all use it. It needs only numpy, so it
lives with the leaf helpers that both packages may import.
"""

from __future__ import annotations

import configparser
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, NoReturn, Optional, Tuple, Union

import numpy as np

from .atomic import atomic_write_text

PathLike = Union[str, os.PathLike]

# Largest frame number (and ``seqLength``) accepted: about 9 hours at 30 FPS. Tools that walk
# every frame up to the last detection must not loop for ever on one absurd row.
MAX_FRAME = 1_000_000


@dataclass(frozen=True)
class SeqInfo:
    """The ``[Sequence]`` section of a ``seqinfo.ini``.

    Attributes:
        name: Sequence name, e.g. ``"MOT17-04-FRCNN"``.
        im_dir: Image folder relative to the sequence folder (``"img1"``).
        frame_rate: Frames per second.
        seq_length: Number of frames of the full sequence.
        im_width: Frame width in pixels.
        im_height: Frame height in pixels.
        im_ext: Image file extension including the dot (``".jpg"``).
    """

    name: str
    im_dir: str
    frame_rate: float
    seq_length: int
    im_width: int
    im_height: int
    im_ext: str


def read_seqinfo(seq_dir: PathLike) -> SeqInfo:
    """Parse ``<seq_dir>/seqinfo.ini``.

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: The file is not an INI file, a required key is missing or not a number,
            ``seqLength`` is outside ``1 .. MAX_FRAME``, or ``frameRate``, ``imWidth`` or
            ``imHeight`` is not positive.
    """
    path = Path(seq_dir) / "seqinfo.ini"
    if not path.is_file():
        raise FileNotFoundError(f"seqinfo.ini not found: {path}")
    parser = configparser.ConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except configparser.MissingSectionHeaderError:
        raise ValueError(f"{path}: no section header; expected a [Sequence] section") from None
    except (configparser.Error, UnicodeDecodeError) as error:
        reason = str(error).splitlines()[0]
        raise ValueError(f"{path}: not a valid INI file ({reason})") from None
    if "Sequence" not in parser:
        raise ValueError(f"{path} has no [Sequence] section")
    section = parser["Sequence"]
    try:
        info = SeqInfo(
            name=section.get("name", Path(seq_dir).name),
            im_dir=section.get("imDir", "img1"),
            frame_rate=float(section["frameRate"]),
            seq_length=int(section["seqLength"]),
            im_width=int(section["imWidth"]),
            im_height=int(section["imHeight"]),
            im_ext=section.get("imExt", ".jpg"),
        )
    except (KeyError, ValueError) as error:
        raise ValueError(f"{path}: missing or invalid key ({error})") from None
    if not 1 <= info.seq_length <= MAX_FRAME:
        raise ValueError(f"{path}: seqLength must be in 1..{MAX_FRAME}, got {info.seq_length}")
    positive = {"frameRate": info.frame_rate, "imWidth": info.im_width, "imHeight": info.im_height}
    for key, value in positive.items():
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{path}: {key} must be a positive number, got {value}")
    return info


def _load_rows(
    path: Path, min_columns: int, what: str, max_frame: int = MAX_FRAME, ids: bool = True
) -> np.ndarray:
    """``(R, C)`` float64 rows of a comma-separated MOT file (``(0, min_columns)`` if empty);
    blank lines and ``#`` comments are skipped.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: A row that is not ``>= min_columns`` numbers like the others, NaN/inf, a frame
            outside ``1 .. max_frame``, with ``ids`` a fractional or repeated id in a frame.
    """
    if not path.is_file():
        raise FileNotFoundError(f"{what} file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{what} file {path} is not a UTF-8 text file") from None
    lines = text.splitlines()
    if not text.strip():
        return np.empty((0, min_columns))
    try:
        rows = np.loadtxt(lines, delimiter=",", comments="#", ndmin=2, dtype=np.float64)
    except ValueError as error:
        _raise_parse_error(path, lines, what, error)
    if rows.size == 0:
        return np.empty((0, min_columns))
    count = rows.shape[1]
    short = np.full(rows.shape[0], count < min_columns)
    _reject(path, lines, short, f"{what} rows need at least {min_columns} columns, got {count}")
    _reject(path, lines, ~np.isfinite(rows).all(axis=1), "values must not be NaN or inf")
    _check_frames(path, lines, rows, max_frame)
    if ids:
        _check_ids(path, lines, rows)
    return rows


def _data_lines(lines: List[str]) -> List[int]:
    """1-based numbers of the lines that hold a row (as ``np.loadtxt`` counts them)."""
    return [n for n, line in enumerate(lines, 1) if line.split("#", 1)[0].strip()]


def _raise_parse_error(path: Path, lines: List[str], what: str, error: ValueError) -> NoReturn:
    """Name the first line ``np.loadtxt`` could not read (a header, a short row, a word)."""
    columns = None
    for number in _data_lines(lines):
        fields = lines[number - 1].split("#", 1)[0].split(",")
        for field in fields:
            try:
                float(field)
            except ValueError:
                raise ValueError(
                    f"{path}:{number}: {what} row holds {field.strip()!r}: a numeric "
                    "comma-separated table is expected"
                ) from None
        if columns is not None and len(fields) != columns:
            raise ValueError(
                f"{path}:{number}: {what} row has {len(fields)} columns, the rows above {columns}"
            )
        columns = len(fields)
    raise ValueError(f"{what} file {path} is not a numeric comma-separated table: {error}")


def _reject(path: Path, lines: List[str], bad: np.ndarray, problem: str) -> None:
    """Raise ``ValueError("<path>:<line>: <problem>")`` for the first ``(R,)`` ``bad`` row."""
    if bad.any():
        more = int(bad.sum()) - 1
        line = _data_lines(lines)[int(np.argmax(bad))]
        raise ValueError(f"{path}:{line}: {problem}" + (f" ({more} more rows)" if more else ""))


def _check_frames(path: Path, lines: List[str], rows: np.ndarray, max_frame: int) -> None:
    """Frame numbers (column 0) must be whole numbers in ``1 .. max_frame``."""
    frames = rows[:, 0]
    bad = (frames != np.floor(frames)) | (frames < 1) | (frames > max_frame)
    value = frames[np.argmax(bad)]
    _reject(path, lines, bad, f"frame must be a whole number in 1..{max_frame}, got {value:g}")


def _check_ids(path: Path, lines: List[str], rows: np.ndarray) -> None:
    """Identities (column 1) must be whole numbers, at most one row per ``(frame, id)``."""
    ids = rows[:, 1]
    bad = ids != np.floor(ids)
    _reject(path, lines, bad, f"id must be a whole number, got {ids[np.argmax(bad)]:g}")
    order = np.lexsort((np.arange(rows.shape[0]), ids, rows[:, 0]))  # stable: earlier first
    same = np.flatnonzero((np.diff(rows[order, 0]) == 0) & (np.diff(ids[order]) == 0))
    if same.size:
        first, second = order[same[0]], order[same[0] + 1]
        line = _data_lines(lines)[first]
        problem = f"second box of id {ids[first]:g} in frame {rows[first, 0]:g} (see line {line})"
        _reject(path, lines, np.arange(rows.shape[0]) == second, problem)


class MOTDetections:
    """Detections of one sequence grouped by frame, with optional row-aligned features.

    Args:
        det_path: ``det.txt`` file.
        features_path: Optional ``.npy`` file with one embedding row per ``det.txt`` row
            (same order).
        max_frame: Largest valid frame number (a sequence's ``seqLength``; default
            :data:`MAX_FRAME`).

    Attributes:
        boxes: ``(R, 6)`` float64 ``[x1, y1, x2, y2, conf, cls]`` sorted by frame (``cls`` 0:
            MOTChallenge detections are pedestrians).
        frames: ``(R,)`` int64 frame numbers, sorted.
        features: ``(R, D)`` float32 embeddings in the same order, or ``None``.
    """

    def __init__(
        self,
        det_path: PathLike,
        features_path: Optional[PathLike] = None,
        max_frame: int = MAX_FRAME,
    ):
        rows = _load_rows(Path(det_path), 7, "detection", max_frame, ids=False)
        features = None
        if features_path is not None:
            features = _load_features(Path(features_path))
            if features.ndim != 2 or features.shape[0] != rows.shape[0]:
                raise ValueError(
                    f"features {features_path} must have shape ({rows.shape[0]}, D) to match "
                    f"{det_path}, got {features.shape}"
                )
        order = np.argsort(rows[:, 0], kind="stable")
        rows = rows[order]
        self.frames = rows[:, 0].astype(np.int64)
        self.boxes = np.empty((rows.shape[0], 6))
        self.boxes[:, 0:2] = rows[:, 2:4]
        self.boxes[:, 2:4] = rows[:, 2:4] + rows[:, 4:6]
        self.boxes[:, 4] = rows[:, 6]
        self.boxes[:, 5] = 0.0
        self.features = None if features is None else features[order]

    @property
    def last_frame(self) -> int:
        """Largest frame number with a detection (0 when there is none)."""
        return int(self.frames[-1]) if self.frames.size else 0

    def frame(self, number: int) -> Tuple[np.ndarray, Optional[np.ndarray]]:
        """``(dets (N, 6), features (N, D) or None)`` of one frame (``N`` may be 0)."""
        start, stop = np.searchsorted(self.frames, [number, number + 1])
        features = None if self.features is None else self.features[start:stop]
        return self.boxes[start:stop], features


def _load_features(path: Path) -> np.ndarray:
    """``(R, D)`` float32 embeddings of a ``.npy`` file; rows beyond float32's range are scaled
    down by their largest value (a float64 ``1e300`` row would otherwise become inf)."""
    if not path.is_file():
        raise FileNotFoundError(f"features file not found: {path}")
    try:
        features = np.load(path)
    except (ValueError, OSError, EOFError) as error:
        raise ValueError(f"features file {path} is not a .npy array: {error}") from None
    if features.dtype.kind not in "fiu":
        raise ValueError(f"features file {path} must hold numbers, got dtype {features.dtype}")
    if features.dtype.kind == "f" and features.dtype.itemsize > 4 and features.ndim == 2:
        with np.errstate(invalid="ignore"):
            peak = np.abs(features).max(axis=1, initial=0.0)
        huge = np.isfinite(peak) & (peak > np.finfo(np.float32).max)
        if huge.any():
            features = features.copy()
            features[huge] /= peak[huge, None]
    with np.errstate(over="ignore"):  # rows with NaN or inf may hold more huge values: inf
        return features.astype(np.float32, copy=False)


def read_gt(path: PathLike) -> np.ndarray:
    """``(R, 9)`` float64 rows ``frame, id, x, y, w, h, considered, class, visibility`` of a
    ``gt.txt``.

    Absent optional columns (7-9, as in hand-made ground truth) are filled with 1. MOT15 ground
    truth has 10 columns whose last three are world coordinates (``-1`` when unknown), not class
    and visibility: its rows are all pedestrians, fully visible as far as the file says, so class
    and visibility are set to 1.

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: An invalid row (see the module docstring), named by ``file:line``.
    """
    rows = _load_rows(Path(path), 6, "ground-truth")
    full = np.ones((rows.shape[0], 9))
    columns = 7 if rows.shape[1] >= 10 else min(9, rows.shape[1])
    full[:, :columns] = rows[:, :columns]
    return full


def read_results(path: PathLike) -> np.ndarray:
    """``(R, 10)`` float64 rows ``frame, id, x, y, w, h, conf, -1, -1, -1`` of a results file
    (missing trailing columns are filled with -1).

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: An invalid row (see the module docstring), named by ``file:line``.
    """
    rows = _load_rows(Path(path), 6, "results")
    out = np.full((rows.shape[0], 10), -1.0)
    out[:, : min(10, rows.shape[1])] = rows[:, :10]
    if rows.shape[1] < 7:
        out[:, 6] = 1.0
    return out


def tracks_to_rows(frame: int, tracks: np.ndarray) -> np.ndarray:
    """Turn one frame of tracker output into results rows.

    Args:
        frame: Frame number (from 1).
        tracks: ``(M, >=6)`` ``[x1, y1, x2, y2, id, conf, ...]`` (the tracker's output layout).

    Returns:
        ``(M, 10)`` float64 ``frame, id, x, y, w, h, conf, -1, -1, -1``.
    """
    tracks = np.asarray(tracks, dtype=np.float64)
    if tracks.ndim != 2 or tracks.shape[1] < 6:
        raise ValueError(f"tracks must have shape (M, >=6), got {tracks.shape}")
    rows = np.full((tracks.shape[0], 10), -1.0)
    rows[:, 0] = frame
    rows[:, 1] = tracks[:, 4]
    rows[:, 2:4] = tracks[:, 0:2]
    rows[:, 4:6] = tracks[:, 2:4] - tracks[:, 0:2]
    rows[:, 6] = tracks[:, 5]
    return rows


def format_result_rows(rows: np.ndarray) -> List[str]:
    """Text lines ``frame,id,x,y,w,h,conf,-1,-1,-1`` (newline-terminated) of ``(R, >=7)`` rows."""
    return [
        f"{int(r[0])},{int(r[1])},{r[2]:.2f},{r[3]:.2f},{r[4]:.2f},{r[5]:.2f},{r[6]:.2f},-1,-1,-1\n"
        for r in rows
    ]


def write_results(path: PathLike, rows: np.ndarray) -> Path:
    """Write results rows atomically (temporary file in the same folder, then rename).

    Args:
        path: Destination ``.txt`` file; parent folders are created.
        rows: ``(R, >=7)`` ``frame, id, x, y, w, h, conf[, ...]``; rows are sorted by frame then
            id, and the last three columns are written as -1.

    Returns:
        The written path.
    """
    path = Path(path)
    rows = np.asarray(rows, dtype=np.float64)
    if rows.size == 0:
        rows = np.empty((0, 10))
    if rows.ndim != 2 or rows.shape[1] < 7:
        raise ValueError(f"rows must have shape (R, >=7), got {rows.shape}")
    if not np.isfinite(rows[:, :7]).all():
        raise ValueError("rows contain NaN or inf values")
    rows = rows[np.lexsort((rows[:, 1], rows[:, 0]))]
    lines = format_result_rows(rows)
    return atomic_write_text(path, "".join(lines))


def list_sequences(root: PathLike) -> List[Path]:
    """Sequence folders (those holding a ``seqinfo.ini`` or ``det``/``gt``) under ``root``."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"MOT root folder not found: {root}")
    return sorted(
        p
        for p in root.iterdir()
        if p.is_dir() and any((p / n).exists() for n in ("seqinfo.ini", "det", "gt"))
    )


def image_paths(seq_dir: PathLike, info: SeqInfo) -> Dict[int, Path]:
    """``{frame: path}`` of the images that exist in the sequence's image folder."""
    folder = Path(seq_dir) / info.im_dir
    if not folder.is_dir():
        return {}
    paths = {}
    for path in folder.iterdir():
        if path.suffix.lower() == info.im_ext.lower() and path.stem.isdigit():
            paths[int(path.stem)] = path
    return dict(sorted(paths.items()))


def iter_frames(
    detections: MOTDetections, last_frame: int
) -> Iterator[Tuple[int, np.ndarray, Optional[np.ndarray]]]:
    """Yield ``(frame, dets, features)`` for frames ``1 .. last_frame`` (empty frames too)."""
    for number in range(1, last_frame + 1):
        dets, features = detections.frame(number)
        yield number, dets, features
