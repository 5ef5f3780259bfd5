"""The demo's ReID embedder computes like a plain ``FeatureExtractor`` with the same ``backend``.

``build_reid_embedder`` opens a cached export of the weights instead of converting them at every
start. With ``backend="auto"`` it must still run at the precision ``"auto"`` stands for
(OpenVINO bf16 on CPUs that compute bf16 natively), not at an explicit backend's f32: the demo,
``strongsort-track bench`` and ``adapt`` would otherwise embed ~1.3x slower than
``StrongSORT(reid_weights=...)`` and than what the README documents.
"""

from __future__ import annotations

import pytest

from strongsort_reid.inference import FeatureExtractor
from strongsort_reid.inference.options import openvino_precision, pick_backend
from trackers.app.embedder import build_reid_embedder

pytest.importorskip("openvino")


@pytest.mark.parametrize("backend", ["auto", "openvino"])
def test_embedder_precision_is_that_of_the_requested_backend(reid_home, backend):
    runtime = pick_backend(backend, "cpu")
    if runtime != "openvino":
        pytest.skip("auto picks another runtime on this CPU (no native bf16)")
    messages = []
    embedder = build_reid_embedder(
        "osnet_x0_25_msmt17", backend=backend, device="cpu", require=True, say=messages.append
    )
    assert embedder.backend.name == "openvino"
    assert ".xml (openvino backend" in messages[-1]  # the cached export, not the weights
    expected = openvino_precision(backend, runtime, False, "CPU") or "f32"
    assert embedder.backend.precision == expected
    plain = FeatureExtractor("osnet_x0_25", "osnet_x0_25_msmt17", device="cpu", backend=backend)
    assert plain.backend.precision == embedder.backend.precision


def test_bench_cache_is_keyed_by_the_precision_the_embedder_computes_in(reid_home, monkeypatch):
    """Cached dev embeddings made at another precision (f32 before) must not be replayed."""
    from strongsort_reid.inference import options
    from strongsort_reid.models.weights import resolve_weights
    from trackers.motchallenge.commands import bench

    weights = resolve_weights("osnet_x0_25_msmt17")
    keys = {}
    for native_bf16 in (True, False):
        monkeypatch.setattr(options, "cpu_has_bf16", lambda value=native_bf16: value)
        keys[native_bf16] = bench._reid_settings(weights, "osnet_x0_25")
    assert keys[True]["runtime"] == "openvino" and keys[True]["precision"] == "bf16"
    assert keys[False]["precision"] == "f32"
    assert keys[True] != keys[False]
