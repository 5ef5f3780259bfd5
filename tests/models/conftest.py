"""Fixtures of this folder's tests (defined in ``tests/network_fakes.py``)."""

from network_fakes import cache, file_server, hanging_network, no_network  # noqa: F401
