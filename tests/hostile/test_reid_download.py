"""Downloads that are cut short, trickle, or deliver the wrong file are never cached (#17, case 5).

A loopback HTTP server in a thread plays the hostile server; nothing reaches the internet.
"""

from __future__ import annotations

import hashlib
import http.server
import threading
import time

import pytest
import torch
from reid_hostile import BUNDLED_OSNET, poisoned_copy

from strongsort_reid.models import weights as catalogue
from strongsort_reid.models.weights import WeightsEntry, resolve_weights
from strongsort_reid.utils.checkpoint import load_checkpoint
from strongsort_reid.utils.download import WeightsUnavailableError, download_file

GOOD = BUNDLED_OSNET.read_bytes()
GOOD_SHA = hashlib.sha256(GOOD).hexdigest()


class HostileServer:
    """``routes[path] = (body, mode)``; mode ``"ok"``, ``"truncated"`` (announces the full
    length, sends half, closes) or ``"trickle"`` (announces the full length, sends one byte
    every 20 ms until the client leaves)."""

    def __init__(self) -> None:
        self.routes = {}
        self.hits = []
        self.stop = threading.Event()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.hits.append(self.path)
                body, mode = server.routes[self.path]
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if mode == "ok":
                    self.wfile.write(body)
                elif mode == "truncated":
                    self.wfile.write(body[: len(body) // 2])
                    self.close_connection = True
                else:
                    for byte in body:
                        if server.stop.wait(0.02):
                            return
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def server():
    hostile = HostileServer()
    yield hostile
    hostile.close()


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("STRONGSORT_REID_HOME", str(folder))
    return folder


def _files(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _register(monkeypatch, server, sha256=None, name="osnet_x0_25_hostile"):
    entry = WeightsEntry(name=name, arch="osnet_x0_25", urls=(f"{server.base}/{name}.pth",),
                         num_classes=4101, sha256=sha256)  # fmt: skip
    monkeypatch.setitem(catalogue._WEIGHTS, name, entry)
    return entry


def test_a_truncated_download_is_discarded_and_never_reused(server, cache):
    server.routes["/w.pth"] = (GOOD, "truncated")
    for _ in range(2):
        with pytest.raises(WeightsUnavailableError, match=r"cut short: \d+ of \d+ bytes"):
            download_file(f"{server.base}/w.pth", progress=False)
        assert _files(cache) == [], "no file (and no temporary file) is left behind"
    assert len(server.hits) == 2, "the second run tried again instead of using a broken file"


def test_a_trickling_server_is_stopped_by_the_overall_deadline(server, cache):
    server.routes["/slow.pth"] = (GOOD, "trickle")
    start = time.monotonic()
    with pytest.raises(WeightsUnavailableError, match="did not finish within 0.5 s"):
        download_file(f"{server.base}/slow.pth", progress=False, timeout=2, deadline=0.5)
    assert time.monotonic() - start < 3
    assert _files(cache) == []


def test_the_deadline_comes_from_the_environment(server, cache, monkeypatch):
    server.routes["/slow.pth"] = (GOOD, "trickle")
    monkeypatch.setenv("STRONGSORT_REID_DOWNLOAD_DEADLINE", "0.3")
    with pytest.raises(WeightsUnavailableError, match="within 0.3 s"):
        download_file(f"{server.base}/slow.pth", progress=False)
    monkeypatch.setenv("STRONGSORT_REID_DOWNLOAD_DEADLINE", "soon")
    with pytest.raises(ValueError, match="STRONGSORT_REID_DOWNLOAD_DEADLINE"):
        download_file(f"{server.base}/slow.pth", progress=False)


def test_a_cached_file_failing_its_sha256_is_downloaded_again(server, cache):
    server.routes["/w.pth"] = (GOOD, "ok")
    cache.mkdir()
    (cache / "w.pth").write_bytes(GOOD[: len(GOOD) // 2])  # an earlier, cut-short download
    path = download_file(f"{server.base}/w.pth", sha256=GOOD_SHA, progress=False)
    assert path.read_bytes() == GOOD and len(server.hits) == 1


def test_registry_name_with_a_corrupt_cached_copy_is_downloaded_again(server, cache, monkeypatch):
    entry = _register(monkeypatch, server, sha256=GOOD_SHA)
    server.routes[f"/{entry.filename}"] = (GOOD, "ok")
    cache.mkdir()
    (cache / entry.filename).write_bytes(GOOD[:1000])
    with pytest.raises(WeightsUnavailableError, match="fail.*sha256.*downloading is disabled"):
        resolve_weights(entry.name, download=False)
    assert server.hits == []
    path = resolve_weights(entry.name)
    assert path == cache / entry.filename and path.read_bytes() == GOOD
    assert resolve_weights(entry.name) == path and len(server.hits) == 1


@pytest.mark.parametrize("payload", ["html", "nan"])
def test_an_unverified_download_must_load_as_finite_weights(
    server, cache, monkeypatch, tmp_path, payload
):
    entry = _register(monkeypatch, server)
    assert not entry.verified
    if payload == "html":
        body = b"<html><body>Quota exceeded</body></html>"
        expected = "not a PyTorch checkpoint"
    else:
        body = poisoned_copy(tmp_path / "nan.pth", "conv5.conv.weight", float("nan")).read_bytes()
        expected = "non-finite weights: tensor 'conv5.conv.weight'"
    server.routes[f"/{entry.filename}"] = (body, "ok")
    with pytest.raises(WeightsUnavailableError, match=expected) as info:
        resolve_weights(entry.name)
    assert "the download was discarded" in str(info.value)
    assert _files(cache) == []


def test_an_unverified_download_that_loads_is_cached_with_a_warning(
    server, cache, monkeypatch, caplog
):
    entry = _register(monkeypatch, server)
    server.routes[f"/{entry.filename}"] = (GOOD, "ok")
    path = resolve_weights(entry.name)
    assert path == cache / entry.filename and _files(cache) == [entry.filename]
    assert torch.equal(load_checkpoint(path)["conv1.conv.weight"],
                       load_checkpoint(BUNDLED_OSNET)["conv1.conv.weight"])  # fmt: skip
    assert any("no published sha256" in r.getMessage() for r in caplog.records)
