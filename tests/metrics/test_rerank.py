"""k-reciprocal re-ranking against the golden reference output."""

import numpy as np
import pytest
from shared_assets import shared_path

from strongsort_reid.metrics import re_ranking


@pytest.fixture(scope="module")
def golden():
    return np.load(shared_path("golden/rank_inputs.npz"))


def test_matches_golden(golden):
    out = re_ranking(
        golden["rerank_q_g"],
        golden["rerank_q_q"],
        golden["rerank_g_g"],
        k1=20,
        k2=6,
        lambda_value=0.3,
    )
    assert out.shape == golden["rerank_out"].shape
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, golden["rerank_out"], rtol=0, atol=1e-5)


def _features(num, dim, seed):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(num // 4, dim))
    labels = np.arange(num) % (num // 4)
    return centers[labels] + 0.3 * rng.normal(size=(num, dim)), labels


def test_improves_or_keeps_retrieval_on_clustered_data():
    feats, labels = _features(80, 8, 0)
    q, g = feats[:20], feats[20:]
    ql, gl = labels[:20], labels[20:]

    def d(a, b):
        return ((a[:, None] - b[None]) ** 2).sum(-1)

    out = re_ranking(d(q, g), d(q, q), d(g, g))
    assert out.shape == (20, 60)
    top1 = gl[np.argmin(out, axis=1)] == ql
    assert top1.mean() >= (gl[np.argmin(d(q, g), axis=1)] == ql).mean()


def test_k2_one_skips_query_expansion_and_lambda_one_is_original():
    feats, _ = _features(40, 4, 1)
    q, g = feats[:10], feats[10:]

    def d(a, b):
        return np.sqrt(((a[:, None] - b[None]) ** 2).sum(-1))

    full = np.block([[d(q, q), d(q, g)], [d(g, q), d(g, g)]]) ** 2
    original = (full / full.max(axis=0)).T[:10, 10:]
    out = re_ranking(d(q, g), d(q, q), d(g, g), k1=5, k2=1, lambda_value=1.0)
    np.testing.assert_allclose(out, original, rtol=1e-6, atol=1e-6)


def test_bad_shapes():
    with pytest.raises(ValueError, match="q_q_dist"):
        re_ranking(np.zeros((3, 4)), np.zeros((4, 4)), np.zeros((4, 4)))
    with pytest.raises(ValueError, match="g_g_dist"):
        re_ranking(np.zeros((3, 4)), np.zeros((3, 3)), np.zeros((3, 3)))
