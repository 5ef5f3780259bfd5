"""Multi-object tracking: a batched StrongSORT (:mod:`trackers.strongsort`), ECC camera motion
compensation (:mod:`trackers.cmc`), MOTChallenge runs, scoring and post-processing
(:mod:`trackers.motchallenge`) and the video application behind ``strongsort-track``
(:mod:`trackers.app`). Importing this package does not import torch."""

from .strongsort import StrongSORT, StrongSORTConfig

__all__ = ["StrongSORT", "StrongSORTConfig"]
