"""The SMS channel running in the real public app on 127.0.0.1, against a fake provider.

``sms`` bundles one gateway process (the public app with the sms channel on, over a stand-in for
Rasa that runs a short repair dialogue and opens the ticket as the action server would), the
dispatcher's deliveries through the same channel, and the fake provider (Aliyun or Tencent,
per the ``provider`` parameter) sharing the backend's clock for its per-number limits. Tests
play the provider's pushes (owners' replies, receipts) with what the fake builds.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web

from tests.conftest import CONTENT, demo_store
from tests.fakes.sms import FakeAliyunSms, FakeTencentSms

PUSH_TOKEN = "push-token-for-tests-0123"
MOBILE = "13800000501"  # 张伟, on file for 3-2-501 in the demo community
SENDER = f"sms:{MOBILE}"
# Template codes as each provider names them: (status updates, the generic reply)
CODES = {"aliyun": ("SMS_STATUS", "SMS_REPLY"), "tencent": ("1001", "1002")}


def templates_yaml(provider: str) -> str:
    status, reply = CODES[provider]
    return f"""
sms_templates:
  ticket_assigned:
    template_id: "{status}"
    fields: {{number: "{{number}}", status: "已派单，{{assignee}}{{expected_at:%H:%M}}前上门"}}
  ticket_in_progress:
    template_id: "{status}"
    fields: {{number: "{{number}}", status: "{{status_label}}"}}
  ticket_resolved:
    template_id: "{status}"
    fields: {{number: "{{number}}", status: "已处理完，回复满意/一般/不满意评价"}}
  late_reply:
    template_id: "{reply}"
    fields: {{content: "{{text}}"}}
"""


class RepairDialogue:
    """A stand-in for Rasa's REST channel: 报修 → what is broken → where → the ticket, opened
    through the backend as the action server does; anything else is echoed ("收到：…")."""

    def __init__(self, backend) -> None:
        self.backend = backend
        self.state: dict[str, list[str]] = {}
        self.seen: list[tuple[str, str]] = []

    async def webhook(self, request: web.Request) -> web.Response:
        from backend_bridge.domain import commands

        body = await request.json()
        sender, text = body["sender"], body["message"]
        self.seen.append((sender, text))
        said = self.state.get(sender)
        if text == "报修":
            self.state[sender] = []
            answer = "好的，请问哪里坏了？"
        elif said is not None and not said:
            said.append(text)
            answer = "请告诉我地址，比如3栋2单元501。"
        elif said:
            building, unit, room = text.replace("栋", " ").replace("单元", " ").split()
            opened = await self.backend.bus.handle(commands.OpenTicket(sender, "repair", said[0], building, unit, room))
            del self.state[sender]
            answer = f"已登记报修，工单号{opened.number}。"
        else:
            answer = f"收到：{text}"
        return web.json_response([{"recipient_id": sender, "text": answer}])

    async def status(self, request: web.Request) -> web.Response:
        return web.json_response({"model_id": "m"})


@pytest.fixture(params=["aliyun", "tencent"])
def provider(request) -> str:
    return request.param


@pytest.fixture
def content_dir(tmp_path, provider):
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    with (target / "company.yml").open("a", encoding="utf-8") as f:
        f.write(templates_yaml(provider))
    return target


@pytest.fixture
async def sms_backend(database_url, clock, dialogue, content_dir):
    from backend_bridge.bootstrap import bootstrap
    from backend_bridge.service_layer.ports import NullNotifier

    built = await bootstrap(database_url, content_dir, dialogue, NullNotifier(), clock=clock)
    await demo_store(built)
    yield built
    await built.close()


@pytest.fixture
async def fake(provider, clock):
    kind = FakeAliyunSms if provider == "aliyun" else FakeTencentSms
    async with kind(clock=clock) as running:
        yield running


def settings_for(fake, **override):
    from connectors.settings import SmsSettings

    values = {
        "provider": fake.provider,
        "endpoint": fake.url,
        "key_id": fake.key_id,
        "key_secret": fake.key_secret,
        "app_id": getattr(fake, "app_id", ""),
        "sign_name": fake.sign_name,
        "push_token": PUSH_TOKEN,
    }
    return SmsSettings(**(values | override))


@dataclass
class Sms:
    backend: object
    gateway: object
    fake: object
    rasa: RepairDialogue
    channels: list
    client: object
    provider: str
    answers: list = field(default_factory=list)

    async def push(self, body: bytes, *, token: str = PUSH_TOKEN, path: str = "") -> tuple[int, object]:
        """The provider POSTs ``body`` to our endpoint; (status, the answer's JSON or text)."""
        resp = await self.client.post(
            f"/sms/{self.provider}/{token}{path}", data=body, headers={"Content-Type": "application/json"}
        )
        text = await resp.text()
        try:
            return resp.status, json.loads(text)
        except ValueError:
            return resp.status, text

    async def writes(self, text: str, mobile: str = MOBILE, **kw) -> tuple[int, object]:
        return await self.push(self.fake.reply_push(mobile, text, **kw))

    async def push_answer(self) -> dict:
        """What the provider expects back from a push it delivered."""
        return {"code": 0, "msg": "接收成功"} if self.provider == "aliyun" else {"result": 0, "errmsg": "OK"}

    async def receipt(self, message_id: str, **kw) -> tuple[int, object]:
        return await self.push(self.fake.receipt_push(message_id, **kw), path="/report")

    async def deliver(self) -> int:
        from backend_bridge.service_layer.delivery import Dispatcher
        from connectors.channel import deliveries

        await self.gateway.settled()
        channels = deliveries(self.backend, self.channels)
        return await Dispatcher(self.backend.new_uow, channels, self.backend.clock).poll_once()

    def received(self, mobile: str = MOBILE) -> list[str]:
        """What reached the phone, each as its template's variables joined."""
        return ["|".join(s["values"].values()) for s in self.fake.texts_to(mobile)]

    async def notices(self, sender: str = SENDER):
        from sqlalchemy import select

        from backend_bridge.domain import model

        async with self.backend.new_uow() as uow:
            found = await uow.session.scalars(
                select(model.Notification).where(model.Notification.recipient == sender).order_by(model.Notification.id)
            )
            return list(found.all())

    async def inbound(self, sender: str = SENDER) -> list[str]:
        from sqlalchemy import select

        from backend_bridge.domain import model

        async with self.backend.new_uow() as uow:
            found = await uow.session.scalars(
                select(model.InboundMessage)
                .where(model.InboundMessage.sender == sender)
                .order_by(model.InboundMessage.id)
            )
            return [m.text for m in found.all()]


@pytest.fixture
async def http_session():
    async with aiohttp.ClientSession() as http:
        yield http


@pytest.fixture
def sms_settings(fake):
    return settings_for(fake)


@pytest.fixture
def other_channels() -> dict:
    """Settings sections of channels to run beside SMS (tests/phone: the hotline's)."""
    return {}


@pytest.fixture
async def sms(sms_backend, fake, aiohttp_client, aiohttp_server, sms_settings, provider, other_channels):
    from connectors.app import public_app
    from connectors.channel import close_channels, installed_channels
    from connectors.gateway import Gateway
    from connectors.rasa import RasaClient
    from tests.conftest import ADMIN_TOKEN

    dialogue = RepairDialogue(sms_backend)
    rasa_app = web.Application()
    rasa_app.router.add_post("/webhooks/rest/webhook", dialogue.webhook)
    rasa_app.router.add_get("/status", dialogue.status)
    rasa_server = await aiohttp_server(rasa_app)
    async with aiohttp.ClientSession() as http:
        rasa_client = RasaClient(str(rasa_server.make_url("")), "token", http, timeout=5)
        gateway = Gateway(sms_backend, rasa_client)
        channels = installed_channels({"sms": sms_settings, **other_channels}, http)
        app = public_app(
            sms_backend,
            gateway,
            admin_token=ADMIN_TOKEN,
            rasa=rasa_client,
            http=http,
            actions_url="http://127.0.0.1:9",
            channels=channels,
        )
        client = await aiohttp_client(app)
        yield Sms(sms_backend, gateway, fake, dialogue, channels, client, provider)
        await gateway.close()
        await close_channels(channels)
