"""The engine's evaluation step: embed every target's query and gallery, rank, report.

:class:`EvaluationMixin` is the ``test`` half of :class:`~.engine.Engine`; the feature
extraction and scoring themselves are the plain functions of :mod:`.evaluation`.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Sequence, Union

import torch

from strongsort_reid.engine import distributed
from strongsort_reid.engine.evaluation import (
    EvalResult,
    evaluate_features,
    extract_features,
    format_results,
)
from strongsort_reid.engine.progress import ENGINE_LOGGER
from strongsort_reid.engine.seeding import preserved_rng_state

__all__ = ["EvaluationMixin"]

logger = logging.getLogger(ENGINE_LOGGER)

PathLike = Union[str, os.PathLike]


class EvaluationMixin:
    """Evaluation on the data manager's test loaders (a part of the engine).

    Uses the engine's :attr:`datamanager`, :attr:`test_loader`, :attr:`device`, :attr:`amp`,
    :attr:`use_gpu`, :attr:`is_main`, :attr:`writer`, :attr:`epoch`, the registered ``"model"`` and
    :meth:`parse_data_for_eval`; fills :attr:`last_results`.
    """

    datamanager: Any
    test_loader: Dict[str, Dict[str, Any]]
    device: torch.device
    amp: bool
    use_gpu: bool
    is_main: bool
    writer: Optional[Any]
    epoch: int
    last_results: Dict[str, EvalResult]
    parse_data_for_eval: Callable
    set_model_mode: Callable
    _models: Dict[str, torch.nn.Module]

    def test(
        self,
        dist_metric: str = "euclidean",
        normalize_feature: bool = False,
        visrank: bool = False,
        visrank_topk: int = 10,
        save_dir: PathLike = "",
        use_metric_cuhk03: bool = False,
        ranks: Sequence[int] = (1, 5, 10, 20),
        rerank: bool = False,
    ) -> float:
        """Evaluate on every target's query/gallery split and print the result tables.

        Runs on the main process only (the others wait) and leaves the random generators
        untouched, so evaluation never changes the training trajectory.

        A target without query or gallery images is skipped with a warning.

        Returns:
            Rank-1 accuracy in ``[0, 1]`` of the last target scored (torchreid's
            convention); NaN when no target was scored.
        """
        rank1 = float("nan")
        if self.is_main:
            with preserved_rng_state():
                self.set_model_mode("eval")
                for name, loaders in self.test_loader.items():
                    empty = [split for split in ("query", "gallery") if _is_empty(loaders[split])]
                    if empty:
                        logger.warning(
                            "%s: evaluation skipped, no %s images (test_ratio=0 holds out no "
                            "identities: everything is used for training)", name,
                            " and no ".join(empty),
                        )
                        continue
                    result = self._evaluate(
                        name, loaders, dist_metric, normalize_feature, visrank, visrank_topk,
                        save_dir, use_metric_cuhk03, rerank,
                    )
                    self.last_results[name] = result
                    print(format_results(result, ranks))
                    if self.writer is not None:
                        self.writer.add_scalar(f"Test/{name}/rank1", result.rank1, self.epoch)
                        self.writer.add_scalar(f"Test/{name}/mAP", result.mAP, self.epoch)
                    rank1 = result.rank1
        return float(distributed.broadcast_object(rank1))

    def _evaluate(
        self,
        name: str,
        loaders: Dict[str, Any],
        dist_metric: str,
        normalize_feature: bool,
        visrank: bool,
        visrank_topk: int,
        save_dir: PathLike,
        use_metric_cuhk03: bool,
        rerank: bool,
    ) -> EvalResult:
        """Embed, rank and score one target (and draw its ranked grids with ``visrank``)."""
        model = self._models["model"]
        sets = {}
        for split in ("query", "gallery"):
            start = time.perf_counter()
            sets[split] = extract_features(
                model, loaders[split], self.parse_data_for_eval, self.device,
                normalize_feature, self.amp and self.use_gpu, desc=f"{name} {split}",
            )
            logger.info(
                "%s %s: %d x %d features in %.2f s", name, split, *sets[split].features.shape,
                time.perf_counter() - start,
            )
            if sets[split].num_skipped:
                logger.warning(
                    "%s %s: %d undecodable image(s) were skipped and replaced by other images",
                    name, split, sets[split].num_skipped,
                )
        result, distmat = evaluate_features(
            name, sets["query"], sets["gallery"], dist_metric, use_metric_cuhk03, rerank
        )
        if visrank:
            # Imported here: OpenCV drawing is only needed when grids are asked for.
            from strongsort_reid.engine.visualize import visualize_ranked_results

            visualize_ranked_results(
                distmat,
                (sets["query"].items(), sets["gallery"].items()),
                width=getattr(self.datamanager, "width", 128),
                height=getattr(self.datamanager, "height", 256),
                save_dir=Path(save_dir) / f"visrank_{name}",
                topk=visrank_topk,
            )
        return result


def _is_empty(loader: Any) -> bool:
    """Whether a test loader yields nothing (its length is unknown: assume it does not)."""
    try:
        return len(loader) == 0
    except TypeError:
        return False
