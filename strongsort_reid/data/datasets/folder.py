"""A generic ReID dataset from a folder per identity (your own people, vehicles, animals).

Query/gallery rule for held-out identities, chosen so the standard evaluation (which ignores
gallery images with the query's pid *and* camid) always has true matches to find:

* with cameras: for an identity seen by >= 2 cameras, the first image (by file name) of each
  camera is a query and all other images are gallery; identities seen by one camera only go
  to the gallery (as distractors).
* without cameras (``camera=None``): the first half of an identity's images (by file name) are
  queries with camid 0, the rest are gallery with camid 1, so "another camera" means "another
  part of the recording". Identities with one image go to the gallery.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from .base import ImageDataset, Item, pick_held_out, relabel
from .files import check_root, list_images

FOLDER_LAYOUT = """\
  <root>/<identity>/<image>.jpg            camera=None, or camera='filename' (camera_pattern
                                           is searched in the file name, e.g. 'c(\\d+)')
  <root>/<identity>/<camera>/<image>.jpg   camera='subfolder'
  already split instead: <root>/train/<identity>/..., <root>/query/<identity>/...,
                         <root>/gallery/<identity>/...  (no test_ratio split then)"""

CAMERA_SOURCES = (None, "filename", "subfolder")

# (image path, camera label or None)
Entry = Tuple[Path, Optional[str]]


def _camera_sort_key(label: str) -> Tuple[int, Any]:
    # Numeric labels sort numerically so 'c2' comes before 'c10'.
    return (0, int(label)) if label.isdigit() else (1, label)


class FolderDataset(ImageDataset):
    """Identities from sub-folder names, cameras from file names or sub-folders.

    Args:
        root: The dataset folder (see the layout above).
        camera: Where the camera comes from: ``None`` (one camera), ``"filename"`` or
            ``"subfolder"``. Camera labels are mapped to 0-based camids in sorted order.
        camera_pattern: Regex searched in each file name when ``camera="filename"``; its group
            ``cam`` (or else group 1) is the camera label.
        test_ratio: Fraction of identities held out for query/gallery, in ``[0, 1)``; ignored
            for an already split layout. ``0`` trains on everything (empty query/gallery).
        split_seed: Seed of the identity shuffle that picks the held-out identities.
        **kwargs: ``transform``, ``mode``, ``combineall``, ``verbose`` (see ImageDataset).

    Raises:
        FileNotFoundError: ``root`` does not exist or holds no identity folder with images.
        ValueError: Bad ``camera``/``test_ratio``, or a file name without the camera pattern.
    """

    def __init__(
        self,
        root: str = "",
        camera: Optional[str] = None,
        camera_pattern: str = r"c(\d+)",
        test_ratio: float = 0.5,
        split_seed: int = 0,
        **kwargs: Any,
    ):
        if camera not in CAMERA_SOURCES:
            raise ValueError(f"camera must be one of {CAMERA_SOURCES}, got {camera!r}")
        self.camera = camera
        self.pattern = re.compile(camera_pattern)
        if camera == "filename" and self.pattern.groups < 1:
            raise ValueError(f"camera_pattern needs a capturing group, got {camera_pattern!r}")
        base = check_root(root, "folder", FOLDER_LAYOUT)
        self.data_dir = base.resolve()
        if all((base / name).is_dir() for name in ("train", "query", "gallery")):
            pools = {name: self._scan_pool(base / name) for name in ("train", "query", "gallery")}
            self._camids = self._camera_map(pools.values())
            train, query, gallery = self._from_split_layout(pools)
        else:
            pool = self._scan_pool(base)
            self._camids = self._camera_map([pool])
            train, query, gallery = self._from_pool(pool, test_ratio, split_seed)
        super().__init__(relabel(train), query, gallery, **kwargs)

    def _scan_pool(self, folder: Path) -> Dict[str, List[Entry]]:
        """Identity name -> its images with camera labels, one entry per identity folder."""
        pool = {}
        for identity_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
            if self.camera == "subfolder":
                entries = [
                    (image, camera_dir.name)
                    for camera_dir in sorted(p for p in identity_dir.iterdir() if p.is_dir())
                    for image in list_images(camera_dir)
                ]
            else:
                entries = [
                    (image, self._camera_label(image)) for image in list_images(identity_dir)
                ]
            if entries:
                pool[identity_dir.name] = entries
        if not pool:
            raise FileNotFoundError(
                f"folder: no identity folder with images in {str(folder)!r}; "
                f"expected layout:\n{FOLDER_LAYOUT}"
            )
        return pool

    def _camera_label(self, image: Path) -> Optional[str]:
        if self.camera is None:
            return None
        match = self.pattern.search(image.name)
        if match is None:
            raise ValueError(
                f"folder: camera_pattern {self.pattern.pattern!r} not found in file name {image}"
            )
        return match.group("cam") if "cam" in self.pattern.groupindex else match.group(1)

    @staticmethod
    def _camera_map(pools) -> Dict[Optional[str], int]:
        labels = {label for pool in pools for entries in pool.values() for _, label in entries}
        if labels == {None}:
            return {None: 0}
        return {label: camid for camid, label in enumerate(sorted(labels, key=_camera_sort_key))}

    def _items(self, entries: List[Entry], pid: int, camid_offset: int = 0) -> List[Item]:
        return [(str(path), pid, self._camids[label] + camid_offset, 0) for path, label in entries]

    def _from_split_layout(self, pools: Dict[str, Dict[str, List[Entry]]]):
        train = []
        for pid, name in enumerate(sorted(pools["train"])):
            train += self._items(pools["train"][name], pid)
        test_names = sorted(set(pools["query"]) | set(pools["gallery"]))
        pid_of = {name: pid for pid, name in enumerate(test_names)}
        # Without cameras the gallery gets camid 1 so that query/gallery pairs stay comparable.
        gallery_offset = 1 if self.camera is None else 0
        query = [i for n, e in pools["query"].items() for i in self._items(e, pid_of[n])]
        gallery = [
            i
            for n, e in pools["gallery"].items()
            for i in self._items(e, pid_of[n], gallery_offset)
        ]
        return train, query, gallery

    def _from_pool(self, pool: Dict[str, List[Entry]], test_ratio: float, split_seed: int):
        names = sorted(pool)
        held_out = pick_held_out(len(names), test_ratio, split_seed, "folder")
        train, query, gallery = [], [], []
        for pid, name in enumerate(names):
            entries = pool[name]
            if not held_out[pid]:
                train += self._items(entries, pid)
            elif self.camera is None:
                num_query = len(entries) // 2
                query += self._items(entries[:num_query], pid)
                gallery += self._items(entries[num_query:], pid, camid_offset=1)
            else:
                first_of_camera = {}
                for position, (_, label) in enumerate(entries):
                    first_of_camera.setdefault(label, position)
                chosen = set(first_of_camera.values()) if len(first_of_camera) >= 2 else set()
                for position, entry in enumerate(entries):
                    (query if position in chosen else gallery).extend(self._items([entry], pid))
        return train, query, gallery
