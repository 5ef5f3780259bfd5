"""download_file: atomic downloads, checksums, the cache, timeouts.

Network access is simulated with HTTP servers on the loopback interface; nothing is downloaded
from the internet.
"""

from __future__ import annotations

import hashlib
import socket
import time

import pytest

from strongsort_reid.utils.download import WeightsUnavailableError, download_file


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
