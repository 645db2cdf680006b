"""Fixtures of the geo tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.geo._fetch_server import LocalServer


@pytest.fixture
def server() -> Iterator[LocalServer]:
    srv = LocalServer()
    try:
        yield srv
    finally:
        srv.close()
