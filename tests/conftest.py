"""Fixtures for the Python 3.11 side: databases, a controllable clock, backends on both stores.

PostgreSQL and Redis are real servers. When one is unreachable the tests that need it
are skipped with a loud reason, or fail when WUYE_REQUIRE_SERVICES=1 (CI sets it), so
they never disappear silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"  # company.yml + communities/
DEMO = ROOT / "content" / "demo_community.yml"
REQUIRE_SERVICES = os.environ.get("WUYE_REQUIRE_SERVICES") == "1"


def service_unavailable(name: str, exc: Exception) -> None:
    message = f"{name} is unreachable ({exc})"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message}; it is required here (WUYE_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(f"{message}; run .ci/run or set WUYE_REQUIRE_SERVICES=1 to make this a failure")


POSTGRES_ADMIN = os.environ.get("WUYE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextlib.contextmanager
def new_postgres_database(prefix: str = "wuye_test"):
    """An empty PostgreSQL database (its URL), dropped afterwards."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        service_unavailable("PostgreSQL", exc)
    try:
        yield POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    with new_postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url():
    """A Redis database reserved for tests (db 15 by default), emptied first."""
    import redis

    url = os.environ.get("WUYE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        client = redis.Redis.from_url(url, socket_timeout=5)
        client.flushdb()
    except redis.RedisError as exc:
        service_unavailable("Redis", exc)
    return url


class Clock:
    """The backend's clock, moved by tests (passes expire, lockouts lapse)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 21, 2, 30, tzinfo=timezone.utc)  # 10:30 in Shanghai

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


class RecordingDialogue:
    """Stand-in for the Rasa events API in backend-only tests (the stack tests use real Rasa)."""

    def __init__(self) -> None:
        self.resumed: list[str] = []
        self.staff_messages: list[tuple[str, str]] = []
        self.fail = False

    async def resume(self, sender: str) -> None:
        if self.fail:
            from connectors.rasa import DialogueUnavailable

            raise DialogueUnavailable("rasa is down")
        self.resumed.append(sender)

    async def log_staff_message(self, sender: str, text: str, actor: str) -> None:
        self.staff_messages.append((sender, text))


@pytest.fixture
def dialogue() -> RecordingDialogue:
    return RecordingDialogue()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path):
    """Every store test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'wuye.db'}"
    return request.getfixturevalue("postgres_url")


# The demo store's rows, read once per test session and kind of database: loading the demo takes
# 1-2 s (hundreds of flats, owners and bills through the domain), a bulk insert of the same rows a
# few milliseconds, and nearly every test starts from it.
_DEMO_ROWS: dict[tuple[str, bool, bool], list[tuple[object, list[dict]]]] = {}


async def demo_store(built, *, with_staff: bool = True, mark: bool = True) -> None:
    """Empty the store's tables and put the demo communities in: the first time in a session
    through SyncCommunities and load_demo, then as a copy of the rows that wrote."""
    from zoneinfo import ZoneInfo

    from sqlalchemy import func, select, text

    from backend_bridge.adapters.orm import metadata
    from backend_bridge.demo import load_demo
    from backend_bridge.domain.commands import SyncCommunities

    async with built.engine.begin() as conn:  # the PostgreSQL database is shared by the session
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
    key = (built.engine.dialect.name, with_staff, mark)
    rows = _DEMO_ROWS.get(key)
    if rows is None:
        await built.bus.handle(SyncCommunities())  # the tables were emptied: the content's communities again
        await load_demo(built, DEMO, ZoneInfo("Asia/Shanghai"), with_staff=with_staff, mark=mark)
        async with built.engine.connect() as conn:
            rows = [(t, [dict(r._mapping) for r in await conn.execute(t.select())]) for t in metadata.sorted_tables]
        _DEMO_ROWS[key] = rows
        return
    async with built.engine.begin() as conn:
        for table, table_rows in rows:
            if table_rows:
                await conn.execute(table.insert(), table_rows)
        if built.engine.dialect.name == "postgresql":  # ids were given: move each sequence past them
            for table, table_rows in rows:
                ids = [c for c in table.primary_key.columns if c.autoincrement is not False and c.name == "id"]
                if table_rows and ids:
                    top = (await conn.execute(select(func.max(ids[0])))).scalar()
                    await conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), {top})"))


@pytest.fixture
async def backend(database_url, clock, dialogue):
    """A backend on a clean store with the demo community loaded."""
    from backend_bridge.bootstrap import bootstrap
    from backend_bridge.service_layer.ports import NullNotifier

    built = await bootstrap(database_url, CONTENT, dialogue, NullNotifier(), clock=clock)
    # the flats and owners of both demo communities; staff are each test's own (test_communities adds the demo's)
    await demo_store(built, with_staff=False, mark=False)
    yield built
    await built.close()


ADMIN_TOKEN = "test-admin-token"
INTERNAL_TOKEN = "test-internal-token"


@pytest.fixture
async def internal_client(aiohttp_client, backend):
    """The bot API (what the actions call) over real HTTP on 127.0.0.1."""
    from zoneinfo import ZoneInfo

    from connectors.app import internal_app

    return await aiohttp_client(internal_app(backend, token=INTERNAL_TOKEN, timezone=ZoneInfo("Asia/Shanghai")))


@pytest.fixture
async def public_client(aiohttp_client, backend, unused_tcp_port_factory):
    """The public app with a Rasa address where nothing listens (the stack tests use real Rasa)."""
    import aiohttp

    from connectors.app import public_app
    from connectors.gateway import Gateway
    from connectors.rasa import RasaClient

    async with aiohttp.ClientSession() as http:
        rasa = RasaClient(f"http://127.0.0.1:{unused_tcp_port_factory()}", "rasa-token", http, timeout=2)
        app = public_app(
            backend,
            Gateway(backend, rasa),
            admin_token=ADMIN_TOKEN,
            rasa=rasa,
            http=http,
            actions_url=f"http://127.0.0.1:{unused_tcp_port_factory()}",
        )
        yield await aiohttp_client(app)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def deliver(backend) -> int:
    """Run one dispatcher sweep, as the dispatcher process would: the outbox goes out through
    the installed channels (the web chat's mailbox, the log for staff). Returns how many went."""
    from backend_bridge.service_layer.delivery import Dispatcher
    from connectors.channel import deliveries

    return await Dispatcher(backend.new_uow, deliveries(backend), backend.clock).poll_once()


class RasaStandIn:
    """Answers "收到：<text>" after a delay; 500 for texts containing 'boom'; down when told;
    ``garbled`` bytes instead of any answer (a 200, chunked: no Content-Length to go by) when set."""

    def __init__(self) -> None:
        self.delay = 0.0
        self.down = False
        self.garbled: bytes | None = None
        self.seen: list[tuple[str, str]] = []

    async def webhook(self, request):
        from aiohttp import web

        body = await request.json()
        if self.down:
            raise web.HTTPServiceUnavailable()
        self.seen.append((body["sender"], body["message"]))
        await asyncio.sleep(self.delay)
        if "boom" in body["message"]:
            raise web.HTTPInternalServerError()
        if self.garbled is not None:
            return await chunked(request, self.garbled)
        return web.json_response([{"recipient_id": body["sender"], "text": f"收到：{body['message']}"}])

    async def status(self, request):
        from aiohttp import web

        if self.garbled is not None:
            return await chunked(request, self.garbled)
        return web.json_response({"model_id": "m"})


async def chunked(request, body: bytes, status: int = 200, hold: float = 0.0):
    """An answer of ``body`` without a Content-Length, as a stream: the client cannot know its size ahead.
    ``hold``: seconds the stream stays open after ``body`` (a client waiting for its end waits that long)."""
    from aiohttp import web

    resp = web.StreamResponse(status=status, headers={"Content-Type": "application/json"})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    await resp.write(body)
    await asyncio.sleep(hold)
    await resp.write_eof()
    return resp


@pytest.fixture
async def rasa(aiohttp_server):
    """A stand-in for Rasa's REST channel on 127.0.0.1 (the stack tests use the real Rasa)."""
    from aiohttp import web

    stand_in = RasaStandIn()
    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", stand_in.webhook)
    app.router.add_get("/status", stand_in.status)
    server = await aiohttp_server(app)
    stand_in.url = str(server.make_url(""))
    return stand_in


@pytest.fixture
async def gateway(backend, rasa):
    """The gateway core talking to the stand-in over real HTTP."""
    import aiohttp

    from connectors.gateway import Gateway
    from connectors.rasa import RasaClient

    async with aiohttp.ClientSession() as http:
        yield Gateway(backend, RasaClient(rasa.url, "token", http, timeout=5))
