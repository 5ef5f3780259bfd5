"""BatchNorm folding: the folded network reproduces the original, or is not used."""

import torch
from torch import nn

from strongsort_reid.inference.fusion import fold_batchnorm
from strongsort_reid.models import build_model


def _with_random_batchnorm_statistics(model):
    generator = torch.Generator().manual_seed(0)
    for module in model.modules():
        if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            module.running_mean.copy_(torch.rand(module.num_features, generator=generator) - 0.5)
            module.running_var.copy_(torch.rand(module.num_features, generator=generator) + 0.5)
    return model.eval()


def test_fold_batchnorm_keeps_the_output():
    model = _with_random_batchnorm_statistics(build_model("osnet_x0_25", 1, pretrained=False))
    example = torch.randn(2, 3, 256, 128, generator=torch.Generator().manual_seed(1))
    folded, count = fold_batchnorm(model, example)
    remaining = [m for m in folded.modules() if isinstance(m, nn.BatchNorm2d)]
    assert count > 50 and len(remaining) < 5
    with torch.no_grad():
        torch.testing.assert_close(folded(example), model(example), atol=1e-4, rtol=1e-4)
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.modules())  # original untouched


class _SharedConvOutput(nn.Module):
    """A conv whose output feeds both a BatchNorm and a skip path: folding would be wrong."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)
        self.bn = nn.BatchNorm2d(3)

    def forward(self, x):
        y = self.conv(x)
        return self.bn(y) + y


def test_fold_batchnorm_refuses_a_fold_that_changes_the_output():
    model = _with_random_batchnorm_statistics(_SharedConvOutput())
    folded, count = fold_batchnorm(model, torch.randn(1, 3, 8, 8))
    assert count == 0 and isinstance(folded.bn, nn.BatchNorm2d)
