"""What an exported ReID model needs to be used correctly, stored inside the exported file.

The metadata travels as one JSON string: in ONNX ``metadata_props``, in the OpenVINO IR's
``rt_info`` and as an extra file of the TorchScript archive, always under :data:`METADATA_KEY`.
A runtime reading an export made by this package therefore knows the input size, the
normalisation and the channel order without the user repeating them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Optional, Tuple

from strongsort_reid.models.registry import IMAGENET_MEAN, IMAGENET_STD

METADATA_KEY = "strongsort_reid"
INPUT_NAME = "images"
OUTPUT_NAME = "features"


@dataclass(frozen=True)
class ExportMetadata:
    """Description of an exported feature network.

    Attributes:
        arch: Registry architecture name, e.g. ``"osnet_x0_25"``.
        weights: Weight name or file the export was made from (``""`` for random init).
        image_size: Input ``(height, width)`` in pixels.
        mean: Per-channel RGB mean on the 0-1 scale.
        std: Per-channel RGB std on the 0-1 scale.
        feature_dim: Length ``D`` of the output feature vector.
        channel_order: Channel order of the input tensor; always ``"rgb"``.
        dynamic_batch: Whether the batch axis is dynamic.
        batch_size: The fixed batch size when ``dynamic_batch`` is False.
        half: Whether the network computes in float16.
        format: ``"onnx"``, ``"openvino"`` or ``"torchscript"``.
        int8: Whether the network is statically quantised to int8 (QDQ operations).
        calibration: How the int8 ranges were calibrated (``""`` for float networks).
    """

    arch: str
    weights: str
    image_size: Tuple[int, int]
    feature_dim: int
    mean: Tuple[float, float, float] = IMAGENET_MEAN
    std: Tuple[float, float, float] = IMAGENET_STD
    channel_order: str = "rgb"
    dynamic_batch: bool = True
    batch_size: int = 1
    half: bool = False
    format: str = ""
    int8: bool = False
    calibration: str = ""

    def to_json(self) -> str:
        """Serialise to a JSON string."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: Optional[str]) -> Optional[ExportMetadata]:
        """Parse :meth:`to_json` output; ``None`` for missing or foreign metadata."""
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls(
                arch=str(data["arch"]),
                weights=str(data.get("weights", "")),
                image_size=tuple(int(v) for v in data["image_size"]),
                feature_dim=int(data["feature_dim"]),
                mean=tuple(float(v) for v in data.get("mean", IMAGENET_MEAN)),
                std=tuple(float(v) for v in data.get("std", IMAGENET_STD)),
                channel_order=str(data.get("channel_order", "rgb")),
                dynamic_batch=bool(data.get("dynamic_batch", True)),
                batch_size=int(data.get("batch_size", 1)),
                half=bool(data.get("half", False)),
                format=str(data.get("format", "")),
                int8=bool(data.get("int8", False)),
                calibration=str(data.get("calibration", "")),
            )
        except (ValueError, KeyError, TypeError):
            return None


def read_onnx_metadata(path) -> Optional[ExportMetadata]:
    """The :class:`ExportMetadata` stored in an ONNX file's ``metadata_props``, else ``None``.

    For runtimes that do not expose them (OpenVINO reading an ``.onnx`` file).
    """
    from strongsort_reid.inference.compat import import_optional

    onnx = import_optional("onnx", "reading ONNX metadata")
    model = onnx.load(str(path), load_external_data=False)
    props = {entry.key: entry.value for entry in model.metadata_props}
    return ExportMetadata.from_json(props.get(METADATA_KEY))
