"""compute_model_complexity against the torchreid model-zoo reference numbers."""

from __future__ import annotations

import pytest
from torch import nn

from strongsort_reid.models import build_model
from strongsort_reid.utils.complexity import compute_model_complexity

# Multiply-adds (millions) at 1x3x256x128 reported by torchreid's model zoo.
REFERENCE_MMACS = {
    "osnet_x1_0": 978.9,
    "osnet_x0_25": 82.3,
    "mobilenetv2_x1_0": 204.0,
    "resnet50": 2669.2,
}


@pytest.mark.parametrize("name", sorted(REFERENCE_MMACS))
def test_macs_agree_with_reference_within_two_percent(name):
    model = build_model(name, num_classes=1000, pretrained=False)
    model.train()
    params, macs = compute_model_complexity(model, (1, 3, 256, 128))
    assert params == sum(p.numel() for p in model.parameters())
    assert macs / 1e6 == pytest.approx(REFERENCE_MMACS[name], rel=0.02)
    assert model.training, "the train/eval state must be restored"


def test_counts_conv_and_linear_by_hand():
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, groups=1), nn.Flatten(), nn.Linear(8 * 16, 4)
    )
    params, macs = compute_model_complexity(model, (2, 3, 4, 4))
    assert params == (8 * 3 * 9 + 8) + (128 * 4 + 4)
    assert macs == 2 * (8 * 4 * 4 * 3 * 9) + 2 * (128 * 4)


def test_rejects_bad_input_size():
    with pytest.raises(ValueError, match="input_size"):
        compute_model_complexity(nn.Conv2d(3, 3, 1), (3, 256, 128))
