"""What an adaptation did: the result object, its JSON report and a short text summary."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from strongsort_reid.utils.atomic import atomic_write_text


@dataclass
class RoundReport:
    """One round: track, mine, fine-tune.

    Attributes:
        tracked_with: ReID weights the source was tracked with.
        frames: Frames tracked.
        tracking_seconds: Wall time of the tracking pass.
        tracking_stage_ms: Its mean milliseconds per frame of each loop stage (decode,
            detect, embed, track, write).
        mining: Counts of the mining (:attr:`PseudoIdentities.stats`) plus ``crops_written``.
        mining_seconds: Wall time of the mining and of cutting the crops (the source is read
            again).
        epochs: Per-epoch statistics of the fine-tune (losses, accuracy, seconds, lr).
        training_seconds: Wall time of the fine-tune.
        stopped_by: ``"max_epoch"``, ``"time budget"`` or ``"not validated"`` (too few
            pseudo-identities to validate: no fine-tune, the starting weights are written).
        weights: Checkpoint written by the round.
        validation: The held-out verdict (:class:`~trackers.adapt.validation.Selection` as a
            dict: pseudo-mAP of the start and per epoch, best epoch, gain, noise margin,
            p-value, whether adopted, reason), or ``None`` without validation.
    """

    tracked_with: str
    frames: int
    tracking_seconds: float
    mining: Dict[str, float]
    tracking_stage_ms: Dict[str, float] = field(default_factory=dict)
    mining_seconds: float = 0.0
    epochs: List[Dict[str, float]] = field(default_factory=list)
    training_seconds: float = 0.0
    stopped_by: str = ""
    weights: str = ""
    validation: Optional[Dict[str, Any]] = None


@dataclass
class AdaptResult:
    """The adapted weights and the report of how they were made.

    Attributes:
        weights: The adapted checkpoint (torchreid format; pass its path wherever ReID weights
            are accepted: ``StrongSORT(reid_weights=...)``, ``--reid-model``, ``strongsort-reid
            eval model.load_weights=...``).
        source: What was adapted to.
        start_weights: The weights it started from.
        rounds: One :class:`RoundReport` per round.
        wall_seconds, cpu_seconds: Wall and process CPU time of the whole adaptation, without
            the before/after measurements.
        comparison_seconds: Wall time of the before/after measurements (tracking scores and
            CUHK01; 0 when there are none).
        tracking: ``{"before": {HOTA, IDF1, IDSW}, "after": {...}}`` when the source has
            ground truth (scored with it; the adaptation itself never reads it), else ``None``.
        cuhk01: ``{"before": {rank1, mAP}, "after": {...}}`` when CUHK01 was given, else None.
        report_json, report_text: The report files.
    """

    weights: Path
    source: str
    start_weights: str
    rounds: List[RoundReport] = field(default_factory=list)
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    comparison_seconds: float = 0.0
    tracking: Optional[Dict[str, Dict[str, float]]] = None
    cuhk01: Optional[Dict[str, Dict[str, float]]] = None
    report_json: Optional[Path] = None
    report_text: Optional[Path] = None

    def to_dict(self) -> Dict[str, Any]:
        """The JSON-able report."""
        return {
            "source": self.source,
            "start_weights": self.start_weights,
            "weights": str(self.weights),
            "wall_seconds": self.wall_seconds,
            "cpu_seconds": self.cpu_seconds,
            "comparison_seconds": self.comparison_seconds,
            "rounds": [vars(r) for r in self.rounds],
            "tracking": self.tracking,
            "cuhk01": self.cuhk01,
        }

    def summary(self) -> str:
        """A few lines for people."""
        lines = [f"adapted {self.start_weights} to {self.source}: {self.weights}"]
        for number, r in enumerate(self.rounds, 1):
            m = r.mining
            last = r.epochs[-1] if r.epochs else {}
            losses = ", ".join(f"{k} {v:.3f}" for k, v in last.items() if k.startswith("loss"))
            lines.append(
                f"round {number}: {r.frames} frames tracked in {r.tracking_seconds:.1f} s; "
                f"{m['identities']} pseudo-identities from {m['tracks']} tracks, "
                f"{m['crops_written']} crops, {m['negative_pairs']} co-occurrence negative "
                f"pairs (mined in {r.mining_seconds:.1f} s); {len(r.epochs)} epochs in "
                f"{r.training_seconds:.1f} s "
                f"({r.stopped_by}); last epoch: {losses or 'no batch'}"
            )
            if r.validation is not None:
                lines.append(f"round {number}: " + _verdict(r.validation))
        lines.append(f"wall {self.wall_seconds:.1f} s, CPU {self.cpu_seconds:.1f} s")
        if self.comparison_seconds:
            lines.append(f"before/after measurements: {self.comparison_seconds:.1f} s")
        for name, table in (("tracking", self.tracking), ("CUHK01", self.cuhk01)):
            if table:
                lines.append(f"{name}: " + _before_after(table))
        return "\n".join(lines)

    def write(self, folder: Path) -> None:
        """Write ``report.json`` and ``report.txt`` into ``folder`` (atomically)."""
        self.report_json = atomic_write_text(
            Path(folder) / "report.json", json.dumps(self.to_dict(), indent=2) + "\n"
        )
        self.report_text = atomic_write_text(Path(folder) / "report.txt", self.summary() + "\n")


def _verdict(validation: Dict[str, Any]) -> str:
    """The held-out verdict in one line, with the pseudo-mAP of the start and every epoch."""
    scores = validation["scores"]
    if not scores:
        return f"kept the starting weights: {validation['reason']}"
    epochs = ", ".join(f"{score:.2f}" for score in scores)
    best = validation["best_epoch"]
    head = (
        f"adapted weights from epoch {best}"
        if validation["adopted"]
        else "kept the starting weights"
    )
    return (
        f"{head}: validation pseudo-mAP {scores[0]:.2f} -> {scores[best]:.2f} "
        f"({validation['reason']}); start, then per epoch: {epochs}"
    )


def _before_after(table: Dict[str, Dict[str, float]]) -> str:
    before, after = table["before"], table["after"]
    return ", ".join(
        f"{key} {before[key]:.2f} -> {after[key]:.2f} ({after[key] - before[key]:+.2f})"
        for key in before
    )
