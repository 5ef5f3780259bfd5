"""Detections from any model stock ultralytics loads (``.pt``, ``.onnx``, OpenVINO folders...)."""

from __future__ import annotations

import contextlib
import socket
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence

import numpy as np

from strongsort_reid.weights import BUNDLED_DIR, DEFAULT_DETECTOR, bundled_file

from .base import ImageDetector
from .openvino_export import FOLDER_SUFFIX, detector_cache, openvino_model_folder
from .openvino_yolo import OpenVinoYoloDetector

# Where ultralytics downloads its released weights from; reachability is probed first so that an
# offline machine falls back at once instead of waiting for download retries.
DOWNLOAD_HOST = ("github.com", 443)
PROBE_TIMEOUT_S = 3.0
RUNTIMES = ("auto", "native", "openvino")


class DetectorUnavailable(RuntimeError):
    """The detector weights are neither on disk nor downloadable (offline): fall back."""


class DetectorError(ValueError):
    """The detector the user named cannot be loaded (a user error)."""


class YoloDetector(ImageDetector):
    """Run an ultralytics detection model on single frames.

    Args:
        model: Weights file or folder, or a file name looked up in ultralytics' weights folder,
            then among the bundled models (default: the bundled YOLOv8n, int8 ONNX), then
            downloaded by ultralytics (release names such as ``"yolov8n.pt"``).
        conf: Confidence threshold of the detector.
        iou: NMS IoU threshold.
        imgsz: Inference size in pixels: frames are letterboxed into an ``imgsz`` square,
            padded only to a multiple of the stride when run by the direct OpenVINO detector
            (see :class:`OpenVinoYoloDetector`); ultralytics runs fixed-size exports at their
            own size.
        device: ``"cpu"``, ``"cuda:N"`` or ``"auto"``.
        half: float16 inference (CUDA).
        classes: Class indices to keep (COCO 0 = person); ``None`` keeps all.
        max_det: Most detections per frame.
        runtime: ``"native"`` runs the file as ultralytics does; ``"openvino"`` converts a
            ``.pt``/``.onnx`` file once to an OpenVINO folder (see
            :mod:`trackers.app.detectors.openvino_export`) and runs that; ``"auto"`` does so on the
            CPU when OpenVINO is installed and keeps the file as it is when conversion fails.
        say: Where the ``"auto"`` fallback message goes.
        progress: Show a progress bar during a one-time OpenVINO conversion.
        rect: For the direct OpenVINO detector, pad frames only to a multiple of the stride
            (``False``: to the full ``imgsz`` square, as ultralytics runs exported models).

    Calling it on a ``uint8 HxWx3`` BGR image returns ``(N, 6)`` float32
    ``[x1, y1, x2, y2, conf, cls]`` in pixels of that image.

    Raises:
        DetectorUnavailable: A release name that is not on disk and cannot be downloaded.
        DetectorError: A path that does not exist or a file ultralytics cannot load.
    """

    def __init__(
        self,
        model: str = DEFAULT_DETECTOR,
        conf: float = 0.25,
        iou: float = 0.7,
        imgsz: int = 640,
        device: str = "cpu",
        half: bool = False,
        classes: Optional[Sequence[int]] = (0,),
        max_det: int = 300,
        runtime: str = "native",
        say: Callable[[str], None] = print,
        progress: bool = True,
        rect: bool = True,
    ):
        if runtime not in RUNTIMES:
            raise DetectorError(f"runtime must be one of {RUNTIMES}, got {runtime!r}")
        located = source = _locate(str(model))
        if runtime != "native" and Path(source).suffix.lower() in (".pt", ".onnx"):
            source = _openvino_source(source, imgsz, device, runtime, say, progress)
        # OpenVINO folders run without ultralytics' pipeline when they can (its letterbox,
        # decoding and NMS; no torchvision import at start-up, less Python per frame); see
        # openvino_yolo.
        settings = dict(conf=conf, iou=iou, classes=classes, max_det=max_det)
        direct = dict(settings, imgsz=imgsz, rect=rect)
        self._direct = None if runtime == "native" else _direct_openvino(source, direct)
        if self._direct is None:
            self._load_with_ultralytics(model, source, imgsz, device, half, **settings)
        runner = "" if self._direct is not None else "ultralytics "
        converted = " (OpenVINO)" if source != located else ""
        self.name = f"{runner}{Path(located).name}{converted}"

    def _load_with_ultralytics(
        self, model, source, imgsz, device, half, conf, iou, classes, max_det
    ) -> None:
        """Open ``source`` with ultralytics' ``YOLO`` and run it once."""
        from ultralytics import YOLO

        self._args = dict(
            conf=float(conf),
            iou=float(iou),
            imgsz=int(imgsz),
            device=None if device == "auto" else device,
            classes=None if classes is None else [int(c) for c in classes],
            max_det=int(max_det),
            verbose=False,
        )
        if half:  # ultralytics warns about the argument even when it is False
            self._args["half"] = True
        try:
            with _shared_openvino_core(_is_openvino(source)):
                self.model = YOLO(source, task="detect")
                # Exports are only opened by the first prediction: do it now, so that a broken
                # file fails here and the first frame is not charged with the set-up time.
                self(np.zeros((int(imgsz), int(imgsz), 3), dtype=np.uint8))
        except Exception as exc:  # ultralytics raises many types for unusable files
            if source == str(model) and not Path(source).exists():
                raise DetectorUnavailable(f"cannot obtain detector weights {model}: {exc}") from exc
            raise DetectorError(f"cannot load detector {model}: {exc}") from exc

    def __call__(self, image: np.ndarray) -> np.ndarray:
        if self._direct is not None:
            return self._direct(image)
        result = self.model.predict(image, **self._args)[0]
        boxes = result.boxes
        if boxes is None:
            return np.empty((0, 6), dtype=np.float32)
        return boxes.data.cpu().numpy()[:, :6].astype(np.float32, copy=False)


@contextlib.contextmanager
def _shared_openvino_core(active: bool) -> Iterator[None]:
    """While ultralytics opens an OpenVINO model, make ``openvino.Core()`` return the process-wide
    Core of :func:`strongsort_reid.inference.compat.openvino_core`.

    Each ``Core`` owns a CPU plugin that swaps the thread's alternate signal stack in and out;
    Cores released in creation order (two detectors, or a detector and the ReID backend) leave
    the thread on an unmapped stack and the next Python signal handler crashes the process. With
    one Core that is never released, no stale stack is reinstated.
    """
    openvino = None
    if active:
        try:
            import openvino
        except ImportError:  # ultralytics reports (or installs) the missing package itself
            pass
    if openvino is None:
        yield
        return
    from strongsort_reid.inference.compat import openvino_core

    shared = openvino_core()
    original = openvino.Core
    openvino.Core = lambda: shared
    try:
        yield
    finally:
        openvino.Core = original


def _direct_openvino(source: str, settings: dict) -> Optional[OpenVinoYoloDetector]:
    """An :class:`OpenVinoYoloDetector` with ``settings`` for an ultralytics OpenVINO detector
    folder with a fixed input size, else ``None`` (ultralytics then runs ``source``)."""
    folder = Path(source)
    if not folder.name.endswith(FOLDER_SUFFIX) or not (folder / "metadata.yaml").is_file():
        return None
    try:
        return OpenVinoYoloDetector(folder, **settings)
    except (ValueError, RuntimeError, KeyError):  # dynamic shapes, other tasks, odd files
        return None


def _is_openvino(source: str) -> bool:
    """True for an OpenVINO model folder or ``.xml`` file."""
    path = Path(source)
    return path.name.endswith(FOLDER_SUFFIX) or path.suffix.lower() == ".xml"


def _openvino_source(
    source: str, imgsz: int, device: str, runtime: str, say, progress: bool
) -> str:
    """The converted OpenVINO folder of ``source``, or ``source`` when ``auto`` cannot use it."""
    if runtime == "auto" and not _cpu_only(device):
        return source
    try:
        import openvino  # noqa: F401
    except ImportError:
        if runtime == "openvino":
            raise DetectorError("runtime 'openvino' needs the openvino package") from None
        return source
    try:
        return str(openvino_model_folder(source, imgsz, detector_cache(), progress=progress))
    except Exception as exc:  # conversion problems must not stop an 'auto' run
        if runtime == "openvino":
            raise DetectorError(f"cannot convert {source} to OpenVINO: {exc}") from exc
        say(f"running {source} as it is: OpenVINO conversion failed ({exc})")
        return source


def _cpu_only(device: str) -> bool:
    if device == "auto":
        import torch

        return not torch.cuda.is_available()
    return device == "cpu"


def _locate(model: str) -> str:
    """A local path for ``model``, or ``model`` itself when ultralytics has to download it.

    The order: an existing path; for a bare file name, ultralytics' weights folder (the user
    cache), then the models bundled with the package (``strongsort_reid/weights``); then the
    name as it is, for ultralytics to download (when the download host is reachable).
    """
    path = Path(model).expanduser()
    if path.exists():
        return str(path)
    if path.parent != Path("."):
        raise DetectorError(f"detector weights not found: {model}")
    from ultralytics.utils import SETTINGS

    cached = Path(SETTINGS["weights_dir"]) / path.name
    if cached.exists():
        return str(cached)
    bundled = bundled_file(path.name)
    if bundled is not None:
        return str(bundled)
    if not _can_download():
        raise DetectorUnavailable(
            f"detector weights {model} are not on disk (looked in ., {cached.parent} and "
            f"{BUNDLED_DIR}) and {DOWNLOAD_HOST[0]} is unreachable"
        )
    return model


def _can_download() -> bool:
    try:
        socket.create_connection(DOWNLOAD_HOST, timeout=PROBE_TIMEOUT_S).close()
    except OSError:
        return False
    return True
