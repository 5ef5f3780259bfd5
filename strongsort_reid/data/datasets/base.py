"""The image-dataset base class: torchreid's train/query/gallery lists, relabelling, combineall.

Every subset is a list of ``(img_path, pid, camid, dsetid)`` tuples (torchreid >= 1.4 layout):

* ``img_path`` (str): absolute path of the image file.
* ``pid`` (int): identity label. In ``train`` it is relabelled to ``0..num_train_pids-1``;
  in ``query``/``gallery`` it keeps the dataset's original number so they can be matched.
* ``camid`` (int): 0-based camera index.
* ``dsetid`` (int): index of the source dataset (0 for a single dataset; shifted when training
  sets are combined with ``+``).

3-tuples ``(img_path, pid, camid)`` (torchreid < 1.4) are accepted and get ``dsetid = 0``.
"""

from __future__ import annotations

import copy
import logging
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image
from torch.utils.data import Dataset

logger = logging.getLogger(__name__)

Item = Tuple[str, int, int, int]
SUBSETS = ("train", "query", "gallery")

# Options that ImageDataManager passes to every dataset; a dataset that has no use for one
# ignores it (as torchreid's datasets do). Any other unknown keyword is an error.
SHARED_OPTIONS = frozenset(
    {"split_id", "cuhk03_labeled", "cuhk03_classic_split", "market1501_500k"}
)

# Consecutive undecodable files tolerated for one sample before giving up: beyond this the
# dataset is broken, not noisy, and an error is more useful than an endless search.
MAX_REPLACEMENT_ATTEMPTS = 100

# Exceptions Pillow raises for missing, truncated or corrupt files. ImportError too: once
# ultralytics is imported (the tracker's detector) it patches ``Image.open`` to import the
# optional pi-heif plugin on any file Pillow cannot identify, which then fails this way.
DECODE_ERRORS = (OSError, ValueError, SyntaxError, ImportError, Image.DecompressionBombError)


def read_image_rgb(path: str) -> Image.Image:
    """Decode an image file completely into an RGB PIL image (``convert`` forces the decode,
    so truncated files fail here rather than inside a transform)."""
    with Image.open(path) as image:
        return image.convert("RGB")


def as_items(data: Iterable[Sequence], subset: str) -> List[Item]:
    """Normalise a subset to ``(img_path, pid, camid, dsetid)`` tuples of ``(str, int, int, int)``.

    Raises:
        ValueError: An entry has neither 3 nor 4 fields.
    """
    items = []
    for position, entry in enumerate(data):
        if len(entry) == 3:
            path, pid, camid = entry
            dsetid = 0
        elif len(entry) == 4:
            path, pid, camid, dsetid = entry
        else:
            raise ValueError(
                f"{subset}[{position}] must be (img_path, pid, camid[, dsetid]), got {entry!r}"
            )
        items.append((str(path), int(pid), int(camid), int(dsetid)))
    return items


def relabel(items: Sequence[Item]) -> List[Item]:
    """Map pids to ``0..N-1`` in ascending order of the original pid."""
    pid2label = {pid: label for label, pid in enumerate(sorted({item[1] for item in items}))}
    return [(path, pid2label[pid], camid, dsetid) for path, pid, camid, dsetid in items]


def count_unique(items: Sequence[Item], field: int) -> int:
    """Number of distinct values of tuple field ``field`` (1 = pid, 2 = camid, 3 = dsetid)."""
    return len({item[field] for item in items})


def pick_held_out(num_identities: int, test_ratio: float, seed: int, dataset: str) -> np.ndarray:
    """Choose identities for query/gallery: a seeded random ``round(n * test_ratio)`` of them,
    at least one when ``test_ratio > 0`` and never all (training needs an identity).

    Returns:
        ``(num_identities,)`` bool mask, True = held out.

    Raises:
        ValueError: ``test_ratio`` is outside ``[0, 1)``, or it is > 0 with < 2 identities.
    """
    if not 0.0 <= test_ratio < 1.0:
        raise ValueError(f"test_ratio must be in [0, 1), got {test_ratio}")
    held_out = np.zeros(num_identities, dtype=bool)
    if test_ratio == 0:
        return held_out
    if num_identities < 2:
        raise ValueError(
            f"{dataset}: test_ratio={test_ratio} needs >= 2 identities, found {num_identities}"
        )
    num_test = min(max(1, round(num_identities * test_ratio)), num_identities - 1)
    held_out[np.random.default_rng(seed).permutation(num_identities)[:num_test]] = True
    return held_out


def _next_free(items: Sequence[Item], field: int) -> int:
    """One past the largest value of ``field`` (0 for no items): a collision-free offset."""
    return max((item[field] for item in items), default=-1) + 1


class ImageDataset(Dataset):
    """Train/query/gallery lists of one (or several combined) image ReID datasets.

    Args:
        train, query, gallery: Lists of ``(img_path, pid, camid[, dsetid])``.
        transform: Callable applied to the RGB PIL image (e.g. from ``build_transforms``).
        mode: Which subset indexing reads: ``"train"``, ``"query"`` or ``"gallery"``.
        combineall: Add the query and gallery identities to ``train`` (see :meth:`combine_all`).
        verbose: Print the subset table.
        **kwargs: Only the options ImageDataManager passes to every dataset (ignored here).

    Attributes:
        num_train_pids, num_train_cams, num_datasets: Distinct pids/camids/dsetids in ``train``.
        data: The subset selected by ``mode``.
        num_skipped: Distinct undecodable files met by this process (see ``__getitem__``).

    Subclasses parse their folder layout into the three lists and call ``super().__init__``;
    ``_junk_pids`` lists pids that ``combineall`` must not turn into training identities.
    """

    _junk_pids: Tuple[int, ...] = ()

    def __init__(
        self,
        train: Iterable[Sequence],
        query: Iterable[Sequence],
        gallery: Iterable[Sequence],
        transform: Optional[Callable] = None,
        mode: str = "train",
        combineall: bool = False,
        verbose: bool = True,
        **kwargs: Any,
    ):
        unknown = set(kwargs) - SHARED_OPTIONS
        if unknown:
            raise TypeError(
                f"{type(self).__name__}: unexpected keyword argument(s) {sorted(unknown)}"
            )
        self.train = as_items(train, "train")
        self.query = as_items(query, "query")
        self.gallery = as_items(gallery, "gallery")
        self.transform = transform
        self._update_train_counts()
        if combineall:
            self.combine_all()
        self._select(mode)
        if verbose:
            self.show_summary()

    def _update_train_counts(self) -> None:
        self.num_train_pids = count_unique(self.train, 1)
        self.num_train_cams = count_unique(self.train, 2)
        self.num_datasets = count_unique(self.train, 3)

    def _select(self, mode: str) -> None:
        if mode not in SUBSETS:
            raise ValueError(f"mode must be one of {SUBSETS}, got {mode!r}")
        self.mode = mode
        self.data: List[Item] = getattr(self, mode)
        self.num_skipped = 0
        self._bad_paths: set = set()
        self._indices_of_pid: Optional[Dict[int, List[int]]] = None

    def with_mode(self, mode: str, transform: Optional[Callable] = None) -> ImageDataset:
        """A shallow copy that reads subset ``mode`` with ``transform`` (no re-parsing)."""
        view = copy.copy(self)
        view.transform = transform
        view._select(mode)
        return view

    def combine_all(self) -> None:
        """Append the query and gallery images to ``train`` as extra identities.

        Their pids (junk pids excluded) are relabelled to follow the train pids, so query and
        gallery images of one person share one new label; camids are kept.
        """
        extra = [item for item in self.query + self.gallery if item[1] not in self._junk_pids]
        offset = _next_free(self.train, 1)
        new_pids = sorted({item[1] for item in extra})
        pid2label = {pid: offset + label for label, pid in enumerate(new_pids)}
        self.train = self.train + [(p, pid2label[pid], c, d) for p, pid, c, d in extra]
        self._update_train_counts()

    def __add__(self, other: ImageDataset) -> ImageDataset:
        """Union of the training sets; ``other``'s pids, camids and dsetids are shifted past
        ``self``'s so identities never collide. Query/gallery are ``self``'s (unused for training).
        """
        pid_offset = _next_free(self.train, 1)
        cam_offset = _next_free(self.train, 2)
        dset_offset = _next_free(self.train, 3)
        shifted = [
            (p, pid + pid_offset, c + cam_offset, d + dset_offset) for p, pid, c, d in other.train
        ]
        return ImageDataset(
            self.train + shifted,
            self.query,
            self.gallery,
            transform=self.transform,
            mode=self.mode,
            verbose=False,
        )

    def __radd__(self, other: Any) -> ImageDataset:
        # sum(datasets) starts from 0.
        return self if isinstance(other, int) and other == 0 else self.__add__(other)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> Dict[str, Any]:
        """One sample of the current subset.

        Returns:
            ``{"img": transform(RGB PIL image) (a float32 (3, H, W) tensor with the standard
            transforms), "pid": int, "camid": int, "impath": str, "dsetid": int,
            "skipped": int}``. When a file cannot be decoded it is logged once, counted, and
            replaced by another image of the same identity (or, failing that, a neighbouring
            sample), so an epoch never crashes on a bad file; the returned labels and path are
            those of the image actually loaded, and ``skipped`` says how many files were passed
            over for this sample (count the samples with ``skipped > 0`` over the batches to
            count undecodable draws across DataLoader workers).

        Raises:
            RuntimeError: ``MAX_REPLACEMENT_ATTEMPTS`` files in a row failed to decode.
        """
        candidate = index
        for skipped in range(MAX_REPLACEMENT_ATTEMPTS):
            path, pid, camid, dsetid = self.data[candidate]
            image = self._try_read(path)
            if image is not None:
                break
            candidate = self._replacement(index, skipped + 1)
        else:
            raise RuntimeError(
                f"{MAX_REPLACEMENT_ATTEMPTS} images in a row failed to decode around index "
                f"{index} of {type(self).__name__} ({self.mode}); the dataset looks broken"
            )
        if self.transform is not None:
            image = self.transform(image)
        return {
            "img": image,
            "pid": pid,
            "camid": camid,
            "impath": path,
            "dsetid": dsetid,
            "skipped": skipped,
        }

    def _try_read(self, path: str) -> Optional[Image.Image]:
        if path in self._bad_paths:
            return None
        try:
            return read_image_rgb(path)
        except DECODE_ERRORS as error:
            self._bad_paths.add(path)
            self.num_skipped += 1
            logger.warning(
                "skipping undecodable image %s (%s); %d skipped so far in %s/%s",
                path,
                error,
                self.num_skipped,
                type(self).__name__,
                self.mode,
            )
            return None

    def _replacement(self, index: int, attempt: int) -> int:
        """The ``attempt``-th substitute for sample ``index``: first the other images of the
        same pid (keeps P x K identity batches intact), then the following samples."""
        if self._indices_of_pid is None:
            self._indices_of_pid = {}
            for position, item in enumerate(self.data):
                self._indices_of_pid.setdefault(item[1], []).append(position)
        same_pid = self._indices_of_pid[self.data[index][1]]
        if attempt < len(same_pid):
            return same_pid[(same_pid.index(index) + attempt) % len(same_pid)]
        return (index + attempt) % len(self.data)

    def summary_table(self) -> str:
        """torchreid's subset table (``# ids``, ``# images``, ``# cameras`` per subset)."""
        rule = "  " + "-" * 40
        lines = [f"=> Loaded {type(self).__name__}", rule]
        lines.append("  subset   | # ids | # images | # cameras")
        lines.append(rule)
        for subset in SUBSETS:
            items = getattr(self, subset)
            lines.append(
                f"  {subset:<8} | {count_unique(items, 1):5d} | {len(items):8d} | "
                f"{count_unique(items, 2):9d}"
            )
        lines.append(rule)
        return "\n".join(lines)

    def show_summary(self) -> None:
        """Print :meth:`summary_table` (user-facing output, as torchreid does)."""
        print(self.summary_table())
