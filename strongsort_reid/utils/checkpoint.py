"""Checkpoint I/O: read torchreid-style checkpoints and load (partial) pretrained weights.

Checkpoints come in three shapes in the wild and all are accepted:

* a bare ``state_dict`` (the torchreid model zoo ships these),
* a dict with a ``"state_dict"`` key (torchreid's ``model.pth.tar-N`` training checkpoints),
* either of the above saved from ``nn.DataParallel`` / DDP, with ``module.`` key prefixes.
"""

from __future__ import annotations

import logging
import os
import pickle
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Tuple, Union

import torch
from torch import nn

from strongsort_reid.utils.atomic import atomic_path

logger = logging.getLogger(__name__)

PathLike = Union[str, os.PathLike]

# Parameters that belong to the identity classifier; skipping them is expected whenever the
# checkpoint was trained on a different number of identities than the model is built for.
CLASSIFIER_PREFIXES = ("classifier.",)


def load_checkpoint(path: PathLike, weights_only: bool = True) -> Dict[str, Any]:
    """Read a checkpoint file onto the CPU.

    Args:
        path: File written by ``torch.save``.
        weights_only: Use PyTorch's safe unpickler (tensors, dicts, numbers and strings only).
            Pass ``False`` only for files you trust that hold other Python objects.

    Returns:
        The deserialised object; a bare state_dict is returned as is.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file is empty, truncated, not a PyTorch checkpoint (a text or HTML
            file says so, rather than suggesting an unsafe load), or does not hold a dict.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint file not found: {path}")
    if path.stat().st_size == 0:
        raise ValueError(f"checkpoint file is empty: {path}")
    _check_checkpoint_signature(path)
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=weights_only)
    except pickle.UnpicklingError as exc:
        if weights_only and "Unsupported global" in str(exc):
            raise ValueError(
                f"{path} holds Python objects that the safe loader refuses; if you trust this "
                "file, load it with load_checkpoint(path, weights_only=False)"
            ) from exc
        raise ValueError(
            f"{path} is not a readable PyTorch checkpoint ({_first_line(exc)})"
        ) from exc
    except Exception as exc:  # noqa: BLE001 - garbage input fails anywhere inside the unpickler
        raise ValueError(
            f"{path} is not a readable PyTorch checkpoint (truncated or corrupt?): "
            f"{type(exc).__name__}: {_first_line(exc)}"
        ) from exc
    if not isinstance(checkpoint, Mapping):
        raise ValueError(
            f"{path} does not hold a state_dict or checkpoint dict "
            f"(found {type(checkpoint).__name__})"
        )
    return checkpoint


# torch.save writes a zip archive; files of PyTorch < 1.6 are a pickle (protocol >= 2).
_CHECKPOINT_MAGIC = (b"PK\x03\x04", b"\x80")


def _check_checkpoint_signature(path: Path) -> None:
    """Raise ``ValueError`` when ``path`` is a text file (an HTML error page saved by a
    download, a Git LFS pointer, a README renamed): it is no checkpoint, and loading it
    unsafely (``weights_only=False``) would not help."""
    with open(path, "rb") as handle:
        head = handle.read(64)
    # Control bytes other than white space do not occur in text (UTF-8 bytes are >= 128).
    if head.startswith(_CHECKPOINT_MAGIC) or any(b < 32 and b not in b"\t\r\n" for b in head):
        return
    first_line = (head.decode("utf-8", errors="replace").strip().splitlines() or [""])[0][:40]
    raise ValueError(
        f"{path} is not a PyTorch checkpoint: it is a text file starting with {first_line!r} "
        "(an error page or a Git LFS pointer saved in place of the weights?)"
    )


def _first_line(exc: BaseException) -> str:
    """The first line of an exception's message (torch's are long, with advice for developers)."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def check_finite_state_dict(state_dict: Mapping[str, Any], source: str = "checkpoint") -> None:
    """Raise ``ValueError`` when a floating-point tensor of ``state_dict`` holds NaN or inf.

    Such weights (a diverged training, a corrupt file) make every embedding NaN or zero,
    which a tracker would silently turn into motion-only tracking.

    Args:
        state_dict: ``{name: tensor}``; other values are ignored.
        source: Name used in the message (usually the file path).
    """
    tensors = [
        (key, value)
        for key, value in state_dict.items()
        if torch.is_tensor(value) and value.is_floating_point() and value.numel()
    ]
    if not tensors:
        return
    # NaN and inf propagate into a sum: one cheap reduction per tensor screens them all (about
    # 6x faster than isfinite().all()); only a non-finite sum (or one that overflowed) pays
    # for the exact check.
    sums = torch.stack([value.detach().sum().float().cpu() for _, value in tensors])
    for index in torch.nonzero(~torch.isfinite(sums)).flatten().tolist():
        key, value = tensors[index]
        finite = torch.isfinite(value)
        if not bool(finite.all()):
            bad = int(value.numel() - finite.sum())
            raise ValueError(
                f"{source} holds non-finite weights: tensor {key!r} {tuple(value.shape)} has "
                f"{bad} NaN/inf value(s) of {value.numel()} (a diverged training run or a "
                "corrupt file?); these weights would give NaN or zero embeddings"
            )


def extract_state_dict(checkpoint: Mapping[str, Any], source: str = "checkpoint") -> OrderedDict:
    """Return the model ``state_dict`` inside ``checkpoint``, without ``module.`` prefixes.

    Args:
        checkpoint: A bare state_dict or a dict holding one under ``"state_dict"``.
        source: Name used in error messages (usually the file path).

    Raises:
        ValueError: no tensors were found, or a floating-point tensor holds NaN or inf (see
            :func:`check_finite_state_dict`).
    """
    state_dict = checkpoint.get("state_dict", checkpoint)
    if not isinstance(state_dict, Mapping):
        raise ValueError(f"{source}: 'state_dict' entry is a {type(state_dict).__name__}")
    cleaned: OrderedDict[str, torch.Tensor] = OrderedDict()
    for key, value in state_dict.items():
        if not torch.is_tensor(value):
            continue
        cleaned[key[len("module.") :] if key.startswith("module.") else key] = value
    if not cleaned:
        raise ValueError(f"{source} holds no tensors: it is not a model state_dict")
    check_finite_state_dict(cleaned, source)
    return cleaned


@dataclass
class LoadReport:
    """What :func:`load_pretrained_weights` did.

    Attributes:
        source: Where the weights came from (a file path, or ``"<state_dict>"``).
        loaded: Model keys that received a tensor from the checkpoint.
        missing: Model keys with no tensor of that name in the checkpoint.
        unexpected: Checkpoint keys the model does not have.
        mismatched: ``(key, checkpoint_shape, model_shape)`` for same-named tensors whose
            shapes differ.
    """

    source: str
    loaded: List[str] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    mismatched: List[Tuple[str, Tuple[int, ...], Tuple[int, ...]]] = field(default_factory=list)

    @property
    def skipped(self) -> List[str]:
        """Model keys left at their initial value (missing or shape-mismatched)."""
        return self.missing + [key for key, _, _ in self.mismatched]

    @property
    def only_classifier_skipped(self) -> bool:
        """True when every skipped model key belongs to the identity classifier."""
        return all(key.startswith(CLASSIFIER_PREFIXES) for key in self.skipped)

    def summary(self) -> str:
        """A short, human-readable account of the load."""
        lines = [f"Loaded {len(self.loaded)} tensors from {self.source}"]
        if not self.skipped and not self.unexpected:
            lines[0] += " (all keys matched)"
        if self.skipped:
            if self.only_classifier_skipped:
                lines.append(
                    f"Skipped the classifier ({', '.join(self.skipped)}): expected when the "
                    "checkpoint was trained on a different number of identities (num_classes); "
                    "it is not used for feature extraction."
                )
            else:
                lines.append(
                    f"Left at initial values ({len(self.skipped)}): {_preview(self.skipped)}"
                )
        for key, ckpt_shape, model_shape in self.mismatched[:5]:
            lines.append(f"  shape mismatch {key}: checkpoint {ckpt_shape} vs model {model_shape}")
        if self.unexpected:
            lines.append(
                f"Unused checkpoint keys ({len(self.unexpected)}): {_preview(self.unexpected)}"
            )
        return "\n".join(lines)


def _preview(keys: List[str], limit: int = 8) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f", ... (+{len(keys) - limit} more)" if len(keys) > limit else "")


def _is_counter(key: str) -> bool:
    # BatchNorm's scalar step counter matches in shape for any architecture, so it says
    # nothing about whether a checkpoint fits.
    return key.endswith("num_batches_tracked")


def load_pretrained_weights(
    model: nn.Module,
    weights: Union[PathLike, Mapping[str, Any]],
    min_matched_fraction: float = 0.5,
) -> LoadReport:
    """Load the name-and-shape-matched subset of ``weights`` into ``model``.

    This is the lenient loader used for fine-tuning and ImageNet initialisation: a classifier of
    another size is skipped (and reported as expected); everything else that matches is loaded.
    A checkpoint that does not fit the architecture is an error, never a silently random model.

    Args:
        model: The network to initialise, modified in place.
        weights: A checkpoint path, or an already loaded checkpoint / state_dict.
        min_matched_fraction: Fraction (0-1] of the model's non-classifier tensors that must be
            loaded; below it the checkpoint is considered to belong to another architecture.

    Returns:
        A :class:`LoadReport`; its summary is also logged (INFO, or WARNING when backbone tensors
        were skipped).

    Raises:
        FileNotFoundError: the checkpoint path does not exist.
        ValueError: the file is not a checkpoint, or too little of it matches the model.
    """
    if not 0.0 < min_matched_fraction <= 1.0:
        raise ValueError(f"min_matched_fraction must be in (0, 1], got {min_matched_fraction}")
    if isinstance(weights, Mapping):
        source, checkpoint = "<state_dict>", weights
    else:
        source, checkpoint = str(weights), load_checkpoint(weights)
    state_dict = extract_state_dict(checkpoint, source)

    model_state = model.state_dict()
    report = LoadReport(source=source)
    matched = OrderedDict()
    for key, target in model_state.items():
        if key not in state_dict:
            report.missing.append(key)
        elif state_dict[key].shape != target.shape:
            report.mismatched.append((key, tuple(state_dict[key].shape), tuple(target.shape)))
        else:
            matched[key] = state_dict[key]
            report.loaded.append(key)
    report.unexpected = [key for key in state_dict if key not in model_state]

    backbone = {
        k for k in model_state if not k.startswith(CLASSIFIER_PREFIXES) and not _is_counter(k)
    }
    backbone_loaded = backbone.intersection(matched)
    if len(backbone_loaded) < min_matched_fraction * max(len(backbone), 1):
        details = "\n".join(
            f"  {key}: checkpoint {c} vs model {m}" for key, c, m in report.mismatched[:5]
        )
        raise ValueError(
            f"{source} does not match {type(model).__name__}: only {len(backbone_loaded)} of "
            f"{len(backbone)} backbone tensors have the same name and shape "
            f"({len(report.mismatched)} shape mismatches, {len(report.missing)} missing keys, "
            f"{len(report.unexpected)} unknown keys). Is it a checkpoint for another architecture?"
            + (f"\nFirst shape mismatches:\n{details}" if details else "")
            + (f"\nFirst missing keys: {_preview(report.missing, 5)}" if report.missing else "")
        )

    model_state.update(matched)
    model.load_state_dict(model_state)
    level = logging.INFO if report.only_classifier_skipped else logging.WARNING
    logger.log(level, report.summary())
    return report


def save_checkpoint(state: Mapping[str, Any], path: PathLike) -> Path:
    """Write ``state`` with ``torch.save`` atomically (temporary file + rename).

    Returns:
        The final path.
    """
    path = Path(path)
    with atomic_path(path) as temp:
        torch.save(dict(state), temp)
    return path
