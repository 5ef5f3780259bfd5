"""Image files that fail to decode are skipped with a count, in training and in evaluation,
and never stop an epoch."""

from __future__ import annotations

import logging

from engine_helpers import TinyReIDNet, make_datamanager, write_market_dataset

from strongsort_reid.engine import ImageSoftmaxEngine, set_random_seed
from strongsort_reid.optim import build_optimizer


def _corrupt(folder, count):
    """Overwrite the first ``count`` images of ``folder`` with bytes no decoder accepts."""
    paths = sorted(folder.iterdir())[:count]
    for path in paths:
        path.write_bytes(b"not a jpeg")
    return paths


def test_training_counts_skipped_images_per_epoch(tmp_path, caplog):
    root = write_market_dataset(tmp_path / "data")
    bad = _corrupt(root / "market1501" / "bounding_box_train", 2)
    set_random_seed(0)
    # 128 training images in 4 full batches: every image is drawn once per epoch.
    datamanager = make_datamanager(root, train_sampler="RandomSampler")
    model = TinyReIDNet(datamanager.num_train_pids)
    engine = ImageSoftmaxEngine(
        datamanager, model, build_optimizer(model, "adam", lr=0.001), use_gpu=False
    )

    with caplog.at_level(logging.WARNING):
        for epoch in range(2):
            engine.train(epoch)

    assert engine.num_skipped_images == 4  # 2 bad files x 2 epochs
    summaries = [r.getMessage() for r in caplog.records if "undecodable" in r.getMessage()]
    assert sum("epoch 1: 2 undecodable image(s)" in m for m in summaries) == 1
    assert sum("epoch 2: 2 undecodable image(s)" in m for m in summaries) == 1
    assert any(str(bad[0]) in m for m in summaries)  # the file itself is named once


def test_evaluation_counts_skipped_query_and_gallery_images(tmp_path, caplog):
    root = write_market_dataset(tmp_path / "data")
    _corrupt(root / "market1501" / "query", 1)
    _corrupt(root / "market1501" / "bounding_box_test", 3)
    datamanager = make_datamanager(root)
    model = TinyReIDNet(datamanager.num_train_pids)
    engine = ImageSoftmaxEngine(datamanager, model, build_optimizer(model, "adam"), use_gpu=False)

    with caplog.at_level(logging.WARNING):
        engine.test()

    messages = [r.getMessage() for r in caplog.records]
    assert any("market1501 query: 1 undecodable image(s)" in m for m in messages)
    assert any("market1501 gallery: 3 undecodable image(s)" in m for m in messages)
    assert 0.0 <= engine.last_results["market1501"].mAP <= 1.0
