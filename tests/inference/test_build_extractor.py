"""build_extractor: a FeatureExtractor whose architecture is inferred from the weights."""

import shutil

import numpy as np
import pytest
from shared_assets import shared_path

from strongsort_reid.export import export_model
from strongsort_reid.inference import FeatureExtractor, build_extractor, pick_backend


def test_architecture_inferred_from_a_renamed_checkpoint(tmp_path):
    mine = tmp_path / "osnet_x0_25_mine.pth"
    shutil.copy(shared_path("data/reid/osnet_x0_25_msmt17.pth"), mine)
    extractor = build_extractor(mine, device="cpu")
    assert isinstance(extractor, FeatureExtractor)
    assert extractor.feature_dim == 512 and extractor.backend.name == pick_backend("auto", "cpu")
    reference = FeatureExtractor("osnet_x0_25", mine, device="cpu")
    crops = [np.full((64, 32, 3), value, np.uint8) for value in (0, 128, 255)]
    np.testing.assert_allclose(extractor(crops), reference(crops), atol=1e-5)


def test_an_explicit_arch_wins_and_an_unknown_one_is_a_value_error(tmp_path):
    mine = tmp_path / "my_model.pth"
    shutil.copy(shared_path("data/reid/osnet_x0_25_msmt17.pth"), mine)
    with pytest.raises(ValueError, match="my_model.pth"):
        build_extractor(mine)
    assert build_extractor(mine, arch="osnet_x0_25", device="cpu").feature_dim == 512


def test_auto_backend_is_the_exports_runtime_else_the_fastest_installed(tmp_path):
    weights = shared_path("data/reid/osnet_x0_25_msmt17.pth")
    extractor = FeatureExtractor("osnet_x0_25", weights, backend="auto", device="cpu")
    assert extractor.backend.name == pick_backend("auto", "cpu")
    pytest.importorskip("onnxruntime")
    path = tmp_path / "osnet_x0_25_mine.onnx"
    export_model("osnet_x0_25", weights, "onnx", path, verify=False)
    assert build_extractor(path, backend="auto", device="cpu").backend.name == "onnx"
