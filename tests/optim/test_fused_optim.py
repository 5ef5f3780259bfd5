"""``build_optimizer(fused=...)``: the fused kernels give the loop's updates (float noise)."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from strongsort_reid.optim import build_optimizer


def small_net() -> nn.Module:
    torch.manual_seed(0)
    # No BatchNorm after a biased layer: Adam would blow that bias's zero gradient's float
    # noise up to +-lr steps, which differs between any two implementations.
    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Flatten(), nn.LazyLinear(5))


@pytest.mark.parametrize("optim", ["adam", "amsgrad", "adamw", "sgd"])
def test_fused_matches_the_loop(optim):
    inputs = torch.randn(4, 3, 6, 6, generator=torch.Generator().manual_seed(1))
    nets = [small_net(), None]
    nets[0](inputs)  # materialise the lazy layer before copying
    nets[1] = copy.deepcopy(nets[0])
    default = build_optimizer(nets[0], optim, lr=0.01, fused=True if optim == "sgd" else None)
    loop = build_optimizer(nets[1], optim, lr=0.01, fused=False)
    assert default.param_groups[0]["fused"] is True  # CPU fused kernels: torch >= 2.4
    assert not loop.param_groups[0]["fused"]
    step_both(nets, (default, loop), inputs)


def step_both(nets, optimizers, inputs):
    """Three steps of each net with its optimizer; then the parameters must agree."""
    for _ in range(3):
        for net, opt in zip(nets, optimizers):
            opt.zero_grad()
            net(inputs).square().mean().backward()
            opt.step()
    for a, b in zip(nets[0].parameters(), nets[1].parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_optimizers_without_fused_kernel_keep_the_loop():
    for optim in ("rmsprop", "radam", "sgd"):
        assert not build_optimizer(small_net()[:2], optim).param_groups[0].get("fused")


@pytest.mark.parametrize("optim", ["adam", "sgd"])
def test_parameters_that_join_after_fixbase_epochs_are_updated(optim):
    """The first step after fixbase epochs mixes parameters with and without optimizer state
    (torch's fused SGD raises there, so SGD is fused only on request)."""
    net = small_net()
    net(torch.randn(1, 3, 6, 6))
    optimizer = build_optimizer(net, optim, lr=0.01, momentum=0.9)
    frozen = net[0]
    for param in frozen.parameters():
        param.requires_grad_(False)
    for thawed in (False, True):
        if thawed:
            for param in frozen.parameters():
                param.requires_grad_(True)
        before = frozen.weight.detach().clone()
        optimizer.zero_grad()
        net(torch.randn(4, 3, 6, 6)).square().mean().backward()
        optimizer.step()
        assert torch.equal(before, frozen.weight) != thawed
