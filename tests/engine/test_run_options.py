"""engine.run passes its evaluation and transfer-learning options through: the metric, feature
normalisation, re-ranking, the CUHK03 protocol and the CMC ranks shown, and fixbase_epoch /
open_layers."""

from __future__ import annotations

import sys

import numpy as np
import torch
from engine_helpers import TinyReIDNet
from torch.nn import functional as F

from strongsort_reid.engine import ImageSoftmaxEngine, set_random_seed
from strongsort_reid.metrics import compute_distance_matrix, evaluate_rank, re_ranking
from strongsort_reid.optim import build_optimizer


@torch.no_grad()
def _features(model, loader):
    feats, pids, camids = [], [], []
    for batch in loader:
        feats.append(F.normalize(model(batch["img"]), dim=1))
        pids.append(batch["pid"])
        camids.append(batch["camid"])
    return torch.cat(feats), torch.cat(pids).numpy(), torch.cat(camids).numpy()


def test_run_test_only_with_cosine_rerank_and_cuhk03_protocol(datamanager_factory, capsys):
    set_random_seed(0)
    datamanager = datamanager_factory()
    model = TinyReIDNet(datamanager.num_train_pids)
    engine = ImageSoftmaxEngine(datamanager, model, build_optimizer(model, "adam"), use_gpu=False)

    np.random.seed(5)  # the CUHK03 protocol samples the gallery with numpy's global state
    results = engine.run(
        test_only=True, dist_metric="cosine", normalize_feature=True, rerank=True,
        use_metric_cuhk03=True, ranks=[1, 3],
    )  # fmt: skip

    model.eval()
    qf, q_pids, q_camids = _features(model, datamanager.test_loader["market1501"]["query"])
    gf, g_pids, g_camids = _features(model, datamanager.test_loader["market1501"]["gallery"])
    distmat = re_ranking(
        compute_distance_matrix(qf, gf, "cosine").numpy(),
        compute_distance_matrix(qf, qf, "cosine").numpy(),
        compute_distance_matrix(gf, gf, "cosine").numpy(),
    )
    np.random.seed(5)
    cmc, mAP, mINP = evaluate_rank(
        distmat, q_pids, g_pids, q_camids, g_camids, max_rank=48, use_metric_cuhk03=True
    )
    result = results["market1501"]
    np.testing.assert_allclose(result.cmc, cmc, rtol=0, atol=1e-6)
    assert result.mAP == mAP and result.mINP == mINP
    # Without re-ranking the plain cosine ranking scores differently on this untrained model.
    plain = evaluate_rank(
        compute_distance_matrix(qf, gf, "cosine").numpy(), q_pids, g_pids, q_camids, g_camids
    )
    assert plain[1] != result.mAP
    table = capsys.readouterr().out
    assert "Rank-1  :" in table and "Rank-3  :" in table and "Rank-5" not in table


def test_run_trains_only_the_open_layers_during_fixbase_epochs(datamanager_factory, tmp_path):
    set_random_seed(0)
    datamanager = datamanager_factory(train_sampler="RandomSampler")
    model = TinyReIDNet(datamanager.num_train_pids)
    engine = ImageSoftmaxEngine(
        datamanager, model, build_optimizer(model, "sgd", lr=0.05), use_gpu=False
    )
    backbone = model.backbone[0].weight.detach().clone()
    classifier = model.classifier.weight.detach().clone()

    engine.run(save_dir=tmp_path / "fixed", max_epoch=1, fixbase_epoch=1,
               open_layers="classifier")  # fmt: skip
    assert torch.equal(model.backbone[0].weight, backbone)
    assert not torch.equal(model.classifier.weight, classifier)

    # The next epoch (past fixbase_epoch) opens every layer again.
    engine.run(save_dir=tmp_path / "open", max_epoch=2, start_epoch=1, fixbase_epoch=1,
               open_layers="classifier")  # fmt: skip
    assert not torch.equal(model.backbone[0].weight, backbone)


def test_every_epoch_logs_a_summary_even_when_shorter_than_print_freq(
    datamanager_factory, tmp_path, caplog
):
    set_random_seed(0)
    datamanager = datamanager_factory(train_sampler="RandomSampler")  # 4 batches per epoch
    model = TinyReIDNet(datamanager.num_train_pids)
    engine = ImageSoftmaxEngine(datamanager, model, build_optimizer(model, "adam"), use_gpu=False)

    with caplog.at_level("INFO", logger="strongsort_reid.engine.engine"):
        engine.run(save_dir=tmp_path, max_epoch=2, print_freq=100)

    summaries = [r.getMessage() for r in caplog.records if "done in" in r.getMessage()]
    assert [m.split(" done")[0] for m in summaries] == ["epoch [1/2]", "epoch [2/2]"]
    assert all("4 iterations" in m and "loss " in m and "acc " in m and "lr 0.000300" in m
               for m in summaries)  # fmt: skip
    assert not any("][4/4]" in r.getMessage() for r in caplog.records)  # print_freq respected


def test_feature_extraction_shows_progress_on_a_terminal(datamanager_factory, monkeypatch, capsys):
    datamanager = datamanager_factory()
    model = TinyReIDNet(datamanager.num_train_pids)
    engine = ImageSoftmaxEngine(datamanager, model, build_optimizer(model, "adam"), use_gpu=False)

    engine.test()  # not a terminal: no progress bar
    assert "market1501 query" not in capsys.readouterr().err
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    engine.test()
    err = capsys.readouterr().err
    assert "market1501 query" in err and "market1501 gallery" in err
