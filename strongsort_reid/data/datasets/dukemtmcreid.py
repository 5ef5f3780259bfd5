"""DukeMTMC-reID (Ristani et al. 2016; Zheng et al., ICCV 2017).

Filenames look like ``0001_c2_f0046182.jpg``: person id, camera ``c1``..``c8`` (1-based), frame.
There are no junk or distractor ids; the gallery holds 408 distractor identities under their
own ids.
"""

from __future__ import annotations

from typing import Any

from .base import ImageDataset, relabel
from .files import find_dataset_dir, require_images
from .market1501 import parse_market_style

DUKE_LAYOUT = """\
  <root>/dukemtmc-reid/DukeMTMC-reID/   (or <root>/dukemtmc-reid/, <root>/DukeMTMC-reID/, <root>)
      bounding_box_train/0001_c2_f0046182.jpg ...
      query/0005_c2_f0046985.jpg ...
      bounding_box_test/0002_c1_f0044158.jpg ..."""


class DukeMTMCreID(ImageDataset):
    """DukeMTMC-reID: 1,404 identities from 8 cameras (702 train, 702 test) + distractors.

    Args:
        root: Folder holding ``dukemtmc-reid/`` (or that folder itself); see the layout above.
        **kwargs: ``transform``, ``mode``, ``combineall``, ``verbose`` (see ImageDataset).

    Raises:
        FileNotFoundError: ``root`` or a required sub-folder is missing, or a subset is empty.
    """

    dataset_dir = "dukemtmc-reid"

    def __init__(self, root: str = "", **kwargs: Any):
        data_dir = find_dataset_dir(
            root,
            "dukemtmcreid",
            [f"{self.dataset_dir}/DukeMTMC-reID", self.dataset_dir, "DukeMTMC-reID", "."],
            ["bounding_box_train", "query", "bounding_box_test"],
            DUKE_LAYOUT,
        )
        subsets = {}
        for subset, folder in (
            ("train", "bounding_box_train"),
            ("query", "query"),
            ("gallery", "bounding_box_test"),
        ):
            subsets[subset] = parse_market_style(data_dir / folder, {-1}, "dukemtmcreid")
            require_images(subsets[subset], "dukemtmcreid", subset, data_dir / folder, DUKE_LAYOUT)
        self.data_dir = data_dir
        super().__init__(relabel(subsets["train"]), subsets["query"], subsets["gallery"], **kwargs)
