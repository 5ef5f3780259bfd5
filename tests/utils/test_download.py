"""resolve_weights / download_file: lookup order, atomic downloads, checksums, offline errors.

Network access is simulated with HTTP servers on the loopback interface; nothing is downloaded
from the internet.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import socket
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from shared_assets import shared_path

from strongsort_reid.models import WeightsEntry, build_model, registry
from strongsort_reid.utils.download import (
    DEFAULT_TIMEOUT_S,
    PROJECT_WEIGHTS_DIR,
    WeightsUnavailableError,
    cache_dir,
    download_file,
    resolve_weights,
)


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("STRONGSORT_REID_HOME", str(folder))
    return folder


@pytest.fixture()
def file_server(tmp_path):
    """Serve ``tmp_path / 'www'`` over HTTP on 127.0.0.1; yields (root folder, base URL, hits)."""
    root = tmp_path / "www"
    root.mkdir()
    hits = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            hits.append(self.path)

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


@pytest.fixture()
def no_network(monkeypatch):
    """Network disabled: every host name lookup fails, as on a machine without a connection."""
    lookups = []

    def fail(host, *args, **kwargs):
        lookups.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    return lookups


@pytest.fixture()
def hanging_network(monkeypatch):
    """A black-holed network: host name lookups never answer (released after the test)."""
    release = threading.Event()
    lookups = []

    def hang(host, *args, **kwargs):
        lookups.append(host)
        release.wait(30)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", hang)
    yield lookups
    release.set()


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/osnet_fake.pth"


def test_download_verifies_checksum_writes_atomically_and_uses_the_cache(file_server, cache):
    root, base, hits = file_server
    payload = b"weights" * 1000
    (root / "w.pth").write_bytes(payload)
    digest = hashlib.sha256(payload).hexdigest()
    path = download_file(f"{base}/w.pth", sha256=digest, progress=False)
    assert path == cache / "w.pth" and path.read_bytes() == payload
    assert [p.name for p in cache.iterdir()] == ["w.pth"], "no temporary files left behind"
    download_file(f"{base}/w.pth", sha256=digest, progress=False)
    assert len(hits) == 1, "a cached file is not downloaded again"


def test_checksum_mismatch_discards_the_download(file_server, cache):
    root, base, _ = file_server
    (root / "w.pth").write_bytes(b"tampered")
    with pytest.raises(WeightsUnavailableError, match="checksum mismatch"):
        download_file(f"{base}/w.pth", sha256="0" * 64, progress=False)
    assert not cache.exists() or not list(cache.iterdir())


def test_offline_registry_download_fails_fast_with_an_actionable_message(cache, monkeypatch):
    url = _closed_port_url()
    entry = WeightsEntry(name="osnet_fake", arch="osnet_x0_25", urls=(url,), num_classes=10)
    monkeypatch.setitem(registry._WEIGHTS, entry.name, entry)
    start = time.monotonic()
    with pytest.raises(WeightsUnavailableError) as info:
        resolve_weights("osnet_fake", search_dirs=[cache])
    assert time.monotonic() - start < 10
    message = str(info.value)
    assert "osnet_fake.pth" in message and url in message and str(cache) in message


def test_a_server_that_never_answers_times_out(cache):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/slow.pth"
        start = time.monotonic()
        with pytest.raises(WeightsUnavailableError, match="slow.pth"):
            download_file(url, timeout=0.5, progress=False)
        assert time.monotonic() - start < 5
    finally:
        listener.close()


def test_lookup_order_explicit_path_then_cache_then_project_folder(tmp_path, cache, monkeypatch):
    entry = WeightsEntry(
        name="osnet_fake", arch="osnet_x0_25", urls=(_closed_port_url(),), num_classes=10
    )
    monkeypatch.setitem(registry._WEIGHTS, entry.name, entry)
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


def test_default_search_uses_the_cache_env_var_and_the_project_weights_folder(cache):
    weights = shared_path("data/reid/osnet_x0_25_msmt17.pth")
    cache.mkdir()
    (cache / "osnet_x0_25_msmt17.pth").write_bytes(weights.read_bytes())
    assert resolve_weights("osnet_x0_25_msmt17", download=False) == cache / "osnet_x0_25_msmt17.pth"
    assert PROJECT_WEIGHTS_DIR.name == "weights"


def test_unknown_names_and_missing_paths_raise_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        resolve_weights(tmp_path / "missing.pth")
    with pytest.raises(FileNotFoundError, match="Known weight names:.*osnet_x0_25_msmt17"):
        resolve_weights("not_a_model_zoo_name")


def test_download_disabled_names_the_folder(cache):
    with pytest.raises(WeightsUnavailableError, match="downloading is disabled"):
        resolve_weights("osnet_x1_0_msmt17", search_dirs=[cache], download=False)


def test_pretrained_imagenet_init_that_cannot_download_warns_and_keeps_random_init(
    cache, monkeypatch
):
    entry = registry.get_model_entry("osnet_x0_25")
    monkeypatch.setitem(
        registry._MODELS, "osnet_x0_25", replace(entry, imagenet_url=_closed_port_url())
    )
    torch.manual_seed(0)
    with pytest.warns(UserWarning, match="ImageNet weights could not be obtained"):
        model = build_model("osnet_x0_25", num_classes=10, pretrained=True)
    assert isinstance(model, torch.nn.Module)


def test_registered_weights_are_consistent_with_the_model_registry():
    for name in registry.available_weights():
        entry = registry.get_weights_entry(name)
        assert entry.arch in registry.available_models(), name
        assert entry.urls and all(u.startswith("https://") for u in entry.urls), name
        assert entry.num_classes > 0 and len(entry.input_size) == 2
        assert entry.sha256 is None or len(entry.sha256) == 64


def test_registry_checksums_match_the_shared_model_zoo_files():
    for name in ("osnet_x0_25_msmt17", "osnet_x0_25_market1501"):
        path = shared_path(f"data/reid/{name}.pth")
        expected = registry.get_weights_entry(name).sha256
        assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == expected


def test_registry_name_with_the_network_disabled_names_file_url_and_folder(cache, no_network):
    entry = registry.get_weights_entry("osnet_x1_0_msmt17")
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
    entry = registry.get_weights_entry("osnet_x1_0_msmt17")
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
    monkeypatch.setitem(registry._WEIGHTS, entry.name, entry)
    with pytest.raises(WeightsUnavailableError) as info:
        resolve_weights("osnet_fake", search_dirs=[cache], timeout=0.5)
    assert hanging_network == ["mirror0.invalid"], "later mirrors get no time once it is spent"
    assert all(url in str(info.value) for url in urls)


def test_pretrained_imagenet_init_with_the_network_disabled_warns_and_continues(cache, no_network):
    torch.manual_seed(0)
    with pytest.warns(UserWarning, match="osnet_x0_25: ImageNet weights could not be obtained"):
        model = build_model("osnet_x0_25", num_classes=10, pretrained=True)
    torch.manual_seed(0)
    random_init = build_model("osnet_x0_25", num_classes=10, pretrained=False)
    for (key, value), expected in zip(
        model.state_dict().items(), random_init.state_dict().values()
    ):
        assert torch.equal(value, expected), f"{key} is not the random initialisation"


def test_pretrained_imagenet_init_with_a_hanging_network_returns(
    cache, hanging_network, monkeypatch
):
    monkeypatch.setattr("strongsort_reid.utils.download.DEFAULT_TIMEOUT_S", 0.5)
    start = time.monotonic()
    with pytest.warns(UserWarning, match="continuing with random initialisation"):
        build_model("mobilenetv2_x1_0", num_classes=10, pretrained=True)
    assert time.monotonic() - start < 10


def test_corrupt_cached_imagenet_file_warns_and_continues(cache):
    cache.mkdir()
    (cache / "osnet_x0_25_imagenet.pth").write_bytes(b"not a checkpoint")
    with pytest.warns(UserWarning, match="osnet_x0_25_imagenet.pth"):
        model = build_model("osnet_x0_25", num_classes=10, pretrained=True)
    assert isinstance(model, torch.nn.Module)


def test_default_order_cache_then_project_weights_folder_then_download(
    tmp_path, cache, no_network, monkeypatch
):
    import strongsort_reid.utils.download as download

    project = tmp_path / "project" / "weights"
    project.mkdir(parents=True)
    monkeypatch.setattr(download, "PROJECT_WEIGHTS_DIR", project)
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
