"""Frame sources for the tracking demo: video files, image folders or globs, webcams, network
streams and MOTChallenge sequence folders, behind one iterator of :class:`Frame`.

>>> with open_source("video.mp4", vid_stride=2) as source:      # doctest: +SKIP
...     for frame in source:
...         frame.number, frame.image.shape                     # 1-based, (H, W, 3) BGR uint8

Every source yields ``uint8 HxWx3`` **BGR** images. Frames that cannot be decoded are skipped
and counted in :attr:`FrameSource.skipped`; a source that cannot be opened at all raises
:class:`SourceError` with a message for the user, and one that ends before its announced length
(a truncated file) or stalls (a stream) says so in :attr:`FrameSource.end_note`.

Network streams wait at most :data:`STREAM_TIMEOUT_S` seconds (``stream_timeout``) to open and
for each frame: a server that accepts and never answers fails after that long, a stream that
stalls ends after that long, and Ctrl-C on a stalled stream takes at most that long.
"""

from __future__ import annotations

import configparser
import glob
import math
import re
import time
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
# Seconds a network stream may take to open, and to deliver each frame (OpenCV's FFmpeg default
# is 30 s for both).
STREAM_TIMEOUT_S = 10.0


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
        end_note: Set when the iteration ended before :attr:`length` frames (a truncated or
            corrupt file) or because a stream stalled: one sentence for the user.
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
        self.end_note: Optional[str] = None

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
        self._first = _read_image(self.paths[0])
        if self._first is None and len(self.paths) == 1:
            reason = _why_unreadable(self.paths[0])
            raise SourceError(f"cannot decode image {self.paths[0]} ({reason})")

    def __iter__(self) -> Iterator[Frame]:
        for index in range(0, len(self.paths), self.vid_stride):
            if index == 0 and self._first is not None:
                image, self._first = self._first, None
            else:
                image = _read_image(self.paths[index])
            if image is None:
                self.skipped += 1
                continue
            yield Frame(index, self.numbers[index], image)
        if self.skipped == self.length:
            self.end_note = f"none of the {self.length} images of {self.name} could be decoded"


def _read_image(path: Path) -> Optional[np.ndarray]:
    """``uint8 HxWx3`` BGR pixels of an image file, ``None`` when it cannot be decoded."""
    try:
        return cv2.imread(str(path), cv2.IMREAD_COLOR)
    except cv2.error:
        return None


def _why_unreadable(path: Path) -> str:
    """A few words on why an image cannot be decoded."""
    if path.stat().st_size == 0:
        return "the file is empty"
    return "corrupt or not an image format OpenCV reads"


class VideoCaptureSource(FrameSource):
    """Frames from ``cv2.VideoCapture``: a video file, a webcam index or a stream URL.

    A live source that stops delivering frames (a dropped stream, an unplugged camera) ends the
    iteration cleanly; a file tolerates up to :data:`MAX_CONSECUTIVE_FAILURES` undecodable
    frames in a row before it is considered finished. Undecodable frames count as
    :attr:`skipped` only when a later frame decodes; a file that ends before its announced frame
    count sets :attr:`end_note`.

    Args:
        target: File path, webcam index or URL.
        name: Output name.
        live: True for webcams and streams.
        vid_stride: Yield every ``vid_stride``-th frame (the others are grabbed, not decoded).
        stream_timeout: Seconds a stream URL may take to open and to deliver each frame.
    """

    def __init__(
        self,
        target,
        name: str,
        live: bool,
        vid_stride: int = 1,
        stream_timeout: float = STREAM_TIMEOUT_S,
    ):
        super().__init__(vid_stride)
        self.name = name
        self.live = live
        stream = isinstance(target, str) and live
        self._timeout = _stream_timeout(stream_timeout) if stream else None
        self._capture = _open_capture(target, self._timeout)
        if not self._capture.isOpened():
            self._capture.release()
            if self._timeout is not None:
                raise SourceError(
                    f"cannot open stream {target!r} (unreachable, no answer within "
                    f"{self._timeout:g} s, or unsupported)"
                )
            kind = "camera" if live else "video file"
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
        capture, index, failures, unread = self._capture, -1, 0, 0
        while capture.isOpened():
            index += 1
            wanted = index % self.vid_stride == 0
            started = time.monotonic()
            if index == 0 and self._first is not None:
                ok, image = True, self._first
                self._first = None
            elif wanted:
                ok, image = capture.read()
            else:
                ok, image = capture.grab(), None
            if not ok:
                if self.live:
                    self._note_stall(time.monotonic() - started)
                    return
                if self._total is None or index >= self._total:
                    return
                failures, unread = failures + 1, unread + int(wanted)
                if failures >= MAX_CONSECUTIVE_FAILURES:
                    self._note_early_end(index - failures + 1)
                    return
                continue
            self.skipped += unread
            failures, unread = 0, 0
            if wanted:
                yield Frame(index, index + 1, _to_bgr(image))

    def _note_stall(self, waited: float) -> None:
        if self._timeout is not None and waited >= 0.9 * self._timeout:
            self.end_note = f"the stream delivered no frame for {self._timeout:g} s: stopped"

    def _note_early_end(self, decoded: int) -> None:
        """Record that only the first ``decoded`` frames of the file could be read."""
        missing = self._total - decoded
        if missing > max(1, self._total // 100):  # frame counts of some containers are estimates
            self.end_note = (
                f"the video ended early: frame {decoded} of {self._total} was the last readable "
                f"one ({missing} frames missing; the file is truncated or corrupt)"
            )

    def close(self) -> None:
        self._capture.release()


def _stream_timeout(seconds: float) -> float:
    if not (isinstance(seconds, (int, float)) and math.isfinite(seconds) and seconds > 0):
        raise SourceError(f"stream timeout must be a number of seconds > 0, got {seconds!r}")
    return float(seconds)


def _open_capture(target, timeout: Optional[float]) -> cv2.VideoCapture:
    """``cv2.VideoCapture(target)``; with FFmpeg open and read timeouts for a stream URL."""
    if timeout is None:
        return cv2.VideoCapture(target)
    ms = int(timeout * 1000)
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms]
    return cv2.VideoCapture(target, cv2.CAP_FFMPEG, params)


def open_source(spec, vid_stride: int = 1, stream_timeout: float = STREAM_TIMEOUT_S) -> FrameSource:
    """Open what ``--source`` names.

    Args:
        spec: A video file; an image file, folder of images or glob pattern (``"dir/*.jpg"``);
            a webcam index (``0`` or ``"0"``); a stream URL (``rtsp://``, ``http(s)://``...); or
            a MOTChallenge sequence folder (``img1/`` + ``seqinfo.ini``; frame numbers come from
            the image names).
        vid_stride: Use every ``vid_stride``-th frame.
        stream_timeout: Seconds a stream URL may take to open and to deliver each frame.

    Raises:
        SourceError: Missing path, unknown file type, no images, unreadable video or image, a
            stream that cannot be opened within ``stream_timeout``.
    """
    text = str(spec).strip()
    if text.isdigit():
        return VideoCaptureSource(int(text), f"webcam{text}", live=True, vid_stride=vid_stride)
    if text.lower().startswith(STREAM_PREFIXES):
        name = _stream_name(text)
        return VideoCaptureSource(text, name, True, vid_stride, stream_timeout=stream_timeout)
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
    except (FileNotFoundError, ValueError, configparser.Error) as exc:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SourceError(f"bad MOTChallenge sequence {path}: {problem}") from None
    if not (math.isfinite(info.frame_rate) and info.frame_rate > 0):
        raise SourceError(
            f"bad MOTChallenge sequence {path}: frameRate in seqinfo.ini must be > 0, "
            f"got {info.frame_rate:g}"
        )
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


def first_frames(path: Path, count: int) -> List[np.ndarray]:
    """The first ``count`` BGR frames of the video ``path`` (fewer when it is shorter).

    Raises:
        FileNotFoundError: No frame could be read.
    """
    capture = cv2.VideoCapture(str(path))
    frames: List[np.ndarray] = []
    while len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    if not frames:
        raise FileNotFoundError(f"cannot read frames from {path}")
    return frames
