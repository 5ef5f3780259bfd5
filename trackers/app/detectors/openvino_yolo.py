"""A YOLOv8-style detector run straight on OpenVINO, without ultralytics' Python pipeline.

The converted detectors of :mod:`trackers.app.detectors.openvino_export` are ultralytics OpenVINO
folders. Running them through ultralytics costs the import of torchvision (about 1.3 s of every
start-up, for its NMS) and a few milliseconds of Python per frame. This module does the same
three steps itself, in numpy and OpenCV, as ultralytics 8.x defines them:

1. letterbox: resize with the aspect ratio kept (``cv2.INTER_LINEAR``), pad to the network's
   fixed input size with grey 114, centred; BGR -> RGB, ``/ 255``;
2. decode the ``(1, 4 + C, A)`` output: ``cx, cy, w, h`` and ``C`` class scores per anchor; each
   anchor keeps its best class; anchors at or below ``conf`` and classes not asked for drop out;
3. per-class greedy NMS (a box is suppressed by a higher-scoring box of its class with IoU >
   ``iou``), at most ``max_det`` boxes by descending score, mapped back to the frame and clipped.

The detections match ultralytics' on the same folder (a test compares them on real frames).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np
import yaml

from .base import ImageDetector

PAD_VALUE = 114
# ultralytics keeps at most this many candidates (by score) before NMS.
MAX_NMS = 30000


class OpenVinoYoloDetector(ImageDetector):
    """Detect with an ultralytics OpenVINO folder (``model.xml`` + ``metadata.yaml``).

    Args:
        folder: The ``*_openvino_model`` folder; its input must have a fixed ``(1, 3, H, W)``.
        conf: Confidence threshold (kept: score > ``conf``).
        iou: NMS IoU threshold.
        classes: Class indices to keep; ``None`` keeps all.
        max_det: Most detections per frame.
        device: OpenVINO device name (``"CPU"``, ``"GPU"``...).

    Calling it on a ``uint8 HxWx3`` BGR image returns ``(N, 6)`` float32
    ``[x1, y1, x2, y2, conf, cls]`` in pixels of that image, by descending ``conf``.

    Raises:
        ValueError: The folder is not a detector with a fixed input size.
    """

    def __init__(
        self,
        folder,
        conf: float = 0.25,
        iou: float = 0.7,
        classes: Optional[Sequence[int]] = (0,),
        max_det: int = 300,
        device: str = "CPU",
    ):
        from strongsort_reid.inference.compat import openvino_core

        folder = Path(folder)
        metadata = yaml.safe_load((folder / "metadata.yaml").read_text(encoding="utf-8"))
        if metadata.get("task", "detect") != "detect":
            raise ValueError(f"{folder} is a {metadata['task']} model, not a detector")
        core = openvino_core()  # one Core per process (see openvino_core)
        model = core.read_model(str(folder / "model.xml"))
        shape = model.inputs[0].get_partial_shape()
        if shape.is_dynamic or len(shape) != 4:
            raise ValueError(f"{folder} needs a fixed (1, 3, H, W) input, has {shape}")
        self.input_hw: Tuple[int, int] = (shape[2].get_length(), shape[3].get_length())
        # The configuration ultralytics compiles OpenVINO models with, so results match.
        self.compiled = core.compile_model(model, device.upper(), {"PERFORMANCE_HINT": "LATENCY"})
        self.request = self.compiled.create_infer_request()
        self.conf, self.iou, self.max_det = float(conf), float(iou), int(max_det)
        self.classes = None if classes is None else np.asarray(list(classes), dtype=np.int64)
        self.num_classes = len(metadata.get("names", {})) or None
        self.name = f"OpenVINO {folder.name}"
        # The first inference allocates OpenVINO's buffers: do it now, not on the first frame.
        self(np.zeros((*self.input_hw, 3), dtype=np.uint8))

    def __call__(self, image: np.ndarray) -> np.ndarray:
        batch, scale, pad = letterbox(image, self.input_hw)
        self.request.infer({0: batch}, share_inputs=True)  # no copy of the 5 MB batch
        output = self.request.get_output_tensor(0).data[0]  # (4 + C, A)
        boxes, scores, labels = decode(output, self.conf, self.classes)
        keep = batched_nms(boxes, scores, labels, self.iou)[: self.max_det]
        detections = np.empty((keep.size, 6), dtype=np.float32)
        detections[:, :4] = unletterbox(boxes[keep], scale, pad, image.shape[:2])
        detections[:, 4] = scores[keep]
        detections[:, 5] = labels[keep]
        return detections


def letterbox(image: np.ndarray, size: Tuple[int, int]):
    """``(batch (1, 3, H, W) float32 RGB in 0-1, (gain_x, gain_y), (pad_x, pad_y))`` for
    ``image`` (BGR ``uint8``) letterboxed to ``size`` ``(H, W)`` as ultralytics does."""
    height, width = image.shape[:2]
    ratio = min(size[0] / height, size[1] / width)
    new_w, new_h = max(round(width * ratio), 1), max(round(height * ratio), 1)
    if (new_w, new_h) != (width, height):
        image = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    dw, dh = (size[1] - new_w) / 2, (size[0] - new_h) / 2
    top, bottom = round(dh - 0.1), round(dh + 0.1)
    left, right = round(dw - 0.1), round(dw + 0.1)
    image = cv2.copyMakeBorder(
        image, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3
    )
    # The same values as ultralytics' ``x[..., ::-1].transpose(...) / 255`` in float32, 4x faster
    # (OpenCV swaps the channels, one division writes the planar batch).
    batch = np.empty((1, 3, size[0], size[1]), dtype=np.float32)
    rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    np.divide(rgb.transpose(2, 0, 1), np.float32(255), out=batch[0], dtype=np.float32)
    return batch, (new_w / width, new_h / height), (left, top)


def decode(output: np.ndarray, conf: float, classes: Optional[np.ndarray]):
    """``(boxes (K, 4) xyxy, scores (K,), labels (K,))`` of the anchors of a ``(4 + C, A)``
    output whose best class score exceeds ``conf`` and whose best class is in ``classes``."""
    class_scores = output[4:]
    # The best class of the few anchors above ``conf`` only (argmax over all is 10x dearer).
    index = np.flatnonzero(class_scores.max(axis=0) > conf)
    labels = class_scores[:, index].argmax(axis=0)
    scores = class_scores[labels, index]
    if classes is not None:
        chosen = np.isin(labels, classes)
        index, labels, scores = index[chosen], labels[chosen], scores[chosen]
    if index.size > MAX_NMS:
        best = np.argsort(-scores, kind="stable")[:MAX_NMS]
        index, labels, scores = index[best], labels[best], scores[best]
    cx, cy, w, h = output[:4, index]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    return boxes, scores, labels


def batched_nms(boxes: np.ndarray, scores: np.ndarray, labels: np.ndarray, iou: float):
    """Indices kept by per-class greedy NMS, by descending score (torchvision's rule: a box is
    dropped when a kept, higher-scoring box of its class overlaps it with IoU > ``iou``)."""
    order = np.argsort(-scores, kind="stable")
    # Offsetting each class by more than any coordinate keeps classes apart in one pass.
    shifted = boxes[order] + labels[order, None].astype(np.float32) * np.float32(7680)
    areas = (shifted[:, 2] - shifted[:, 0]) * (shifted[:, 3] - shifted[:, 1])
    suppressed = np.zeros(order.size, dtype=bool)
    kept = []
    for i in range(order.size):
        if suppressed[i]:
            continue
        kept.append(order[i])
        rest = slice(i + 1, None)
        x1 = np.maximum(shifted[i, 0], shifted[rest, 0])
        y1 = np.maximum(shifted[i, 1], shifted[rest, 1])
        x2 = np.minimum(shifted[i, 2], shifted[rest, 2])
        y2 = np.minimum(shifted[i, 3], shifted[rest, 3])
        inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
        suppressed[rest] |= inter / (areas[i] + areas[rest] - inter) > iou
    return np.asarray(kept, dtype=np.int64)


def unletterbox(boxes: np.ndarray, gain, pad, shape) -> np.ndarray:
    """``boxes`` (xyxy in network pixels) mapped back to an image of ``shape`` and clipped."""
    out = boxes.astype(np.float32, copy=True)
    out[:, [0, 2]] = (out[:, [0, 2]] - pad[0]) / gain[0]
    out[:, [1, 3]] = (out[:, [1, 3]] - pad[1]) / gain[1]
    out[:, [0, 2]] = out[:, [0, 2]].clip(0, shape[1])
    out[:, [1, 3]] = out[:, [1, 3]].clip(0, shape[0])
    return out
