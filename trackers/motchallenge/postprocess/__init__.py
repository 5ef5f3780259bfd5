"""Offline post-processing of MOTChallenge result rows (GSI and linear interpolation)."""

from .interpolation import gaussian_smooth, gsi, linear_interpolation, postprocess_file

__all__ = ["gaussian_smooth", "gsi", "linear_interpolation", "postprocess_file"]
