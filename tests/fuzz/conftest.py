"""Hostile-input fuzzing of every HTTP edge and parser, in process over real HTTP on 127.0.0.1.

Profiles (hypothesis): ``short`` (the default, part of ``make test``: a few dozen cases per
test, the whole suite well under a minute on two cores) and ``long`` (``make fuzz``, or
WUYE_FUZZ=long: more than 10,000 cases in all). Both keep no example database (nothing is
written into the worktree) and no per-example deadline: the hang check is the per-request
timeout in ``fuzz_request`` (a request taking longer is a failure), not hypothesis's timer.

The apps are the real ones (connectors/app.py public_app with the web chat, SMS and the
external webhook on; internal_app), over the backend of tests/conftest.py on SQLite (and on
PostgreSQL too in the long profile, where NUL is refused by the database itself). Rasa is the
stand-in of tests/conftest.py: this is about the HTTP edges, not the dialogue.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections import Counter
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, settings

from tests.conftest import ADMIN_TOKEN, CONTENT, DEMO, INTERNAL_TOKEN, RasaStandIn

LONG = os.environ.get("WUYE_FUZZ", "").lower() == "long"
REQUEST_TIMEOUT = 10.0  # seconds: any one request taking longer is a hang, and a failure

_COMMON = {
    "deadline": None,
    "database": None,
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,  # one app per test, shared by its examples: intended
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
    "print_blob": True,
}
# Examples per HTTP test; the pure parsers get FAST_FACTOR times as many (they cost microseconds).
settings.register_profile("short", max_examples=40, **_COMMON)
settings.register_profile("long", max_examples=400, **_COMMON)
settings.load_profile("long" if LONG else "short")
FAST_FACTOR = 10

PUSH_TOKEN = "push-token-for-fuzz-0123"
PHONE_TOKEN = "phone-token-for-fuzz-0123"
KF_CORPID, KF_TOKEN = "wwfuzz0123456789", "kf-token-for-fuzz"
EXTERNAL = "hc"  # the external system's name in its webhook path
EXTERNAL_SECRET = "fuzz-webhook-secret"
WECHAT_TOKEN = "wechat-token-for-fuzz"
WECHAT_APPID = "wx0123456789fuzz"
WECHAT_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeChat's console makes


@pytest.fixture(scope="module", params=["sqlite", "postgres"] if LONG else ["sqlite"])
def database_url(request, tmp_path_factory):
    """SQLite always; PostgreSQL as well in the long run (it refuses NUL in text itself)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'wuye.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="module")
def content_dir(tmp_path_factory):
    """The company's content plus SMS templates, so the SMS channel is fully configured."""
    from tests.sms.conftest import templates_yaml

    target = tmp_path_factory.mktemp("content") / "content"
    shutil.copytree(CONTENT, target)
    with (target / "company.yml").open("a", encoding="utf-8") as f:
        f.write(templates_yaml("aliyun"))
    return target


@pytest.fixture(scope="module")
async def fuzz_backend(database_url, content_dir):
    """A backend with the demo communities and staff, and an external system configured (its
    webhook is a public route); the external system's own address has nothing listening.
    One per module: starting a store takes seconds, a fuzz case milliseconds."""
    from zoneinfo import ZoneInfo

    from backend_bridge.adapters.external import HttpTicketSystem
    from backend_bridge.adapters.orm import metadata
    from backend_bridge.bootstrap import bootstrap
    from backend_bridge.demo import load_demo
    from backend_bridge.domain.commands import SyncCommunities
    from backend_bridge.service_layer.ports import NullNotifier
    from tests.conftest import Clock, RecordingDialogue

    clock = Clock()
    async with aiohttp.ClientSession() as http:
        external = HttpTicketSystem(
            EXTERNAL, "http://127.0.0.1:9", "api-key", EXTERNAL_SECRET, http, timeout=1.0, clock=clock
        )
        built = await bootstrap(
            database_url, content_dir, RecordingDialogue(), NullNotifier(), clock=clock, external=external
        )
        async with built.engine.begin() as conn:
            await conn.run_sync(metadata.drop_all)
            await conn.run_sync(metadata.create_all)
        await built.bus.handle(SyncCommunities())
        await load_demo(built, DEMO, ZoneInfo("Asia/Shanghai"), mark=False)
        yield built
        await built.close()


@dataclass
class Apps:
    """The two apps under fuzz, as test clients, the backend behind them and the stand-in Rasa."""

    public: TestClient
    internal: TestClient
    backend: object
    rasa: RasaStandIn


@pytest.fixture(scope="module")
async def apps(fuzz_backend) -> Apps:
    from zoneinfo import ZoneInfo

    from connectors.app import internal_app, public_app
    from connectors.channel import close_channels, installed_channels
    from connectors.gateway import Gateway
    from connectors.rasa import RasaClient
    from connectors.settings import PhoneSettings, SmsSettings, WebChatSettings, WeChatSettings, WeComKfSettings

    stand_in = RasaStandIn()
    rasa_app = web.Application()
    rasa_app.router.add_post("/webhooks/rest/webhook", stand_in.webhook)
    rasa_app.router.add_get("/status", stand_in.status)
    sms = SmsSettings(
        provider="aliyun",
        endpoint="http://127.0.0.1:9",
        key_id="id",
        key_secret="secret",
        sign_name="物业",
        push_token=PUSH_TOKEN,
    )
    # the 公众号 in compatible mode (plain and encrypted pushes both accepted); its API is nowhere
    wechat = WeChatSettings(
        appid=WECHAT_APPID,
        secret="secret",
        token=WECHAT_TOKEN,
        aes_key=WECHAT_AES_KEY,
        api_base="http://127.0.0.1:9",
        reply_budget=1.0,
    )
    # no web chat limits: a fuzzer is one client sending fast, and a 429 would hide the handler
    webchat = WebChatSettings(sender_per_minute=0, client_per_minute=0)
    async with TestServer(rasa_app) as rasa_server, aiohttp.ClientSession() as http:
        client = RasaClient(str(rasa_server.make_url("")), "token", http, timeout=5)
        gateway = Gateway(fuzz_backend, client)
        phone = PhoneSettings(push_token=PHONE_TOKEN)
        # 微信客服: its API is nowhere, so a callback that passes the checks starts a read that fails quietly
        kf = WeComKfSettings(
            corpid=KF_CORPID, secret="secret", token=KF_TOKEN, aes_key=WECHAT_AES_KEY, api_base="http://127.0.0.1:9"
        )
        channels = installed_channels(
            {"sms": sms, "webchat": webchat, "wechat": wechat, "phone": phone, "wechat_kf": kf}, http
        )
        public = public_app(
            fuzz_backend,
            gateway,
            admin_token=ADMIN_TOKEN,
            rasa=client,
            http=http,
            actions_url="http://127.0.0.1:9",
            channels=channels,
        )
        internal = internal_app(fuzz_backend, token=INTERNAL_TOKEN, timezone=ZoneInfo("Asia/Shanghai"))
        async with TestClient(TestServer(public)) as pub, TestClient(TestServer(internal)) as inner:
            yield Apps(pub, inner, fuzz_backend, stand_in)
        await gateway.close()
        await close_channels(channels)


# Routes whose contract is a 5xx in some state: /healthz says 503 until every process is up
# (here the action server and a dispatcher never are); /readyz while no Rasa instance answers.
CONTRACT_5XX = {"/healthz": 503, "/readyz": 503}


# What this run tried, for the summary line (`make fuzz` must reach 10,000 cases and more).
CASES: Counter[str] = Counter()


def pytest_terminal_summary(terminalreporter) -> None:
    if CASES:
        profile = "long" if LONG else "short"
        terminalreporter.write_line(
            f"fuzz ({profile} profile): {CASES['request']} hostile requests, {CASES['parser']} parser inputs, "
            f"{CASES['request'] + CASES['parser']} cases in all"
        )


async def fuzz_request(client, method: str, path: str, *, probe: bool = False, **kw) -> tuple[int, bytes]:
    """One request that must be answered, below 500, within REQUEST_TIMEOUT seconds
    (``probe``: a check of our own, not counted as a case)."""
    if not probe:
        CASES["request"] += 1

    async def send() -> tuple[int, bytes]:
        async with client.request(method, path, **kw) as resp:
            if resp.content_type == "text/event-stream":
                # The console's live feed never ends by design: its answer is the status and the
                # stream's first line (retry: …), not a body; leaving closes the stream.
                return resp.status, await resp.content.readline()
            return resp.status, await resp.read()

    try:
        status, body = await asyncio.wait_for(send(), REQUEST_TIMEOUT)
    except TimeoutError:
        pytest.fail(f"{method} {path}: no answer within {REQUEST_TIMEOUT} s (a hang)")
    assert status < 500 or CONTRACT_5XX.get(path) == status, (method, path, status, body[:500])
    return status, body


async def still_serving(apps: Apps) -> None:
    """After a hostile request both apps still answer a plain read that goes to the database."""
    from tests.conftest import bearer

    status, body = await fuzz_request(apps.public, "GET", "/api/communities", probe=True, headers=bearer(ADMIN_TOKEN))
    assert status == 200, body
    status, body = await fuzz_request(
        apps.internal,
        "GET",
        "/bot/v1/bindings",
        probe=True,
        params={"sender": "webchat:probe"},
        headers=bearer(INTERNAL_TOKEN),
    )
    assert status == 200, body
