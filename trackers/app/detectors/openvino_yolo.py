"""A YOLOv8-style detector run straight on OpenVINO, without ultralytics' Python pipeline.

The converted detectors of :mod:`trackers.app.detectors.openvino_export` are ultralytics OpenVINO
folders. Running them through ultralytics costs the import of torchvision (about 1.3 s of every
start-up, for its NMS) and a few milliseconds of Python per frame. This module does the same
steps itself, in numpy and OpenCV, as ultralytics 8.x defines them:

1. letterbox: resize with the aspect ratio kept (``cv2.INTER_LINEAR``) to fit the network's
   input size, pad with grey 114, centred; BGR -> RGB, ``/ 255``. With ``rect`` (the default)
   the padding is only what makes each side a multiple of the network stride, as ultralytics
   does for PyTorch models (``LetterBox(auto=True)``): a 16:9 frame at size 640 runs at
   640x384 instead of 640x640, 40% fewer pixels at the same scale;
2. the network body runs up to the detection head's per-stride maps (box distributions
   ``(1, 4 * reg_max, H / s, W / s)`` and class logits ``(1, C, H / s, W / s)``, concatenated
   or apart): being fully convolutional, it is reshaped to each letterboxed size it meets (one
   compiled model per size, cached);
3. decode, as the head's own tail does (sigmoid class scores, distribution focal loss box
   distances around the cell centres, times the stride), but for the few anchors whose best
   class score exceeds ``conf`` only; classes not asked for drop out;
4. per-class greedy NMS (a box is suppressed by a higher-scoring box of its class with IoU >
   ``iou``), at most ``max_det`` boxes by descending score, mapped back to the frame and clipped.

The detections match ultralytics' on the same folder (a test compares them on real frames).
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import yaml

from .base import ImageDetector

PAD_VALUE = 114
# ultralytics keeps at most this many candidates (by score) before NMS.
MAX_NMS = 30000


class OpenVinoYoloDetector(ImageDetector):
    """Detect with an ultralytics OpenVINO folder (``<name>.xml`` + ``.bin`` + ``metadata.yaml``).

    Args:
        folder: The ``*_openvino_model`` folder of a YOLOv8-style detector (anchor-free
            ``Detect`` head); its fixed ``(1, 3, H, W)`` input sets the letterbox size.
        conf: Confidence threshold (kept: score > ``conf``).
        iou: NMS IoU threshold.
        classes: Class indices to keep; ``None`` keeps all.
        max_det: Most detections per frame.
        device: OpenVINO device name (``"CPU"``, ``"GPU"``...).
        imgsz: Letterbox size in pixels (rounded up to a multiple of the stride); ``None``:
            the model's own input size.
        rect: Pad frames only to a multiple of the stride (see the module notes); ``False``
            pads to the full ``imgsz`` square as ultralytics does for exported models.
        precision: OpenVINO's ``INFERENCE_PRECISION_HINT`` (``"f32"``, ``"bf16"``, ``"f16"``);
            ``None`` keeps the device's default (bf16 on CPUs that compute it natively).

    Calling it on a ``uint8 HxWx3`` BGR image returns ``(N, 6)`` float32
    ``[x1, y1, x2, y2, conf, cls]`` in pixels of that image, by descending ``conf``.

    Raises:
        ValueError: The folder is not a detector with a fixed input size and a YOLOv8 head.
    """

    def __init__(
        self,
        folder,
        conf: float = 0.25,
        iou: float = 0.7,
        classes: Optional[Sequence[int]] = (0,),
        max_det: int = 300,
        device: str = "CPU",
        imgsz: Optional[int] = None,
        rect: bool = True,
        precision: Optional[str] = None,
    ):
        from strongsort_reid.inference.compat import openvino_core

        folder = Path(folder)
        metadata = yaml.safe_load((folder / "metadata.yaml").read_text(encoding="utf-8"))
        if metadata.get("task", "detect") != "detect":
            raise ValueError(f"{folder} is a {metadata['task']} model, not a detector")
        self._core = openvino_core()  # one Core per process (see openvino_core)
        # ultralytics names the file after the weights (yolov8n.xml); converted ONNX: model.xml.
        xml = next(iter(sorted(folder.glob("*.xml"))), folder / "model.xml")
        model = self._core.read_model(str(xml))
        shape = model.inputs[0].get_partial_shape()
        if shape.is_dynamic or len(shape) != 4:
            raise ValueError(f"{folder} needs a fixed (1, 3, H, W) input, has {shape}")
        stride = int(metadata.get("stride", 32))
        if imgsz is None:
            self.input_hw: Tuple[int, int] = (shape[2].get_length(), shape[3].get_length())
        else:
            side = -(-int(imgsz) // stride) * stride
            self.input_hw = (side, side)
        self.num_classes = len(metadata.get("names", {}))
        self._body, self.levels = _head_maps_model(model, self.num_classes, folder)
        self.stride = stride if rect else None
        # The configuration ultralytics compiles OpenVINO models with, so results match.
        self._config = {"PERFORMANCE_HINT": "LATENCY"}
        if precision is not None:
            self._config["INFERENCE_PRECISION_HINT"] = precision
        self._device = device.upper()
        self._requests: Dict[Tuple[int, int], object] = {}
        self.conf, self.iou, self.max_det = float(conf), float(iou), int(max_det)
        self.classes = None if classes is None else np.asarray(list(classes), dtype=np.int64)
        self.name = f"OpenVINO {folder.name}"

    @property
    def compiled_sizes(self) -> List[Tuple[int, int]]:
        """The letterboxed input sizes ``(H, W)`` compiled so far, in order of first use."""
        return list(self._requests)

    def compiled(self, input_hw: Tuple[int, int]):
        """The ``openvino.CompiledModel`` that runs letterboxed ``(H, W)`` inputs (compiled on
        first use: a few hundred milliseconds, once per frame size)."""
        return self._request(tuple(input_hw)).get_compiled_model()

    def _request(self, input_hw: Tuple[int, int]):
        request = self._requests.get(input_hw)
        if request is None:
            model = self._body.clone()
            model.reshape({0: [1, 3, *input_hw]})
            compiled = self._core.compile_model(model, self._device, self._config)
            request = self._requests[input_hw] = compiled.create_infer_request()
        return request

    def __call__(self, image: np.ndarray) -> np.ndarray:
        batch, scale, pad = letterbox(image, self.input_hw, self.stride)
        request = self._request(batch.shape[2:])
        request.infer({0: batch}, share_inputs=True)  # no copy of the batch
        maps = [tensor.data[0] for tensor in request.output_tensors]
        if len(maps) == self.levels:  # (4 * reg_max + C, h, w) each: split the channels
            box_maps = [m[: -self.num_classes] for m in maps]
            class_maps = [m[-self.num_classes :] for m in maps]
        else:  # the box maps, then the class maps
            box_maps, class_maps = maps[: self.levels], maps[self.levels :]
        boxes, scores, labels = decode(
            box_maps, class_maps, batch.shape[2], self.conf, self.classes
        )
        keep = batched_nms(boxes, scores, labels, self.iou)[: self.max_det]
        detections = np.empty((keep.size, 6), dtype=np.float32)
        detections[:, :4] = unletterbox(boxes[keep], scale, pad, image.shape[:2])
        detections[:, 4] = scores[keep]
        detections[:, 5] = labels[keep]
        return detections


def _head_maps_model(model, num_classes: int, folder: Path):
    """``(model cut before its detection head's tail, number of strides L)``: an
    ``openvino.Model`` whose outputs are the head's per-stride maps, largest first: either ``L``
    maps ``(1, 4 * reg_max + C, h, w)``, or ``L`` box maps ``(1, 4 * reg_max, h, w)`` then ``L``
    class maps ``(1, C, h, w)``.

    The tail of an ultralytics ``Detect`` head flattens each map (``Reshape`` to ``(1, channels,
    h * w)``) and concatenates them along the anchors: box and class maps together (ONNX exports
    of YOLOv8), or each kind apart (newer heads traced from PyTorch). The maps are the inputs of
    those reshapes.

    Raises:
        ValueError: No such concatenation fits ``num_classes`` (another head, or no detector).
    """
    from openvino import Model

    groups = []  # the flattened maps of each anchor concatenation
    for op in model.get_ordered_ops():
        if op.get_type_name() != "Concat" or op.get_output_partial_shape(0).rank.get_length() != 3:
            continue
        sources = [port.get_source_output().get_node() for port in op.inputs()]
        if len(sources) > 1 and all(
            node.get_type_name() == "Reshape" and node.get_input_partial_shape(0).rank == 4
            for node in sources
        ):
            groups.append([node.input(0).get_source_output() for node in sources])
    by_channels = {maps[0].get_partial_shape()[1].get_length(): maps for maps in reversed(groups)}
    classes = by_channels.get(num_classes)
    boxes = next((m for c, m in by_channels.items() if c % 4 == 0 and c != num_classes), None)
    combined = next(
        (m for c, m in by_channels.items() if c > num_classes and (c - num_classes) % 4 == 0),
        None,
    )
    name = f"{model.get_friendly_name()}_maps"
    if num_classes and classes is not None and boxes is not None and len(boxes) == len(classes):
        return Model(boxes + classes, model.get_parameters(), name), len(classes)
    if num_classes and combined is not None:
        return Model(combined, model.get_parameters(), name), len(combined)
    raise ValueError(
        f"{folder} has no YOLOv8-style detection head for {num_classes} classes "
        "(per-stride map concatenation)"
    )


def letterbox_shape(
    image_hw: Tuple[int, int], size: Tuple[int, int], stride: Optional[int] = None
) -> Tuple[Tuple[int, int], Tuple[int, int, int, int]]:
    """``((new_h, new_w), (top, bottom, left, right))``: the resized image size and the padding
    of a letterbox of an ``image_hw`` image into ``size`` ``(H, W)``; with ``stride``, padding
    only up to the next multiple of it (ultralytics' ``auto=True``)."""
    height, width = image_hw
    ratio = min(size[0] / height, size[1] / width)
    new_w, new_h = max(round(width * ratio), 1), max(round(height * ratio), 1)
    dw, dh = size[1] - new_w, size[0] - new_h
    if stride:
        dw, dh = dw % stride, dh % stride
    dw, dh = dw / 2, dh / 2
    padding = (round(dh - 0.1), round(dh + 0.1), round(dw - 0.1), round(dw + 0.1))
    return (new_h, new_w), padding


def letterbox(image: np.ndarray, size: Tuple[int, int], stride: Optional[int] = None):
    """``(batch (1, 3, H', W') float32 RGB in 0-1, (gain_x, gain_y), (pad_x, pad_y))`` for
    ``image`` (BGR ``uint8``) letterboxed into ``size`` ``(H, W)`` as ultralytics does: ``(H',
    W') == size``, or with ``stride`` the smallest multiples of it that hold the resized image."""
    height, width = image.shape[:2]
    (new_h, new_w), (top, bottom, left, right) = letterbox_shape((height, width), size, stride)
    if (new_w, new_h) != (width, height):
        image = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    image = cv2.copyMakeBorder(
        image, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3
    )
    # The same values as ultralytics' ``x[..., ::-1].transpose(...) / 255`` in float32, 4x faster
    # (OpenCV swaps the channels, one division writes the planar batch).
    batch = np.empty((1, 3, *image.shape[:2]), dtype=np.float32)
    rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    np.divide(rgb.transpose(2, 0, 1), np.float32(255), out=batch[0], dtype=np.float32)
    return batch, (new_w / width, new_h / height), (left, top)


def decode(
    box_maps: List[np.ndarray],
    class_maps: List[np.ndarray],
    input_h: int,
    conf: float,
    classes: Optional[np.ndarray],
):
    """``(boxes (K, 4) xyxy in input pixels, scores (K,), labels (K,))`` of the anchors whose
    best class score exceeds ``conf`` and whose best class is in ``classes``.

    Args:
        box_maps: The head's per-stride box maps, each ``(4 * reg_max, h, w)``: box distance
            distributions, ``reg_max`` bins for each of left, top, right, bottom. The stride of
            a map is ``input_h / h``.
        class_maps: The matching class logit maps, each ``(C, h, w)``.
        input_h: Height of the network input, pixels.
    """
    reg_max = box_maps[0].shape[0] // 4
    if 0 < conf < 1:
        threshold = np.log(conf / (1 - conf))  # sigmoid(x) > conf <=> x > logit(conf)
    else:
        threshold = -np.inf if conf <= 0 else np.inf
    columns, logit_columns, labels, centres, strides = [], [], [], [], []
    for box_map, class_map in zip(box_maps, class_maps):
        height, width = box_map.shape[1:]
        logits = class_map.reshape(len(class_map), height * width)
        # The best class of the few anchors above the threshold only (argmax over all is dear).
        index = np.flatnonzero(logits.max(axis=0) > threshold)
        label = logits[:, index].argmax(axis=0)
        if classes is not None:
            chosen = np.isin(label, classes)
            index, label = index[chosen], label[chosen]
        columns.append(box_map.reshape(len(box_map), height * width)[:, index])
        logit_columns.append(logits[:, index])
        labels.append(label)
        centres.append(np.stack([index % width, index // width]) + 0.5)
        strides.append(np.full(index.size, input_h / height, dtype=np.float32))
    columns, labels = np.concatenate(columns, axis=1), np.concatenate(labels)
    centres, strides = np.concatenate(centres, axis=1), np.concatenate(strides)
    best_logits = np.concatenate(logit_columns, axis=1)[labels, np.arange(labels.size)]
    scores = 1 / (1 + np.exp(-best_logits))
    if labels.size > MAX_NMS:
        best = np.argsort(-scores, kind="stable")[:MAX_NMS]
        columns, labels, scores = columns[:, best], labels[best], scores[best]
        centres, strides = centres[:, best], strides[best]
    # Distribution focal loss: each distance is the expectation of its softmax over the bins.
    bins = columns.reshape(4, reg_max, labels.size)
    weights = np.exp(bins - bins.max(axis=1, keepdims=True))
    distances = (weights * np.arange(reg_max, dtype=np.float32)[:, None]).sum(1) / weights.sum(1)
    boxes = np.concatenate([centres - distances[:2], centres + distances[2:]]) * strides
    return boxes.T.astype(np.float32), scores.astype(np.float32), labels


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
