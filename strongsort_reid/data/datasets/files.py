"""Locating dataset folders and listing image files, with errors that name the expected layout."""

from __future__ import annotations

import os
from pathlib import Path
from typing import List, Sequence, Union

PathLike = Union[str, os.PathLike]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


def is_image_file(name: str) -> bool:
    """True when ``name`` ends with one of :data:`IMAGE_EXTENSIONS` (case-insensitive)."""
    return name.lower().endswith(IMAGE_EXTENSIONS)


def list_images(directory: PathLike) -> List[Path]:
    """Image files directly inside ``directory``, sorted by name (empty if it does not exist)."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    # os.scandir avoids one stat per file, which matters for folders of 10^5 crops.
    with os.scandir(directory) as entries:
        names = [e.name for e in entries if e.is_file() and is_image_file(e.name)]
    return [directory / name for name in sorted(names)]


def check_root(root: PathLike, dataset: str, layout: str) -> Path:
    """Return ``root`` as a Path; raise when it does not exist.

    Raises:
        FileNotFoundError: ``root`` is not a directory; the message shows ``layout``.
    """
    path = Path(root).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(
            f"{dataset}: dataset root {str(path)!r} does not exist; expected layout:\n{layout}"
        )
    return path


def find_dataset_dir(
    root: PathLike, dataset: str, candidates: Sequence[str], required: Sequence[str], layout: str
) -> Path:
    """Find the folder that holds a dataset's sub-folders.

    Args:
        root: The ``root`` argument given by the user.
        dataset: Dataset name for messages.
        candidates: Folders relative to ``root`` to try in order (``"."`` is ``root`` itself),
            so both ``root=<parent of market1501>`` and ``root=<the market1501 folder>`` work.
        required: Entries (files or folders) that must all exist in the chosen folder.
        layout: Human-readable description of the expected layout for the error message.

    Raises:
        FileNotFoundError: ``root`` does not exist or no candidate holds all ``required`` entries.
    """
    base = check_root(root, dataset, layout)
    for relative in candidates:
        folder = (base / relative).resolve()
        if all((folder / entry).exists() for entry in required):
            return folder
    tried = ", ".join(str(base / c) for c in candidates)
    raise FileNotFoundError(
        f"{dataset}: no folder under root={str(base)!r} holds {list(required)} "
        f"(tried {tried}); expected layout:\n{layout}"
    )


def require_images(
    items: Sequence, dataset: str, subset: str, where: PathLike, layout: str
) -> None:
    """Raise when a parsed subset is empty, naming the folder that was read.

    Raises:
        FileNotFoundError: ``items`` is empty.
    """
    if len(items) == 0:
        raise FileNotFoundError(
            f"{dataset}: no images found for the {subset} set in {str(where)!r}; "
            f"expected layout:\n{layout}"
        )
