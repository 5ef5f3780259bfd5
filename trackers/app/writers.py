"""Outputs of the tracking demo: an annotated video and a MOTChallenge results file.

Both are complete after :meth:`close`, which the demo calls in a ``finally`` block, so an
interrupted run (Ctrl-C, a dropped stream) still leaves playable, parseable files.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Tuple, Union

import cv2
import numpy as np

from strongsort_reid.utils.atomic import publish
from strongsort_reid.utils.motchallenge import format_result_rows, tracks_to_rows

PathLike = Union[str, os.PathLike]


class OutputError(OSError):
    """An output file cannot be created (a user error: unwritable folder, no codec)."""


class VideoWriter:
    """Write ``uint8 HxWx3`` BGR frames to an MP4 (``mp4v``) or AVI (``MJPG``) file.

    The file is opened at the first frame, whose size it takes; later frames of another size
    are resized to it.

    Args:
        path: Destination; the suffix chooses the container.
        fps: Frame rate of the output.

    Attributes:
        frames: Frames written so far.
    """

    def __init__(self, path: PathLike, fps: float):
        self.path = Path(path)
        self.fps = float(fps)
        self.size: Optional[Tuple[int, int]] = None
        self._writer: Optional[cv2.VideoWriter] = None
        self.frames = 0

    def write(self, image: np.ndarray) -> None:
        if self._writer is None:
            self._open((image.shape[1], image.shape[0]))
        elif (image.shape[1], image.shape[0]) != self.size:
            image = cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)
        self._writer.write(image)
        self.frames += 1

    def _open(self, size: Tuple[int, int]) -> None:
        codec = "MJPG" if self.path.suffix.lower() == ".avi" else "mp4v"
        writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*codec), self.fps, size)
        if not writer.isOpened():
            raise OutputError(f"cannot write video {self.path} (folder not writable or no codec)")
        self._writer, self.size = writer, size

    def close(self) -> None:
        """Finish the file (writes the container index; idempotent)."""
        if self._writer is not None:
            self._writer.release()


class MOTResultWriter:
    """Stream tracker output to a MOTChallenge results file.

    Rows go to ``<path>.part`` as they come (flushed every frame) and the file is renamed to
    ``path`` by :meth:`close`, so ``path`` only ever holds a complete file.

    Args:
        path: Destination ``.txt`` (``frame, id, x, y, w, h, conf, -1, -1, -1`` per line).
    """

    def __init__(self, path: PathLike):
        self.path = Path(path)
        self._part = self.path.with_name(self.path.name + ".part")
        try:
            self._stream: Optional[object] = open(self._part, "w", encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"cannot write results file {self.path}: {exc.strerror}") from None
        self.rows = 0

    def write(self, frame_number: int, tracks: np.ndarray) -> None:
        """Append one frame of ``(M, 8)`` tracker output."""
        rows = tracks_to_rows(frame_number, tracks)
        self._stream.writelines(format_result_rows(rows))
        self._stream.flush()
        self.rows += rows.shape[0]

    def close(self) -> None:
        """Close and move the file into place (idempotent)."""
        if self._stream is None:
            return
        self._stream.close()
        self._stream = None
        publish(self._part, self.path)
