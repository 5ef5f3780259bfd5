"""Search StrongSORT's parameters on cached sequences with Optuna (an optional extra).

The search is seeded; the first trial is the configuration being tuned (the defaults, or the
YAML given), so the result is never worse than the start on the objective; parameters can be
fixed. Objectives: the mean HOTA or IDF1 over the sequences, or ``"pareto"``: the front of mean
HOTA against the tracker's milliseconds per frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ..strongsort import StrongSORTConfig
from .devcache import CachedSequence
from .replay import MEAN, score_config

# parameter -> (kind, low, high); the ranges hold the paper's values.
SEARCH_SPACE: Dict[str, Tuple[str, float, float]] = {
    "min_conf": ("float", 0.3, 0.8),
    "max_cos_dist": ("float", 0.1, 0.6),
    "max_iou_dist": ("float", 0.5, 0.95),
    "mc_lambda": ("float", 0.9, 1.0),
    "ema_alpha": ("float", 0.7, 0.99),
    "max_age": ("int", 10, 120),
    "n_init": ("int", 1, 5),
    "nsa": ("bool", 0, 1),
}
OBJECTIVES = ("hota", "idf1", "pareto")


@dataclass
class TrialResult:
    """One evaluated configuration.

    Attributes:
        number: Optuna's trial number (0 is the starting configuration).
        params: The searched parameters' values.
        scores: ``score_config`` output (per sequence and ``"mean"``).
    """

    number: int
    params: Dict[str, Any]
    scores: Dict[str, Dict[str, float]] = field(repr=False)


@dataclass
class TuneResult:
    """Outcome of :func:`tune`.

    Attributes:
        start: The starting configuration's trial.
        best: The best trial (``"pareto"``: the front's point of highest HOTA).
        front: The trials on the HOTA / ms-per-frame Pareto front (``"pareto"`` only).
        config: ``best`` as a full configuration.
        trials: Every trial, in order.
    """

    start: TrialResult
    best: TrialResult
    front: List[TrialResult]
    config: StrongSORTConfig
    trials: List[TrialResult]


def _optuna():
    try:
        import optuna
    except ImportError:
        raise ImportError(
            "tuning needs Optuna: pip install 'strongsort-reid[tune]' (or pip install optuna)"
        ) from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def _suggest(trial, name: str) -> Any:
    kind, low, high = SEARCH_SPACE[name]
    if kind == "float":
        return trial.suggest_float(name, low, high)
    if kind == "int":
        return trial.suggest_int(name, int(low), int(high))
    return trial.suggest_categorical(name, [False, True])


def tune(
    sequences: Sequence[CachedSequence],
    gt_root: Path,
    base: StrongSORTConfig,
    trials: int = 100,
    objective: str = "hota",
    fixed: Optional[Mapping[str, Any]] = None,
    seed: int = 0,
    postprocess: Optional[str] = None,
) -> TuneResult:
    """Search :data:`SEARCH_SPACE` (minus ``fixed``) around ``base``.

    Args:
        sequences: Cached sequences of ``gt_root``.
        gt_root: Their ground-truth folder.
        base: The configuration to start from; its values are the first trial.
        trials: Number of configurations evaluated (the first included).
        objective: ``"hota"``, ``"idf1"`` (mean over sequences, maximised) or ``"pareto"``.
        fixed: Parameters kept as given (they override ``base``).
        seed: Seed of the sampler: the same seed gives the same trials.
        postprocess: ``"gsi"`` to score interpolated results.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    optuna = _optuna()
    fixed = dict(fixed or {})
    base = StrongSORTConfig.from_dict({**base.to_dict(), **fixed})
    names = [name for name in SEARCH_SPACE if name not in fixed]
    pareto = objective == "pareto"
    study = optuna.create_study(
        directions=["maximize", "minimize"] if pareto else ["maximize"],
        sampler=optuna.samplers.TPESampler(seed=seed),
    )
    study.enqueue_trial({name: _start_value(base, name) for name in names})
    results: List[TrialResult] = []

    def evaluate(trial):
        params = {name: _suggest(trial, name) for name in names}
        config = StrongSORTConfig.from_dict({**base.to_dict(), **params})
        scores = score_config(sequences, config, gt_root, postprocess)
        results.append(TrialResult(trial.number, params, scores))
        mean = scores[MEAN]
        if pareto:
            return mean["HOTA"], mean["ms"]
        return mean["HOTA"] if objective == "hota" else mean["IDF1"]

    study.optimize(evaluate, n_trials=int(trials))
    by_number = {result.number: result for result in results}
    if pareto:
        front = sorted((by_number[t.number] for t in study.best_trials), key=_hota, reverse=True)
        best = front[0]
    else:
        front, best = [], by_number[study.best_trial.number]
    config = StrongSORTConfig.from_dict({**base.to_dict(), **best.params})
    return TuneResult(by_number[0], best, front, config, results)


def _start_value(config: StrongSORTConfig, name: str) -> Any:
    """``config``'s value of ``name``, clipped into the search range (None: the range's top)."""
    kind, low, high = SEARCH_SPACE[name]
    value = getattr(config, name)
    if kind == "bool":
        return bool(value)
    if value is None:  # e.g. mc_lambda=None (cosine only) is the range's end: lambda = 1
        value = high
    value = min(max(value, low), high)
    return int(round(value)) if kind == "int" else float(value)


def _hota(result: TrialResult) -> float:
    return result.scores[MEAN]["HOTA"]
