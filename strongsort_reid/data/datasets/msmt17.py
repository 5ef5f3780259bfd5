"""MSMT17 (Wei et al., CVPR 2018): 4,101 identities from 15 cameras, split by list files.

Each line of a list file is ``<relative image path> <pid>``, e.g.
``0000/0000_000_01_0303morning_0015_0.jpg 0``; the third ``_``-separated field of the file
name is the 1-based camera. ``list_val.txt`` holds more images of training identities; it is
added to ``train`` only with ``combineall=True`` (the published protocol trains on
``list_train.txt`` alone).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, List

from .base import ImageDataset, Item, relabel
from .files import check_root, require_images

MSMT17_LAYOUT = """\
  <root>/msmt17/MSMT17_V1/        (or <root>/msmt17/MSMT17_V2/ with mask_train_v2/ and
                                   mask_test_v2/ instead of train/ and test/; <root> may also
                                   be the msmt17/ or MSMT17_V?/ folder itself)
      train/0000/0000_000_01_0303morning_0015_0.jpg ...
      test/0000/0000_000_01_0303morning_0036_1.jpg ...
      list_train.txt  list_val.txt  list_query.txt  list_gallery.txt"""

# (version folder, train image folder, test image folder)
MSMT17_VERSIONS = (
    ("MSMT17_V1", "train", "test"),
    ("MSMT17_V2", "mask_train_v2", "mask_test_v2"),
)
LIST_FILES = ("list_train.txt", "list_val.txt", "list_query.txt", "list_gallery.txt")


def parse_list_file(list_path: Path, image_dir: Path) -> List[Item]:
    """Read ``<relative path> <pid>`` lines into ``(path, pid, camid, 0)`` items.

    Raises:
        ValueError: A line does not have two fields, the pid is not an integer, or the file
            name has no camera field.
    """
    items = []
    for number, line in enumerate(list_path.read_text(encoding="utf-8").splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        try:
            relative, pid = fields[0], int(fields[1])
            camera = int(Path(relative).name.split("_")[2])
        except (IndexError, ValueError):
            raise ValueError(
                f"{list_path}:{number}: expected '<dir>/<pid>_<idx>_<camera>_... <pid>', "
                f"got {line!r}"
            ) from None
        items.append((str(image_dir / relative), pid, camera - 1, 0))
    return items


def _find_version_dir(root: Path):
    """The version folder holding the list files and its (train, test) image folders."""
    for version, train_dir, test_dir in MSMT17_VERSIONS:
        for folder in (root / "msmt17" / version, root / version, root):
            if all((folder / name).is_file() for name in LIST_FILES) and (
                (folder / train_dir).is_dir() and (folder / test_dir).is_dir()
            ):
                return folder.resolve(), train_dir, test_dir
    raise FileNotFoundError(
        f"msmt17: no MSMT17_V1/ or MSMT17_V2/ folder with {list(LIST_FILES)} found under "
        f"root={str(root)!r}; expected layout:\n{MSMT17_LAYOUT}"
    )


class MSMT17(ImageDataset):
    """MSMT17 with its list-file split (1,041 train / 3,060 test identities).

    Args:
        root: Folder holding ``msmt17/`` (or the version folder itself); see the layout above.
        combineall: Also train on ``list_val.txt`` and on the query/gallery identities.
        **kwargs: ``transform``, ``mode``, ``verbose`` (see ImageDataset).

    Raises:
        FileNotFoundError: ``root``, a list file or an image folder is missing, or a list is
            empty.
    """

    def __init__(self, root: str = "", combineall: bool = False, **kwargs: Any):
        data_dir, train_dir, test_dir = _find_version_dir(check_root(root, "msmt17", MSMT17_LAYOUT))
        subsets = {}
        for subset, image_dir in (
            ("train", train_dir),
            ("val", train_dir),
            ("query", test_dir),
            ("gallery", test_dir),
        ):
            list_path = data_dir / f"list_{subset}.txt"
            subsets[subset] = parse_list_file(list_path, data_dir / image_dir)
            if subset != "val":
                require_images(subsets[subset], "msmt17", subset, list_path, MSMT17_LAYOUT)
        train = subsets["train"] + (subsets["val"] if combineall else [])
        self.data_dir = data_dir
        super().__init__(
            relabel(train), subsets["query"], subsets["gallery"], combineall=combineall, **kwargs
        )
