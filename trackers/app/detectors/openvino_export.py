"""Turn a detector into an OpenVINO model folder that stock ultralytics loads, for fast CPU runs.

* ``.pt``: ultralytics' own OpenVINO export.
* ``.onnx``: converted with OpenVINO. ONNX models quantised *dynamically* to int8
  (``onnxruntime.quantization.quantize_dynamic``: ``DynamicQuantizeLinear -> ConvInteger``) are
  first turned back into float convolutions with the dequantised weights: CPU runtimes execute
  ``ConvInteger`` through slow generic kernels (the shared YOLOv8n-int8 takes about 150 ms per
  640x640 frame with ONNX Runtime on two cores, about 45 ms after this), and the float model is
  at least as accurate as the int8 one it comes from. Statically quantised (QDQ) models, such
  as those :mod:`trackers.app.detectors.quantize` writes, are converted as they are: OpenVINO
  runs their convolutions in int8.

Conversions are cached keyed by the file's content (see :func:`detector_cache`), so they run once.
"""

from __future__ import annotations

import ast
import hashlib
import os
import shutil
from pathlib import Path
from typing import Dict, List, Optional

import yaml
from tqdm import tqdm

# ultralytics' OpenVINO folders end with this suffix; its loader finds the .xml inside.
FOLDER_SUFFIX = "_openvino_model"
_INT_KEYS = ("stride", "batch")
_LITERAL_KEYS = ("names", "imgsz", "args", "kpt_shape")


CACHE_ENV = "STRONGSORT_DETECTOR_CACHE"
# What converting an ONNX detector does, one progress step each.
CONVERSION_STEPS = ("dequantise int8 weights", "convert to OpenVINO", "save")


def detector_cache() -> Path:
    """Folder of converted detectors: ``$STRONGSORT_DETECTOR_CACHE`` or
    ``~/.cache/strongsort_reid/detectors``."""
    env = os.environ.get(CACHE_ENV)
    return (
        Path(env).expanduser() if env else Path.home() / ".cache" / "strongsort_reid" / "detectors"
    )


class UnsupportedQuantization(ValueError):
    """The ONNX model uses integer operators in a pattern that cannot be dequantised."""


def openvino_model_folder(
    model: os.PathLike, imgsz: int, cache: os.PathLike, progress: bool = False
) -> Path:
    """An ultralytics-loadable OpenVINO folder for ``model``, converted on first use.

    Args:
        model: A ``.pt`` or ``.onnx`` ultralytics detector.
        imgsz: Inference size for ``.pt`` exports (ONNX files keep their own input size).
        cache: Folder for the converted models.
        progress: Show a progress bar while converting (only on a terminal; a cached folder
            is returned at once).

    Returns:
        The ``*_openvino_model`` folder (``model.xml``, ``model.bin``, ``metadata.yaml``).

    Raises:
        ValueError: Another file type.
        UnsupportedQuantization: An int8 ONNX whose graph cannot be dequantised.
    """
    model = Path(model)
    suffix = model.suffix.lower()
    if suffix not in (".pt", ".onnx"):
        raise ValueError(f"OpenVINO conversion takes .pt or .onnx detectors, got {model}")
    key = _content_key(model) + (f"_{int(imgsz)}" if suffix == ".pt" else "")
    folder = Path(cache) / f"{model.stem}_{key}{FOLDER_SUFFIX}"
    if (folder / "metadata.yaml").is_file():
        return folder
    work = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    steps = ("ultralytics export",) if suffix == ".pt" else CONVERSION_STEPS
    bar = tqdm(
        total=len(steps),
        desc=f"{model.name} -> OpenVINO (once, cached in {Path(cache)})",
        unit="step",
        disable=None if progress else True,
        leave=False,
    )
    try:
        if suffix == ".pt":
            _export_pt(model, int(imgsz), work)
            bar.update()
        else:
            _convert_onnx(model, work, bar)
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(work, folder)
    finally:
        bar.close()
        shutil.rmtree(work, ignore_errors=True)
    return folder


def _content_key(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:12]


def _export_pt(model: Path, imgsz: int, work: Path) -> None:
    """ultralytics writes ``<stem>_openvino_model/`` next to the weights: export a copy in
    ``work`` (the weights' folder may be read-only) and keep the result's files."""
    from ultralytics import YOLO

    copy = work / model.name
    shutil.copy2(model, copy)
    exported = Path(YOLO(str(copy), task="detect").export(format="openvino", imgsz=imgsz))
    for item in exported.iterdir():
        os.replace(item, work / item.name)
    shutil.rmtree(exported)
    copy.unlink()


def _convert_onnx(model: Path, work: Path, bar) -> None:
    """Convert an ONNX detector into ``work`` (one ``bar`` step per :data:`CONVERSION_STEPS`)."""
    import onnx
    import openvino as ov

    graph = onnx.load(str(model))
    metadata = _ultralytics_metadata(graph)
    source = model
    if any(node.op_type in ("ConvInteger", "MatMulInteger") for node in graph.graph.node):
        source = work / "dequantized.onnx"
        onnx.save(dequantize_dynamic_int8(graph), str(source))
    bar.update()
    converted = ov.convert_model(str(source))
    bar.update()
    ov.save_model(converted, str(work / "model.xml"), compress_to_fp16=False)
    if source != model:
        source.unlink()
    with open(work / "metadata.yaml", "w", encoding="utf-8") as stream:
        yaml.safe_dump(metadata, stream, sort_keys=False)
    bar.update()


def _ultralytics_metadata(graph) -> Dict:
    """The ``metadata.yaml`` content ultralytics expects, from the ONNX metadata properties."""
    values: Dict = {}
    for prop in graph.metadata_props:
        value = prop.value
        if prop.key in _INT_KEYS:
            value = int(value)
        elif prop.key in _LITERAL_KEYS:
            value = ast.literal_eval(value)
        values[prop.key] = value
    if "names" not in values:
        raise ValueError("the ONNX file has no ultralytics metadata (class names)")
    values.setdefault("task", "detect")
    return values


def dequantize_dynamic_int8(graph):
    """Replace every ``DynamicQuantizeLinear -> ConvInteger -> Cast -> Mul(scale)`` chain of an
    ``onnx.ModelProto`` with one float ``Conv`` whose weights are ``(w_q - w_zero) * w_scale``.

    The following bias ``Add`` and everything else stay as they are. Returns a new, checked
    model.

    Raises:
        UnsupportedQuantization: Integer operators outside that pattern (``MatMulInteger``,
            activations quantised elsewhere, non-constant weight scales).
    """
    import onnx
    from onnx import numpy_helper

    model = onnx.ModelProto()
    model.CopyFrom(graph)
    nodes: List = list(model.graph.node)
    constants = {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}
    producer = {out: node for node in nodes for out in node.output}
    consumers: Dict[str, List] = {}
    for node in nodes:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    replaced, dropped, new_weights = {}, set(), []
    for node in nodes:
        if node.op_type == "MatMulInteger":
            raise UnsupportedQuantization("MatMulInteger layers are not supported")
        if node.op_type != "ConvInteger":
            continue
        conv, weights = _float_conv(node, producer, consumers, constants)
        replaced[id(node)] = conv.node
        dropped.update(id(n) for n in conv.removed)
        new_weights.append(numpy_helper.from_array(weights, conv.node.input[1]))
    kept = [replaced.get(id(n), n) for n in nodes if id(n) not in dropped]
    used = {name for node in kept for name in node.input} | {o.name for o in model.graph.output}
    kept = [
        n
        for n in kept
        if n.op_type != "DynamicQuantizeLinear" or any(out in used for out in n.output)
    ]
    used = {name for node in kept for name in node.input}
    initializers = [i for i in model.graph.initializer if i.name in used] + new_weights
    del model.graph.node[:]
    model.graph.node.extend(kept)
    del model.graph.initializer[:]
    model.graph.initializer.extend(initializers)
    if any(n.op_type in ("ConvInteger", "DynamicQuantizeLinear") for n in model.graph.node):
        raise UnsupportedQuantization("integer tensors remain after dequantisation")
    onnx.checker.check_model(model)
    return model


class _Replacement:
    def __init__(self, node, removed):
        self.node = node
        self.removed = removed


def _float_conv(node, producer, consumers, constants):
    """``(_Replacement, float32 weights)`` for one ``ConvInteger`` node."""
    import numpy as np
    from onnx import helper

    quantize = producer.get(node.input[0])
    after = consumers.get(node.output[0], [])
    cast = after[0] if len(after) == 1 and after[0].op_type == "Cast" else None
    after = consumers.get(cast.output[0], []) if cast is not None else []
    scale_mul = after[0] if len(after) == 1 and after[0].op_type == "Mul" else None
    if quantize is None or quantize.op_type != "DynamicQuantizeLinear" or scale_mul is None:
        raise UnsupportedQuantization(f"{node.name}: not a dynamically quantised Conv")
    scale_name = next(n for n in scale_mul.input if n != cast.output[0])
    scale_node = producer.get(scale_name)
    weight_scale: Optional[np.ndarray] = None
    if scale_node is not None and scale_node.op_type == "Mul":
        found = [constants[n] for n in scale_node.input if n in constants]
        others = [n for n in scale_node.input if n not in constants]
        if len(found) == 1 and others == [quantize.output[1]]:
            weight_scale = found[0]
    if weight_scale is None or node.input[1] not in constants:
        raise UnsupportedQuantization(f"{node.name}: weight scale or weights are not constant")
    weights = constants[node.input[1]].astype(np.float32)
    zero = constants[node.input[3]] if len(node.input) > 3 and node.input[3] else 0
    zero = np.asarray(zero, dtype=np.float32)
    scale = np.asarray(weight_scale, dtype=np.float32)
    shape = (-1,) + (1,) * (weights.ndim - 1)
    weights = (weights - zero.reshape(shape if zero.ndim else ())) * scale.reshape(
        shape if scale.ndim else ()
    )
    conv = helper.make_node(
        "Conv",
        [quantize.input[0], node.input[1] + "_dequantized"],
        [scale_mul.output[0]],
        name=node.name + "_float",
    )
    conv.attribute.extend(node.attribute)
    removed = [cast, scale_mul]
    if all(c is scale_mul for c in consumers.get(scale_name, [])):
        removed.append(scale_node)
    return _Replacement(conv, removed), weights
