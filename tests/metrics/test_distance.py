"""compute_distance_matrix: torchreid's squared euclidean and cosine, and bad input."""

import pytest
import torch

from strongsort_reid.metrics import compute_distance_matrix


def test_euclidean_is_squared_distance():
    torch.manual_seed(0)
    a, b = torch.randn(7, 16, dtype=torch.float64), torch.randn(5, 16, dtype=torch.float64)
    dist = compute_distance_matrix(a, b, metric="euclidean")
    assert dist.shape == (7, 5)
    torch.testing.assert_close(dist, torch.cdist(a, b).pow(2))


def test_euclidean_small_hand_case():
    a = torch.tensor([[0.0, 0.0], [1.0, 2.0]])
    b = torch.tensor([[3.0, 4.0]])
    torch.testing.assert_close(compute_distance_matrix(a, b), torch.tensor([[25.0], [8.0]]))


def test_cosine_is_one_minus_normalised_dot():
    a = torch.tensor([[1.0, 0.0], [2.0, 2.0]])
    b = torch.tensor([[3.0, 0.0], [0.0, -1.0], [-5.0, 0.0]])
    expected = torch.tensor([[0.0, 1.0, 2.0], [1 - 0.5**0.5, 1 + 0.5**0.5, 1 + 0.5**0.5]])
    torch.testing.assert_close(compute_distance_matrix(a, b, metric="cosine"), expected)


def test_keeps_dtype():
    a = torch.rand(3, 4)
    assert compute_distance_matrix(a, a).dtype == torch.float32


@pytest.mark.parametrize(
    "a, b, metric, error",
    [
        (torch.rand(3, 4), torch.rand(2, 5), "euclidean", ValueError),
        (torch.rand(3), torch.rand(2, 3), "euclidean", ValueError),
        (torch.rand(3, 4), torch.rand(2, 4), "manhattan", ValueError),
        ([[1.0]], torch.rand(1, 1), "euclidean", TypeError),
    ],
)
def test_bad_input(a, b, metric, error):
    with pytest.raises(error):
        compute_distance_matrix(a, b, metric=metric)


def test_unknown_metric_lists_valid_names():
    with pytest.raises(ValueError, match="euclidean.*cosine"):
        compute_distance_matrix(torch.rand(2, 2), torch.rand(2, 2), metric="l1")
