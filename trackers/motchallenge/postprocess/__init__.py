"""Offline post-processing of MOTChallenge result rows: GSI and linear interpolation, the
AFLink and appearance-aware tracklet links, and the chain that applies them in order
(:func:`apply_postprocess`). AFLink (:mod:`.aflink`) needs torch and is imported on use."""

from .chain import STEPS, apply_postprocess, parse_steps, tracker_settings
from .interpolation import gaussian_smooth, gsi, linear_interpolation, postprocess_file
from .linker import DetectionFeatures, link_tracklets

__all__ = [
    "STEPS",
    "DetectionFeatures",
    "apply_postprocess",
    "gaussian_smooth",
    "gsi",
    "linear_interpolation",
    "link_tracklets",
    "parse_steps",
    "postprocess_file",
    "tracker_settings",
]
