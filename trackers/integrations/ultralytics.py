"""StrongSORT (with ReID) inside ultralytics' ``predict``: identities in ``result.boxes.id``.

>>> from ultralytics import YOLO                                        # doctest: +SKIP
>>> from trackers.integrations.ultralytics import attach_strongsort     # doctest: +SKIP
>>> model = attach_strongsort(YOLO("yolov8n.pt"))                       # doctest: +SKIP
>>> for r in model.predict("video.mp4", stream=True, classes=[0]):     # doctest: +SKIP
...     ids = r.boxes.id                   # (M,) identities; r.plot() draws them

How it hooks in (the mechanism of ultralytics' own ``trackers/track.py``, public callbacks only):
an ``on_predict_start`` callback creates one :class:`~trackers.StrongSORT` per stream (all
sharing one ReID embedder), and an ``on_predict_postprocess_end`` callback feeds each result's
``boxes.data`` ``[x1, y1, x2, y2, conf, cls]`` and ``orig_img`` (BGR) to its stream's tracker,
then keeps the tracked rows with ``result[det_index]`` and ``result.update(boxes=...)`` in the
tracked layout ``[x1, y1, x2, y2, id, conf, cls]`` (``boxes.is_track`` is then true). Only the
callbacks are touched, so every detector format ultralytics runs (``.pt``, ``.onnx``, OpenVINO
folders, TensorRT engines...) works.

``model.track(...)`` cannot run this tracker: ultralytics builds its tracker from the
``tracker_type`` of its YAML and accepts only its own ``TRACKER_MAP`` (``bytetrack``,
``botsort``, ``tracktrack``, ``fasttrack``, ``ocsort``, ``deepocsort``); adding ours would mean
editing ultralytics' module state and mimicking its private tracker interface. So StrongSORT runs
under ``model.predict(...)`` (or ``model(...)``); under ``model.track(...)`` the attached
callbacks step aside (with a warning) and ultralytics' own tracker runs.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, List, Optional, Union

import numpy as np
import torch

from ..strongsort.strong_sort import ConfigLike, StrongSORT

DEFAULT_REID_WEIGHTS = "osnet_x0_25_msmt17"
# Tasks whose results carry axis-aligned ``boxes`` (OBB results have rotated boxes only).
TRACKABLE_TASKS = ("detect", "segment", "pose")
EVENTS = ("on_predict_start", "on_predict_postprocess_end")


class StrongSORTCallbacks:
    """The state and the two callbacks that :func:`attach_strongsort` registers on a model.

    Args:
        embedder: Shared by every stream's tracker (``from_frame(frame, boxes) -> (N, D)``).
        config: The :class:`~trackers.StrongSORTConfig` of every tracker.
        persist: Keep the trackers across ``predict`` calls and video changes.

    Attributes:
        trackers: One :class:`~trackers.StrongSORT` per stream of the current (or last) call.
    """

    def __init__(self, embedder: Any, config: Any, persist: bool):
        self.embedder = embedder
        self.config = config
        self.persist = bool(persist)
        self.trackers: List[StrongSORT] = []
        self._sequences: List[Any] = []  # per stream: the video (or "image", "stream") it tracks
        self._warned_track_mode = False

    def on_predict_start(self, predictor: Any) -> None:
        """One tracker per stream: fresh ones, or with ``persist`` the existing ones (more if
        this source has more streams)."""
        if _skip(predictor):
            if predictor.args.mode == "track" and not self._warned_track_mode:
                self._warned_track_mode = True
                warnings.warn(
                    "model.track() runs ultralytics' own tracker; StrongSORT attached with "
                    "attach_strongsort() runs under model.predict()",
                    stacklevel=2,
                )
            return
        _check_task(predictor.args.task)
        dataset = predictor.dataset
        # Streams (LoadStreams: webcams, RTSP, *.streams files) batch one frame per source;
        # files and in-memory images are one sequence, whatever the batch size.
        needed = dataset.bs if dataset.mode == "stream" else 1
        if not self.persist:
            self.trackers, self._sequences = [], []
        while len(self.trackers) < needed:
            self.trackers.append(StrongSORT(self.embedder, config=self.config))
            self._sequences.append(None)

    def on_predict_postprocess_end(self, predictor: Any) -> None:
        """Track each result of the batch and keep only the tracked boxes, with identities."""
        if _skip(predictor) or not self.trackers:
            return
        dataset = predictor.dataset  # a per-batch snapshot when ultralytics prefetches
        stream = dataset.mode == "stream"
        for i, result in enumerate(predictor.results):
            slot = i if stream else 0
            tracker = self.trackers[slot]
            # A new video restarts the identities (as ultralytics does); the images of one
            # call (a folder of frames, a list of arrays) are one sequence.
            sequence = result.path if dataset.mode == "video" else dataset.mode
            if not self.persist and self._sequences[slot] != sequence:
                tracker.reset()
            self._sequences[slot] = sequence
            predictor.results[i] = _tracked_result(result, tracker)


def attach_strongsort(
    model: Any,
    reid_weights: Union[str, Path, None] = None,
    *,
    config: ConfigLike = None,
    persist: bool = False,
    device: str = "cpu",
    reid_model: Optional[str] = None,
    embedder: Any = None,
    **params: Any,
) -> Any:
    """Make ``model.predict(...)`` track with StrongSORT: ``result.boxes.id`` holds identities.

    Attaching again replaces the previous attachment (and its trackers).

    Args:
        model: An ultralytics ``YOLO`` model of a detect, segment or pose task, any format.
        reid_weights: ReID weight name or checkpoint/export path (default
            :data:`DEFAULT_REID_WEIGHTS`, the bundled OSNet x0.25); loaded once and shared by
            every stream's tracker.
        config: A :class:`~trackers.StrongSORTConfig`, mapping or YAML path (default: the
            shipped defaults, e.g. ``min_conf=0.6``: lower-confidence boxes are not tracked and
            not returned).
        persist: ``False``: every ``predict`` call, and every new video within one, starts with
            no tracks and identities from 1. ``True``: tracks and identities carry over (for
            calling ``predict`` frame by frame, or one scene split over several calls).
        device: Device of the ReID model (``"cpu"``, ``"cuda:0"``, ``"auto"``).
        reid_model: Architecture of ``reid_weights`` when its name does not tell.
        embedder: Instead of ``reid_weights``: any object with ``from_frame(frame, boxes_xyxy)
            -> (N, D)`` (e.g. a :class:`strongsort_reid.inference.FeatureExtractor` on another
            backend).
        **params: StrongSORT parameters overriding ``config`` (``max_age=60``...).

    Returns:
        ``model``, for chaining.

    Raises:
        ValueError: A model without ``callbacks``, a task without axis-aligned boxes (classify,
            obb), both ``embedder`` and ``reid_weights``, or bad StrongSORT parameters.
        FileNotFoundError: ReID weights that cannot be found.
    """
    if not hasattr(model, "add_callback") or not hasattr(model, "callbacks"):
        raise ValueError(f"model must be an ultralytics model (YOLO(...)), got {type(model)}")
    _check_task(getattr(model, "task", None))
    if embedder is not None and reid_weights is not None:
        raise ValueError("pass either embedder or reid_weights, not both")
    if embedder is None:
        reid_weights = DEFAULT_REID_WEIGHTS if reid_weights is None else reid_weights
    # One probe tracker checks the parameters and loads the ReID model, now rather than at
    # the first frame; the per-stream trackers share its embedder and configuration.
    probe = StrongSORT(
        embedder,
        config=config,
        reid_weights=None if embedder is not None else reid_weights,
        reid_model=reid_model,
        device=device,
        **params,
    )
    callbacks = StrongSORTCallbacks(probe.embedder, probe.config, persist)
    detach_strongsort(model)
    model.add_callback("on_predict_start", callbacks.on_predict_start)
    model.add_callback("on_predict_postprocess_end", callbacks.on_predict_postprocess_end)
    return model


def detach_strongsort(model: Any) -> Any:
    """Remove what :func:`attach_strongsort` added: ``predict`` gives plain detections again.

    Returns:
        ``model``, for chaining (nothing happens when nothing is attached).
    """
    for event in EVENTS:
        callbacks = model.callbacks[event]  # the list the predictor shares: edit it in place
        callbacks[:] = [fn for fn in callbacks if _attachment(fn) is None]
    return model


def strongsort_trackers(model: Any) -> List[StrongSORT]:
    """The per-stream trackers of the last ``predict`` call on ``model`` (for ``stats``,
    ``plot`` with trails or a manual ``reset()``); ``[]`` when nothing is attached or before the
    first call."""
    for fn in model.callbacks["on_predict_start"]:
        attachment = _attachment(fn)
        if attachment is not None:
            return list(attachment.trackers)
    return []


def _attachment(fn: Any) -> Optional[StrongSORTCallbacks]:
    owner = getattr(fn, "__self__", None)
    return owner if isinstance(owner, StrongSORTCallbacks) else None


def _skip(predictor: Any) -> bool:
    """True when the callbacks must not act: ``model.track`` (ultralytics' tracker runs) or
    ``embed`` (no detections)."""
    args = predictor.args
    return args.mode == "track" or bool(getattr(args, "embed", None))


def _check_task(task: Optional[str]) -> None:
    if task is not None and task not in TRACKABLE_TASKS:
        raise ValueError(
            f"StrongSORT tracks axis-aligned boxes: the model's task must be one of "
            f"{', '.join(TRACKABLE_TASKS)}, got {task!r}"
        )


def _tracked_result(result: Any, tracker: StrongSORT) -> Any:
    """``result`` reduced to the rows ``tracker`` outputs for it, boxes in the tracked layout."""
    boxes = result.boxes
    dets = boxes.data[:, :6].cpu().numpy() if boxes is not None else np.empty((0, 6))
    tracks = tracker.update(dets, result.orig_img)
    if result.masks is not None or result.keypoints is not None:
        # Masks and keypoints exist only for this frame's detections: keep the matched rows.
        tracks = tracks[tracks[:, 7] >= 0]
        tracked = result[tracks[:, 7].astype(int).tolist()]
    else:
        tracked = result[:0]
    device = boxes.data.device if boxes is not None else "cpu"
    rows = torch.as_tensor(tracks[:, :7], dtype=torch.float32, device=device)
    tracked.update(boxes=rows)  # [x1, y1, x2, y2, id, conf, cls]: Boxes.is_track
    return tracked
