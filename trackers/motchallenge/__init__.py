"""MOTChallenge tools: running StrongSORT over sequences (:mod:`.runs`), TrackEval scoring
(:mod:`.evaluation`), offline post-processing (:mod:`.postprocess`) and the ``track-mot`` /
``eval-mot`` programs (:mod:`.commands`).

The file formats themselves are read and written by
:mod:`strongsort_reid.utils.motchallenge`, the project's one implementation, shared with the
ReID data set; its names are re-exported here for convenience.
"""

from strongsort_reid.utils.motchallenge import (
    MOTDetections,
    SeqInfo,
    format_result_rows,
    image_paths,
    iter_frames,
    list_sequences,
    read_gt,
    read_results,
    read_seqinfo,
    tracks_to_rows,
    write_results,
)

__all__ = [
    "MOTDetections",
    "SeqInfo",
    "format_result_rows",
    "image_paths",
    "iter_frames",
    "list_sequences",
    "read_gt",
    "read_results",
    "read_seqinfo",
    "tracks_to_rows",
    "write_results",
]
