"""CPU inference rewrites: subnormal flushing, 1x1 convs as matmuls, the frozen CPU graph."""

import copy

import pytest
import torch
from shared_assets import shared_path
from torch import nn
from torch.nn import functional as F

from strongsort_reid.inference.backends import TorchBackend
from strongsort_reid.inference.optimize import (
    PointwiseLinear,
    cpu_graph,
    flush_subnormals,
    pointwise_convs_as_linear,
)
from strongsort_reid.models import build_model
from strongsort_reid.models.loading import load_reid_model

TINY = torch.finfo(torch.float32).tiny


def _count_subnormal(module: nn.Module) -> int:
    tensors = [*module.parameters(), *module.buffers()]
    return sum(int(((t != 0) & (t.abs() < TINY)).sum()) for t in tensors if t.is_floating_point())


@pytest.fixture(scope="module")
def trained():
    """The real OSNet x0.25 (MSMT17) in eval mode: its weights hold subnormal floats."""
    return load_reid_model("osnet_x0_25", shared_path("data/reid/osnet_x0_25_msmt17.pth")).model


@pytest.fixture(scope="module")
def random_model():
    torch.manual_seed(0)
    return build_model("osnet_x0_25", num_classes=1, pretrained=False).eval()


def _images(batch: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 3, 256, 128, generator=generator)


def test_flush_subnormals_zeroes_only_subnormal_values():
    layer = nn.Conv2d(2, 2, 1)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([1e-40, -3e-39, 0.5, 1e-30]).view(2, 2, 1, 1))
        layer.bias.copy_(torch.tensor([-1e-42, 2.0]))
    assert flush_subnormals(layer) == 3
    assert layer.weight.flatten().tolist() == [0.0, 0.0, 0.5, pytest.approx(1e-30)]
    assert layer.bias.tolist() == [0.0, 2.0]
    assert flush_subnormals(layer) == 0


def test_trained_weights_hold_subnormals_and_flushing_keeps_the_features(trained):
    # Why the flush exists: x86 CPUs compute with subnormal floats in microcode, which made
    # the trained network ~3x slower than the same architecture with random weights.
    flushed = copy.deepcopy(trained)
    assert _count_subnormal(flushed) > 100
    assert flush_subnormals(flushed) > 100 and _count_subnormal(flushed) == 0
    images = _images(4)
    with torch.no_grad():
        torch.testing.assert_close(flushed(images), trained(images), rtol=0, atol=1e-6)


def test_pointwise_convs_as_linear_keep_output_and_layout(random_model):
    model = copy.deepcopy(random_model)
    replaced = pointwise_convs_as_linear(model)
    assert replaced > 50
    assert not any(
        isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1) and m.groups == 1
        for m in model.modules()
    )
    layer = next(m for m in model.modules() if isinstance(m, PointwiseLinear))
    x = torch.randn(2, layer.in_channels, 8, 4).contiguous(memory_format=torch.channels_last)
    assert layer(x).is_contiguous(memory_format=torch.channels_last)
    images = _images(3).contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        torch.testing.assert_close(model(images), random_model(images), rtol=1e-4, atol=1e-5)


def test_strided_or_grouped_convs_are_not_replaced():
    model = nn.Sequential(nn.Conv2d(4, 4, 1, stride=2), nn.Conv2d(4, 4, 1, groups=2))
    assert pointwise_convs_as_linear(model) == 0


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("onednn", [False, True])
def test_cpu_graph_matches_eager_at_every_batch_size(trained, onednn):
    graph = cpu_graph(trained, _images(2), onednn=onednn)
    assert isinstance(graph, torch.jit.ScriptModule)
    # Trackers feed a different number of crops every frame: sizes vary call to call.
    for batch in (1, 5, 16, 3, 32, 1):
        images = _images(batch, seed=batch).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            expected, actual = trained(images), graph(images)
        cosine = F.cosine_similarity(actual, expected, dim=1)
        assert cosine.min() >= 0.9999, (batch, cosine.min())


@pytest.mark.filterwarnings("ignore")
def test_cpu_graph_refuses_a_network_it_cannot_reproduce():
    class BatchSizeAsNumber(nn.Module):
        """Uses the batch size as a Python number: tracing at batch 1 bakes in 1."""

        def forward(self, x):
            return x.mean(dim=(2, 3)) * int(x.shape[0])

    assert cpu_graph(BatchSizeAsNumber(), torch.randn(2, 3, 8, 4)) is None


@pytest.mark.filterwarnings("ignore")
def test_torch_backend_reproduces_the_eager_model(trained):
    backend = TorchBackend(trained, torch.device("cpu"))
    assert isinstance(backend.model, torch.jit.ScriptModule)
    assert isinstance(backend.large_model, torch.jit.ScriptModule)
    assert _count_subnormal(trained) > 0  # the caller's model is left as it was
    for batch in (1, 7, 8, 40):  # both graphs, and micro-batches (32 + 8)
        images = _images(batch, seed=10 + batch)
        with torch.inference_mode():
            expected = trained(images)
        actual = backend(images.contiguous(memory_format=torch.channels_last))
        assert F.cosine_similarity(actual, expected, dim=1).min() >= 0.9999


def test_onednn_switch_point_follows_the_work_per_image():
    # The oneDNN graph wins once a chunk's largest activation reaches ONEDNN_MIN_ACTIVATION:
    # from 8 images for the light OSNet x0.25, from 2 for x1.0 (4x the channels).
    light, heavy = (
        TorchBackend(build_model(name, 10, pretrained=False).eval(), torch.device("cpu"))
        for name in ("osnet_x0_25", "osnet_x1_0")
    )
    assert (light.onednn_min_batch, heavy.onednn_min_batch) == (8, 2)
    assert (light.micro_batch, heavy.micro_batch) == (32, 8)
