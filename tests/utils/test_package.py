"""strongsort_reid.utils holds leaf helpers only, imports lightly, and keeps the old paths of
the names that moved out (compatibility paths documented in the README)."""

from import_checks import heavy_modules_after


def test_leaf_helpers_import_without_torch():
    statement = (
        "import strongsort_reid.utils, strongsort_reid.utils.atomic, "
        "strongsort_reid.utils.motchallenge, strongsort_reid.inference"
    )
    assert heavy_modules_after(statement) == []


def test_moved_names_stay_importable_from_their_old_paths():
    from strongsort_reid.export.compat import openvino_core
    from strongsort_reid.inference import compat
    from strongsort_reid.models import weights
    from strongsort_reid.utils import download, resolve_weights

    assert download.resolve_weights is resolve_weights is weights.resolve_weights
    assert openvino_core is compat.openvino_core


def test_feature_extractor_has_one_class_under_its_three_paths():
    from strongsort_reid import FeatureExtractor as top_level
    from strongsort_reid.inference import FeatureExtractor
    from strongsort_reid.utils import FeatureExtractor as torchreid_path

    assert top_level is torchreid_path is FeatureExtractor
