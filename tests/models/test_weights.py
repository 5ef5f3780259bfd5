"""The weights catalogue: resolve_weights' lookup order, offline errors, infer_arch.

Network access is simulated (``tests/network_fakes.py``); nothing is downloaded from the
internet.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
from network_fakes import closed_port_url
from shared_assets import shared_path

from strongsort_reid.models import available_models, infer_arch
from strongsort_reid.models import weights as catalogue
from strongsort_reid.models.weights import (
    WeightsEntry,
    available_weights,
    get_weights_entry,
    resolve_weights,
    weight_folders,
)
from strongsort_reid.utils.download import DEFAULT_TIMEOUT_S, WeightsUnavailableError, cache_dir
from strongsort_reid.weights import BUNDLED_DIR


def test_offline_registry_download_fails_fast_with_an_actionable_message(cache, monkeypatch):
    url = closed_port_url()
    entry = WeightsEntry(name="osnet_fake", arch="osnet_x0_25", urls=(url,), num_classes=10)
    monkeypatch.setitem(catalogue._WEIGHTS, entry.name, entry)
    start = time.monotonic()
    with pytest.raises(WeightsUnavailableError) as info:
        resolve_weights("osnet_fake", search_dirs=[cache])
    assert time.monotonic() - start < 10
    message = str(info.value)
    assert "osnet_fake.pth" in message and url in message and str(cache) in message


def test_lookup_order_explicit_path_then_cache_then_project_folder(tmp_path, cache, monkeypatch):
    entry = WeightsEntry(
        name="osnet_fake", arch="osnet_x0_25", urls=(closed_port_url(),), num_classes=10
    )
    monkeypatch.setitem(catalogue._WEIGHTS, entry.name, entry)
    project = tmp_path / "project_weights"
    project.mkdir()
    (project / "osnet_fake.pth").write_bytes(b"p")
    dirs = [cache, project]
    assert resolve_weights("osnet_fake", search_dirs=dirs) == project / "osnet_fake.pth"
    cache.mkdir()
    (cache / "osnet_fake.pth").write_bytes(b"c")
    assert resolve_weights("osnet_fake", search_dirs=dirs) == cache / "osnet_fake.pth"
    explicit = tmp_path / "mine.pth"
    explicit.write_bytes(b"e")
    assert resolve_weights(explicit) == explicit
    assert resolve_weights(str(explicit)) == explicit


def test_default_search_uses_the_cache_env_var_then_the_bundled_models(cache):
    bundled = BUNDLED_DIR / "osnet_x0_25_msmt17.pth"
    assert weight_folders() == [cache, BUNDLED_DIR]
    assert resolve_weights("osnet_x0_25_msmt17", download=False) == bundled
    weights = shared_path("data/reid/osnet_x0_25_msmt17.pth")
    cache.mkdir()
    (cache / "osnet_x0_25_msmt17.pth").write_bytes(weights.read_bytes())
    assert resolve_weights("osnet_x0_25_msmt17", download=False) == cache / "osnet_x0_25_msmt17.pth"


def test_unknown_names_and_missing_paths_raise_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        resolve_weights(tmp_path / "missing.pth")
    with pytest.raises(FileNotFoundError, match="Known weight names:.*osnet_x0_25_msmt17"):
        resolve_weights("not_a_model_zoo_name")


def test_download_disabled_names_the_folder(cache):
    with pytest.raises(WeightsUnavailableError, match="downloading is disabled"):
        resolve_weights("osnet_x1_0_msmt17", search_dirs=[cache], download=False)


def test_registered_weights_are_consistent_with_the_model_registry():
    for name in available_weights():
        entry = get_weights_entry(name)
        assert entry.arch in available_models(), name
        assert entry.urls and all(u.startswith("https://") for u in entry.urls), name
        assert entry.num_classes > 0 and len(entry.input_size) == 2
        assert entry.sha256 is None or len(entry.sha256) == 64


def test_registry_checksums_match_the_shared_model_zoo_files():
    for name in ("osnet_x0_25_msmt17", "osnet_x0_25_market1501"):
        path = shared_path(f"data/reid/{name}.pth")
        expected = get_weights_entry(name).sha256
        assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == expected


def test_registry_name_with_the_network_disabled_names_file_url_and_folder(cache, no_network):
    entry = get_weights_entry("osnet_x1_0_msmt17")
    with pytest.raises(WeightsUnavailableError) as info:
        resolve_weights("osnet_x1_0_msmt17")
    message = str(info.value)
    assert "osnet_x1_0_msmt17.pth" in message
    assert entry.urls[0] in message
    assert str(cache_dir()) in message and str(cache) == str(cache_dir())
    assert no_network, "the download was attempted (and failed at the name lookup)"
    assert not cache.exists() or not list(cache.iterdir()), "no partial file is left behind"


def test_a_network_that_never_answers_fails_within_the_timeout(cache, hanging_network):
    """DNS or connect hangs are bounded by one deadline, not only by per-socket timeouts."""
    entry = get_weights_entry("osnet_x1_0_msmt17")
    start = time.monotonic()
    with pytest.raises(WeightsUnavailableError) as info:
        resolve_weights("osnet_x1_0_msmt17", timeout=0.5)
    assert time.monotonic() - start < 5, "the hanging lookup was waited for"
    message = str(info.value)
    assert "osnet_x1_0_msmt17.pth" in message and entry.urls[0] in message
    assert str(cache) in message
    # The default budget keeps an offline failure under the 10 s a user should wait.
    assert DEFAULT_TIMEOUT_S < 10


def test_the_timeout_is_one_budget_for_all_mirrors(cache, hanging_network, monkeypatch):
    urls = tuple(f"https://mirror{i}.invalid/osnet_fake.pth" for i in range(3))
    entry = WeightsEntry(name="osnet_fake", arch="osnet_x0_25", urls=urls, num_classes=10)
    monkeypatch.setitem(catalogue._WEIGHTS, entry.name, entry)
    with pytest.raises(WeightsUnavailableError) as info:
        resolve_weights("osnet_fake", search_dirs=[cache], timeout=0.5)
    assert hanging_network == ["mirror0.invalid"], "later mirrors get no time once it is spent"
    assert all(url in str(info.value) for url in urls)


def test_default_order_cache_then_bundled_models_then_download(
    tmp_path, cache, no_network, monkeypatch
):
    project = tmp_path / "package" / "weights"
    project.mkdir(parents=True)
    monkeypatch.setattr(catalogue, "BUNDLED_DIR", project)
    name = "osnet_x1_0_msmt17"
    with pytest.raises(WeightsUnavailableError):
        resolve_weights(name)  # in neither folder: a download is attempted
    assert len(no_network) == 1
    (project / f"{name}.pth").write_bytes(b"project copy")
    assert resolve_weights(name) == project / f"{name}.pth"
    cache.mkdir(exist_ok=True)
    (cache / f"{name}.pth").write_bytes(b"cached copy")
    assert resolve_weights(name) == cache / f"{name}.pth"
    explicit = tmp_path / "mine.pth"
    explicit.write_bytes(b"explicit")
    assert resolve_weights(explicit) == explicit
    assert len(no_network) == 1, "files on disk are never downloaded again"


@pytest.mark.parametrize(
    "value, arch",
    [
        ("osnet_x0_25_msmt17", "osnet_x0_25"),  # a catalogue entry
        ("osnet_x0_25_mine.pth", "osnet_x0_25"),  # an architecture name the stem starts with
        (Path("runs") / "model" / "osnet_x1_0_market1501.pth", "osnet_x1_0"),  # a path
        ("runs/osnet_x0_25_mine.pth.tar", "osnet_x0_25"),  # every suffix dropped
        ("osnet_ain_x0_25_foo.pth", "osnet_ain_x0_25"),  # not osnet_...
        ("resnet50_fc512_mine.pth", "resnet50_fc512"),  # the longest prefix, not resnet50
        ("resnet50_mine.pth", "resnet50"),
    ],
)
def test_infer_arch_by_catalogue_entry_else_the_longest_architecture_prefix(value, arch):
    assert infer_arch(value) == arch


def test_infer_arch_names_the_value_and_lists_the_architectures():
    with pytest.raises(ValueError) as info:
        infer_arch("weights/my_model.pth")
    message = str(info.value)
    assert "weights/my_model.pth" in message and "osnet_x0_25" in message
    assert "--" not in message, "callers add their own hint (CLI flag, keyword argument)"
