"""Outputs of the tracking demo: an annotated video and a MOTChallenge results file.

Both are written to a hidden temporary file next to the destination
(:func:`strongsort_reid.utils.atomic.atomic_path`) and renamed into place by :meth:`close` only
when complete and checked, so the destination only ever holds a whole file: an interrupted run
(Ctrl-C, SIGTERM, a dropped stream) leaves playable, parseable files, and a failed one (disk
full, an encoder that refuses the frames) leaves none. Failures raise :class:`OutputError`.
"""

from __future__ import annotations

import contextlib
import math
import os
from pathlib import Path
from typing import Iterable, Optional, Tuple, Union

import cv2
import numpy as np

from strongsort_reid.utils.atomic import atomic_path
from strongsort_reid.utils.motchallenge import format_result_rows, tracks_to_rows

PathLike = Union[str, os.PathLike]


class OutputError(OSError):
    """An output file cannot be created or completed (a user error: unwritable folder, disk
    full, a frame size or rate the encoder refuses, an output that would overwrite an input)."""


class _StagedFile:
    """A temporary sibling of ``path`` that is renamed to ``path`` or removed.

    Args:
        path: Destination file.

    Raises:
        OutputError: The temporary file cannot be created (folder missing or not writable).
    """

    def __init__(self, path: Path):
        self.path = path
        self.published = False
        self._stack = contextlib.ExitStack()
        try:
            self.temp = self._stack.enter_context(atomic_path(path))
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None

    def publish(self) -> None:
        """Rename the temporary file to the destination."""
        try:
            self._stack.close()
        except OSError as exc:
            self.discard()
            raise OutputError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        self.published = True

    def discard(self) -> None:
        """Remove the temporary file; the destination is left as it was."""
        self.temp.unlink(missing_ok=True)
        self._stack.pop_all()


def check_outputs(outputs: Iterable[Path], inputs: Iterable[Tuple[str, Path]]) -> None:
    """Refuse outputs that would replace an input file or a folder.

    Args:
        outputs: Files the run will write.
        inputs: ``(role, path)`` of every file the run reads (source, det file, weights...);
            paths that do not exist are ignored.

    Raises:
        OutputError: An output is an existing folder, or the same file as an input (also
            through a link).
    """
    existing = [path for path in outputs if os.path.lexists(path)]
    for output in existing:
        if output.is_dir():
            raise OutputError(f"cannot write {output}: a folder of that name exists")
    if not existing:
        return
    identities = {_identity(path): path for path in existing}
    for role, path in inputs:
        output = identities.get(_identity(path))
        if output is not None:
            raise OutputError(
                f"output {output} would overwrite the {role} {path}; choose another --output folder"
            )


def _identity(path: Path) -> Optional[Tuple[int, int]]:
    """``(device, inode)`` of the file ``path`` resolves to, ``None`` when there is none."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


class VideoWriter:
    """Write ``uint8 HxWx3`` BGR frames to an MP4 (``mp4v``) or AVI (``MJPG``) file.

    The file is opened at the first frame, whose size it takes; later frames of another size
    are resized to it. :meth:`close` checks that the finished file holds every frame written
    (``cv2.VideoWriter`` reports no write error, e.g. on a full disk) before renaming it into
    place.

    Args:
        path: Destination; the suffix chooses the container.
        fps: Frame rate of the output, > 0.

    Raises:
        OutputError: ``fps`` is not a positive number.

    Attributes:
        frames: Frames written so far.
        published: :meth:`close` put the complete file in place.
    """

    def __init__(self, path: PathLike, fps: float):
        self.path = Path(path)
        self.fps = float(fps)
        if not math.isfinite(self.fps) or self.fps <= 0:
            raise OutputError(f"cannot write video {self.path}: frame rate must be > 0, got {fps}")
        self.codec = "MJPG" if self.path.suffix.lower() == ".avi" else "mp4v"
        self.size: Optional[Tuple[int, int]] = None
        self._writer: Optional[cv2.VideoWriter] = None
        self._staged: Optional[_StagedFile] = None
        self.frames = 0

    @property
    def published(self) -> bool:
        return self._staged is not None and self._staged.published

    def write(self, image: np.ndarray) -> None:
        """Append one frame (``uint8 HxWx3`` BGR)."""
        if self._writer is None:
            self._open((image.shape[1], image.shape[0]))
        elif (image.shape[1], image.shape[0]) != self.size:
            image = cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)
        self._writer.write(image)
        self.frames += 1

    def _open(self, size: Tuple[int, int]) -> None:
        if self._staged is not None:
            raise OutputError(f"video {self.path} was closed or failed; it takes no more frames")
        staged = _StagedFile(self.path)
        fourcc = cv2.VideoWriter_fourcc(*self.codec)
        writer = cv2.VideoWriter(str(staged.temp), fourcc, self.fps, size)
        if not writer.isOpened():
            staged.discard()
            raise OutputError(
                f"cannot write video {self.path}: OpenCV's {self.codec} encoder refuses "
                f"{size[0]}x{size[1]} frames at {self.fps:g} FPS"
            )
        self._writer, self._staged, self.size = writer, staged, size

    def close(self) -> None:
        """Finish the file (writes the container index), check it and rename it into place
        (idempotent; nothing is written when no frame was).

        Raises:
            OutputError: The finished file does not hold every frame (disk full, I/O error);
                it is removed.
        """
        if self._writer is None:
            return
        self._writer.release()
        self._writer = None
        readable = _frame_count(self._staged.temp)
        if readable < self.frames:
            self._staged.discard()
            raise OutputError(
                f"cannot write video {self.path}: only {max(readable, 0)} of {self.frames} frames "
                "reached the disk (disk full or I/O error)"
            )
        self._staged.publish()

    def abort(self) -> None:
        """Stop writing and remove the unfinished file (idempotent)."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
            self._staged.discard()


def _frame_count(path: Path) -> int:
    """Frames the container of ``path`` announces, ``-1`` when it cannot be opened."""
    capture = cv2.VideoCapture(str(path))
    try:
        return int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if capture.isOpened() else -1
    finally:
        capture.release()


class MOTResultWriter:
    """Stream tracker output to a MOTChallenge results file.

    Rows go to a temporary file as they come (flushed every frame) that :meth:`close` renames
    to ``path``, so ``path`` only ever holds a complete file; a write that fails (disk full)
    removes the temporary file and raises :class:`OutputError`.

    Args:
        path: Destination ``.txt`` (``frame, id, x, y, w, h, conf, -1, -1, -1`` per line).

    Raises:
        OutputError: The temporary file cannot be created.

    Attributes:
        rows: Rows written so far.
    """

    def __init__(self, path: PathLike):
        self.path = Path(path)
        self._staged = _StagedFile(self.path)
        self._stream = open(self._staged.temp, "w", encoding="utf-8")
        self.rows = 0

    @property
    def published(self) -> bool:
        """:meth:`close` put the complete file in place."""
        return self._staged.published

    def write(self, frame_number: int, tracks: np.ndarray) -> None:
        """Append one frame of ``(M, 8)`` tracker output."""
        if self._stream is None:
            raise OutputError(f"results file {self.path} was closed or failed; no more rows")
        rows = tracks_to_rows(frame_number, tracks)
        try:
            self._stream.writelines(format_result_rows(rows))
            self._stream.flush()
        except OSError as exc:
            self.abort()
            raise OutputError(f"cannot write results file {self.path}: {exc.strerror}") from None
        self.rows += rows.shape[0]

    def close(self) -> None:
        """Close and move the file into place (idempotent)."""
        if self._stream is None:
            return
        stream, self._stream = self._stream, None
        try:
            stream.close()
        except OSError as exc:
            self._staged.discard()
            raise OutputError(f"cannot write results file {self.path}: {exc.strerror}") from None
        self._staged.publish()

    def abort(self) -> None:
        """Stop writing and remove the unfinished file (idempotent)."""
        if self._stream is None:
            return
        stream, self._stream = self._stream, None
        with contextlib.suppress(OSError):
            stream.close()
        self._staged.discard()
