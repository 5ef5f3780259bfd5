"""Download files into the weight cache: complete, checksum-verified, atomic, bounded in time.

The cache folder is ``$STRONGSORT_REID_HOME`` (default ``~/.cache/strongsort_reid``). Downloads
are written to a temporary file next to their destination and renamed into place only when
they are complete: as many bytes as the server's ``Content-Length`` announced, the expected
sha256 when one is known, and whatever else the caller checks (``validate``: the weights
catalogue loads the file as a checkpoint). A cut-short, tampered or wrong file is discarded,
never cached; a cached file that fails its known sha256 is downloaded again.

Time is bounded twice. Getting an answer from the server (name lookup, connection, response
headers) has one deadline, because a black-holed network can stall each of these steps, and
every address of a host, for a full socket timeout; offline, a download fails fast with a
message that names the file, the URL and the folder to put the file in by hand. The whole
transfer has an overall deadline (:data:`DEFAULT_DEADLINE_S`, or
``$STRONGSORT_REID_DOWNLOAD_DEADLINE`` seconds), so a server that trickles bytes cannot hold a
run forever.

Finding weights by name (explicit path -> user cache -> bundled models -> download) is
:func:`strongsort_reid.models.weights.resolve_weights`; ``resolve_weights`` stays importable
from here (the README documented this path).
"""
from __future__ import annotations

import hashlib
import http.client
import importlib
import logging
import os
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Optional, Union

from tqdm import tqdm

from strongsort_reid.utils.atomic import atomic_path

logger = logging.getLogger(__name__)

PathLike = Union[str, os.PathLike]

# Seconds to wait for a server to answer; an offline failure stays under 10 s with it.
DEFAULT_TIMEOUT_S = 8.0
# Seconds a whole download may take (the largest catalogue file, ~100 MB, at ~0.5 Mbit/s).
DEFAULT_DEADLINE_S = 1800.0
DEADLINE_ENV = "STRONGSORT_REID_DOWNLOAD_DEADLINE"
_CHUNK = 1 << 20
_GDRIVE_ID = re.compile(r"drive\.google\.com/.*(?:id=|/d/)([\w-]{20,})")


class WeightsUnavailableError(RuntimeError):
    """A weight file is neither on disk nor downloadable (offline, URL gone, bad checksum)."""


def cache_dir() -> Path:
    """The weight cache: ``$STRONGSORT_REID_HOME`` or ``~/.cache/strongsort_reid``."""
    env = os.environ.get("STRONGSORT_REID_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "strongsort_reid"


def sha256_of(path: PathLike) -> str:
    """Hex sha256 digest of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _direct_url(url: str) -> str:
    """Turn a Google Drive share link into a direct-download URL (other URLs pass through)."""
    match = _GDRIVE_ID.search(url)
    if match is None:
        return url
    return (
        "https://drive.usercontent.google.com/download"
        f"?id={match.group(1)}&export=download&confirm=t"
    )


def download_file(
    url: str,
    dst: Optional[PathLike] = None,
    sha256: Optional[str] = None,
    timeout: Optional[float] = None,
    progress: bool = True,
    deadline: Optional[float] = None,
    validate: Optional[Callable[[Path], None]] = None,
) -> Path:
    """Download ``url`` to ``dst`` (default: the cache folder) unless it is already there.

    Args:
        url: HTTP(S) URL; Google Drive share links are accepted.
        dst: Destination file. Defaults to ``cache_dir() / <last URL path component>``. An
            existing file is reused, unless ``sha256`` is given and it does not match (a
            corrupt or cut-short copy): then it is downloaded again.
        sha256: Expected hex digest; a mismatch deletes the download and raises.
        timeout: Seconds to wait for the server's answer (name lookup, connection and
            response headers together), and then for each read; default
            :data:`DEFAULT_TIMEOUT_S`.
        progress: Show a tqdm progress bar (only when stderr is a terminal).
        deadline: Seconds the whole download may take; default ``$STRONGSORT_REID_DOWNLOAD_
            DEADLINE`` or :data:`DEFAULT_DEADLINE_S`. It is checked after every read, so it
            can be overrun by at most ``timeout``.
        validate: Called with the complete temporary file before it is renamed into place;
            raise ``ValueError`` to reject it (the message is kept).

    Returns:
        Path of the file on disk.

    Raises:
        WeightsUnavailableError: the download failed, was cut short, ran past the deadline,
            did not match the checksum or was rejected by ``validate``; nothing is left at
            ``dst`` then (a bad copy found there stays until a download replaces it).
    """
    dst = Path(dst) if dst is not None else cache_dir() / Path(url.split("?")[0]).name
    if dst.is_file():
        if sha256 is None or sha256_of(dst) == sha256.lower():
            return dst
        logger.warning("%s fails its sha256 (corrupt, cut short?): downloading it again", dst)
    timeout = DEFAULT_TIMEOUT_S if timeout is None else float(timeout)
    deadline = _deadline_s() if deadline is None else float(deadline)
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        with atomic_path(dst) as temp:
            with open(temp, "wb") as handle:
                _stream(_direct_url(url), handle, (timeout, deadline), progress, dst.name)
            _check_download(temp, dst.name, url, sha256, validate)
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        raise WeightsUnavailableError(
            f"could not download {dst.name} from {url} ({_reason(exc)}). Download it by hand "
            f"and put it in {dst.parent} (or set STRONGSORT_REID_HOME), or pass an explicit path."
        ) from exc
    return dst


def _deadline_s() -> float:
    """The overall download deadline: ``$STRONGSORT_REID_DOWNLOAD_DEADLINE`` or the default."""
    raw = os.environ.get(DEADLINE_ENV, "").strip()
    if not raw:
        return DEFAULT_DEADLINE_S
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise ValueError(f"{DEADLINE_ENV} must be a number of seconds > 0, got {raw!r}")
    return value


def _check_download(
    temp: Path, name: str, url: str, sha256: Optional[str], validate: Optional[Callable]
) -> None:
    """Raise :class:`WeightsUnavailableError` when a complete download is not the file wanted."""
    if sha256 is not None:
        actual = sha256_of(temp)
        if actual != sha256.lower():
            raise WeightsUnavailableError(
                f"checksum mismatch for {name} from {url}: expected sha256 "
                f"{sha256}, got {actual}; the download was discarded"
            )
    if validate is not None:
        try:
            validate(temp)
        except ValueError as exc:
            raise WeightsUnavailableError(
                f"{name} downloaded from {url} is not usable ({exc}); the download was "
                "discarded"
            ) from exc


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    return str(reason if reason is not None else exc) or type(exc).__name__


def _open(url: str, timeout: float):
    """``urlopen(url)``, but waiting at most ``timeout`` seconds in total for the response.

    ``urlopen``'s own timeout applies to each socket operation and each address of a host, and
    not at all to the name lookup, so on a black-holed network it can block far longer. The
    request runs in a daemon thread instead; when the deadline passes it is abandoned (a late
    response is closed by that thread) and ``socket.timeout`` is raised.
    """
    request = urllib.request.Request(url, headers={"User-Agent": "strongsort-reid"})
    outcome: dict = {}
    lock = threading.Lock()
    done = threading.Event()

    def run() -> None:
        try:
            response = urllib.request.urlopen(request, timeout=timeout)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            response, outcome["error"] = None, exc
        with lock:
            if outcome.get("abandoned"):
                if response is not None:
                    response.close()
                return
            outcome["response"] = response
            done.set()

    threading.Thread(target=run, name="strongsort-reid-download", daemon=True).start()
    answered = done.wait(timeout)
    with lock:
        if not answered and not done.is_set():
            outcome["abandoned"] = True
            raise socket.timeout(f"no answer within {timeout:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["response"]


def _stream(url: str, handle, limits, progress: bool, label: str) -> None:
    """Copy the response body of ``url`` into ``handle``.

    Args:
        limits: ``(timeout, deadline)`` in seconds: the wait for the server's answer (and for
            each read), and the whole transfer.

    Raises:
        ConnectionError: an HTML page instead of a file, or fewer bytes than the server's
            ``Content-Length`` announced (the connection was cut).
        TimeoutError: the transfer ran past the deadline.
    """
    timeout, deadline = limits
    end = time.monotonic() + deadline
    with _open(url, min(timeout, deadline)) as response:
        if "text/html" in response.headers.get("Content-Type", ""):
            raise ConnectionError(f"{url} returned an HTML page instead of a weight file")
        total = int(response.headers.get("Content-Length") or 0) or None
        received = 0
        with tqdm(
            total=total,
            unit="B",
            unit_scale=True,
            desc=label,
            disable=not progress or None,
        ) as bar:
            # read1 returns what has arrived: a trickling server cannot keep one call busy.
            for chunk in iter(lambda: response.read1(_CHUNK), b""):
                handle.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
                if time.monotonic() > end:
                    raise TimeoutError(
                        f"the download did not finish within {deadline:g} s ({received} of "
                        f"{total or 'unknown'} bytes; set {DEADLINE_ENV} to allow more)"
                    )
    if total is not None and received != total:
        raise ConnectionError(
            f"the download was cut short: {received} of {total} bytes (Content-Length)"
        )


# Compatibility path: names that moved to strongsort_reid.models.weights, forwarded on first
# access (imported by name, not statically, so that this leaf module imports nothing above it).
_MOVED = {"resolve_weights"}


def __getattr__(name: str):
    if name in _MOVED:
        return getattr(importlib.import_module("strongsort_reid.models.weights"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
