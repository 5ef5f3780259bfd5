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
    PROJECT_WEIGHTS_DIR,
    WeightsUnavailableError,
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
