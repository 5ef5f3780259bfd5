"""Training samplers: random order, sequential order, and P x K identity batches.

Every random sampler here draws from its own ``torch.Generator`` seeded with ``seed + epoch``.
The epoch advances by one each time the sampler is iterated; ``set_epoch(e)`` sets it (call
it when resuming a run, or once per epoch as with ``DistributedSampler``), so the order of
epoch ``e`` depends only on ``(seed, e)``. With ``num_replicas > 1`` every process computes the
same epoch order and keeps its own share (whole batches for the identity sampler), so
DistributedDataParallel ranks see disjoint data and the same number of batches.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Dict, Iterator, List, Optional, Sequence

import torch
from torch.utils.data import Sampler, SequentialSampler

AVAILABLE_SAMPLERS = ("RandomSampler", "SequentialSampler", "RandomIdentitySampler")


def resolve_seed(seed: Optional[int]) -> int:
    # Without a seed, draw one from torch's global generator, so torch.manual_seed still
    # makes the run reproducible.
    if seed is None:
        return int(torch.randint(0, 2**31 - 1, ()).item())
    return int(seed)


def _check_replicas(num_replicas: int, rank: int) -> None:
    if num_replicas < 1 or not 0 <= rank < num_replicas:
        raise ValueError(
            f"need num_replicas >= 1 and 0 <= rank < num_replicas, got {num_replicas}, {rank}"
        )


class _EpochSeeded(Sampler):
    """Shared seed/epoch bookkeeping of the random samplers."""

    def __init__(self, seed: Optional[int], num_replicas: int, rank: int):
        _check_replicas(num_replicas, rank)
        self.seed = resolve_seed(seed)
        self.epoch = 0
        self.num_replicas = num_replicas
        self.rank = rank

    def set_epoch(self, epoch: int) -> None:
        """Make the next iteration produce the order of epoch ``epoch``."""
        self.epoch = int(epoch)

    def _next_generator(self) -> torch.Generator:
        generator = torch.Generator()
        generator.manual_seed(self.seed + self.epoch)
        self.epoch += 1
        return generator


class RandomSampler(_EpochSeeded):
    """A random permutation of the dataset each epoch (this rank's share of it).

    Args:
        data_source: The dataset (only its length is used).
        seed: Base seed; None draws one from torch's global generator.
        num_replicas, rank: Distributed shard; the permutation is cut to a multiple of
            ``num_replicas`` and rank ``r`` takes positions ``r, r + num_replicas, ...``.
    """

    def __init__(
        self,
        data_source: Sequence,
        seed: Optional[int] = None,
        num_replicas: int = 1,
        rank: int = 0,
    ):
        super().__init__(seed, num_replicas, rank)
        self.num_samples = len(data_source)

    def __iter__(self) -> Iterator[int]:
        order = torch.randperm(self.num_samples, generator=self._next_generator())
        return iter(order[self.rank : len(self) * self.num_replicas : self.num_replicas].tolist())

    def __len__(self) -> int:
        return self.num_samples // self.num_replicas


class RandomIdentitySampler(_EpochSeeded):
    """P x K batches: ``P = batch_size // num_instances`` identities, ``K = num_instances``
    images each, as needed by the batch-hard triplet loss (Hermans et al., 2017).

    Each epoch, every identity's images are shuffled and cut into groups of K (the remainder is
    dropped); an identity with fewer than K images is sampled K times with replacement. Batches
    are then filled with one group from each of P randomly chosen identities that still have
    groups, until fewer than P identities are left. The sampler yields a flat index list whose
    consecutive runs of ``batch_size`` are the batches, so use it with a DataLoader of the same
    ``batch_size`` and ``drop_last=True``.

    Args:
        data_source: Sequence of ``(img_path, pid, camid[, dsetid])`` items.
        batch_size: Images per batch (per process); a multiple of ``num_instances``.
        num_instances: K, images per identity in a batch.
        seed: Base seed; None draws one from torch's global generator.
        num_replicas, rank: Distributed shard: rank ``r`` takes batches ``r, r + num_replicas,
            ...`` of the epoch, cut to a multiple of ``num_replicas`` batches.

    Raises:
        ValueError: ``batch_size`` is not a positive multiple of ``num_instances``, or there
            are fewer than P identities.
    """

    def __init__(
        self,
        data_source: Sequence[Sequence[Any]],
        batch_size: int,
        num_instances: int,
        seed: Optional[int] = None,
        num_replicas: int = 1,
        rank: int = 0,
    ):
        if num_instances < 1 or batch_size < num_instances or batch_size % num_instances:
            raise ValueError(
                f"batch_size ({batch_size}) must be a positive multiple of num_instances "
                f"({num_instances})"
            )
        super().__init__(seed, num_replicas, rank)
        self.batch_size = batch_size
        self.num_instances = num_instances
        self.num_pids_per_batch = batch_size // num_instances
        indices: Dict[int, List[int]] = defaultdict(list)
        for index, item in enumerate(data_source):
            indices[int(item[1])].append(index)
        self.pids = sorted(indices)
        self.index_of_pid = [torch.tensor(indices[pid]) for pid in self.pids]
        if len(self.pids) < self.num_pids_per_batch:
            raise ValueError(
                f"RandomIdentitySampler needs >= {self.num_pids_per_batch} identities "
                f"(batch_size {batch_size} / num_instances {num_instances}), got {len(self.pids)}"
            )
        # Upper bound: every group used. The real count can be lower when the last identities
        # left hold several groups each (they cannot fill a batch of P distinct identities).
        groups = sum(max(len(i), num_instances) // num_instances for i in self.index_of_pid)
        self._max_batches = groups // self.num_pids_per_batch // num_replicas

    def _epoch_batches(self, generator: torch.Generator) -> List[List[int]]:
        """All P x K batches of one epoch (every rank computes the same list)."""
        k = self.num_instances
        groups: List[List[List[int]]] = []
        for pool in self.index_of_pid:
            if len(pool) < k:
                picks = pool[torch.randint(len(pool), (k,), generator=generator)]
            else:
                picks = pool[torch.randperm(len(pool), generator=generator)]
            usable = len(picks) // k * k
            groups.append(picks[:usable].view(-1, k).tolist())
        available = [i for i, g in enumerate(groups) if g]
        batches = []
        while len(available) >= self.num_pids_per_batch:
            chosen = torch.randperm(len(available), generator=generator)[: self.num_pids_per_batch]
            batch = []
            for position in chosen.tolist():
                batch += groups[available[position]].pop()
            batches.append(batch)
            available = [i for i in available if groups[i]]
        return batches

    def __iter__(self) -> Iterator[int]:
        batches = self._epoch_batches(self._next_generator())
        usable = len(batches) // self.num_replicas * self.num_replicas
        mine = batches[self.rank : usable : self.num_replicas]
        return iter([index for batch in mine for index in batch])

    def __len__(self) -> int:
        """Upper bound on the indices yielded per epoch (torchreid's convention)."""
        return self._max_batches * self.batch_size


def build_train_sampler(
    data_source: Sequence[Sequence[Any]],
    train_sampler: str,
    batch_size: int = 32,
    num_instances: int = 4,
    seed: Optional[int] = None,
    num_replicas: int = 1,
    rank: int = 0,
) -> Sampler:
    """Build the training sampler named ``train_sampler`` (one of :data:`AVAILABLE_SAMPLERS`).

    Args:
        data_source: Training items ``(img_path, pid, camid[, dsetid])``.
        train_sampler: ``"RandomSampler"``, ``"SequentialSampler"`` or
            ``"RandomIdentitySampler"``.
        batch_size, num_instances: Used by ``RandomIdentitySampler``.
        seed: Base seed of the random samplers (None: drawn from torch's global generator).
        num_replicas, rank: Distributed shard (not supported by ``SequentialSampler``).

    Raises:
        ValueError: Unknown sampler name, or sharding requested for ``SequentialSampler``.
    """
    if train_sampler == "RandomIdentitySampler":
        return RandomIdentitySampler(
            data_source, batch_size, num_instances, seed, num_replicas=num_replicas, rank=rank
        )
    if train_sampler == "RandomSampler":
        return RandomSampler(data_source, seed, num_replicas=num_replicas, rank=rank)
    if train_sampler == "SequentialSampler":
        if num_replicas != 1:
            raise ValueError("SequentialSampler cannot be sharded; use RandomSampler for DDP")
        return SequentialSampler(data_source)
    raise ValueError(
        f"unknown train_sampler {train_sampler!r}; available: {list(AVAILABLE_SAMPLERS)}"
    )
