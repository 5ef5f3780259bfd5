"""Replay a tracker configuration over cached sequences and score it with TrackEval.

>>> scores = score_config(sequences, StrongSORTConfig(), gt_root)      # doctest: +SKIP
>>> print(format_scores({"defaults": scores}))                         # doctest: +SKIP
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from strongsort_reid.utils.motchallenge import tracks_to_rows, write_results

from ..strongsort import StrongSORT, StrongSORTConfig
from .devcache import CachedSequence
from .evaluation import evaluate_mot
from .postprocess import gsi

# Reported per sequence and as the mean over sequences; ms is the tracker's own time per frame,
# crops the detections it embedded per frame (fewer than those tracked with embed_skip).
COLUMNS = ("HOTA", "IDF1", "MOTA", "IDSW", "ms", "crops")
MEAN = "mean"


def replay(
    sequence: CachedSequence, config: StrongSORTConfig, stats: Optional[Dict[str, Any]] = None
) -> Tuple[np.ndarray, float]:
    """Track a cached sequence with ``config``.

    Args:
        sequence: The cached sequence.
        config: The tracker configuration.
        stats: If given, receives the tracker's :attr:`~trackers.StrongSORT.stats` at the end.

    Returns:
        ``(rows (R, 10) MOTChallenge results, median milliseconds of one tracker update)``.
    """
    tracker = StrongSORT(config=config)
    rows, seconds = [], []
    for number in range(1, sequence.frames + 1):
        dets, embs = sequence.frame(number)
        start = time.perf_counter()
        tracks = tracker.update(dets, None, embs, camera_warp=sequence.warp(number))
        seconds.append(time.perf_counter() - start)
        rows.append(tracks_to_rows(number, tracks))
    if stats is not None:
        stats.update(tracker.stats)
    return np.concatenate(rows), 1000.0 * float(np.median(seconds))


def crops_per_frame(stats: Dict[str, Any]) -> float:
    """Detections embedded per frame in a replay's tracker ``stats``."""
    return stats["embedded"] / max(stats["frames"], 1)


def score_config(
    sequences: Sequence[CachedSequence],
    config: StrongSORTConfig,
    gt_root: Path,
    postprocess: Optional[str] = None,
) -> Dict[str, Dict[str, float]]:
    """Replay ``config`` on every sequence and score it.

    Args:
        sequences: Cached sequences, all folders of ``gt_root``.
        config: The tracker configuration.
        gt_root: Folder of the sequences' ground truth (``<seq>/gt/gt.txt``).
        postprocess: ``"gsi"`` to interpolate the results offline before scoring.

    Returns:
        ``{sequence: {HOTA, IDF1, MOTA, IDSW, ms, crops}}`` plus ``"mean"`` over the sequences.
    """
    timings, crops = {}, {}
    with tempfile.TemporaryDirectory(prefix="strongsort-replay-") as folder:
        for sequence in sequences:
            stats: Dict[str, Any] = {}
            rows, timings[sequence.name] = replay(sequence, config, stats)
            crops[sequence.name] = crops_per_frame(stats)
            if postprocess == "gsi":
                rows = gsi(rows)
            write_results(Path(folder) / f"{sequence.name}.txt", rows)
        names = [s.name for s in sequences]
        evaluated = evaluate_mot(gt_root, folder, names)
    scores = {
        name: {
            **{c: evaluated[name][c] for c in COLUMNS[:4]},
            "ms": timings[name],
            "crops": crops[name],
        }
        for name in names
    }
    scores[MEAN] = {c: float(np.mean([scores[n][c] for n in names])) for c in COLUMNS}
    return scores


def format_scores(rows: Dict[str, Dict[str, Dict[str, float]]]) -> str:
    """A Markdown table: one row per configuration, HOTA / IDF1 / IDSW per sequence and their
    mean, then the mean ms and crops embedded per frame (``rows``: ``{label:
    score_config(...)}``)."""
    first = next(iter(rows.values()))
    names: List[str] = list(first)
    header = ["configuration"] + [f"{n} {c}" for n in names for c in ("HOTA", "IDF1", "IDSW")]
    header += ["ms/frame", "crops/frame"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for label, scores in rows.items():
        cells = [label]
        for name in names:
            row = scores[name]
            idsw = f"{row['IDSW']:.1f}" if name == MEAN else f"{int(row['IDSW'])}"
            cells += [f"{row['HOTA']:.2f}", f"{row['IDF1']:.2f}", idsw]
        cells += [f"{scores[MEAN]['ms']:.2f}", f"{scores[MEAN]['crops']:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
