"""Unit tests are pure: any attempt to open a network connection fails the test (``no_sockets``)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_sockets(no_sockets: None) -> None:
    pass
