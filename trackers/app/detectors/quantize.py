"""Static int8 quantisation of an ultralytics ONNX detector (NNCF post-training quantisation),
calibrated on real frames.

The result is a QDQ ONNX file: ``QuantizeLinear -> DequantizeLinear`` pairs on the inputs of the
convolutions and of the concatenations, additions and upsamplings between them (NNCF's ``MIXED``
preset: int8 weights per output channel; activation ranges from the calibration frames), with
NNCF's bias correction of the quantisation error (the full one, layer by layer). OpenVINO
reads the pairs as ``FakeQuantize`` and runs the convolutions in 8 bits
(:mod:`trackers.app.detectors.openvino_export` converts the file as it is); ONNX Runtime runs it
with its int8 kernels.

What stays in float: the first convolution (it sees the raw image; see
:func:`float_input_nodes`) and the detector's output tail: the head's last convolutions (box
distributions and class logits, whose ranges differ by orders of magnitude in one concatenated
tensor), the distribution focal loss decoding and the final concatenation.

Measured with ``scripts/bench_detector.py`` (person recall/precision at IoU 0.5, confidence 0.6,
the demo's rect input): on the dev sequences 83.25 / 95.88 % against 83.04 / 95.87 % for the
float network, on MOT17-mini 22.11 / 92.31 % against 21.62 / 92.15 %, at 0.73-0.77x its time
on a 2-core AVX-512 CPU. Quantising the first convolution too with only the fast bias
correction (the previous setting) was 0.70x the time but lost dev precision (95.23 %) and
tracked worse on both dev sequences; ONNX Runtime's own static quantiser (min/max ranges,
convolutions only) lost recall (82.74 % dev, 20.64 % MOT17-mini) and was slower.

A dynamically quantised input (``ConvInteger``, the shared ``yolov8n_int8.onnx``) is first turned
back into float convolutions with its dequantised weights
(:func:`~trackers.app.detectors.openvino_export.dequantize_dynamic_int8`).
"""

from __future__ import annotations

import collections
from pathlib import Path
from typing import List, Optional, Sequence

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


def float_input_nodes(model) -> List[str]:
    """Names of the nodes of the first module (``/model.0/``: the stem convolution on the raw
    image and its activation) of an ultralytics detector (``onnx.ModelProto``), kept in float."""
    return [node.name for node in model.graph.node if node.name.startswith("/model.0/")]


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


def quantize_detector(source, target, frames: Sequence[np.ndarray]) -> Path:
    """Write a statically int8-quantised copy of the ONNX detector ``source`` to ``target``.

    NNCF's post-training quantisation (``MIXED`` preset: symmetric int8 weights per channel,
    asymmetric activations; bias correction), with :func:`float_input_nodes` and
    :func:`float_tail_nodes` kept in float.

    Args:
        source: An ultralytics ONNX detector with a fixed ``(1, 3, H, W)`` input (float, or with
            dynamically quantised ``ConvInteger`` weights).
        target: The ``.onnx`` file to write (its metadata is the source's).
        frames: Calibration images, ``uint8 HxWx3`` BGR, as the detector will see them
            (letterboxed to the model's input size).

    Returns:
        ``target``.

    Raises:
        ValueError: Not a fixed-size YOLOv8-style detector.
        ImportError: NNCF is not installed (``pip install nncf``).
    """
    import nncf
    import onnx

    from .openvino_export import dequantize_dynamic_int8

    model = onnx.load(str(source))
    if any(node.op_type == "ConvInteger" for node in model.graph.node):
        model = dequantize_dynamic_int8(model)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    input_hw = (dims[2].dim_value, dims[3].dim_value)
    if len(dims) != 4 or min(input_hw) <= 0:
        raise ValueError(f"{source} needs a fixed (1, 3, H, W) input")
    # Biases inside the convolutions are quantised with them.
    prepared = fold_conv_bias(model)
    input_name = prepared.graph.input[0].name
    calibration = nncf.Dataset(
        list(frames), lambda frame: {input_name: letterbox(frame, input_hw)[0]}
    )
    quantized = nncf.quantize(
        prepared,
        calibration,
        preset=nncf.QuantizationPreset.MIXED,
        subset_size=len(frames),
        fast_bias_correction=False,
        ignored_scope=nncf.IgnoredScope(
            names=float_input_nodes(prepared) + float_tail_nodes(prepared), validate=False
        ),
    )
    del quantized.metadata_props[:]
    quantized.metadata_props.extend(model.metadata_props)
    onnx.save(quantized, str(target))
    return Path(target)
