"""Visual output: ranked-result grids with green/red frames, activation-map overlays."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from engine_helpers import HEIGHT, WIDTH, TinyReIDNet

from strongsort_reid.engine import ImageSoftmaxEngine
from strongsort_reid.engine.visualize import (
    BORDER,
    GAP,
    QUERY_GAP,
    compute_activation_maps,
    overlay_activation_map,
    save_activation_maps,
    visualize_ranked_results,
)
from strongsort_reid.optim import build_optimizer


def test_engine_test_only_writes_one_grid_per_query(datamanager_factory, tmp_path):
    datamanager = datamanager_factory()
    model = TinyReIDNet(datamanager.num_train_pids)
    engine = ImageSoftmaxEngine(
        datamanager, model, build_optimizer(model, "adam"), use_gpu=False
    )
    results = engine.run(save_dir=tmp_path, test_only=True, visrank=True, visrank_topk=5)

    grids = sorted((tmp_path / "visrank_market1501").glob("*.jpg"))
    assert len(grids) == 12 and "market1501" in results
    image = cv2.imread(str(grids[0]))
    tile_w = WIDTH + 2 * BORDER
    assert image.shape == (HEIGHT + 2 * BORDER, tile_w * 6 + GAP * 4 + QUERY_GAP, 3)


def test_ranked_grid_frames_true_matches_green_and_false_red(tmp_path):
    paths = []
    for i, colour in enumerate([(255, 0, 0), (0, 255, 255), (255, 0, 255)]):
        path = tmp_path / f"img{i}.jpg"
        cv2.imwrite(str(path), np.full((40, 20, 3), colour, np.uint8))
        paths.append(str(path))
    query = [(paths[0], 1, 0)]
    # Gallery: a same-camera copy of the query (junk, skipped), a wrong id, the true match.
    gallery = [(paths[0], 1, 0), (paths[1], 2, 1), (paths[2], 1, 1)]
    distmat = np.array([[0.0, 0.1, 0.2]])

    (grid_path,) = visualize_ranked_results(
        distmat, (query, gallery), width=20, height=40, save_dir=tmp_path / "out", topk=2
    )
    grid = cv2.imread(str(grid_path)).astype(int)
    tile_w = 20 + 2 * BORDER
    first = tile_w + QUERY_GAP  # left edge of rank 1
    second = first + tile_w + GAP
    assert grid_path.name == "00000_img0.jpg"
    assert np.abs(grid[2, first + 2] - (0, 0, 255)).max() < 40  # rank 1: wrong id, red
    assert np.abs(grid[2, second + 2] - (0, 255, 0)).max() < 40  # rank 2: true match, green
    assert np.abs(grid[2, 2] - (0, 0, 0)).max() < 40  # the query's black frame


def test_ranked_results_check_their_inputs(tmp_path):
    with pytest.raises(ValueError, match="distmat has shape"):
        visualize_ranked_results(np.zeros((2, 3)), ([("a", 1, 0)], []), save_dir=tmp_path)
    with pytest.raises(ValueError, match="data_type"):
        visualize_ranked_results(np.zeros((0, 0)), ([], []), data_type="video")


def test_activation_maps_are_written_as_overlays(datamanager_factory, tmp_path):
    datamanager = datamanager_factory()
    model = TinyReIDNet(datamanager.num_train_pids)
    loader = datamanager.test_loader["market1501"]["query"]

    written = save_activation_maps(model, loader, tmp_path / "actmap", max_images=5)

    assert len(written) == 5 and all(path.is_file() for path in written)
    strip = cv2.imread(str(written[0]))
    assert strip.shape == (HEIGHT, 3 * WIDTH + 2 * GAP, 3)
    maps = compute_activation_maps(model, next(iter(loader))["img"])
    assert maps.shape == (12, HEIGHT, WIDTH) and maps.dtype == torch.float32
    assert float(maps.min()) == 0.0 and float(maps.max()) == pytest.approx(1.0)


def test_overlay_checks_shapes():
    image = np.zeros((8, 4, 3), np.uint8)
    assert overlay_activation_map(image, np.ones((8, 4))).shape == (8, 4, 3)
    with pytest.raises(ValueError, match="must match"):
        overlay_activation_map(image, np.ones((4, 8)))
