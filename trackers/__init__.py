"""Multi-object tracking: a batched StrongSORT, ECC camera motion compensation, MOTChallenge
I/O, evaluation and post-processing. Importing this package does not import torch."""

from .strongsort import StrongSORT, StrongSORTConfig

__all__ = ["StrongSORT", "StrongSORTConfig"]
