"""The tracking loop of the demo: frames -> detector -> embedder -> StrongSORT -> writers, with
per-stage timing.

Decoding runs one frame ahead in a thread and video encoding one frame behind in another (OpenCV
releases the GIL for both), so they overlap with detection, embedding and tracking; the stage
times are each stage's own cost per frame and may add up to more than the wall time per frame.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import numpy as np
from tqdm import tqdm

from .strongsort import StrongSORT
from .video.prefetch import BackgroundWorker, Prefetcher
from .video.sources import Frame, FrameSource
from .video.writers import MOTResultWriter, VideoWriter

STAGES = ("decode", "detect", "embed", "track", "write")


class TimedEmbedder:
    """Wrap an embedder (``from_frame(frame, boxes) -> (N, D)``) and record each call's time.

    Attributes:
        seconds: Wall time of all calls so far.
    """

    def __init__(self, embedder: Any):
        self.embedder = embedder
        self.seconds = 0.0

    def from_frame(self, frame: np.ndarray, boxes_xyxy: np.ndarray):
        start = time.perf_counter()
        try:
            return self.embedder.from_frame(frame, boxes_xyxy)
        finally:
            self.seconds += time.perf_counter() - start


class MotionOnlyEmbedder:
    """Stand-in when no ReID model is available: all-zero embeddings.

    A zero embedding has cosine distance 1 to everything, so no pair passes the appearance
    stage and tracks are continued by the IoU stage only (motion-only tracking).
    """

    def from_frame(self, frame: np.ndarray, boxes_xyxy: np.ndarray) -> np.ndarray:
        return np.zeros((len(boxes_xyxy), 1), dtype=np.float32)


@dataclass
class RunSummary:
    """What a run did and what each stage cost.

    Attributes:
        frames: Frames tracked.
        skipped: Frames the source could not decode.
        tracks: Distinct track identities output.
        seconds: Wall time of the loop.
        stage_ms: Mean milliseconds per tracked frame of each of :data:`STAGES`.
        interrupted: The run was stopped by Ctrl-C (outputs are still complete).
        outputs: Files written.
    """

    frames: int = 0
    skipped: int = 0
    tracks: int = 0
    seconds: float = 0.0
    stage_ms: Dict[str, float] = field(default_factory=dict)
    interrupted: bool = False
    outputs: List[Path] = field(default_factory=list)

    @property
    def fps(self) -> float:
        """Tracked frames per second of wall time, everything included."""
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def format(self) -> str:
        """A few human-readable lines."""
        status = " (interrupted)" if self.interrupted else ""
        lines = [
            f"{self.frames} frames{status}, {self.tracks} tracks, {self.skipped} unreadable "
            f"frames skipped; {self.seconds:.1f} s, {self.fps:.1f} FPS overall",
            "ms/frame  " + "  ".join(f"{s} {self.stage_ms.get(s, 0.0):.1f}" for s in STAGES),
        ]
        lines += [f"wrote {path}" for path in self.outputs]
        return "\n".join(lines)


def clip_to_frame(tracks: np.ndarray, shape) -> np.ndarray:
    """``(M, 8)`` tracker output with boxes clipped to an image of ``shape`` ``(H, W, ...)``.

    Tracks are Kalman estimates, which can reach a little beyond the border; the demo's outputs
    stay inside the frame. Boxes that have no area left are dropped.
    """
    height, width = shape[:2]
    tracks = tracks.copy()
    tracks[:, [0, 2]] = tracks[:, [0, 2]].clip(0, width)
    tracks[:, [1, 3]] = tracks[:, [1, 3]].clip(0, height)
    return tracks[(tracks[:, 2] > tracks[:, 0]) & (tracks[:, 3] > tracks[:, 1])]


def run_tracking(
    source: FrameSource,
    detector: Any,
    tracker: StrongSORT,
    video: Optional[VideoWriter] = None,
    results: Optional[MOTResultWriter] = None,
    max_frames: Optional[int] = None,
    show: Optional[Callable[[np.ndarray], bool]] = None,
    progress: bool = True,
    overlap: bool = True,
) -> RunSummary:
    """Track every frame of ``source`` and write the outputs.

    Args:
        source: Frames to track (closed by the caller).
        detector: ``detect(frame: Frame) -> (N, 6) [x1, y1, x2, y2, conf, cls]``.
        tracker: The tracker; when its embedder is a :class:`TimedEmbedder` the embedding time
            is reported separately from tracking.
        video: Annotated video output (boxes, identities, trails), or ``None``.
        results: MOTChallenge results output, or ``None``. Boxes of both are clipped to the
            frame (:func:`clip_to_frame`).
        max_frames: Stop after this many tracked frames.
        show: Called with each annotated frame; returning ``False`` stops the run.
        progress: Show a tqdm progress bar (only on a terminal).
        overlap: Decode and encode in background threads.

    Returns:
        The :class:`RunSummary`. Writers are closed (files complete) before it returns, also
        after Ctrl-C and on errors.
    """
    summary = RunSummary()
    timed = tracker.embedder if isinstance(tracker.embedder, TimedEmbedder) else None
    embed_before = timed.seconds if timed else 0.0
    spent = dict.fromkeys(STAGES, 0.0)
    frames = Prefetcher(source) if overlap else source
    encoder = BackgroundWorker(video.write) if overlap and video is not None else None
    identities = set()
    total = source.length if max_frames is None else min(max_frames, source.length or max_frames)
    bar = tqdm(total=total, unit="frame", disable=None if progress else True, leave=False)
    start = time.perf_counter()
    try:
        iterator = iter(frames)
        while max_frames is None or summary.frames < max_frames:
            tick = time.perf_counter()
            frame: Optional[Frame] = next(iterator, None)
            if frame is None:
                break
            after_decode = time.perf_counter()
            if not overlap:
                spent["decode"] += after_decode - tick
            dets = detector.detect(frame)
            after_detect = time.perf_counter()
            tracks = clip_to_frame(tracker.update(dets, frame.image), frame.image.shape)
            after_track = time.perf_counter()
            spent["detect"] += after_detect - after_decode
            spent["track"] += after_track - after_detect
            identities.update(tracks[:, 4].astype(np.int64).tolist())
            if results is not None:
                results.write(frame.number, tracks)
            if video is not None or show is not None:
                canvas = tracker.plot(frame.image, tracks)
                if encoder is not None:
                    encoder.submit(canvas)
                elif video is not None:
                    video.write(canvas)
                if show is not None and show(canvas) is False:
                    summary.frames += 1
                    break
            spent["write"] += time.perf_counter() - after_track
            summary.frames += 1
            bar.update(1)
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        summary.seconds = time.perf_counter() - start
        bar.close()
        if isinstance(frames, Prefetcher):
            frames.close()
            spent["decode"] += frames.seconds
        try:
            if encoder is not None:
                encoder.close()
                spent["write"] += encoder.seconds
        finally:
            for writer in (video, results):
                if writer is not None:
                    writer.close()
                    if not isinstance(writer, VideoWriter) or writer.frames:
                        summary.outputs.append(writer.path)
    if timed is not None:
        embed = timed.seconds - embed_before
        spent["embed"] += embed
        spent["track"] -= embed
    summary.skipped = source.skipped
    summary.tracks = len(identities)
    count = max(summary.frames, 1)
    summary.stage_ms = {stage: 1000.0 * spent[stage] / count for stage in STAGES}
    return summary
