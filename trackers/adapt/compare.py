"""Before/after measurements of an adaptation.

* Tracking (a MOTChallenge sequence with ``gt/gt.txt``): the development benchmark's tooling
  (:mod:`trackers.motchallenge.devcache` + :mod:`~trackers.motchallenge.replay`) caches the
  detections once and the embeddings of each model, replays the same tracker configuration and
  scores HOTA / IDF1 / IDSW with TrackEval.
* Forgetting: rank-1 and mAP on CUHK01 (torchreid's protocol, split 0, cosine distance) with the
  ReID package's evaluation.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path
from typing import Callable, Dict, Optional

from ..motchallenge.commands import bench
from ..motchallenge.replay import score_config

# Reported tracking metrics (percent, except IDSW).
TRACKING_METRICS = ("HOTA", "IDF1", "IDSW")


def has_ground_truth(source: str) -> bool:
    """Whether ``source`` is a MOTChallenge sequence folder with ``gt/gt.txt``."""
    folder = Path(source)
    return (folder / "seqinfo.ini").is_file() and (folder / "gt" / "gt.txt").is_file()


def tracking_scores(
    seq_dir: Path,
    weights: Path,
    yolo_model: str,
    use_det_file: bool,
    tracker_config: Optional[Path],
    cache: Path,
    say: Callable[[str], None],
) -> Dict[str, float]:
    """HOTA / IDF1 / IDSW of StrongSORT on ``seq_dir`` with the ReID ``weights``.

    Args:
        seq_dir: Sequence folder with ``gt/gt.txt``.
        weights: ReID checkpoint (its architecture is inferred from its name).
        yolo_model: Detector (ignored with ``use_det_file``).
        use_det_file: Use the sequence's ``det/det.txt`` instead of the detector.
        tracker_config: StrongSORT YAML (``None``: the defaults).
        cache: Folder of the development benchmark's caches.
        say: Where the caching messages go.
    """
    seq_dir = Path(seq_dir).resolve()
    argv = ["--mot-root", str(seq_dir.parent), "--seqs", seq_dir.name, "--quiet"]
    argv += ["--reid-model", str(weights), "--yolo-model", yolo_model, "--cache", str(cache)]
    argv += ["--det-file"] if use_det_file else []
    argv += ["--config", str(tracker_config)] if tracker_config is not None else []
    args = bench.sequence_parser(bench.__doc__, "adapt").parse_args(argv)
    sequences = bench.load_sequences(args, say)
    scores = score_config(sequences, bench.configured(args), seq_dir.parent)[seq_dir.name]
    return {metric: float(scores[metric]) for metric in TRACKING_METRICS}


def cuhk01_scores(weights: Path, root: Path, arch: str, use_gpu: bool = False) -> Dict[str, float]:
    """Rank-1 and mAP (percent) of ``weights`` on CUHK01 split 0 (``root`` holds ``CUHK01/``
    or ``cuhk01/``), as ``configs/osnet_x0_25_msmt17_cuhk01.yaml`` evaluates."""
    from strongsort_reid.engine.config import config_from_dict
    from strongsort_reid.engine.recipe import run_recipe

    with tempfile.TemporaryDirectory(prefix="adapt-cuhk01-") as save_dir:
        config = config_from_dict(
            {
                "model": {"name": arch, "pretrained": False, "load_weights": str(weights)},
                "data": {
                    "root": str(root),
                    "sources": ["cuhk01"],
                    "targets": ["cuhk01"],
                    "split_id": 0,
                    "workers": 0,
                },
                "loss": {"name": "softmax"},
                "test": {"evaluate": True, "dist_metric": "cosine", "batch_size": 128},
                "save_dir": save_dir,
                "use_gpu": use_gpu,
            }
        )
        with contextlib.redirect_stdout(io.StringIO()):  # the dataset tables
            result = run_recipe(config).results["cuhk01"]
    return {"rank1": 100.0 * result.rank1, "mAP": 100.0 * result.mAP}
