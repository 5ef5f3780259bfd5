"""CUHK03 (Li et al., CVPR 2014) from its extracted image folders.

Images are named ``<camera pair>_<pid>_<view>_<image>.png`` (``1_001_1_01.png``); the view
(1 or 2) becomes the 0-based camid, as in torchreid.

Splits, in order of preference:

* new protocol (Zhong et al., CVPR 2017; 767 train / 700 test identities):
  ``cuhk03_new_protocol_config_{labeled,detected}.mat`` (the files published with the
  protocol, read with scipy) or torchreid's ``splits_new_{labeled,detected}.json``;
* classic protocol (``cuhk03_classic_split=True``, 20 random 1,367/100 splits): torchreid's
  ``splits_classic_{labeled,detected}.json``.

Extracting ``images_*`` and the classic splits from the raw ``cuhk-03.mat`` (a MATLAB v7.3 /
HDF5 file) needs ``h5py`` and is not done here: run torchreid once, or any extraction script
that writes the layout below. Image paths stored in torchreid's JSON files are absolute paths
of the machine that wrote them; only their file names are used, under ``images_*/``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

import numpy as np

from .base import ImageDataset, Item, relabel
from .files import find_dataset_dir, require_images

CUHK03_LAYOUT = """\
  <root>/cuhk03/                     (or <root> itself)
      images_labeled/1_001_1_01.png ...   (images extracted from cuhk-03.mat)
      images_detected/1_001_1_01.png ...
      cuhk03_new_protocol_config_labeled.mat  cuhk03_new_protocol_config_detected.mat
        (or torchreid's splits_new_labeled.json  splits_new_detected.json)
      splits_classic_labeled.json  splits_classic_detected.json   (cuhk03_classic_split=True)"""


def camid_from_name(name: str) -> int:
    """0-based camera (view) of ``<pair>_<pid>_<view>_<image>.png``.

    Raises:
        ValueError: The name does not have that form.
    """
    try:
        return int(name.split("_")[2]) - 1
    except (IndexError, ValueError):
        raise ValueError(
            f"cuhk03: image name {name!r} is not <pair>_<pid>_<view>_<image>.png"
        ) from None


def _mat_vector(mat: Dict[str, Any], key: str, path: Path) -> np.ndarray:
    if key not in mat:
        raise ValueError(f"cuhk03: {path} has no {key!r} entry (not a new-protocol config file)")
    return np.asarray(mat[key]).ravel()


def read_new_protocol_mat(path: Path, image_dir: Path) -> Dict[str, List[Item]]:
    """Read a ``cuhk03_new_protocol_config_*.mat`` into train/query/gallery items.

    The file holds ``filelist`` (image names), ``labels`` (pids) and the 1-based index vectors
    ``train_idx``, ``query_idx``, ``gallery_idx`` into them.
    """
    from scipy.io import loadmat

    mat = loadmat(str(path))
    names = [str(np.asarray(entry).ravel()[0]) for entry in _mat_vector(mat, "filelist", path)]
    labels = _mat_vector(mat, "labels", path).astype(np.int64)
    split = {}
    for subset in ("train", "query", "gallery"):
        indices = _mat_vector(mat, f"{subset}_idx", path).astype(np.int64) - 1
        split[subset] = [
            (str(image_dir / names[i]), int(labels[i]), camid_from_name(names[i]), 0)
            for i in indices
        ]
    return split


def read_split_json(path: Path, image_dir: Path, split_id: int) -> Dict[str, List[Item]]:
    """Read split ``split_id`` of a torchreid CUHK03 split JSON, re-rooting image paths.

    Raises:
        ValueError: ``split_id`` is out of range or the file is not a list of splits.
    """
    splits = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(splits, list) or not all(isinstance(s, dict) for s in splits):
        raise ValueError(f"cuhk03: {path} is not a list of train/query/gallery splits")
    if not 0 <= split_id < len(splits):
        raise ValueError(f"split_id must be in [0, {len(splits) - 1}] for {path}, got {split_id}")
    split = {}
    for subset in ("train", "query", "gallery"):
        split[subset] = [
            (str(image_dir / Path(entry[0]).name), int(entry[1]), int(entry[2]), 0)
            for entry in splits[split_id][subset]
        ]
    return split


class CUHK03(ImageDataset):
    """CUHK03, new (default) or classic protocol, labeled or detected boxes.

    Args:
        root: Folder holding ``cuhk03/`` (or that folder itself); see the layout above.
        split_id: Which split of a multi-split file (the new protocol has one: 0).
        cuhk03_labeled: Use the hand-labelled boxes instead of the detected ones.
        cuhk03_classic_split: Use torchreid's classic 20-split JSON instead of the new protocol.
        **kwargs: ``transform``, ``mode``, ``combineall``, ``verbose`` (see ImageDataset).

    Raises:
        FileNotFoundError: The image folder or split file is missing, or listed images are.
        ValueError: ``split_id`` is out of range or a split file is malformed.
    """

    dataset_dir = "cuhk03"

    def __init__(
        self,
        root: str = "",
        split_id: int = 0,
        cuhk03_labeled: bool = False,
        cuhk03_classic_split: bool = False,
        **kwargs: Any,
    ):
        kind = "labeled" if cuhk03_labeled else "detected"
        image_folder = f"images_{kind}"
        data_dir = find_dataset_dir(
            root, "cuhk03", [self.dataset_dir, "."], [image_folder], CUHK03_LAYOUT
        )
        image_dir = data_dir / image_folder
        if cuhk03_classic_split:
            candidates = [data_dir / f"splits_classic_{kind}.json"]
        else:
            candidates = [
                data_dir / f"cuhk03_new_protocol_config_{kind}.mat",
                data_dir / f"splits_new_{kind}.json",
            ]
        split_path = next((p for p in candidates if p.is_file()), None)
        if split_path is None:
            raise FileNotFoundError(
                f"cuhk03: no split file found (looked for {[str(p) for p in candidates]}); "
                f"expected layout:\n{CUHK03_LAYOUT}"
            )
        if split_path.suffix == ".mat":
            if split_id != 0:
                raise ValueError(f"split_id must be 0 for the new protocol, got {split_id}")
            split = read_new_protocol_mat(split_path, image_dir)
        else:
            split = read_split_json(split_path, image_dir, split_id)
        for subset in ("train", "query", "gallery"):
            require_images(split[subset], "cuhk03", subset, split_path, CUHK03_LAYOUT)
            missing = [p for p, *_ in split[subset] if not Path(p).is_file()]
            if missing:
                raise FileNotFoundError(
                    f"cuhk03: {len(missing)} {subset} image(s) listed in {split_path} are missing "
                    f"from {image_dir} (first: {missing[0]}); expected layout:\n{CUHK03_LAYOUT}"
                )
        self.data_dir = data_dir
        self.split_path = split_path
        super().__init__(relabel(split["train"]), split["query"], split["gallery"], **kwargs)
