"""Frame sources for the tracking demo: video files, image folders or globs, webcams, network
streams and MOTChallenge sequence folders, behind one iterator of :class:`Frame`.

>>> with open_source("video.mp4", vid_stride=2) as source:      # doctest: +SKIP
...     for frame in source:
...         frame.number, frame.image.shape                     # 1-based, (H, W, 3) BGR uint8

Every source yields ``uint8 HxWx3`` **BGR** images. Frames that cannot be decoded are skipped
and counted in :attr:`FrameSource.skipped`; a source that cannot be opened at all raises
:class:`SourceError` with a message for the user.
"""

from __future__ import annotations

import glob
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

import cv2
import numpy as np

from strongsort_reid.utils.motchallenge import image_paths, read_seqinfo

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}
VIDEO_SUFFIXES = {
    ".mp4", ".avi", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg", ".wmv", ".webm", ".flv", ".ts",
    ".asf", ".gif",
}  # fmt: skip
STREAM_PREFIXES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://")

# A video file whose reader fails this many times in a row has ended (or is hopelessly broken):
# single bad packets make cv2.VideoCapture.read fail once and then recover.
MAX_CONSECUTIVE_FAILURES = 30


class SourceError(ValueError):
    """The source cannot be opened or is not a kind the demo reads (a user error)."""


@dataclass
class Frame:
    """One decoded frame.

    Attributes:
        index: 0-based position in the source before ``vid_stride`` is applied.
        number: 1-based frame number written to MOT result files (the file's number for
            MOTChallenge sequences, ``index + 1`` otherwise).
        image: ``uint8 (H, W, 3)`` BGR pixels.
    """

    index: int
    number: int
    image: np.ndarray


class FrameSource:
    """Base class: an iterable of :class:`Frame` with metadata and a skip counter.

    Attributes:
        name: Short name for output files (file stem, folder name, ``webcam0``...).
        fps: Frames per second of the input (after ``vid_stride``), for the output video.
        length: Frames the iteration will yield at most, ``None`` when unknown (live sources).
        live: True for webcams and network streams.
        skipped: Frames that could not be decoded so far.
    """

    name: str = "source"
    fps: float = 30.0
    length: Optional[int] = None
    live: bool = False

    def __init__(self, vid_stride: int = 1):
        if not isinstance(vid_stride, int) or vid_stride < 1:
            raise SourceError(f"vid_stride must be an integer >= 1, got {vid_stride!r}")
        self.vid_stride = vid_stride
        self.skipped = 0

    def __iter__(self) -> Iterator[Frame]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the underlying reader (idempotent)."""

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class ImageSequenceSource(FrameSource):
    """Images read one by one from a sorted list of files.

    Args:
        paths: Image files in display order.
        numbers: Frame number of each file (default ``1, 2, ...``).
        name: Output name.
        fps: Frame rate to write the output video with.
        vid_stride: Take every ``vid_stride``-th image.
    """

    def __init__(
        self,
        paths: List[Path],
        name: str,
        numbers: Optional[List[int]] = None,
        fps: float = 30.0,
        vid_stride: int = 1,
    ):
        super().__init__(vid_stride)
        if not paths:
            raise SourceError(f"no images found for source {name!r}")
        self.paths = list(paths)
        self.numbers = list(numbers) if numbers is not None else list(range(1, len(paths) + 1))
        self.name = name
        self.fps = fps / vid_stride
        self.length = len(range(0, len(self.paths), vid_stride))

    def __iter__(self) -> Iterator[Frame]:
        for index in range(0, len(self.paths), self.vid_stride):
            image = cv2.imread(str(self.paths[index]), cv2.IMREAD_COLOR)
            if image is None:
                self.skipped += 1
                continue
            yield Frame(index, self.numbers[index], image)


class VideoCaptureSource(FrameSource):
    """Frames from ``cv2.VideoCapture``: a video file, a webcam index or a stream URL.

    A live source that stops delivering frames (a dropped stream, an unplugged camera) ends the
    iteration cleanly; a file tolerates up to :data:`MAX_CONSECUTIVE_FAILURES` undecodable
    frames in a row before it is considered finished.

    Args:
        target: File path, webcam index or URL.
        name: Output name.
        live: True for webcams and streams.
        vid_stride: Yield every ``vid_stride``-th frame (the others are grabbed, not decoded).
    """

    def __init__(self, target, name: str, live: bool, vid_stride: int = 1):
        super().__init__(vid_stride)
        self.name = name
        self.live = live
        self._capture = cv2.VideoCapture(target)
        if not self._capture.isOpened():
            self._capture.release()
            kind = "stream or camera" if live else "video file"
            raise SourceError(f"cannot open {kind} {target!r} (missing, corrupt or unsupported)")
        fps = self._capture.get(cv2.CAP_PROP_FPS)
        self.fps = (fps if np.isfinite(fps) and 0 < fps < 1000 else 30.0) / vid_stride
        count = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT))
        self.length = len(range(0, count, vid_stride)) if count > 0 and not live else None
        self._total = count if count > 0 and not live else None
        if not live:
            ok, first = self._capture.read()
            if not ok or first is None:
                self._capture.release()
                raise SourceError(f"cannot decode any frame of video file {target!r}")
            self._first: Optional[np.ndarray] = first
        else:
            self._first = None

    def __iter__(self) -> Iterator[Frame]:
        capture, index, failures = self._capture, -1, 0
        while capture.isOpened():
            index += 1
            wanted = index % self.vid_stride == 0
            if index == 0 and self._first is not None:
                ok, image = True, self._first
                self._first = None
            elif wanted:
                ok, image = capture.read()
            else:
                ok, image = capture.grab(), None
            if not ok:
                if self.live or self._total is None or index >= self._total:
                    return
                failures += 1
                self.skipped += int(wanted)
                if failures >= MAX_CONSECUTIVE_FAILURES:
                    return
                continue
            failures = 0
            if wanted:
                yield Frame(index, index + 1, _to_bgr(image))

    def close(self) -> None:
        self._capture.release()


def open_source(spec, vid_stride: int = 1) -> FrameSource:
    """Open what ``--source`` names.

    Args:
        spec: A video file; an image file, folder of images or glob pattern (``"dir/*.jpg"``);
            a webcam index (``0`` or ``"0"``); a stream URL (``rtsp://``, ``http(s)://``...); or
            a MOTChallenge sequence folder (``img1/`` + ``seqinfo.ini``; frame numbers come from
            the image names).
        vid_stride: Use every ``vid_stride``-th frame.

    Raises:
        SourceError: Missing path, unknown file type, no images, or unreadable video.
    """
    text = str(spec).strip()
    if text.isdigit():
        return VideoCaptureSource(int(text), f"webcam{text}", live=True, vid_stride=vid_stride)
    if text.lower().startswith(STREAM_PREFIXES):
        return VideoCaptureSource(text, _stream_name(text), live=True, vid_stride=vid_stride)
    path = Path(text).expanduser()
    if glob.has_magic(text) and not path.exists():
        matches = sorted(
            (Path(p) for p in glob.glob(str(path)) if Path(p).suffix.lower() in IMAGE_SUFFIXES),
            key=_natural_key,
        )
        if not matches:
            raise SourceError(f"no images match the pattern {text!r}")
        return ImageSequenceSource(matches, _glob_name(path), vid_stride=vid_stride)
    if not path.exists():
        raise SourceError(f"source not found: {text}")
    if path.is_dir():
        if (path / "seqinfo.ini").is_file():
            return _mot_sequence(path, vid_stride)
        images = sorted(
            (p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES), key=_natural_key
        )
        if not images:
            kinds = ", ".join(sorted(IMAGE_SUFFIXES))
            raise SourceError(f"folder {path} holds no images ({kinds})")
        return ImageSequenceSource(images, path.name, vid_stride=vid_stride)
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return ImageSequenceSource([path], path.stem, vid_stride=vid_stride)
    if suffix in VIDEO_SUFFIXES:
        return VideoCaptureSource(str(path), path.stem, live=False, vid_stride=vid_stride)
    raise SourceError(
        f"unknown source type {suffix or '(no extension)'!r} for {path}: expected a video "
        f"({', '.join(sorted(VIDEO_SUFFIXES))}), an image, a folder, a glob, a webcam index or "
        "a stream URL"
    )


def _mot_sequence(path: Path, vid_stride: int) -> ImageSequenceSource:
    try:
        info = read_seqinfo(path)
    except (FileNotFoundError, ValueError) as exc:
        raise SourceError(f"bad MOTChallenge sequence {path}: {exc}") from None
    frames = image_paths(path, info)
    if not frames:
        raise SourceError(f"MOTChallenge sequence {path} has no images in {info.im_dir}/")
    return ImageSequenceSource(
        list(frames.values()),
        info.name,
        numbers=list(frames),
        fps=info.frame_rate,
        vid_stride=vid_stride,
    )


def _to_bgr(image: np.ndarray) -> np.ndarray:
    """Grayscale or BGRA frames (some cameras, GIFs) as ``HxWx3`` BGR."""
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


def _natural_key(path: Path) -> Tuple:
    """Sort ``img2`` before ``img10``."""
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name))


def _glob_name(pattern: Path) -> str:
    parts = [p for p in pattern.parts if not glob.has_magic(p)]
    return Path(*parts).name if parts else "images"


def _stream_name(url: str) -> str:
    tail = re.sub(r"^[a-z]+://", "", url.lower()).rstrip("/")
    return re.sub(r"[^a-z0-9]+", "_", tail)[-40:].strip("_") or "stream"
