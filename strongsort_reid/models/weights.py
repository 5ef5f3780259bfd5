"""The named-weights catalogue: published ReID checkpoints, where to find them, their architecture.

* :func:`register_weights` / :func:`get_weights_entry` / :func:`available_weights`: the
  catalogue (each architecture file registers its checkpoints, timm-style, next to the model);
* :func:`resolve_weights`: a weight name or path -> a file on disk (explicit path -> user cache
  -> the models bundled with the package -> download, see :mod:`strongsort_reid.utils.download`);
  :func:`find_local` is the same without the download (and without checks);
* how a file is checked: an entry with a published ``sha256`` (:attr:`WeightsEntry.verified`)
  is checksum-verified when downloaded and whenever its copy in the cache is used (a copy that
  fails is skipped and downloaded again). For the others no checksum is known (none is
  invented here): a download must be complete (``Content-Length``) and load as a checkpoint
  with finite weights before it is put in the cache;
* :func:`infer_arch`: the one rule that tells the architecture of a weight name or file.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

from strongsort_reid.models.registry import IMAGENET_MEAN, IMAGENET_STD, available_models

# Used through the module (downloads.download_file, ...) so that patching it there applies here.
from strongsort_reid.utils import download as downloads
from strongsort_reid.utils.checkpoint import extract_state_dict, load_checkpoint
from strongsort_reid.weights import BUNDLED_DIR

logger = logging.getLogger(__name__)

PathLike = Union[str, os.PathLike]


@dataclass(frozen=True)
class WeightsEntry:
    """Metadata of one published ReID checkpoint (timm-style pretrained config).

    Attributes:
        name: Weight name, e.g. ``"osnet_x0_25_msmt17"``; also the cached file stem.
        arch: Registry name of the architecture the checkpoint belongs to.
        urls: Download locations, tried in order.
        sha256: Hex digest of the file, or ``None`` where it is not known.
        num_classes: Number of training identities (rows of the classifier).
        input_size: ``(height, width)`` in pixels the model was trained at.
        mean: Per-channel RGB mean used for normalisation (on 0-1 pixel values).
        std: Per-channel RGB std used for normalisation.
        dataset: Training dataset name.
    """

    name: str
    arch: str
    urls: Tuple[str, ...]
    num_classes: int
    sha256: Optional[str] = None
    input_size: Tuple[int, int] = (256, 128)
    mean: Tuple[float, float, float] = IMAGENET_MEAN
    std: Tuple[float, float, float] = IMAGENET_STD
    dataset: str = ""

    @property
    def verified(self) -> bool:
        """Whether the file is checked against a published sha256 (else only for completeness
        and that it loads as a checkpoint with finite weights)."""
        return self.sha256 is not None

    @property
    def filename(self) -> str:
        """File name of the checkpoint in the cache and among the bundled models."""
        return f"{self.name}.pth"


_WEIGHTS: Dict[str, WeightsEntry] = {}


def register_weights(entry: WeightsEntry) -> WeightsEntry:
    """Add a published checkpoint to the weight registry (called next to its model)."""
    if entry.name in _WEIGHTS:
        raise ValueError(f"weights {entry.name!r} are registered twice")
    _WEIGHTS[entry.name] = entry
    return entry


def available_weights() -> List[str]:
    """Sorted list of the registered checkpoint names."""
    return sorted(_WEIGHTS)


def get_weights_entry(name: str) -> WeightsEntry:
    """Return the checkpoint metadata for ``name``; ``KeyError`` lists the known names."""
    try:
        return _WEIGHTS[name]
    except KeyError:
        raise KeyError(
            f"Unknown weights {name!r}. Known weights: {', '.join(available_weights())}"
        ) from None


def _looks_like_path(name: str) -> bool:
    return (
        os.sep in name
        or "/" in name
        or Path(name).suffix
        in (
            ".pth",
            ".pt",
            ".tar",
            ".onnx",
            ".xml",
            ".torchscript",
        )
        or ".pth.tar" in name
    )


def weight_folders() -> List[Path]:
    """Folders a weight name is looked up in, in order: the user cache
    (``$STRONGSORT_REID_HOME``, default ``~/.cache/strongsort_reid``), then the models bundled
    with the package (:data:`strongsort_reid.weights.BUNDLED_DIR`)."""
    return [downloads.cache_dir(), BUNDLED_DIR]


def find_local(name: str, folders: Optional[Sequence[PathLike]] = None) -> Optional[Path]:
    """The file of the registered weights ``name`` in ``folders`` (default :func:`weight_folders`),
    the first that has it, or ``None``; never downloads."""
    entry = get_weights_entry(name)
    for folder in weight_folders() if folders is None else folders:
        path = Path(folder) / entry.filename
        if path.is_file():
            return path
    return None


def resolve_weights(
    name_or_path: PathLike,
    search_dirs: Optional[Sequence[PathLike]] = None,
    download: bool = True,
    timeout: Optional[float] = None,
) -> Path:
    """Locate a weight file by path or registry name, downloading it when needed.

    Lookup order: an existing file at ``name_or_path``; for a registry name (see
    ``strongsort_reid.models.available_weights()``) the file ``<name>.pth`` in ``search_dirs``
    (default: the user cache, then the models bundled with the package, see
    :func:`find_local`; a copy in the first folder must pass the entry's sha256 when one is
    published); then a download into the first folder (verified as the module docstring says).

    Args:
        name_or_path: A file path, or a registry name such as ``"osnet_x0_25_msmt17"``.
        search_dirs: Folders to look in before downloading.
        download: Allow downloading; ``False`` raises instead.
        timeout: Seconds to wait for a server to answer, one budget for all the entry's URLs
            (default :data:`~strongsort_reid.utils.download.DEFAULT_TIMEOUT_S`); an offline
            lookup fails within it.

    Returns:
        Path of the weight file.

    Raises:
        FileNotFoundError: a path that does not exist, or a name that is neither a file nor
            in the registry.
        WeightsUnavailableError: a registry file that is not on disk (or fails its sha256
            there) and cannot be downloaded, or whose download is incomplete or unusable.
    """
    candidate = Path(name_or_path).expanduser()
    if candidate.is_file():
        return candidate
    name = str(name_or_path)
    if name not in available_weights():
        if _looks_like_path(name):
            raise FileNotFoundError(f"weights file not found: {candidate}")
        raise FileNotFoundError(
            f"{name!r} is neither an existing file nor a known weight name. "
            f"Known weight names: {', '.join(available_weights())}"
        )
    entry = get_weights_entry(name)
    dirs = [Path(d) for d in search_dirs] if search_dirs is not None else weight_folders()
    found, corrupt = _find_intact(entry, dirs)
    if found is not None:
        return found
    if not download:
        problem = (
            f"{corrupt} fails the sha256 check (corrupt or cut short)"
            if corrupt is not None
            else f"{entry.filename} is not in {', '.join(map(str, dirs))}"
        )
        raise downloads.WeightsUnavailableError(
            f"{problem} and downloading is disabled; get it from {entry.urls[0]} and put it "
            f"in {dirs[0]}"
        )
    return _download(entry, dirs[0], timeout)


def _find_intact(
    entry: WeightsEntry, dirs: Sequence[Path]
) -> Tuple[Optional[Path], Optional[Path]]:
    """The first ``<dir>/<entry.filename>``, skipping a copy in the download folder
    (``dirs[0]``) that fails the entry's sha256; also returns that skipped copy (or ``None``).

    Only the download folder is checked: downloads (and downloads cut short by older versions)
    land there, while other folders hold files placed on purpose (the bundled copy is the
    zoo file without its classifier, so it has another digest).
    """
    corrupt = None
    for folder in dirs:
        path = folder / entry.filename
        if not path.is_file():
            continue
        if (
            folder != dirs[0]
            or entry.sha256 is None
            or downloads.sha256_of(path) == entry.sha256.lower()
        ):
            return path, corrupt
        logger.warning("%s fails its sha256 check (corrupt or cut short): not used", path)
        corrupt = path
    return None, corrupt


def _download(entry: WeightsEntry, folder: Path, timeout: Optional[float]) -> Path:
    """Download ``entry`` into ``folder``, trying its URLs within one network budget."""
    budget = downloads.DEFAULT_TIMEOUT_S if timeout is None else float(timeout)
    deadline = time.monotonic() + budget
    errors = []
    for url in entry.urls:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            errors.append(f"not tried: {url} (the {budget:g} s network budget is spent)")
            continue
        try:
            return downloads.download_file(
                url,
                folder / entry.filename,
                sha256=entry.sha256,
                timeout=remaining,
                validate=None if entry.verified else _check_checkpoint_file,
            )
        except downloads.WeightsUnavailableError as exc:
            errors.append(str(exc))
    raise downloads.WeightsUnavailableError("\n".join(errors))


def _check_checkpoint_file(path: Path) -> None:
    """Raise ``ValueError`` unless ``path`` loads safely as a checkpoint with finite tensors
    (the check of downloads that have no published sha256)."""
    extract_state_dict(load_checkpoint(path), str(path))
    logger.warning(
        "%s has no published sha256: checked only that the download is complete and loads as "
        "a checkpoint with finite weights", path.name,
    )


def infer_arch(name_or_path: PathLike) -> str:
    """The architecture of a weight name or file.

    The rule: the catalogue entry named by the file stem (``osnet_x0_25_msmt17``,
    ``weights/osnet_x0_25_msmt17.pth``), else the longest registered architecture name the
    stem starts with (``osnet_x0_25_mine.pth`` -> ``osnet_x0_25``; ``osnet_ain_x0_25_foo.pth``
    -> ``osnet_ain_x0_25``, not ``osnet_...``).

    Raises:
        ValueError: no architecture matches; the message names the value and lists the
            architectures (callers add how to pass one explicitly).
    """
    stem = Path(str(name_or_path)).name.split(".")[0]
    if stem in _WEIGHTS:
        return _WEIGHTS[stem].arch
    matches = [arch for arch in available_models() if stem.startswith(arch)]
    if not matches:
        raise ValueError(
            f"cannot tell the architecture of ReID weights {str(name_or_path)!r}: its name "
            f"starts with no registered architecture ({', '.join(available_models())})"
        )
    return max(matches, key=len)
