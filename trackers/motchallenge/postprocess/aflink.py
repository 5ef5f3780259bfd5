"""AFLink, the appearance-free tracklet link of StrongSORT++ (Du et al., 2023).

A small network reads two tracklets as sequences of ``(frame, x, y)`` (the last
:data:`INPUT_LENGTH` rows of the earlier one, the first rows of the later one) and predicts
whether they are the same object. Each tracklet goes through its own stack of temporal
convolutions (kernel 7 over time, one batch normalisation per coordinate), a fusion convolution
across the three coordinates and average pooling; an MLP on the two 256-d codes gives two logits
(``[different, same]``).

Linking follows the authors' inference: candidate pairs end/start at most ``max_gap`` frames
apart (authors: ``0 <= gap < 30``; a gap of 0 is excluded here because the two tracklets
would then share a frame) with the top-left corners at most ``max_distance = 75`` pixels apart;
a pair is kept when the model's probability of "same" is above ``min_probability = 0.95``
(authors: cost ``1 - p < 0.05``); a global assignment picks one successor per tracklet and
chains take the first tracklet's id.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import nn

from .tracklets import Tracklets, assign_links, check_rows, merge_links

# Rows of each tracklet the model reads (shorter tracklets are padded with zeros).
INPUT_LENGTH = 30
# The weights trained by ``strongsort-track train-aflink`` and shipped with the package.
DEFAULT_WEIGHTS = Path(__file__).resolve().parents[2] / "weights" / "aflink.pth"


class TemporalBlock(nn.Module):
    """Convolution over time (kernel ``7 x 1``), batch norm per coordinate, ReLU.

    ``(B, C_in, L, 3) -> (B, C_out, L - 6, 3)``.
    """

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, (7, 1), bias=False)
        # One normalisation per (channel, coordinate): frame, x and y have their own statistics.
        self.norm = nn.BatchNorm1d(out_channels * 3)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        batch, channels, length, coords = x.shape
        x = x.permute(0, 1, 3, 2).reshape(batch, channels * coords, length)
        x = self.norm(x).reshape(batch, channels, coords, length).permute(0, 1, 3, 2)
        return self.relu(x)


class FusionBlock(nn.Module):
    """Convolution across the three coordinates (kernel ``1 x 3``), batch norm, ReLU.

    ``(B, C, L, 3) -> (B, C, L, 1)``.
    """

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, (1, 3), bias=False)
        self.norm = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.norm(self.conv(x)))


def _branch() -> nn.Sequential:
    widths = (1, 32, 64, 128, 256)
    blocks = [TemporalBlock(a, b) for a, b in zip(widths[:-1], widths[1:])]
    return nn.Sequential(*blocks, FusionBlock(widths[-1]), nn.AdaptiveAvgPool2d(1), nn.Flatten())


class AFLinkModel(nn.Module):
    """The AFLink classifier: ``forward(former, latter)`` with two ``(B, 1, L, 3)`` tensors of
    normalised ``(frame, x, y)`` (see :func:`pair_inputs`) returns ``(B, 2)`` logits
    ``[different, same]``."""

    def __init__(self):
        super().__init__()
        self.former = _branch()
        self.latter = _branch()
        self.classifier = nn.Sequential(
            nn.Linear(512, 128), nn.ReLU(inplace=True), nn.Linear(128, 2)
        )

    def forward(self, former: torch.Tensor, latter: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.cat([self.former(former), self.latter(latter)], dim=1))

    @torch.no_grad()
    def probability(self, former: np.ndarray, latter: np.ndarray) -> np.ndarray:
        """``(B,)`` probability that each pair is one object (eval mode, CPU numpy in/out)."""
        if len(former) == 0:
            return np.empty(0)
        self.eval()
        logits = self(torch.from_numpy(former), torch.from_numpy(latter))
        return torch.softmax(logits, dim=1)[:, 1].numpy().astype(np.float64)


def _fit_length(track: np.ndarray, former: bool, length: int) -> np.ndarray:
    """The last (``former``) or first ``length`` rows, zero-padded on the far side."""
    track = track[-length:] if former else track[:length]
    pad = np.zeros((length - len(track), track.shape[1]))
    return np.concatenate([pad, track] if former else [track, pad])


def pair_inputs(
    pairs: Sequence[Tuple[np.ndarray, np.ndarray]], length: int = INPUT_LENGTH
) -> Tuple[np.ndarray, np.ndarray]:
    """Network inputs of tracklet pairs.

    Args:
        pairs: ``(former, latter)`` tracklets, each ``(n, 3)`` ``frame, x, y`` sorted by frame.
        length: Rows per tracklet.

    Returns:
        Two ``(B, 1, length, 3)`` float32 arrays. As in the authors' code, each pair is scaled
        to ``[-1, 1]`` per coordinate by the min and max of both padded tracklets together.
    """
    former = np.stack([_fit_length(np.asarray(a, float), True, length) for a, _ in pairs])
    latter = np.stack([_fit_length(np.asarray(b, float), False, length) for _, b in pairs])
    both = np.concatenate([former, latter], axis=1)  # (B, 2L, 3)
    low, high = both.min(axis=1, keepdims=True), both.max(axis=1, keepdims=True)
    centre, half = (high + low) / 2, (high - low) / 2 + 1e-5
    scale = lambda x: ((x - centre) / half).astype(np.float32)[:, None]  # noqa: E731
    return scale(former), scale(latter)


def load_aflink(weights: Union[str, Path, None] = None) -> AFLinkModel:
    """An :class:`AFLinkModel` in eval mode with ``weights`` (default: the shipped
    :data:`DEFAULT_WEIGHTS`)."""
    from strongsort_reid.utils.checkpoint import extract_state_dict, load_checkpoint

    path = Path(weights) if weights is not None else DEFAULT_WEIGHTS
    state = extract_state_dict(load_checkpoint(path), source=str(path))
    model = AFLinkModel()
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"{path} does not hold AFLink weights: {exc}") from exc
    return model.eval()


def aflink(
    rows: np.ndarray,
    model: Optional[AFLinkModel] = None,
    max_gap: int = 30,
    max_distance: float = 75.0,
    min_probability: float = 0.95,
) -> np.ndarray:
    """Link tracklets of ``rows`` with the AFLink model and merge their ids.

    Args:
        rows: ``(R, 10)`` result rows.
        model: The classifier (default: :func:`load_aflink` with the shipped weights).
        max_gap: Candidates satisfy ``0 < start_j - end_i < max_gap`` (frames).
        max_distance: Largest distance (pixels) between the top-left corners of ``i``'s last
            box and ``j``'s first box.
        min_probability: Smallest "same object" probability of a link.

    Returns:
        ``(R, 10)`` rows, ids merged, sorted by frame then id.
    """
    rows = check_rows(rows)
    tracklets = Tracklets.from_rows(rows)
    gaps = tracklets.gaps()
    offset = tracklets.last_boxes[:, None, :2] - tracklets.first_boxes[None, :, :2]
    candidates = (gaps > 0) & (gaps < max_gap) & (np.linalg.norm(offset, axis=2) <= max_distance)
    first, second = np.nonzero(candidates)
    if first.size == 0:
        return merge_links(rows, tracklets, [])
    model = model if model is not None else load_aflink()
    columns = rows[:, [0, 2, 3]]
    pairs = [
        (columns[tracklets.members[i]], columns[tracklets.members[j]])
        for i, j in zip(first, second)
    ]
    probability = model.probability(*pair_inputs(pairs))
    cost = np.full(gaps.shape, np.inf)
    cost[first, second] = 1.0 - probability
    return merge_links(rows, tracklets, assign_links(cost, 1.0 - min_probability))
