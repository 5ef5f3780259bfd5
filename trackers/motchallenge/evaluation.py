"""MOTChallenge evaluation (HOTA, DetA, AssA, MOTA, IDF1, IDSW) with TrackEval as the engine.

TrackEval (``pip install trackeval``; version 1.0.1 or later runs on numpy 2) reads a fixed
folder layout and refuses result rows beyond a sequence's length. :func:`evaluate_mot` therefore
copies the ground truth and results of every sequence into a temporary folder in that layout,
keeping only the evaluated frames ``1 .. L``:

* ``frames="gt"`` (default): ``L`` is the last frame annotated in ``gt.txt`` (capped at
  ``seqLength``). This evaluates sequences whose ``gt.txt`` covers only their first frames,
  such as the shared MOT17-mini whose ``img1/`` holds 4-8 images; for complete sequences it is
  ``seqLength`` because MOTChallenge ground truth runs to the last frame.
* ``frames="seqinfo"``: ``L`` is ``seqLength`` from ``seqinfo.ini``.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import numpy as np

from strongsort_reid.utils.motchallenge import read_gt, read_results, read_seqinfo, write_results

PathLike = Union[str, Path]

# Reported metrics: TrackEval metric family and field for each, percentages except IDSW.
METRICS = {
    "HOTA": ("HOTA", "HOTA"),
    "DetA": ("HOTA", "DetA"),
    "AssA": ("HOTA", "AssA"),
    "MOTA": ("CLEAR", "MOTA"),
    "IDF1": ("Identity", "IDF1"),
    "IDSW": ("CLEAR", "IDSW"),
}
COMBINED = "COMBINED"


def evaluated_length(seq_dir: PathLike, frames: str = "gt") -> int:
    """Number of frames ``L`` evaluated for a sequence (see the module docstring)."""
    if frames not in ("gt", "seqinfo"):
        raise ValueError(f"frames must be 'gt' or 'seqinfo', got {frames!r}")
    seq_dir = Path(seq_dir)
    length = read_seqinfo(seq_dir).seq_length
    if frames == "seqinfo":
        return length
    gt = read_gt(seq_dir / "gt" / "gt.txt")
    if gt.shape[0] == 0:
        return length
    return int(min(length, gt[:, 0].max()))


def find_sequences(
    gt_root: PathLike, results_dir: PathLike, sequences: Optional[Sequence[str]] = None
):
    """``(evaluated, missing)``: sequence names to evaluate, and those with ground truth but no
    results file (always empty when ``sequences`` is given: a missing file is then an error)."""
    gt_root, results_dir = Path(gt_root), Path(results_dir)
    if not gt_root.is_dir():
        raise FileNotFoundError(f"gt_root folder not found: {gt_root}")
    if not results_dir.is_dir():
        raise FileNotFoundError(f"results folder not found: {results_dir}")
    if sequences is not None:
        for name in sequences:
            if not (gt_root / name / "gt" / "gt.txt").is_file():
                raise FileNotFoundError(f"no ground truth for {name}: {gt_root / name}/gt/gt.txt")
            if not (results_dir / f"{name}.txt").is_file():
                raise FileNotFoundError(f"no results for {name}: {results_dir / name}.txt")
        return list(sequences), []
    with_gt = sorted(p.name for p in gt_root.iterdir() if (p / "gt" / "gt.txt").is_file())
    evaluated = [n for n in with_gt if (results_dir / f"{n}.txt").is_file()]
    if not evaluated:
        raise FileNotFoundError(
            f"no sequence of {gt_root} has a results file <name>.txt in {results_dir}"
        )
    return evaluated, [n for n in with_gt if n not in evaluated]


def _stage(gt_root: Path, results_dir: Path, names: List[str], frames: str, stage: Path):
    """Copy frames ``1 .. L`` of every sequence into TrackEval's layout; return ``{name: L}``."""
    lengths = {}
    for name in names:
        length = evaluated_length(gt_root / name, frames)
        lengths[name] = length
        gt = read_gt(gt_root / name / "gt" / "gt.txt")
        gt = gt[gt[:, 0] <= length]
        gt_file = stage / "gt" / name / "gt" / "gt.txt"
        gt_file.parent.mkdir(parents=True)
        np.savetxt(gt_file, gt, fmt="%d,%d,%.3f,%.3f,%.3f,%.3f,%d,%d,%.5f")
        results = read_results(results_dir / f"{name}.txt")
        results = results[(results[:, 0] >= 1) & (results[:, 0] <= length)]
        write_results(stage / "trackers" / "tracker" / "data" / f"{name}.txt", results)
    return lengths


def evaluate_mot(
    gt_root: PathLike,
    results_dir: PathLike,
    sequences: Optional[Sequence[str]] = None,
    frames: str = "gt",
    benchmark: str = "MOT17",
) -> Dict[str, Dict[str, float]]:
    """Score MOTChallenge results against ground truth.

    Args:
        gt_root: Folder of sequences ``<gt_root>/<seq>/{seqinfo.ini, gt/gt.txt}``.
        results_dir: Folder of result files ``<results_dir>/<seq>.txt``.
        sequences: Names to evaluate (each must have ground truth and results); by default every
            sequence of ``gt_root`` that has a results file.
        frames: ``"gt"`` or ``"seqinfo"``: which frames are evaluated (module docstring).
        benchmark: TrackEval benchmark name (``"MOT17"``, ``"MOT20"``, ...): selects which gt
            classes count as distractors.

    Returns:
        ``{seq: {"HOTA", "DetA", "AssA", "MOTA", "IDF1": percent, "IDSW": count,
        "frames": L}}`` plus ``"COMBINED"`` over all evaluated sequences. Ground-truth
        sequences without results are skipped with a warning (see :func:`find_sequences`).

    Raises:
        FileNotFoundError: ``gt_root``, ``results_dir`` or a named sequence's files are missing.
        ValueError: An invalid ``seqinfo.ini``, ``gt.txt`` or results file (named by
            ``file:line``), or anything else TrackEval refuses (its message on one line).
    """
    try:
        import trackeval
    except ImportError:
        raise ImportError(
            "MOT evaluation needs TrackEval: pip install 'trackeval>=1.0.1' (or the project's "
            "[eval] extra)"
        ) from None
    gt_root, results_dir = Path(gt_root), Path(results_dir)
    names, missing = find_sequences(gt_root, results_dir, sequences)
    if missing:
        warnings.warn(f"no results for {missing}: evaluating {names} only", stacklevel=2)
    with tempfile.TemporaryDirectory(prefix="mot_eval_") as temp:
        stage = Path(temp)
        lengths = _stage(gt_root, results_dir, names, frames, stage)
        try:
            raw = _run_trackeval(trackeval, stage, lengths, benchmark)
        except trackeval.utils.TrackEvalException as error:
            reason = " ".join(str(error).split())
            raise ValueError(f"TrackEval cannot evaluate {names} of {gt_root}: {reason}") from None
    per_sequence = raw["MotChallenge2DBox"]["tracker"]
    scores = {}
    for name in [*names, "COMBINED_SEQ"]:
        result = per_sequence[name]["pedestrian"]
        key = COMBINED if name == "COMBINED_SEQ" else name
        scores[key] = {
            metric: _metric_value(result[family][field], metric)
            for metric, (family, field) in METRICS.items()
        }
        scores[key]["frames"] = sum(lengths.values()) if key == COMBINED else lengths[name]
    return scores


def _run_trackeval(trackeval, stage: Path, lengths: Dict[str, int], benchmark: str):
    """TrackEval's raw results on the staged folder (see :func:`_stage`)."""
    dataset_config = {
        "GT_FOLDER": str(stage / "gt"),
        "TRACKERS_FOLDER": str(stage / "trackers"),
        "OUTPUT_FOLDER": str(stage / "output"),
        "TRACKERS_TO_EVAL": ["tracker"],
        "BENCHMARK": benchmark,
        "SKIP_SPLIT_FOL": True,
        "SEQ_INFO": dict(lengths),
        "PRINT_CONFIG": False,
    }
    eval_config = {
        "USE_PARALLEL": False,
        "PRINT_RESULTS": False,
        "PRINT_CONFIG": False,
        "TIME_PROGRESS": False,
        "OUTPUT_SUMMARY": False,
        "OUTPUT_DETAILED": False,
        "PLOT_CURVES": False,
        "LOG_ON_ERROR": None,
        "BREAK_ON_ERROR": True,
    }
    # TrackEval prints configs and progress unconditionally, and a traceback before it
    # re-raises an error: keep the caller's stdout and stderr clean.
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        metrics = [
            trackeval.metrics.HOTA(),
            trackeval.metrics.CLEAR(),
            trackeval.metrics.Identity(),
        ]
        evaluator = trackeval.Evaluator(eval_config)
        dataset = trackeval.datasets.MotChallenge2DBox(dataset_config)
        return evaluator.evaluate([dataset], metrics)[0]


def _metric_value(value, metric: str) -> float:
    """HOTA-family values are arrays over localisation thresholds: report their mean."""
    if metric == "IDSW":
        return int(value)
    return float(np.mean(value)) * 100.0


def format_table(scores: Dict[str, Dict[str, float]]) -> str:
    """A plain-text table of :func:`evaluate_mot` scores, one row per sequence."""
    columns = [*METRICS, "frames"]
    header = f"{'sequence':<24}" + "".join(f"{c:>8}" for c in columns)
    lines = [header, "-" * len(header)]
    for name, row in scores.items():
        cells = "".join(
            f"{row[c]:>8d}" if c in ("IDSW", "frames") else f"{row[c]:>8.2f}" for c in columns
        )
        lines.append(f"{name:<24}{cells}")
    return "\n".join(lines)
