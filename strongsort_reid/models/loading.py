"""Build a registry architecture and load ReID weights into it for inference or export."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

from torch import nn

from strongsort_reid.models.registry import build_model
from strongsort_reid.models.weights import (
    WeightsEntry,
    available_weights,
    get_weights_entry,
    resolve_weights,
)
from strongsort_reid.utils.checkpoint import (
    CLASSIFIER_PREFIXES,
    extract_state_dict,
    load_checkpoint,
    load_pretrained_weights,
)

PathLike = Union[str, os.PathLike]


@dataclass
class LoadedModel:
    """A network ready for feature extraction and where its weights came from.

    Attributes:
        model: The network in eval mode, on the CPU.
        arch: Registry architecture name.
        weights: The weight name or path as given (``""`` when randomly initialised).
        weights_path: The resolved checkpoint file, or ``None``.
        entry: The registry metadata when ``weights`` is a registered weight name.
    """

    model: nn.Module
    arch: str
    weights: str
    weights_path: Optional[Path]
    entry: Optional[WeightsEntry]


def load_reid_model(arch: str, weights: Optional[PathLike] = None) -> LoadedModel:
    """Build ``arch`` and load ReID weights for feature extraction.

    Args:
        arch: Registry architecture name, e.g. ``"osnet_x0_25"``.
        weights: A registered weight name (``"osnet_x0_25_msmt17"``: it implies the
            architecture and the number of classes, and is found or downloaded by
            :func:`~strongsort_reid.models.weights.resolve_weights`), a checkpoint file
            (the classifier size is read from it; a checkpoint without a classifier is
            fine), or ``None`` for a randomly initialised network (a warning is issued:
            its features are useless for matching; fine for speed tests).

    Returns:
        A :class:`LoadedModel`.

    Raises:
        KeyError: unknown architecture.
        ValueError: the weight name belongs to another architecture, the file is not a
            checkpoint (a text/HTML file, truncated), a weight tensor holds NaN or inf (such a
            network embeds every crop as NaN or zero), or the checkpoint does not fit the
            architecture (any backbone tensor missing or of another shape). The message
            names the file (and the first bad tensor).
        FileNotFoundError: the weight file does not exist.
    """
    if weights is None or str(weights) == "":
        warnings.warn(
            f"{arch}: no ReID weights given (model_path=None); the network is randomly "
            "initialised and its features are meaningless for matching",
            stacklevel=3,
        )
        model = build_model(arch, num_classes=1, pretrained=False)
        return LoadedModel(model.eval(), arch, "", None, None)

    name = str(weights)
    entry = None
    if name in available_weights() and not Path(name).is_file():
        entry = get_weights_entry(name)
        if entry.arch != arch:
            raise ValueError(
                f"weights {name!r} belong to architecture {entry.arch!r}, not {arch!r}"
            )
    path = resolve_weights(weights)
    state_dict = extract_state_dict(load_checkpoint(path), str(path))
    if entry is not None:
        num_classes = entry.num_classes
    else:
        classifier = state_dict.get("classifier.weight")
        # Only the feature layers matter here; without a classifier any size will do.
        num_classes = int(classifier.shape[0]) if classifier is not None else 1
    model = build_model(arch, num_classes=num_classes, pretrained=False)
    # Given the path (read twice, it is small) so that errors name the file.
    report = load_pretrained_weights(model, path)
    backbone_skipped = [
        key
        for key in report.skipped
        if not key.startswith(CLASSIFIER_PREFIXES) and not key.endswith("num_batches_tracked")
    ]
    if backbone_skipped:
        raise ValueError(
            f"{path} does not fully match {arch}: {len(backbone_skipped)} feature tensors "
            f"would stay random ({', '.join(backbone_skipped[:5])}"
            f"{', ...' if len(backbone_skipped) > 5 else ''}). Is it a checkpoint for "
            "another architecture?\n" + report.summary()
        )
    return LoadedModel(model.eval(), arch, name, path, entry)
