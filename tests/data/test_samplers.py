"""Sampler properties: P x K identity batches, replacement, seeding, epochs, sharding."""

from __future__ import annotations

from collections import Counter

import pytest
from torch.utils.data import SequentialSampler

from strongsort_reid.data.samplers import (
    RandomIdentitySampler,
    RandomSampler,
    build_train_sampler,
)


def _items(images_per_pid):
    """Items whose pid ``p`` has ``images_per_pid[p]`` images."""
    return [(f"{p}_{i}.jpg", p, i % 2) for p, n in enumerate(images_per_pid) for i in range(n)]


def _batches(indices, batch_size):
    return [indices[i : i + batch_size] for i in range(0, len(indices), batch_size)]


def test_identity_batches_are_p_by_k():
    data = _items([6, 9, 4, 8, 5, 7, 12, 4])
    sampler = RandomIdentitySampler(data, batch_size=12, num_instances=4, seed=0)
    indices = list(sampler)
    assert len(indices) % 12 == 0 and 0 < len(indices) <= len(sampler)
    for batch in _batches(indices, 12):
        counts = Counter(data[i][1] for i in batch)
        assert len(counts) == 3 and set(counts.values()) == {4}
        assert len(set(batch)) == 12  # enough images everywhere: no repeats within a batch


def test_identity_sampler_samples_with_replacement_for_small_identities():
    data = _items([1, 2, 6, 6])
    sampler = RandomIdentitySampler(data, batch_size=8, num_instances=4, seed=3)
    seen = Counter()
    for _ in range(5):  # five epochs
        for batch in _batches(list(sampler), 8):
            counts = Counter(data[i][1] for i in batch)
            assert set(counts.values()) == {4}
            seen.update(counts)
            for pid in (0, 1):
                if pid in counts:  # 4 draws from 1 or 2 images
                    assert len({i for i in batch if data[i][1] == pid}) <= pid + 1
    assert seen[0] > 0 and seen[1] > 0


def test_identity_sampler_is_reproducible_and_changes_per_epoch():
    data = _items([5] * 10)
    first = RandomIdentitySampler(data, 8, 2, seed=42)
    second = RandomIdentitySampler(data, 8, 2, seed=42)
    epoch0, epoch1 = list(first), list(first)
    assert epoch0 == list(second) and epoch1 == list(second)
    assert epoch0 != epoch1
    first.set_epoch(1)  # resuming at epoch 1 replays epoch 1 exactly
    assert list(first) == epoch1
    assert list(RandomIdentitySampler(data, 8, 2, seed=7)) != epoch0


def test_identity_sampler_shards_whole_batches_across_ranks():
    data = _items([4] * 12)
    full = _batches(list(RandomIdentitySampler(data, 8, 4, seed=1)), 8)
    shards = [
        list(RandomIdentitySampler(data, 8, 4, seed=1, num_replicas=2, rank=r)) for r in (0, 1)
    ]
    assert len(shards[0]) == len(shards[1])
    assert _batches(shards[0], 8) == full[0::2][: len(full) // 2]
    assert _batches(shards[1], 8) == full[1::2][: len(full) // 2]


def test_identity_sampler_errors():
    data = _items([4, 4])
    with pytest.raises(ValueError, match="multiple of num_instances"):
        RandomIdentitySampler(data, batch_size=6, num_instances=4)
    with pytest.raises(ValueError, match="needs >= 4 identities"):
        RandomIdentitySampler(data, batch_size=16, num_instances=4)
    with pytest.raises(ValueError, match="rank"):
        RandomIdentitySampler(data, batch_size=4, num_instances=2, num_replicas=2, rank=2)


def test_random_sampler_seeded_permutation_and_shards():
    data = _items([3] * 7)
    sampler = RandomSampler(data, seed=5)
    epoch0 = list(sampler)
    assert sorted(epoch0) == list(range(21)) and len(sampler) == 21
    assert list(RandomSampler(data, seed=5)) == epoch0
    assert list(sampler) != epoch0
    shards = [list(RandomSampler(data, seed=5, num_replicas=2, rank=r)) for r in (0, 1)]
    assert len(shards[0]) == len(shards[1]) == 10
    assert not set(shards[0]) & set(shards[1])


def test_build_train_sampler():
    data = _items([4] * 4)
    identity = build_train_sampler(data, "RandomIdentitySampler", 8, 4)
    assert isinstance(identity, RandomIdentitySampler)
    assert isinstance(build_train_sampler(data, "RandomSampler"), RandomSampler)
    assert isinstance(build_train_sampler(data, "SequentialSampler"), SequentialSampler)
    with pytest.raises(ValueError, match="available"):
        build_train_sampler(data, "RandomDomainSampler")
    with pytest.raises(ValueError, match="cannot be sharded"):
        build_train_sampler(data, "SequentialSampler", num_replicas=2)
