"""Track a source with the application's detector, embedder and loop, keeping the rows in memory
for mining, and read back the frames that the mining picked."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import numpy as np

from ..app.detectors import build_detector
from ..app.embedder import build_reid_embedder
from ..app.loop import RunSummary, run_tracking
from ..app.sources import open_source
from ..app.writers import MOTResultWriter
from ..strongsort import StrongSORT


@dataclass
class TrackingSettings:
    """How the source is tracked (the same for every round of an adaptation).

    Attributes:
        yolo_model: Detector model (the bundled YOLOv8n by default).
        det_file: A MOTChallenge ``det.txt`` used instead of the detector.
        tracker_config: StrongSORT YAML (``None``: the defaults).
        max_frames: Track only the first frames.
        device: ``cpu``, ``cuda:N`` or ``auto`` for the detector and the embedder.
        reid_backend: Runtime of the embedder (``auto``: OpenVINO, else ONNX Runtime, else
            PyTorch; a new checkpoint is converted once).
    """

    yolo_model: str
    det_file: Optional[str] = None
    tracker_config: Optional[Path] = None
    max_frames: Optional[int] = None
    device: str = "cpu"
    reid_backend: str = "auto"


class CollectingWriter(MOTResultWriter):
    """A MOTChallenge results writer that also keeps the rows of the detected boxes as
    ``(R, 7)`` ``[frame, track_id, x1, y1, x2, y2, conf]`` (:attr:`track_rows`).

    Boxes of tracks missed in the frame (``det_index < 0``: the tracker's
    ``output_predicted`` bridging) go to the results file but not to the rows: they are
    predictions, not detections, and a crop cut there may show the occluder or background.
    """

    def __init__(self, path: Path):
        super().__init__(path)
        self._rows: List[np.ndarray] = []

    def write(self, frame_number: int, tracks: np.ndarray) -> None:
        """Write ``(M, 8)`` ``[x1, y1, x2, y2, id, conf, cls, det_index]`` tracks of the frame
        and keep those with ``det_index >= 0``."""
        super().write(frame_number, tracks)
        tracks = tracks[tracks[:, 7] >= 0]
        rows = np.empty((len(tracks), 7))
        rows[:, 0] = frame_number
        rows[:, 1] = tracks[:, 4]
        rows[:, 2:6] = tracks[:, :4]
        rows[:, 6] = tracks[:, 5]
        self._rows.append(rows)

    @property
    def track_rows(self) -> np.ndarray:
        return np.concatenate(self._rows) if self._rows else np.empty((0, 7))


def track_source(
    source_spec: str,
    reid_weights: Path,
    settings: TrackingSettings,
    results_path: Path,
    say: Callable[[str], None],
    progress: bool,
) -> Tuple[np.ndarray, float, RunSummary]:
    """Track ``source_spec`` with ``reid_weights`` and write ``results_path`` (MOT rows).

    Returns:
        ``(rows (R, 7) [frame, track_id, x1, y1, x2, y2, conf], fps of the source, summary)``.
    """
    source = open_source(source_spec)
    try:
        tracker = StrongSORT(config=settings.tracker_config)
        detector = build_detector(
            "yolo" if settings.det_file is None else "auto",
            settings.yolo_model,
            settings.det_file,
            conf=tracker.config.min_conf,
            device=settings.device,
            say=say,
            progress=progress,
        )
        embedder = build_reid_embedder(
            str(reid_weights),
            backend=settings.reid_backend,
            device=settings.device,
            require=True,
            say=say,
        )
        writer = CollectingWriter(results_path)
        summary = run_tracking(
            source,
            detector,
            embedder,
            tracker,
            results=writer,
            max_frames=settings.max_frames,
            progress=progress,
        )
        return writer.track_rows, float(source.fps), summary
    finally:
        source.close()


def frames_of(
    source_spec: str, wanted: Dict[int, object], max_frames: Optional[int]
) -> Iterator[Tuple[int, np.ndarray]]:
    """``(frame number, BGR image)`` of the frames numbered in ``wanted``, read again from the
    source in order (only the first ``max_frames`` frames are looked at)."""
    source = open_source(source_spec)
    try:
        for index, frame in enumerate(source):
            if max_frames is not None and index >= max_frames:
                break
            if frame.number in wanted:
                yield frame.number, frame.image
    finally:
        source.close()
