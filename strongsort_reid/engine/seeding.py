"""Random-number-generator state: seeding, capture/restore, and isolation.

Training randomness comes from three generators: Python's ``random`` (samplers and some
transforms), numpy's legacy global state (samplers, random erasing) and torch's CPU/CUDA
generators (shuffling, transforms, dropout, initialisation). A resumed run only continues
exactly when all of them are restored, so they are captured together here, in a form that
``torch.load(weights_only=True)`` accepts (tensors, ints, floats, lists).
"""

from __future__ import annotations

import contextlib
import random
from typing import Any, Dict, Iterator

import numpy as np
import torch

__all__ = [
    "capture_rng_state",
    "preserved_rng_state",
    "restore_rng_state",
    "set_random_seed",
]


def set_random_seed(seed: int) -> None:
    """Seed Python's ``random``, numpy's global state and torch (CPU and every CUDA device).

    Args:
        seed: Non-negative int below ``2**32`` (numpy's limit).
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be an int in [0, 2**32), got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def capture_rng_state() -> Dict[str, Any]:
    """Snapshot every global generator.

    Returns:
        ``{"python": {...}, "numpy": {...}, "torch": ByteTensor, "cuda": [ByteTensor, ...]}``;
        only tensors, ints, floats, lists and ``None`` (safe for ``weights_only`` loading).
    """
    version, internal, gauss_next = random.getstate()
    kind, keys, pos, has_gauss, cached_gaussian = np.random.get_state()
    state = {
        "python": {
            "version": version,
            "internal": torch.tensor(internal, dtype=torch.int64),
            "gauss_next": gauss_next,
        },
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached_gaussian),
        },
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else [],
    }
    return state


def restore_rng_state(state: Dict[str, Any]) -> None:
    """Restore a snapshot taken by :func:`capture_rng_state`.

    CUDA states are restored when CUDA is in use and the device count matches; otherwise
    they are skipped (a checkpoint written on a GPU machine still resumes on a CPU one).

    Raises:
        ValueError: ``state`` lacks one of the generator entries.
    """
    missing = {"python", "numpy", "torch"} - set(state)
    if missing:
        raise ValueError(f"RNG state lacks the entries {sorted(missing)}")
    py = state["python"]
    random.setstate((py["version"], tuple(py["internal"].tolist()), py["gauss_next"]))
    npy = state["numpy"]
    np.random.set_state(
        (
            npy["kind"],
            npy["keys"].numpy().astype(np.uint32),
            npy["pos"],
            npy["has_gauss"],
            npy["cached_gaussian"],
        )
    )
    torch.set_rng_state(state["torch"])
    cuda_states = state.get("cuda") or []
    if cuda_states and torch.cuda.is_available() and len(cuda_states) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda_states)


@contextlib.contextmanager
def preserved_rng_state() -> Iterator[None]:
    """Run a block without disturbing the global generators (they are restored afterwards).

    Evaluation runs inside this, so evaluating more or less often never changes the
    training trajectory (a DataLoader draws a seed from torch's generator on every pass).
    """
    state = capture_rng_state()
    try:
        yield
    finally:
        restore_rng_state(state)
