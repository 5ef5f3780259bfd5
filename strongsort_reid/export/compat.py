"""Compatibility path: the helpers moved to :mod:`strongsort_reid.inference.compat`."""

from strongsort_reid.inference.compat import import_optional, openvino_core, quiet_torchscript

__all__ = ["import_optional", "openvino_core", "quiet_torchscript"]
