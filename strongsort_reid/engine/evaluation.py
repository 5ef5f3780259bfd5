"""Query/gallery feature extraction and retrieval evaluation for the engine."""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, List, Sequence, Tuple

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm import tqdm

from strongsort_reid.metrics import compute_distance_matrix, evaluate_rank, re_ranking

__all__ = [
    "EvalResult",
    "FeatureSet",
    "count_skipped",
    "evaluate_features",
    "extract_features",
    "format_results",
]

logger = logging.getLogger(__name__)

# The CMC curve is computed up to this rank (torchreid's default), or the gallery size.
MAX_RANK = 50


@dataclass
class FeatureSet:
    """Embeddings of one image set with their labels.

    Attributes:
        features: ``(N, D)`` float32 CPU tensor.
        pids: ``(N,)`` int64 identities.
        camids: ``(N,)`` int64 camera ids.
        impaths: ``N`` image paths (empty strings when the batches carry none).
        num_skipped: Images that failed to decode and were replaced by others.
    """

    features: torch.Tensor
    pids: np.ndarray
    camids: np.ndarray
    impaths: List[str] = field(default_factory=list)
    num_skipped: int = 0

    def items(self) -> List[Tuple[str, int, int]]:
        """``(impath, pid, camid)`` tuples, the dataset layout the visualisation takes."""
        return list(zip(self.impaths, self.pids.tolist(), self.camids.tolist()))


@dataclass
class EvalResult:
    """Retrieval scores of one target dataset.

    Attributes:
        name: Dataset name.
        mAP: Mean average precision in ``[0, 1]``.
        mINP: Mean inverse negative penalty in ``[0, 1]``.
        cmc: ``(R,)`` float32 CMC curve, entry ``k`` = rank-``k + 1`` accuracy in ``[0, 1]``.
    """

    name: str
    mAP: float
    mINP: float
    cmc: np.ndarray

    @property
    def rank1(self) -> float:
        """Rank-1 accuracy in ``[0, 1]``."""
        return float(self.cmc[0])


def count_skipped(data: dict) -> int:
    """Samples of a batch whose own image failed to decode and was replaced.

    A batch's ``'skipped'`` entry says how many files each sample passed over before one
    decoded (its own and failed replacements), so counting the non-zero entries counts each
    undecodable file once per draw. Batches without the entry count 0.
    """
    skipped = data.get("skipped") if isinstance(data, dict) else None
    return 0 if skipped is None else int((torch.as_tensor(skipped) > 0).sum())


@torch.no_grad()
def extract_features(
    model: nn.Module,
    loader: Iterable[dict],
    parse: Callable[[dict], Tuple[torch.Tensor, torch.Tensor, torch.Tensor]],
    device: torch.device,
    normalize: bool = False,
    amp: bool = False,
    desc: str = "",
) -> FeatureSet:
    """Embed every image of ``loader`` with ``model`` in eval mode.

    Args:
        model: The network (already in eval mode, unwrapped from DDP).
        loader: Batches as dicts with ``'img'`` ``(B, 3, H, W)``, ``'pid'``, ``'camid'`` and
            optionally ``'impath'``.
        parse: Turns a batch into ``(imgs, pids, camids)`` tensors.
        device: Where the model runs.
        normalize: L2-normalise each embedding.
        amp: Run the forward pass in float16 autocast (CUDA only).
        desc: Label of a progress bar, shown when it is set and stderr is a terminal.

    Returns:
        A :class:`FeatureSet` with float32 features on the CPU.
    """
    features, pids, camids, impaths = [], [], [], []
    num_skipped = 0
    progress = tqdm(
        loader,
        desc=desc,
        unit="batch",
        leave=False,
        disable=not (desc and sys.stderr.isatty()),
    )
    for data in progress:
        num_skipped += count_skipped(data)
        imgs, batch_pids, batch_camids = parse(data)
        with torch.autocast(device_type=device.type, dtype=torch.float16, enabled=amp):
            out = model(imgs.to(device, non_blocking=True))
        out = out.float()
        if normalize:
            out = F.normalize(out, p=2, dim=1)
        features.append(out.cpu())
        pids.append(torch.as_tensor(batch_pids).cpu())
        camids.append(torch.as_tensor(batch_camids).cpu())
        impaths.extend(data.get("impath", [""] * len(out)))
    if not features:
        raise ValueError("the evaluation loader yielded no batches")
    return FeatureSet(
        torch.cat(features),
        torch.cat(pids).numpy().astype(np.int64),
        torch.cat(camids).numpy().astype(np.int64),
        list(impaths),
        num_skipped,
    )


def evaluate_features(
    name: str,
    query: FeatureSet,
    gallery: FeatureSet,
    dist_metric: str = "euclidean",
    use_metric_cuhk03: bool = False,
    rerank: bool = False,
) -> Tuple[EvalResult, np.ndarray]:
    """Rank the gallery for every query and score the ranking.

    Args:
        name: Dataset name, carried into the result.
        query: Query embeddings and labels.
        gallery: Gallery embeddings and labels.
        dist_metric: ``"euclidean"`` (squared) or ``"cosine"``.
        use_metric_cuhk03: Use the CUHK03 single-gallery-shot protocol.
        rerank: Apply k-reciprocal re-ranking (k1=20, k2=6, lambda=0.3) to the distances.

    Returns:
        ``(result, distmat)`` with the ``(num_query, num_gallery)`` float32 distances used.
    """
    start = time.perf_counter()
    distmat = compute_distance_matrix(query.features, gallery.features, dist_metric)
    if rerank:
        q_q = compute_distance_matrix(query.features, query.features, dist_metric)
        g_g = compute_distance_matrix(gallery.features, gallery.features, dist_metric)
        distmat = torch.from_numpy(re_ranking(distmat.numpy(), q_q.numpy(), g_g.numpy()))
    distmat = distmat.numpy().astype(np.float32)
    cmc, mAP, mINP = evaluate_rank(
        distmat,
        query.pids,
        gallery.pids,
        query.camids,
        gallery.camids,
        max_rank=min(MAX_RANK, distmat.shape[1]),
        use_metric_cuhk03=use_metric_cuhk03,
    )
    logger.info(
        "%s: %d queries x %d gallery ranked in %.2f s",
        name,
        distmat.shape[0],
        distmat.shape[1],
        time.perf_counter() - start,
    )
    return EvalResult(name, mAP, mINP, cmc), distmat


def format_results(result: EvalResult, ranks: Sequence[int] = (1, 5, 10, 20)) -> str:
    """torchreid's result table: mAP, mINP and the requested points of the CMC curve."""
    lines = [
        f"** Results ({result.name}) **",
        f"mAP: {result.mAP:.1%}",
        f"mINP: {result.mINP:.1%}",
        "CMC curve",
    ]
    lines += [f"Rank-{r:<3d}: {result.cmc[r - 1]:.1%}" for r in ranks if r <= len(result.cmc)]
    return "\n".join(lines)

