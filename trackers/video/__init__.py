"""Video in and out for the tracking demo: frame sources, writers and background threads."""

from .sources import Frame, FrameSource, SourceError, open_source
from .writers import MOTResultWriter, OutputError, VideoWriter

__all__ = [
    "Frame",
    "FrameSource",
    "MOTResultWriter",
    "OutputError",
    "SourceError",
    "VideoWriter",
    "open_source",
]
