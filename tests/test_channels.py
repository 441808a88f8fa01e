"""The channel interface: a channel is one folder under connectors/, created with its own settings
section and the shared HTTP client, off while its settings are empty, closed at shutdown.

Protects: a new channel needing edits outside its folder (the discovery hands each package its
section and the client); a half-configured channel starting anyway (it must refuse, naming what
is missing) or a configured one silently staying off; `make run` not saying which channels are
off; and every channel's user id shape being accepted where conversation ids are checked.
"""

from __future__ import annotations

import sys
import textwrap

import aiohttp
import pytest

import connectors
from backend_bridge.domain import commands, model
from connectors.channel import close_channels, deliveries, installed_channels
from connectors.settings import Settings, WeChatSettings, channel_sections, channels_line
from tests.conftest import ADMIN_TOKEN, bearer

TOKENS = {"WUYE_ADMIN_TOKEN": "a", "WUYE_INTERNAL_TOKEN": "b", "WUYE_RASA_TOKEN": "c"}
WECHAT = {"WUYE_WECHAT_APPID": "wx123", "WUYE_WECHAT_SECRET": "s3cret", "WUYE_WECHAT_TOKEN": "tok"}


def test_with_its_settings_empty_the_wechat_channel_is_off_and_the_line_says_what_to_set():
    sections = channel_sections({})
    assert sections["wechat"].on is False
    line = channels_line(sections)
    assert "off" in line and "WUYE_WECHAT_APPID" in line and "\n" not in line


def test_a_half_configured_channel_refuses_to_start_naming_what_is_missing():
    with pytest.raises(SystemExit, match="WUYE_WECHAT_TOKEN"):
        Settings.from_env({**TOKENS, "WUYE_WECHAT_APPID": "wx123", "WUYE_WECHAT_SECRET": "s"})
    with pytest.raises(SystemExit, match="43"):
        WeChatSettings.from_env({**WECHAT, "WUYE_WECHAT_AES_KEY": "too-short"})
    with pytest.raises(SystemExit, match="5 seconds"):
        WeChatSettings.from_env({**WECHAT, "WUYE_WECHAT_REPLY_BUDGET": "6"})


def test_the_wechat_section_is_read_with_the_other_settings(tmp_path):
    env = {
        **TOKENS,
        **WECHAT,
        "WUYE_VAR_DIR": str(tmp_path),
        "WUYE_WECHAT_API_BASE": "http://127.0.0.1:9/",
        "WUYE_REDIS_URL": "redis://127.0.0.1:6379/3",
        "WUYE_WECHAT_REPLY_BUDGET": "3.5",
    }
    section = Settings.from_env(env).channels["wechat"]
    assert section == WeChatSettings(
        appid="wx123",
        secret="s3cret",
        token="tok",
        api_base="http://127.0.0.1:9",
        reply_budget=3.5,
        redis_url="redis://127.0.0.1:6379/3",
    )
    assert section.on and "is on" in channels_line({"wechat": section})
    assert Settings.from_env(env, dispatcher=True).channels["wechat"] == section  # the dispatcher delivers


async def test_with_its_settings_the_wechat_channel_is_installed_and_serves_its_callback():
    section = WeChatSettings.from_env(WECHAT)
    assert "wechat" not in {c.name for c in installed_channels({"wechat": section})}  # no client for WeChat: off
    async with aiohttp.ClientSession() as http:
        channels = installed_channels({"wechat": section}, http)
        wechat = next(c for c in channels if c.name == "wechat")
        assert {(r.method, r.path) for r in wechat.routes()} == {("GET", "/wechat/mp"), ("POST", "/wechat/mp")}
        await close_channels(channels)


def test_without_settings_the_channels_that_need_none_are_installed():
    names = {channel.name for channel in installed_channels()}
    assert {"webchat", "log"} <= names
    assert "wechat" not in names


@pytest.fixture
def channel_folder(tmp_path, monkeypatch):
    """A new channel, written as one folder beside the others (and nothing else edited)."""
    package = tmp_path / "zz_probe"
    package.mkdir()
    (package / "__init__.py").write_text(
        textwrap.dedent(
            """
            from aiohttp import web

            created = []
            closed = []


            class Probe:
                name = "probe"

                def __init__(self, settings, http):
                    self.settings, self.http = settings, http

                def routes(self):
                    return [web.get("/probe", self.hello)]

                async def hello(self, request):
                    return web.Response(text=f"probe {self.settings}")

                def delivery(self, backend):
                    async def deliver(notification):
                        return "probe-path"

                    return deliver

                async def close(self):
                    closed.append(self)


            def create_channel(settings, http):
                if settings is None:
                    return None  # off
                created.append((settings, http))
                return Probe(settings, http)
            """
        )
    )
    monkeypatch.setattr(connectors, "__path__", [*connectors.__path__, str(tmp_path)])
    yield
    sys.modules.pop("connectors.zz_probe", None)


async def test_a_channel_is_one_folder_given_its_section_and_the_shared_client(channel_folder, backend):
    assert "probe" not in {c.name for c in installed_channels()}  # no section: off
    async with aiohttp.ClientSession() as http:
        channels = installed_channels({"zz_probe": "its-section"}, http)
        probe = next(c for c in channels if c.name == "probe")
        assert (probe.settings, probe.http) == ("its-section", http)
        notice = model.Notification("probe:someone", "您好", "staff", backend.clock())
        assert await deliveries(backend, channels)["probe"](notice) == "probe-path"
        await close_channels(channels)
        assert sys.modules["connectors.zz_probe"].closed == [probe]


async def test_a_channels_routes_are_served_by_the_public_app(channel_folder, backend, aiohttp_client):
    from connectors.app import public_app
    from connectors.gateway import Gateway
    from connectors.rasa import RasaClient

    async with aiohttp.ClientSession() as http:
        rasa = RasaClient("http://127.0.0.1:9", "t", http)
        channels = installed_channels({"zz_probe": "on"}, http)
        app = public_app(
            backend, Gateway(backend, rasa), admin_token="x", rasa=rasa, http=http, actions_url="", channels=channels
        )
        client = await aiohttp_client(app)
        resp = await client.get("/probe")
        assert (resp.status, await resp.text()) == (200, "probe on")


@pytest.mark.parametrize(
    "sender",
    [
        "wechat:oAbC-_123xyzABCDEFGHIJKLMNOP",  # a WeChat openid
        "wechat_kf:wmAbCdEf-_0123456789abcdefgh",  # a 微信客服 external_userid
        "sms:+8613800000501",  # a phone number, as SMS platforms send it
        "sms:13800000501",
        "webchat:3f2a9c",
    ],
)
async def test_every_channels_user_id_shape_is_a_conversation_id(public_client, backend, sender):
    await backend.bus.handle(commands.RecordInbound(sender, "你好"))
    resp = await public_client.get(f"/api/conversations/{sender}/messages", headers=bearer(ADMIN_TOKEN))
    assert resp.status == 200, await resp.text()
    assert [m["text"] for m in await resp.json()] == ["你好"]


WECOM = {
    "WUYE_WECOM_CORPID": "ww123",
    "WUYE_WECOM_KF_SECRET": "kf-s3cret",
    "WUYE_WECOM_TOKEN": "tok",
    "WUYE_WECOM_AES_KEY": "a" * 43,
}


def test_wechat_kf_is_off_with_its_settings_empty_and_refuses_to_start_half_configured(tmp_path):
    from connectors.settings import DEFAULT_WECOM_API, WeComKfSettings

    sections = channel_sections({})
    assert sections["wechat_kf"].on is False
    assert "WUYE_WECOM_CORPID" in channels_line(sections) and "微信客服" in channels_line(sections)
    with pytest.raises(SystemExit, match="WUYE_WECOM_KF_SECRET, WUYE_WECOM_AES_KEY"):
        Settings.from_env({**TOKENS, "WUYE_WECOM_CORPID": "ww123", "WUYE_WECOM_TOKEN": "tok"})
    with pytest.raises(SystemExit, match="43"):
        WeComKfSettings.from_env({**WECOM, "WUYE_WECOM_AES_KEY": "short"})
    section = Settings.from_env({**TOKENS, **WECOM, "WUYE_VAR_DIR": str(tmp_path)}).channels["wechat_kf"]
    assert section == WeComKfSettings("ww123", "kf-s3cret", "tok", "a" * 43, DEFAULT_WECOM_API)
    assert "微信客服 (WeCom) is on" in channels_line({"wechat_kf": section})


async def test_with_its_settings_wechat_kf_is_installed_with_its_callback_and_delivery():
    from connectors.settings import WeComKfSettings

    section = WeComKfSettings.from_env(WECOM)
    assert "wechat_kf" not in {c.name for c in installed_channels({"wechat_kf": section})}
    async with aiohttp.ClientSession() as http:
        channels = installed_channels({"wechat_kf": section}, http)
        kf = next(c for c in channels if c.name == "wechat_kf")
        assert {r.path for r in kf.routes()} == {"/wechat/kf"}
        assert hasattr(kf, "delivery")
        await close_channels(channels)


async def test_a_handoff_notice_is_written_and_delivered_only_for_channels_that_follow_handoffs(backend):
    from sqlalchemy import select

    from backend_bridge.service_layer import views
    from backend_bridge.service_layer.delivery import Dispatcher
    from backend_bridge.service_layer.notices import CONVERSATION_STATE

    reached: list[str] = []

    class Following:  # a channel whose platform keeps its own session state
        name = "following"
        follows_handoff = True

        def routes(self):
            return []

        def delivery(self, _backend):
            async def deliver(notification):
                reached.append(notification.kind)
                return "moved"

            return deliver

    backend.follow_handoffs(["following"])  # what the gateway says from the channels it runs
    await backend.bus.handle(commands.HandOff("webchat:handoff-owner", "owner_asked"))
    await backend.bus.handle(commands.HandOff("following:someone", "owner_asked"))
    await backend.bus.handle(commands.HandBack("following:someone", actor="admin"))
    async with backend.new_uow() as uow:  # one written for a channel that does not follow: skipped
        await uow.notifications.add(model.Notification("webchat:other", "[x]", CONVERSATION_STATE, backend.clock()))
        await uow.commit()
    channels = deliveries(backend, [*installed_channels(), Following()])
    assert await Dispatcher(backend.new_uow, channels, backend.clock).poll_once() == 3 + 2  # + the desk's notices
    assert reached == ["conversation_state", "conversation_state"]
    assert await views.updates_for(backend.new_uow(), "webchat:other", 0) == []  # the web chat shows nothing
    async with backend.new_uow() as uow:
        found = (
            await uow.session.scalars(
                select(model.Notification)
                .where(model.Notification.kind != "handoff_waiting")
                .order_by(model.Notification.id)
            )
        ).all()
        assert [(n.recipient, n.fields["status"] if n.fields else None, n.delivered_via) for n in found] == [
            ("following:someone", "handed_off", "moved"),
            ("following:someone", "bot", "moved"),
            ("webchat:other", None, "skipped:not-followed"),
        ]
