"""StrongSORT: Kalman filter, appearance memory, matching, track management and the facade."""

from .config import StrongSORTConfig
from .strong_sort import StrongSORT

__all__ = ["StrongSORT", "StrongSORTConfig"]
