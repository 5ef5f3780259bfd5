"""The tracking loop of the demo: frames -> detector -> embedder -> StrongSORT -> writers, each an
explicit, timed stage.

Decoding runs ahead in a thread and drawing plus video encoding behind in another (OpenCV
releases the GIL for both), so they overlap with detection, embedding and tracking; the stage
times are each stage's own cost per frame (``write`` includes the background thread's) and may
add up to more than the wall time per frame.

SIGINT (Ctrl-C) and SIGTERM stop the loop after the frame being processed (see
:class:`StopSignals`); the outputs are then finished and renamed into place, and further signals
are ignored until they are, so a second Ctrl-C or a SIGTERM after the first still leaves
complete files.
"""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import numpy as np
from tqdm import tqdm

from ..plotting import TrackPlotter
from ..strongsort import StrongSORT
from ..strongsort.embedding import embed_boxes
from .prefetch import BackgroundWorker, Prefetcher
from .sources import Frame, FrameSource
from .writers import MOTResultWriter, VideoWriter

STAGES = ("decode", "detect", "embed", "track", "write")


@dataclass
class RunSummary:
    """What a run did and what each stage cost.

    Attributes:
        frames: Frames tracked.
        skipped: Frames the source could not decode.
        tracks: Distinct track identities output.
        seconds: Wall time of the loop.
        stage_ms: Mean milliseconds per tracked frame of each of :data:`STAGES`.
        crops: Mean detections embedded per tracked frame (fewer with ``embed_skip``).
        interrupted: The run was stopped by Ctrl-C or SIGTERM (outputs are still complete).
        signal: The signal that stopped it (``signal.SIGINT``, ``signal.SIGTERM``); 0 when
            none was received (also for a ``KeyboardInterrupt`` raised otherwise).
        notes: Why the source ended before its announced length, for the user.
        outputs: Files written.
    """

    frames: int = 0
    skipped: int = 0
    tracks: int = 0
    seconds: float = 0.0
    stage_ms: Dict[str, float] = field(default_factory=dict)
    crops: float = 0.0
    interrupted: bool = False
    signal: int = 0
    notes: List[str] = field(default_factory=list)
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
            f"crops embedded/frame {self.crops:.1f}",
        ]
        lines += self.notes
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


class StageClock:
    """Seconds spent in each of :data:`STAGES`, measured as laps between consecutive calls."""

    def __init__(self):
        self.seconds = dict.fromkeys(STAGES, 0.0)
        self._last = time.perf_counter()

    def restart(self) -> None:
        """Start the next lap now."""
        self._last = time.perf_counter()

    def lap(self, stage: Optional[str]) -> None:
        """Charge the time since the last lap to ``stage`` (``None``: to nothing)."""
        now = time.perf_counter()
        if stage is not None:
            self.seconds[stage] += now - self._last
        self._last = now

    def per_frame_ms(self, frames: int) -> Dict[str, float]:
        """Mean milliseconds per frame of each stage."""
        count = max(frames, 1)
        return {stage: 1000.0 * self.seconds[stage] / count for stage in STAGES}


def embed_tracked(
    embedder: Any, tracker: StrongSORT, image: np.ndarray, dets: np.ndarray
) -> Optional[np.ndarray]:
    """The embed stage: embeddings of the detections ``tracker`` will use.

    Only the rows of :meth:`StrongSORT.select` are cropped and embedded (the others get zero
    rows, which ``update`` never reads), so no crop is embedded for a detection the tracker
    drops, nor, with ``embed_skip``, for one that reuses its track's embedding
    (``tracker.stats["embedded"]`` counts the crops).

    Args:
        embedder: Object with ``from_frame(frame, boxes_xyxy) -> (K, D)``.
        tracker: The tracker the embeddings are for.
        image: ``uint8 HxWx3`` BGR frame.
        dets: ``(N, 6)`` ``[x1, y1, x2, y2, conf, cls]`` detections of ``image``.

    Returns:
        ``(N, D)`` float32 embeddings row-aligned with ``dets`` for ``update(..., embs=)``, or
        ``None`` when the tracker uses no row (there is then nothing to embed).
    """
    chosen = tracker.select(dets)
    if not chosen.any():
        return None
    boxes = np.asarray(dets, dtype=np.float64)[chosen, :4].astype(np.float32)
    features = embed_boxes(embedder, image, boxes)
    embs = np.zeros((chosen.size, features.shape[1]), dtype=np.float32)
    embs[chosen] = features
    return embs


class _Outputs:
    """The write stage: MOT rows, the annotated frame to the video and to the display.

    With ``overlap`` and no display, drawing and encoding both run in one background thread
    (the main thread only queues the frame and its tracks), so writing a 1080p video costs the
    tracking loop almost nothing; with a display, the frame is drawn in the main thread (which
    shows it) and only encoded in the background.
    """

    def __init__(self, video, results, show, plotter: TrackPlotter, overlap: bool):
        self.video, self.results, self.show, self.plotter = video, results, show, plotter
        self.encoder: Optional[BackgroundWorker] = None
        if overlap and video is not None:
            self.encoder = BackgroundWorker(video.write if show else self._draw_and_encode)

    def _draw_and_encode(self, item) -> None:
        image, tracks = item
        self.video.write(self.plotter.draw(image, tracks))

    def write(self, frame: Frame, tracks: np.ndarray) -> bool:
        """Write one frame's tracks; ``False`` when the display asks to stop."""
        if self.results is not None:
            self.results.write(frame.number, tracks)
        if self.video is None and self.show is None:
            return True
        if self.encoder is not None and self.show is None:
            self.encoder.submit((frame.image, tracks))
            return True
        canvas = self.plotter.draw(frame.image, tracks)
        if self.encoder is not None:
            self.encoder.submit(canvas)
        elif self.video is not None:
            self.video.write(canvas)
        return self.show is None or self.show(canvas) is not False

    def close(self, summary: RunSummary, clock: StageClock) -> None:
        """Finish every file (also when the encoder or another file fails), list them in
        ``summary`` and raise the first error."""
        errors: List[BaseException] = []
        try:
            if self.encoder is not None:
                self.encoder.close()
                clock.seconds["write"] += self.encoder.seconds
        except Exception as exc:
            errors.append(exc)
        for writer in (self.video, self.results):
            if writer is None:
                continue
            try:
                writer.close()
            except Exception as exc:
                errors.append(exc)
                continue
            if writer.published:
                summary.outputs.append(writer.path)
        if errors:
            raise errors[0]


class StopSignals:
    """Record SIGINT and SIGTERM instead of acting on them at once, so the loop can stop between
    frames and finish the outputs.

    Nothing is raised from the handler: an exception thrown at an arbitrary point of the main
    thread can break the queues shared with the decoder and encoder threads (a lost wake-up
    that hangs the run). Outside the main thread (where Python cannot install handlers) it
    does nothing, and Ctrl-C stays a ``KeyboardInterrupt``.

    Attributes:
        received: The first signal received, 0 if none.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.received = 0
        self._previous: Dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for number in self.SIGNALS:
                self._previous[number] = signal.signal(number, self._handle)
        return self

    def _handle(self, number: int, _frame) -> None:
        self.received = self.received or number

    def __exit__(self, *exc) -> None:
        for number, previous in self._previous.items():
            signal.signal(number, signal.SIG_DFL if previous is None else previous)
        self._previous.clear()


def run_tracking(
    source: FrameSource,
    detector: Any,
    embedder: Any,
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
        embedder: ``from_frame(frame, boxes_xyxy) -> (K, D)`` (a FeatureExtractor, or
            :class:`~trackers.app.embedder.MotionOnlyEmbedder` for motion-only tracking).
        tracker: The tracker; it receives the embeddings with each frame's detections.
        video: Annotated video output (boxes, identities, trails), or ``None``.
        results: MOTChallenge results output, or ``None``. Boxes of both are clipped to the
            frame (:func:`clip_to_frame`).
        max_frames: Stop after this many tracked frames.
        show: Called with each annotated frame; returning ``False`` stops the run.
        progress: Show a tqdm progress bar (only on a terminal).
        overlap: Decode and encode in background threads.

    Returns:
        The :class:`RunSummary`. Writers are closed (files complete) before it returns, also
        after Ctrl-C or SIGTERM (see :class:`StopSignals`) and on errors.

    Raises:
        OutputError: An output cannot be written or completed (it is then removed; the other
            outputs are still finished).
    """
    summary, clock, identities = RunSummary(), StageClock(), set()
    frames = Prefetcher(source) if overlap else source
    outputs = _Outputs(video, results, show, TrackPlotter(tracker.config.trail_length), overlap)
    total = source.length if max_frames is None else min(max_frames, source.length or max_frames)
    bar = tqdm(total=total, unit="frame", disable=None if progress else True, leave=False)
    start = time.perf_counter()
    with StopSignals() as signals:
        try:
            iterator = iter(frames)
            while (max_frames is None or summary.frames < max_frames) and not signals.received:
                clock.restart()
                frame: Optional[Frame] = next(iterator, None)
                if frame is None or signals.received:
                    break
                clock.lap(None if overlap else "decode")  # overlapped: the decoder thread's time
                dets = detector.detect(frame)
                clock.lap("detect")
                embs = embed_tracked(embedder, tracker, frame.image, dets)
                clock.lap("embed")
                tracks = clip_to_frame(tracker.update(dets, frame.image, embs), frame.image.shape)
                clock.lap("track")
                identities.update(tracks[:, 4].astype(np.int64).tolist())
                keep_going = outputs.write(frame, tracks)
                clock.lap("write")
                summary.frames += 1
                bar.update(1)
                if not keep_going:
                    break
        except KeyboardInterrupt:
            summary.interrupted = True
        finally:
            summary.seconds = time.perf_counter() - start
            bar.close()
            if isinstance(frames, Prefetcher):
                frames.close()
                clock.seconds["decode"] += frames.seconds
            outputs.close(summary, clock)
    summary.signal = signals.received
    summary.interrupted = summary.interrupted or bool(signals.received)
    summary.skipped, summary.tracks = source.skipped, len(identities)
    summary.notes = [source.end_note] if getattr(source, "end_note", None) else []
    summary.stage_ms = clock.per_frame_ms(summary.frames)
    summary.crops = tracker.stats["embedded"] / max(summary.frames, 1)
    return summary
