"""Market-1501 (Zheng et al., ICCV 2015) and the shared Market-style filename parser.

Filenames look like ``0002_c1s1_000451_03.jpg``: person id ``0002``, camera ``c1`` (1-based),
then sequence/frame/box numbers. Person id ``-1`` marks junk boxes (always dropped) and ``0``
distractors (kept only in the gallery, where they make retrieval harder, as in the protocol).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, Collection, List

from .base import ImageDataset, Item, relabel
from .files import find_dataset_dir, list_images, require_images

logger = logging.getLogger(__name__)

MARKET_STYLE_NAME = re.compile(r"^(-?\d+)_c(\d+)")

MARKET1501_LAYOUT = """\
  <root>/market1501/                 (or <root>/market1501/Market-1501-v15.09.15/, or <root>)
      bounding_box_train/0002_c1s1_000451_03.jpg ...
      query/0001_c1s1_001051_00.jpg ...
      bounding_box_test/0000_c1s1_000151_01.jpg ...
      images/                        (only with market1501_500k=True: the 500k distractors)"""


def parse_market_style(directory: Path, drop_pids: Collection[int], dataset: str) -> List[Item]:
    """Parse ``<pid>_c<cam>...`` image names in ``directory`` into ``(path, pid, camid, 0)``.

    Args:
        directory: Folder of images.
        drop_pids: Person ids to leave out (e.g. ``{-1}`` junk, ``{-1, 0}`` outside the gallery).
        dataset: Dataset name for messages.

    Returns:
        Items in filename order with 0-based camids and the original pids.

    Raises:
        ValueError: A filename has camera number 0 (cameras are numbered from 1).
    """
    items = []
    unmatched = []
    for path in list_images(directory):
        match = MARKET_STYLE_NAME.match(path.name)
        if match is None:
            unmatched.append(path.name)
            continue
        pid, camera = int(match.group(1)), int(match.group(2))
        if pid in drop_pids:
            continue
        if camera < 1:
            raise ValueError(f"{dataset}: camera numbers start at 1, got c{camera} in {path}")
        items.append((str(path), pid, camera - 1, 0))
    if unmatched:
        logger.warning(
            "%s: ignored %d file(s) in %s not named <pid>_c<camera>... (e.g. %s)",
            dataset,
            len(unmatched),
            directory,
            unmatched[0],
        )
    return items


class Market1501(ImageDataset):
    """Market-1501: 1,501 identities from 6 cameras (751 train, 750 test).

    Args:
        root: Folder holding ``market1501/`` (or that folder itself); see the layout above.
        market1501_500k: Add the 500k distractor images of ``images/`` to the gallery.
        **kwargs: ``transform``, ``mode``, ``combineall``, ``verbose`` (see ImageDataset).

    Raises:
        FileNotFoundError: ``root`` or a required sub-folder is missing, or a subset is empty.
    """

    _junk_pids = (0, -1)
    dataset_dir = "market1501"

    def __init__(self, root: str = "", market1501_500k: bool = False, **kwargs: Any):
        required = ["bounding_box_train", "query", "bounding_box_test"]
        if market1501_500k:
            required.append("images")
        data_dir = find_dataset_dir(
            root,
            "market1501",
            [
                f"{self.dataset_dir}/Market-1501-v15.09.15",
                self.dataset_dir,
                "Market-1501-v15.09.15",
                ".",
            ],
            required,
            MARKET1501_LAYOUT,
        )
        train = parse_market_style(data_dir / "bounding_box_train", {-1, 0}, "market1501")
        query = parse_market_style(data_dir / "query", {-1, 0}, "market1501")
        gallery = parse_market_style(data_dir / "bounding_box_test", {-1}, "market1501")
        if market1501_500k:
            gallery += parse_market_style(data_dir / "images", {-1}, "market1501")
        for subset, items, folder in (
            ("train", train, "bounding_box_train"),
            ("query", query, "query"),
            ("gallery", gallery, "bounding_box_test"),
        ):
            require_images(items, "market1501", subset, data_dir / folder, MARKET1501_LAYOUT)
        self.data_dir = data_dir
        super().__init__(relabel(train), query, gallery, **kwargs)
