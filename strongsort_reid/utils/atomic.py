"""Write files atomically: a temporary file next to the destination, renamed into place.

A reader (or a later run) therefore sees either the old file or the complete new one, never a
truncated one, whatever interrupts the writer (Ctrl-C, a crash, a full disk). This module is the
project's one implementation of the pattern; checkpoints, exports, downloads, result files and
caches all go through it.

>>> with atomic_path("model.pth") as temp:      # doctest: +SKIP
...     torch.save(state, temp)                 # renamed to model.pth when the block succeeds
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator, Union

PathLike = Union[str, os.PathLike]

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text", "publish"]


def _temporary_sibling(path: Path) -> Path:
    """A fresh, empty temporary file next to ``path`` with the same suffix (hidden name)."""
    fd, name = tempfile.mkstemp(
        prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent
    )
    os.close(fd)
    return Path(name)


def publish(temp: PathLike, final: PathLike) -> Path:
    """Give ``temp`` the permissions of a normally created file and rename it to ``final``.

    ``mkstemp`` creates files readable by their owner only; what the project writes (models,
    results, checkpoints) is meant to be shared like any file the user creates.

    Returns:
        ``final`` as a :class:`~pathlib.Path`.
    """
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temp, 0o666 & ~umask)
    os.replace(temp, final)
    return Path(final)


@contextlib.contextmanager
def atomic_path(path: PathLike) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path``, on error it is removed.

    The temporary file is in the destination's folder (created if needed), so the final rename
    never crosses file systems, and ends with the destination's suffix, so writers that choose
    a format by suffix (``cv2``, ``torch.jit.save``, OpenVINO) behave as for ``path``.

    Args:
        path: Destination file.

    Yields:
        The temporary file's path (it exists and is empty).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = _temporary_sibling(path)
    try:
        yield temp
        publish(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def atomic_write_bytes(path: PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns ``path``."""
    with atomic_path(path) as temp:
        temp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically; returns ``path``."""
    with atomic_path(path) as temp:
        temp.write_text(text, encoding=encoding)
    return Path(path)
