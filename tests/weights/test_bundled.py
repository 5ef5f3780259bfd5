"""The bundled default models: what the README and NOTICE say about them is true, they are
small, and the ReID file gives exactly the model zoo's features."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch
from shared_assets import shared_path

from strongsort_reid.commands.weights import main, readme_text, resolution_lines
from strongsort_reid.weights import BUNDLED, BUNDLED_DIR, DEFAULT_DETECTOR, bundled_file

ROOT = Path(__file__).resolve().parents[2]
MAX_BUNDLED_BYTES = 8 * 10**6


def test_weights_readme_is_in_sync_with_the_registry():
    readme = BUNDLED_DIR / "README.md"
    assert readme.read_text(encoding="utf-8") == readme_text(), (
        "run: strongsort-reid weights --write-readme strongsort_reid/weights/README.md"
    )


def test_write_readme_writes_the_same_text(tmp_path):
    assert main(["--write-readme", str(tmp_path / "README.md")]) == 0
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == readme_text()


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_bundled_files_match_their_checksums_and_are_named_in_notice(name):
    item = BUNDLED[name]
    path = bundled_file(item.filename)
    assert path is not None, f"{item.filename} is missing from {BUNDLED_DIR}"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == item.sha256
    notice = (ROOT / "NOTICE").read_text(encoding="utf-8")
    assert item.filename in notice and item.licence.split(" ")[0] in notice


def test_bundled_models_fit_the_size_budget():
    total = sum((BUNDLED_DIR / item.filename).stat().st_size for item in BUNDLED.values())
    assert total <= MAX_BUNDLED_BYTES
    assert bundled_file(DEFAULT_DETECTOR) is not None


def test_names_resolve_to_the_bundled_copy_without_a_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("STRONGSORT_REID_HOME", str(tmp_path / "empty-cache"))
    lines = dict(line.split("\t") for line in resolution_lines())
    assert lines["osnet_x0_25_msmt17"] == str(BUNDLED_DIR / "osnet_x0_25_msmt17.pth")
    assert lines["osnet_x1_0_msmt17"].startswith("download ")
    assert resolution_lines(local_only=True) == [
        f"osnet_x0_25_msmt17\t{BUNDLED_DIR / 'osnet_x0_25_msmt17.pth'}"
    ]


def test_bundled_reid_weights_are_the_model_zoo_file_without_its_classifier():
    original = torch.load(
        shared_path("data/reid/osnet_x0_25_msmt17.pth"), map_location="cpu", weights_only=True
    )
    bundled = torch.load(
        BUNDLED_DIR / "osnet_x0_25_msmt17.pth", map_location="cpu", weights_only=True
    )
    assert sorted(original) == sorted([*bundled, "classifier.weight", "classifier.bias"])
    for key, tensor in bundled.items():
        assert torch.equal(tensor, original[key]), key


def test_offline_feature_extractor_by_name_uses_the_bundled_file(monkeypatch, tmp_path):
    from strongsort_reid.inference import FeatureExtractor

    monkeypatch.setenv("STRONGSORT_REID_HOME", str(tmp_path / "empty-cache"))
    by_name = FeatureExtractor("osnet_x0_25", model_path="osnet_x0_25_msmt17", device="cpu")
    by_path = FeatureExtractor(
        "osnet_x0_25", model_path=shared_path("data/reid/osnet_x0_25_msmt17.pth"), device="cpu"
    )
    crops = np.random.default_rng(0).integers(0, 255, (4, 160, 64, 3), dtype=np.uint8)
    np.testing.assert_allclose(by_name(crops), by_path(crops), atol=1e-5)
