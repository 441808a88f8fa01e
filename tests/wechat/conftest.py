"""The 公众号 channel running in the real public app on 127.0.0.1, against the fake WeChat.

``mp`` bundles one gateway process (the public app with the wechat channel on, over a stand-in
for Rasa), the dispatcher's deliveries through the same channel package, a FakeWeChat sharing the
backend's clock (so the 48-hour window and token lifetimes move with it), and drivers that play
WeChat calling the callback. The content is the repository's, plus WeChat templates for two kinds.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass

import aiohttp
import pytest

from tests.conftest import CONTENT, demo_store
from tests.fakes.wechat import FakeWeChat, KfDriver, WeChatDriver, new_aes_key

TOKEN = "cb-token-for-tests"
AES_KEY = new_aes_key()
TEMPLATES = """
wechat_templates:
  ticket_assigned:
    template_id: TPL_STATUS
    fields:
      character_string1: "{number}"
      phrase2: "{status_label}"
      thing3: "{assignee}"
      time4: "{expected_at:%m月%d日 %H:%M}"
  ticket_resolved:
    template_id: TPL_RESOLVED
    fields:
      character_string1: "{number}"
      thing2: "{summary}"
      time3: "{at}"
    url: https://wuye.example/rate
"""


@pytest.fixture
def content_dir(tmp_path):
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    with (target / "company.yml").open("a", encoding="utf-8") as f:
        f.write(TEMPLATES)
    return target


@pytest.fixture
async def wechat_backend(database_url, clock, dialogue, content_dir):
    """As tests/conftest.py's backend, over content with WeChat templates."""
    from backend_bridge.bootstrap import bootstrap
    from backend_bridge.service_layer.ports import NullNotifier

    built = await bootstrap(database_url, content_dir, dialogue, NullNotifier(), clock=clock)
    await demo_store(built)
    yield built
    await built.close()


@pytest.fixture
async def fake(clock):
    async with FakeWeChat(clock=clock) as running:
        yield running


@dataclass
class Mp:
    backend: object
    gateway: object
    fake: FakeWeChat
    rasa: object
    channels: list
    url: str  # the callback, http://127.0.0.1:<port>/wechat/mp
    client: object  # aiohttp test client of the public app

    def driver(self, mode: str = "plain", **kw) -> WeChatDriver:
        appid = self.fake.appid
        return WeChatDriver(self.url, token=TOKEN, appid=appid, aes_key=AES_KEY, mode=mode, fake=self.fake, **kw)

    async def deliver(self) -> int:
        """One dispatcher sweep through the installed channels (the wechat one included)."""
        from backend_bridge.service_layer.delivery import Dispatcher
        from connectors.channel import deliveries

        channels = deliveries(self.backend, self.channels)
        return await Dispatcher(self.backend.new_uow, channels, self.backend.clock).poll_once()

    async def settle_and_deliver(self) -> int:
        await self.gateway.settled()
        return await self.deliver()

    def texts_sent(self, openid: str | None = None) -> list[str]:
        return [s["content"] for s in self.fake.sent if s["api"] == "custom" and openid in (None, s["touser"])]


def settings_for(fake: FakeWeChat, **override):
    from connectors.settings import WeChatSettings

    values = {
        "appid": fake.appid,
        "secret": fake.secret,
        "token": TOKEN,
        "aes_key": AES_KEY,
        "api_base": fake.url,
        "reply_budget": 1.0,
    }
    return WeChatSettings(**(values | override))


@pytest.fixture
def mp_settings(fake):
    return settings_for(fake)


@pytest.fixture
async def mp(wechat_backend, fake, rasa, aiohttp_client, mp_settings):
    from connectors.app import public_app
    from connectors.channel import close_channels, installed_channels
    from connectors.gateway import Gateway
    from connectors.rasa import RasaClient
    from tests.conftest import ADMIN_TOKEN

    async with aiohttp.ClientSession() as http:
        rasa_client = RasaClient(rasa.url, "token", http, timeout=5)
        gateway = Gateway(wechat_backend, rasa_client)
        channels = installed_channels({"wechat": mp_settings}, http)
        app = public_app(
            wechat_backend,
            gateway,
            admin_token=ADMIN_TOKEN,
            rasa=rasa_client,
            http=http,
            actions_url="http://127.0.0.1:9",
            channels=channels,
        )
        client = await aiohttp_client(app)
        yield Mp(wechat_backend, gateway, fake, rasa, channels, str(client.make_url("/wechat/mp")), client)
        await gateway.close()
        await close_channels(channels)


# -- 微信客服 ---------------------------------------------------------------------------------------

KF_TOKEN = "kf-cb-token-for-tests"
KF_AES_KEY = new_aes_key()


@dataclass
class Kf:
    """One gateway process with the 微信客服 channel on (``restart`` makes a new one, same database)."""

    backend: object
    gateway: object
    fake: FakeWeChat
    rasa: object
    channels: list
    url: str  # the callback, http://127.0.0.1:<port>/wechat/kf
    client: object

    @property
    def channel(self):
        return next(c for c in self.channels if c.name == "wechat_kf")

    def driver(self, **kw) -> KfDriver:
        kw.setdefault("clock", self.fake.now)  # signed at the backend's (test) time
        return KfDriver(self.url, token=KF_TOKEN, aes_key=KF_AES_KEY, corpid=self.fake.corpid, **kw)

    async def settle(self) -> None:
        """The background readers done and the assistant's answers recorded."""
        await self.channel.settled()
        await self.gateway.settled()

    async def deliver(self) -> int:
        from backend_bridge.service_layer.delivery import Dispatcher
        from connectors.channel import deliveries

        await self.settle()
        channels = deliveries(self.backend, self.channels)
        return await Dispatcher(self.backend.new_uow, channels, self.backend.clock).poll_once()

    async def write(self, open_kfid: str, user: str, text: str, **kw) -> int:
        """The customer writes; WeCom calls the callback; returns its HTTP status."""
        token = self.fake.kf_customer_writes(open_kfid, user, text, **kw)
        status, _ = await self.driver().notify(open_kfid, token)
        return status

    def texts_sent(self, user: str | None = None) -> list[str]:
        return [s["content"] for s in self.fake.sent if s["api"] == "kf" and user in (None, s["touser"])]


def kf_settings_for(fake: FakeWeChat):
    from connectors.settings import WeComKfSettings

    return WeComKfSettings(fake.corpid, fake.kf_secret, KF_TOKEN, KF_AES_KEY, fake.url)


@pytest.fixture
async def kf_start(wechat_backend, fake, rasa, aiohttp_client):
    """Starts a gateway process (the public app with 微信客服 on); call again for a restart."""
    from connectors.app import public_app
    from connectors.channel import close_channels, installed_channels
    from connectors.gateway import Gateway
    from connectors.rasa import RasaClient
    from tests.conftest import ADMIN_TOKEN

    started: list[Kf] = []
    async with aiohttp.ClientSession() as http:

        async def start() -> Kf:
            rasa_client = RasaClient(rasa.url, "token", http, timeout=5)
            gateway = Gateway(wechat_backend, rasa_client)
            channels = installed_channels({"wechat_kf": kf_settings_for(fake)}, http)
            app = public_app(
                wechat_backend,
                gateway,
                admin_token=ADMIN_TOKEN,
                rasa=rasa_client,
                http=http,
                actions_url="http://127.0.0.1:9",
                channels=channels,
            )
            client = await aiohttp_client(app)
            url = str(client.make_url("/wechat/kf"))
            started.append(Kf(wechat_backend, gateway, fake, rasa, channels, url, client))
            return started[-1]

        yield start
        for kf in started:
            await kf.gateway.close()
            await close_channels(kf.channels)


@pytest.fixture
async def kf(kf_start):
    return await kf_start()
