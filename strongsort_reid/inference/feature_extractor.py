"""Appearance feature extraction for tracking and retrieval, fast on a CPU.

>>> extractor = FeatureExtractor("osnet_x0_25", "osnet_x0_25_msmt17")
>>> features = extractor.from_frame(frame_bgr, boxes_xyxy)       # (N, 512) float32, L2-normalised

**Channel order.** numpy images are taken as **BGR** (what ``cv2.imread`` and video readers
return) unless ``channel_order="rgb"`` is passed. Feeding RGB arrays without saying so is the
classic silent bug of ReID pipelines: the features are still plausible, just worse. Paths and
PIL images carry their own channel order, so the argument does not apply to them.

Compared with torchreid's extractor, preprocessing is batched (OpenCV resize on ``uint8`` into
one buffer, one normalisation per batch, channels_last), and the network runs on a tuned
backend: PyTorch with BatchNorms folded, subnormal weights flushed and, on the CPU, frozen
TorchScript graphs built automatically (``"torch"``, see
:class:`~strongsort_reid.inference.TorchBackend`), TorchScript, ONNX Runtime or OpenVINO.
Features are returned L2-normalised, so the cosine distance is ``1 - a @ b.T``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch.nn import functional as F

from strongsort_reid.inference.backends import half_dtype
from strongsort_reid.inference.formats import (
    RUNTIMES_FOR,
    backend_for_model,
    format_of,
    open_runtime,
    runtime_for_export,
)
from strongsort_reid.inference.metadata import ExportMetadata
from strongsort_reid.inference.options import (
    BACKENDS,
    as_tuple,
    openvino_precision,
    pick_backend,
    resolve_device,
)
from strongsort_reid.inference.preprocess import (
    check_boxes,
    check_channel_order,
    check_image,
    clip_boxes,
    is_pil_image,
    normalize_batch,
    pil_pixels,
    read_image,
    resize_to_rgb,
)
from strongsort_reid.models.loading import LoadedModel, load_reid_model
from strongsort_reid.models.registry import IMAGENET_MEAN, IMAGENET_STD
from strongsort_reid.models.weights import WeightsEntry, infer_arch

PathLike = Union[str, os.PathLike]
Features = Union[np.ndarray, torch.Tensor]

DEFAULT_IMAGE_SIZE = (256, 128)

# One image to preprocess: (pixels as in check_image, channel order of those pixels).
_Loader = Callable[[], Tuple[np.ndarray, str]]


class FeatureExtractor:
    """Extract L2-normalised ReID features from images, crops or a frame plus boxes.

    **numpy images are BGR by default** (``channel_order="bgr"``, as OpenCV reads them); pass
    ``channel_order="rgb"`` for RGB arrays. Paths and PIL images need no channel order.

    Args:
        model_name: Registry architecture, e.g. ``"osnet_x0_25"``.
        model_path: Registered weight name (``"osnet_x0_25_msmt17"``: found or downloaded,
            implies the number of classes), a PyTorch checkpoint file, or an export made by
            :mod:`strongsort_reid.export` (``.onnx``, OpenVINO ``.xml``, TorchScript) for the
            matching backend. ``None`` gives a randomly initialised network (warned).
        image_size: Network input ``(height, width)``. Default: the export's or the weights'
            size, else ``(256, 128)``. An export with another fixed size is an error.
        pixel_mean: RGB mean on the 0-1 scale. Default: the export's or the weights' value,
            else ImageNet's.
        pixel_std: RGB std on the 0-1 scale; defaults as ``pixel_mean``.
        device: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda[:N]"``; for OpenVINO
            also its device names (``"GPU"``, ``"NPU"``).
        batch_size: Images per network call; larger inputs are processed in chunks.
        half: On CUDA, compute in float16 (``True``/``"fp16"``) or bfloat16 (``"bf16"``).
            On the CPU ``"bf16"`` runs OpenVINO in bf16 (fast on AMX / AVX-512 BF16 CPUs);
            otherwise ignored with a warning on the CPU, where it is slower than float32.
        backend: ``"auto"`` (the default): for an export its own runtime (OpenVINO for
            int8 ONNX files, see
            :func:`~strongsort_reid.inference.formats.runtime_for_export`), else the fastest
            one installed for ``device`` (see
            :func:`~strongsort_reid.inference.options.pick_backend`: PyTorch on CUDA; on the
            CPU OpenVINO in bf16 where the CPU computes it natively, cosine to float32 >= 0.99
            on real crops, else ONNX Runtime, else PyTorch). Or one runtime: ``"torch"``
            (BatchNorm folded, channels_last; on the CPU frozen graphs built automatically),
            ``"torchscript"``, ``"onnx"`` (onnxruntime) or ``"openvino"`` (f32; it also runs
            ``.onnx`` files, int8 ones included). Given PyTorch weights, the non-torch
            backends convert the network in memory at start-up (about a second, as long as
            freezing the torch graphs); :attr:`model` stays the PyTorch network they were
            converted from.
        num_threads: CPU threads for ONNX Runtime / OpenVINO (default: ``torch``'s setting).
            The torch backends use ``torch.set_num_threads``.

    Attributes:
        feature_dim: Length ``D`` of the features.
        batch_size: Images per network call.
        image_size: ``(height, width)`` crops are resized to.
        pixel_mean, pixel_std: Normalisation used.
        device: Device the features are computed on (CPU for ONNX Runtime on CPU and OpenVINO).
        backend: The :class:`~strongsort_reid.inference.InferenceBackend` in use.
        model: The PyTorch network in eval mode when built from weights (``None`` for exports).

    Raises:
        ValueError: inconsistent arguments, or an export that does not match them.
        FileNotFoundError: ``model_path`` does not exist.
        ImportError: the backend's runtime package is not installed (the message says which).
    """

    def __init__(
        self,
        model_name: str,
        model_path: Optional[PathLike] = None,
        image_size: Optional[Sequence[int]] = None,
        pixel_mean: Optional[Sequence[float]] = None,
        pixel_std: Optional[Sequence[float]] = None,
        device: Union[str, torch.device] = "auto",
        batch_size: int = 32,
        half: Union[bool, str] = False,
        backend: str = "auto",
        num_threads: Optional[int] = None,
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self.batch_size = batch_size
        export_format = format_of(model_path)
        requested_backend = backend
        if backend == "auto":
            backend = (
                runtime_for_export(model_path, device)
                if export_format
                else pick_backend(backend, device)
            )
        self.device, ov_device = resolve_device(device, backend)
        precision = openvino_precision(requested_backend, backend, half, ov_device)
        requested_size = as_tuple(image_size, "image_size", 2, int)
        if requested_size is not None and min(requested_size) < 1:
            raise ValueError(f"image_size must be positive (height, width), got {image_size!r}")
        mean = as_tuple(pixel_mean, "pixel_mean", 3, float)
        std = as_tuple(pixel_std, "pixel_std", 3, float)
        if std is not None and min(std) <= 0:
            raise ValueError(f"pixel_std must be positive, got {pixel_std!r}")

        self.model = None
        if export_format is not None:
            if backend not in RUNTIMES_FOR[export_format]:
                raise ValueError(
                    f"model_path {model_path} is a {export_format} export; use backend="
                    f"{' or '.join(map(repr, RUNTIMES_FOR[export_format]))} "
                    f"(got backend={backend!r})"
                )
            self.backend = open_runtime(
                backend, Path(model_path), self.device, ov_device, num_threads, None, precision
            )
            defaults = self.backend.metadata
            if defaults is not None and defaults.arch != model_name:
                raise ValueError(f"{model_path} holds a {defaults.arch} network, not {model_name}")
            size = requested_size or (defaults.image_size if defaults else None)
            size = size or self.backend.input_size or DEFAULT_IMAGE_SIZE
        else:
            # Called here so that their warnings point at the caller's line.
            loaded = load_reid_model(model_name, model_path)
            dtype = torch.float32 if precision else half_dtype(self.device, half)
            defaults, size = self._use_weights(
                loaded, requested_size, backend, dtype, ov_device, num_threads, precision
            )
        if self.backend.input_size is not None and tuple(self.backend.input_size) != tuple(size):
            raise ValueError(
                f"model_path {model_path} takes {self.backend.input_size[0]}x"
                f"{self.backend.input_size[1]} (height x width) inputs but image_size is "
                f"{size[0]}x{size[1]}; pass image_size={tuple(self.backend.input_size)} "
                "or re-export the model"
            )
        self.image_size: Tuple[int, int] = (int(size[0]), int(size[1]))
        self.pixel_mean = mean or (tuple(defaults.mean) if defaults else IMAGENET_MEAN)
        self.pixel_std = std or (tuple(defaults.std) if defaults else IMAGENET_STD)
        self.feature_dim = int(self._run(torch.zeros(1, 3, *self.image_size)).shape[1])

    def _use_weights(
        self,
        loaded: LoadedModel,
        requested_size: Optional[Tuple[int, int]],
        backend: str,
        dtype: torch.dtype,
        ov_device: str,
        num_threads: Optional[int],
        precision: Optional[str],
    ) -> Tuple[Optional[WeightsEntry], Tuple[int, int]]:
        """Run the loaded PyTorch network on ``backend`` (sets :attr:`model` and :attr:`backend`).

        Returns:
            ``(registry entry of the weights or None, image size)``.
        """
        self.model = loaded.model
        defaults = loaded.entry
        trained_size = tuple(defaults.input_size) if defaults else DEFAULT_IMAGE_SIZE
        size = requested_size or trained_size
        if dtype == torch.bfloat16 and backend != "torch":
            raise ValueError(f"half='bf16' needs backend='torch', got backend={backend!r}")
        metadata = ExportMetadata(
            arch=loaded.arch,
            weights=loaded.weights,
            image_size=tuple(size),
            feature_dim=0,
            half=dtype != torch.float32,
            format=backend,
        )
        self.backend = backend_for_model(
            self.model, backend, metadata, self.device, ov_device, num_threads, dtype, precision
        )
        return defaults, size

    def _run(self, batch: torch.Tensor) -> torch.Tensor:
        """Raw features of a normalised batch, computed in chunks of ``batch_size``."""
        layout = torch.channels_last if self.backend.channels_last else torch.contiguous_format
        outputs = [
            self.backend(
                chunk.to(self.backend.device, self.backend.input_dtype, memory_format=layout)
            )
            for chunk in batch.split(self.batch_size)
        ]
        return torch.cat(outputs)

    def _extract(self, loaders: List[_Loader]) -> torch.Tensor:
        """L2-normalised features ``(len(loaders), D)`` float32 on the backend's device."""
        height, width = self.image_size
        outputs = []
        for start in range(0, len(loaders), self.batch_size):
            chunk = loaders[start : start + self.batch_size]
            pixels = np.empty((len(chunk), height, width, 3), dtype=np.uint8)
            for slot, load in zip(pixels, chunk):
                image, order = load()
                resize_to_rgb(image, slot, order)
            batch = normalize_batch(
                pixels,
                self.pixel_mean,
                self.pixel_std,
                self.backend.device,
                self.backend.input_dtype,
                self.backend.channels_last,
            )
            outputs.append(self.backend(batch))
        if not outputs:
            return torch.zeros((0, self.feature_dim), device=self.backend.device)
        return F.normalize(torch.cat(outputs).float(), dim=1)

    def _finish(self, features: torch.Tensor, as_tensor: bool) -> Features:
        return features if as_tensor else features.cpu().numpy()

    def __call__(
        self,
        images,
        channel_order: str = "bgr",
        as_tensor: bool = False,
    ) -> Features:
        """Features of one or more images.

        Args:
            images: One of: an image path or a list of paths; a numpy ``uint8`` image
                (``HxW``/``HxWx1`` grayscale, ``HxWx3``, ``HxWx4`` with alpha dropped), a list
                of them, or an ``(N, H, W, C)`` array; a PIL image or a list of them; or a float
                tensor ``(N, 3, H, W)`` / ``(3, H, W)`` that is already network input (RGB,
                ``image_size``, normalised: torchreid's convention), fed as is.
            channel_order: ``"bgr"`` (default, OpenCV) or ``"rgb"``: the channel order of
                **numpy** images. Paths and PIL images ignore it.
            as_tensor: Return a ``torch.Tensor`` (on :attr:`device`) instead of numpy.

        Returns:
            ``float32 (N, D)`` L2-normalised features; ``(0, D)`` for an empty list.

        Raises:
            ValueError: unsupported input type, dtype or shape, or a tensor of another size.
            FileNotFoundError: an image path does not exist.
        """
        order = check_channel_order(channel_order)
        if torch.is_tensor(images):
            return self._finish(self._from_tensor(images), as_tensor)
        if isinstance(images, np.ndarray) and images.ndim == 4:
            images = list(images)
        elif not isinstance(images, (list, tuple)):
            images = [images]
        loaders = [self._loader(item, order, f"images[{i}]") for i, item in enumerate(images)]
        return self._finish(self._extract(loaders), as_tensor)

    def _from_tensor(self, images: torch.Tensor) -> torch.Tensor:
        if not images.is_floating_point():
            raise ValueError(
                f"a tensor input must be a normalised float batch, got dtype {images.dtype}; "
                "pass uint8 images as numpy arrays"
            )
        batch = images.unsqueeze(0) if images.dim() == 3 else images
        if batch.dim() != 4 or batch.shape[1] != 3 or tuple(batch.shape[2:]) != self.image_size:
            raise ValueError(
                f"a tensor input must have shape (N, 3, {self.image_size[0]}, "
                f"{self.image_size[1]}) or (3, H, W), got {tuple(images.shape)}"
            )
        if batch.shape[0] == 0:
            return torch.zeros((0, self.feature_dim), device=self.backend.device)
        return F.normalize(self._run(batch).float(), dim=1)

    @staticmethod
    def _loader(item, channel_order: str, name: str) -> _Loader:
        """Validate one input now (fail fast) and return a function that loads its pixels."""
        if isinstance(item, (str, os.PathLike)):
            path = Path(item)
            if not path.is_file():
                raise FileNotFoundError(f"{name}: image file not found: {path}")
            return lambda: (read_image(path), "bgr")
        if isinstance(item, np.ndarray):
            image = check_image(item, name)
            return lambda: (image, channel_order)
        if is_pil_image(item):
            return lambda: (pil_pixels(item), "rgb")
        raise ValueError(
            f"{name} must be a path, a numpy uint8 image or a PIL image, got {type(item).__name__}"
        )

    def from_frame(
        self,
        frame: np.ndarray,
        boxes_xyxy,
        channel_order: str = "bgr",
        as_tensor: bool = False,
        return_mask: bool = False,
    ) -> Union[Features, Tuple[Features, np.ndarray]]:
        """Features of the boxes of one frame, in one batched pass (what trackers call).

        Boxes are clipped to the frame. A box with no area after clipping (outside the
        frame, or zero width/height) gets an all-zero feature row and ``False`` in the mask.

        Args:
            frame: ``uint8`` image (``HxWx3``; grayscale and ``HxWx4`` are converted).
            boxes_xyxy: ``(N, 4)`` pixel boxes ``x1, y1, x2, y2`` (numpy, list or tensor).
            channel_order: ``"bgr"`` (default, OpenCV frames) or ``"rgb"``.
            as_tensor: Return a ``torch.Tensor`` instead of numpy.
            return_mask: Also return the ``bool (N,)`` mask of boxes that had pixels.

        Returns:
            ``float32 (N, D)`` features, or ``(features, mask)`` with ``return_mask=True``.

        Raises:
            ValueError: a bad frame, boxes not ``(N, 4)``, NaN/inf coordinates, or
                ``x2 < x1`` / ``y2 < y1``.
        """
        order = check_channel_order(channel_order)
        frame = check_image(frame, "frame")
        boxes = check_boxes(boxes_xyxy, "boxes_xyxy")
        slices, valid = clip_boxes(boxes, frame.shape[0], frame.shape[1])
        loaders = [
            (lambda x1=x1, y1=y1, x2=x2, y2=y2: (frame[y1:y2, x1:x2], order))
            for x1, y1, x2, y2 in slices[valid].tolist()
        ]
        crops = self._extract(loaders)
        if valid.all():
            features = crops
        else:
            features = crops.new_zeros((len(boxes), self.feature_dim))
            features[torch.from_numpy(valid).to(features.device)] = crops
        features = self._finish(features, as_tensor)
        return (features, valid) if return_mask else features

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(backend={self.backend.name!r}, device={str(self.device)!r}, "
            f"image_size={self.image_size}, feature_dim={self.feature_dim}, "
            f"batch_size={self.batch_size})"
        )


def build_extractor(weights: PathLike, arch: Optional[str] = None, **kwargs) -> FeatureExtractor:
    """A :class:`FeatureExtractor` for ``weights``, its architecture inferred when not given.

    Args:
        weights: Registered weight name, checkpoint file or export (``model_path``).
        arch: Registry architecture; default
            :func:`~strongsort_reid.models.weights.infer_arch` of ``weights``
            (``osnet_x0_25_mine.pth`` -> ``osnet_x0_25``).
        **kwargs: Passed to :class:`FeatureExtractor` (``device``, ``backend``, ``half``, ...).

    Raises:
        ValueError: ``arch`` is ``None`` and cannot be inferred, or as :class:`FeatureExtractor`.
    """
    arch = arch if arch is not None else infer_arch(weights)
    return FeatureExtractor(arch, model_path=weights, **kwargs)
