"""Fake networks for download tests: loopback HTTP servers, no network, a black-holed one.

Nothing here reaches the internet. The fixtures are made available to the test folders that
need them by their ``conftest.py``.
"""

from __future__ import annotations

import functools
import http.server
import socket
import threading

import pytest


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


def closed_port_url() -> str:
    """A loopback URL whose port nothing listens on (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/osnet_fake.pth"
