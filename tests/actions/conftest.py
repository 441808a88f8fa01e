"""Fixtures for the action tests: the internal bot API on a real port, and the actions' client pointed at it.

actions.backend.backend() reads WUYE_BACKEND_URL / WUYE_INTERNAL_TOKEN once and caches the
client in ``actions.backend._client``; every test starts and ends without a cached client,
so no test talks to another test's server.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

import actions.backend
from connectors.app import internal_app
from tests.conftest import INTERNAL_TOKEN

TZ = ZoneInfo("Asia/Shanghai")


async def _forget_client() -> None:
    client, actions.backend._client = actions.backend._client, None
    if client is not None and client._session is not None:
        await client._session.close()


@pytest.fixture(autouse=True)
async def fresh_backend_client():
    """No cached client leaks into or out of a test."""
    await _forget_client()
    yield
    await _forget_client()


@pytest.fixture
async def bot_api(aiohttp_server, backend, monkeypatch):
    """The internal bot API on 127.0.0.1 (real HTTP, real store); the actions call it. Yields the backend."""
    server = await aiohttp_server(internal_app(backend, token=INTERNAL_TOKEN, timezone=TZ))
    monkeypatch.setenv("WUYE_BACKEND_URL", str(server.make_url("/")))
    monkeypatch.setenv("WUYE_INTERNAL_TOKEN", INTERNAL_TOKEN)
    return backend


@pytest.fixture
def backend_down(monkeypatch, unused_tcp_port_factory):
    """The actions' backend address is a port where nothing listens."""
    monkeypatch.setenv("WUYE_BACKEND_URL", f"http://127.0.0.1:{unused_tcp_port_factory()}")
    monkeypatch.setenv("WUYE_INTERNAL_TOKEN", INTERNAL_TOKEN)
