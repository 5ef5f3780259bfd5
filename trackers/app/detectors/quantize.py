"""Static int8 quantisation of an ultralytics ONNX detector (ONNX Runtime QDQ), calibrated on
real frames.

The result is a QDQ ONNX file: ``QuantizeLinear -> DequantizeLinear`` pairs around the
convolutions (uint8 activations whose ranges are the minimum and maximum over the calibration
frames), per-channel int8 weights and int32 biases. ONNX Runtime runs it with its int8 kernels;
OpenVINO reads the pairs as ``FakeQuantize`` and runs the convolutions in 8 bits
(:mod:`trackers.app.detectors.openvino_export` converts the file as it is).

What stays in float: the operators between convolutions (SiLU, concatenations, pooling,
upsampling; quantising them as well lost 1.1 points of person recall at confidence 0.3 on the
dev sequences, the convolutions alone 0.5) and the detector's output tail: the head's last
convolutions (box distributions and class logits, whose ranges differ by orders of magnitude in
one concatenated tensor), the distribution focal loss decoding and the final concatenation.

A dynamically quantised input (``ConvInteger``, the shared ``yolov8n_int8.onnx``) is first turned
back into float convolutions with its dequantised weights
(:func:`~trackers.app.detectors.openvino_export.dequantize_dynamic_int8`).
"""

from __future__ import annotations

import collections
import tempfile
from pathlib import Path
from typing import Iterable, List, Optional

import numpy as np

from .openvino_yolo import letterbox

# The head's tail, kept in float: the output convolutions and everything after them.
_FLOAT_TAIL_OPS = ("Concat", "Reshape", "Split", "Transpose", "Softmax", "Slice", "Sub", "Add")


def float_tail_nodes(model) -> List[str]:
    """Names of the nodes of an ultralytics YOLOv8 detection head (``onnx.ModelProto``) to keep
    in float: the last convolution of each box/class branch (``.../cv2.i.2``, ``.../cv3.i.2``)
    and every non-convolution node after them (DFL, box decoding, output concatenation)."""
    head = _head_prefix(model)
    names = []
    for node in model.graph.node:
        if not node.name.startswith(head):
            continue
        last_conv = node.op_type == "Conv" and node.name.split("/")[-2].endswith(".2")
        if last_conv or node.op_type in _FLOAT_TAIL_OPS or node.op_type in ("Div", "Mul"):
            names.append(node.name)
    return names


def _head_prefix(model) -> str:
    """``"/model.<i>/"`` of the detection head: the module that holds the ``dfl`` nodes."""
    for node in model.graph.node:
        parts = node.name.split("/")
        if len(parts) > 2 and parts[2] == "dfl":
            return f"/{parts[1]}/"
    raise ValueError("not an ultralytics YOLOv8-style detector: no '/model.N/dfl' nodes")


def fold_conv_bias(model):
    """A copy of ``model`` (``onnx.ModelProto``) where each bias-free ``Conv`` followed by an
    ``Add`` of a constant per-channel bias (an initializer, or a ``Reshape`` of one) becomes one
    ``Conv`` with that bias, the form quantisers expect."""
    import onnx
    from onnx import numpy_helper

    folded = onnx.ModelProto()
    folded.CopyFrom(model)
    graph = folded.graph
    constants = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    producer = {out: node for node in graph.node for out in node.output}
    uses = collections.Counter(name for node in graph.node for name in node.input)
    dropped, biases = set(), []
    for add in [node for node in graph.node if node.op_type == "Add"]:
        conv = next((producer.get(n) for n in add.input if n in producer), None)
        if conv is None or conv.op_type != "Conv" or len(conv.input) > 2:
            continue
        bias = _constant_bias(add, conv, producer, constants)
        if bias is None or uses[conv.output[0]] != 1:
            continue
        name = conv.output[0] + "_folded_bias"
        biases.append(numpy_helper.from_array(bias, name))
        conv.input.append(name)
        conv.output[0] = add.output[0]
        dropped.add(id(add))
    kept = [node for node in graph.node if id(node) not in dropped]
    used = {name for node in kept for name in node.input}
    kept = [n for n in kept if n.op_type != "Reshape" or any(o in used for o in n.output)]
    used = {name for node in kept for name in node.input}
    del graph.node[:]
    graph.node.extend(kept)
    initializers = [init for init in graph.initializer if init.name in used] + biases
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    return folded


def _constant_bias(add, conv, producer, constants) -> Optional[np.ndarray]:
    """The float32 ``(C,)`` bias ``add`` puts on ``conv``'s output, or ``None``."""
    other = next(n for n in add.input if n != conv.output[0])
    value = constants.get(other)
    reshape = producer.get(other)
    if value is None and reshape is not None and reshape.op_type == "Reshape":
        value = constants.get(reshape.input[0])
    channels = constants.get(conv.input[1], np.empty((0,))).shape[:1]
    if value is None or value.size != (channels[0] if channels else -1):
        return None
    return value.reshape(-1).astype(np.float32)


class FrameCalibration:
    """ONNX Runtime calibration reader: letterboxed BGR frames, one batch of one at a time.

    Args:
        frames: ``uint8 HxWx3`` BGR images (any sizes).
        input_name: The model's image input.
        input_hw: The model's fixed input ``(H, W)``.
    """

    def __init__(self, frames: Iterable[np.ndarray], input_name: str, input_hw):
        self._frames = iter(frames)
        self.input_name = input_name
        self.input_hw = tuple(input_hw)

    def get_next(self) -> Optional[dict]:
        frame = next(self._frames, None)
        if frame is None:
            return None
        return {self.input_name: letterbox(frame, self.input_hw)[0]}

    def rewind(self) -> None:  # ONNX Runtime calls it only for some calibration methods
        raise RuntimeError("calibration frames can be read once")


def quantize_detector(source, target, frames: Iterable[np.ndarray]) -> Path:
    """Write a statically int8-quantised copy of the ONNX detector ``source`` to ``target``.

    Args:
        source: An ultralytics ONNX detector with a fixed ``(1, 3, H, W)`` input (float, or with
            dynamically quantised ``ConvInteger`` weights).
        target: The ``.onnx`` file to write (its metadata is the source's).
        frames: Calibration images, ``uint8 HxWx3`` BGR, as the detector will see them; the
            activation ranges are their minima and maxima.

    Returns:
        ``target``.

    Raises:
        ValueError: Not a fixed-size YOLOv8-style detector.
    """
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    from .openvino_export import dequantize_dynamic_int8

    model = onnx.load(str(source))
    if any(node.op_type == "ConvInteger" for node in model.graph.node):
        model = dequantize_dynamic_int8(model)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    input_hw = (dims[2].dim_value, dims[3].dim_value)
    if len(dims) != 4 or min(input_hw) <= 0:
        raise ValueError(f"{source} needs a fixed (1, 3, H, W) input")
    # Biases inside the convolutions are quantised to int32 with them.
    prepared_model = fold_conv_bias(model)
    with tempfile.TemporaryDirectory() as scratch:
        prepared = Path(scratch) / "prepared.onnx"
        onnx.save(prepared_model, str(prepared))
        quantize_static(
            str(prepared),
            str(target),
            FrameCalibration(frames, model.graph.input[0].name, input_hw),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=float_tail_nodes(prepared_model),
            op_types_to_quantize=["Conv"],
            calibrate_method=CalibrationMethod.MinMax,
            extra_options={"CalibMovingAverage": False},
        )
    quantized = onnx.load(str(target))
    del quantized.metadata_props[:]
    quantized.metadata_props.extend(model.metadata_props)
    onnx.save(quantized, str(target))
    return Path(target)
