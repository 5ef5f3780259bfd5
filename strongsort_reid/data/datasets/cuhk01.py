"""CUHK01 (Li et al., ACCV 2012) with torchreid's protocol.

971 identities seen by two camera views, two images per view: ``campus/PPPPNNN.png`` with
person ``PPPP`` (1-based) and image ``NNN``: 001-002 camera A (camid 0), 003-004 camera B
(camid 1). As in torchreid, ``pid = PPPP - 1`` and ``camid = (NNN - 1) // 2``.

Splits (torchreid's ``CUHK01.prepare_split``): 10 random permutations of the identities; each
gives ``num_ids // 2`` = 485 training identities (all four images, relabelled ``0..484`` in
pid order) and 486 test identities, and two splits: even ``split_id`` = camera A images query,
camera B images gallery; odd ``split_id`` = the reverse. So ``split_id`` is in ``[0, 19]``.
Evaluation is torchreid's default (Market-1501 style, not ``use_metric_cuhk03``): every query
is ranked against all 972 gallery images (two per test identity).

Which split file:

* ``split_file`` given: that torchreid-format ``splits.json``.
* else ``<dataset folder>/splits.json`` when present (what torchreid wrote there), so a folder
  torchreid already used gives torchreid's exact splits;
* else the splits are generated in memory, nothing is written (the data set folder may be
  read-only and a hidden cache file could go stale): the permutations come from
  ``numpy.random.RandomState(split_seed)``, whose stream NumPy keeps frozen across versions, so
  ``split_id`` k is the same split on every machine. The default seed 1 is torchreid's default
  ``train.seed``; torchreid's ``scripts/main.py`` seeds NumPy's global generator with it before
  building the data sets, so its first run writes these very splits when no other NumPy draw
  comes first. :meth:`CUHK01.save_splits` writes all 20 splits in torchreid's format for
  torchreid or other tools.

Image paths in a torchreid JSON are absolute paths of the machine that wrote it; only their file
names are used, under ``campus/``.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

import numpy as np

from strongsort_reid.utils.atomic import atomic_write_text

from .base import ImageDataset, Item, relabel
from .files import find_dataset_dir, list_images, require_images

logger = logging.getLogger(__name__)

CUHK01_LAYOUT = """\
  <root>/cuhk01/ or <root>/CUHK01/   (or <root> itself)
      campus/0001001.png ... 0971004.png  (PPPPNNN.png: NNN 001-002 camera A, 003-004 camera B)
      splits.json                          (optional: torchreid's splits, used when present)"""

CAMPUS_NAME = re.compile(r"^(\d{4})(\d{3})\.png$", re.IGNORECASE)
NUM_PERMUTATIONS = 10  # torchreid: 10 random train/test partitions, 2 query directions each
NUM_SPLITS = 2 * NUM_PERMUTATIONS
DEFAULT_SPLIT_SEED = 1  # torchreid's default train.seed

Split = Dict[str, List[Item]]


def parse_campus(campus_dir: Path) -> List[Item]:
    """List ``campus/PPPPNNN.png`` as ``(path, PPPP - 1, (NNN - 1) // 2, 0)`` in name order.

    Raises:
        ValueError: An image number is outside 1..4 (four images per person).
    """
    items = []
    unmatched = []
    for path in list_images(campus_dir):
        match = CAMPUS_NAME.match(path.name)
        if match is None:
            unmatched.append(path.name)
            continue
        person, image = int(match.group(1)), int(match.group(2))
        if not 1 <= image <= 4:
            raise ValueError(f"cuhk01: image number {image:03d} of {path} is not in 001..004")
        items.append((str(path), person - 1, (image - 1) // 2, 0))
    if unmatched:
        logger.warning(
            "cuhk01: ignored %d file(s) in %s not named PPPPNNN.png (e.g. %s)",
            len(unmatched),
            campus_dir,
            unmatched[0],
        )
    return items


def generate_split(items: List[Item], split_id: int, seed: int = DEFAULT_SPLIT_SEED) -> Split:
    """Split ``split_id`` of torchreid's protocol, drawn from ``RandomState(seed)``.

    Permutation ``split_id // 2`` of the sorted identities is the ``split_id // 2 + 1``-th
    ``permutation`` call (torchreid's ``np.random.shuffle(np.arange(n))`` draws the same
    numbers); its first ``n // 2`` identities train. Even ``split_id``: query = camera A
    (camid 0), gallery = camera B; odd: the reverse.

    Raises:
        ValueError: ``split_id`` is outside ``[0, NUM_SPLITS)`` or there are < 2 identities.
    """
    check_split_id(split_id, NUM_SPLITS, "the generated splits")
    pids = sorted({item[1] for item in items})
    if len(pids) < 2:
        raise ValueError(f"cuhk01: a train/test split needs >= 2 identities, found {len(pids)}")
    rng = np.random.RandomState(seed)
    for _ in range(split_id // 2 + 1):
        order = rng.permutation(len(pids))
    train_pids = {pids[i] for i in order[: len(pids) // 2]}
    train = relabel([item for item in items if item[1] in train_pids])
    test = [item for item in items if item[1] not in train_pids]
    query_cam = split_id % 2
    return {
        "train": train,
        "query": [item for item in test if item[2] == query_cam],
        "gallery": [item for item in test if item[2] != query_cam],
    }


def check_split_id(split_id: int, num_splits: int, source: str) -> None:
    """Raise ``ValueError`` unless ``0 <= split_id < num_splits``."""
    if not 0 <= split_id < num_splits:
        raise ValueError(
            f"cuhk01: split_id must be in [0, {num_splits - 1}] for {source}, got {split_id}"
        )


def read_split_json(path: Path, campus_dir: Path, split_id: int) -> Split:
    """Split ``split_id`` of a torchreid ``splits.json``, re-rooting paths under ``campus_dir``.

    Raises:
        ValueError: The file is not a list of train/query/gallery splits, or ``split_id`` is
            out of its range.
    """
    splits = json.loads(path.read_text(encoding="utf-8"))
    subsets = ("train", "query", "gallery")
    if not isinstance(splits, list) or not all(
        isinstance(s, dict) and all(k in s for k in subsets) for s in splits
    ):
        raise ValueError(f"cuhk01: {path} is not a list of train/query/gallery splits")
    check_split_id(split_id, len(splits), str(path))
    return {
        subset: [
            (str(campus_dir / Path(entry[0]).name), int(entry[1]), int(entry[2]), 0)
            for entry in splits[split_id][subset]
        ]
        for subset in subsets
    }


class CUHK01(ImageDataset):
    """CUHK01: 971 identities, two camera views, torchreid's 485/486 random splits.

    Args:
        root: Folder holding ``cuhk01/`` or ``CUHK01/`` (or that folder itself); see the layout
            above. ``../shared/data/reid-datasets`` works.
        split_id: Split in ``[0, 19]`` (even: camera A queries camera B; odd: B queries A),
            or in the range of ``split_file``.
        split_file: A torchreid-format ``splits.json`` to use instead of generated splits
            (default: ``<dataset folder>/splits.json`` when it exists).
        split_seed: Seed of the generated splits (ignored with a split file).
        **kwargs: ``transform``, ``mode``, ``combineall``, ``verbose`` (see ImageDataset).

    Attributes:
        data_dir: The dataset folder found under ``root``.
        split_source: The split file read, or ``None`` for generated splits.

    Raises:
        FileNotFoundError: ``campus/`` is missing or empty, or images listed in a split file
            are missing.
        ValueError: ``split_id`` is out of range, or a split file or image name is malformed.
    """

    dataset_dir = "cuhk01"

    def __init__(
        self,
        root: str = "",
        split_id: int = 0,
        split_file: Optional[str] = None,
        split_seed: int = DEFAULT_SPLIT_SEED,
        **kwargs: Any,
    ):
        data_dir = find_dataset_dir(
            root, "cuhk01", [self.dataset_dir, "CUHK01", "."], ["campus"], CUHK01_LAYOUT
        )
        campus_dir = data_dir / "campus"
        items = parse_campus(campus_dir)
        require_images(items, "cuhk01", "whole", campus_dir, CUHK01_LAYOUT)
        default_file = data_dir / "splits.json"
        if split_file is not None:
            split_path: Optional[Path] = Path(split_file).expanduser()
            if not split_path.is_file():
                raise FileNotFoundError(f"cuhk01: split_file {str(split_path)!r} does not exist")
        else:
            split_path = default_file if default_file.is_file() else None
        if split_path is None:
            split = generate_split(items, split_id, split_seed)
        else:
            logger.info("cuhk01: reading split %d from %s", split_id, split_path)
            split = read_split_json(split_path, campus_dir, split_id)
            self._check_listed_images(split, split_path, campus_dir)
        for subset in ("train", "query", "gallery"):
            require_images(split[subset], "cuhk01", subset, campus_dir, CUHK01_LAYOUT)
        self.data_dir = data_dir
        self.split_source = split_path
        self._items = items
        self._split_seed = split_seed
        super().__init__(split["train"], split["query"], split["gallery"], **kwargs)

    @staticmethod
    def _check_listed_images(split: Split, split_path: Path, campus_dir: Path) -> None:
        for subset, subset_items in split.items():
            missing = [p for p, *_ in subset_items if not Path(p).is_file()]
            if missing:
                raise FileNotFoundError(
                    f"cuhk01: {len(missing)} {subset} image(s) listed in {split_path} are "
                    f"missing from {campus_dir} (first: {missing[0]})"
                )

    def save_splits(self, path: Union[str, Path]) -> Path:
        """Write the 20 generated splits (this dataset's ``split_seed``) to ``path`` atomically
        in torchreid's ``splits.json`` format (``[path, pid, camid]`` lists plus the id counts),
        e.g. to run torchreid on the same splits. Returns ``path``."""
        splits = []
        for split_id in range(NUM_SPLITS):
            split = generate_split(self._items, split_id, self._split_seed)
            entry: Dict[str, Any] = {
                subset: [list(item[:3]) for item in split[subset]]
                for subset in ("train", "query", "gallery")
            }
            entry.update(
                {f"num_{subset}_pids": len({item[1] for item in split[subset]}) for subset in entry}
            )
            splits.append(entry)
        return atomic_write_text(path, json.dumps(splits))
