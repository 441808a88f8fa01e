"""The drivers produce what WeChat sends, as wechatpy (the reference the channel will use) reads it,
and retry as WeChat does. The callback here is a minimal aiohttp server written only with wechatpy:
if the driver signed, encrypted or shaped anything wrongly, wechatpy would refuse it.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import aiohttp
import pytest
import xmltodict
from aiohttp import web
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WorkCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from tests.fakes.wechat import FakeWeChat, KfDriver, WeChatDriver, new_aes_key
from tests.fakes.wechat_driver import InvalidReply

TOKEN, APPID, CORPID = "cb-token", "wx-test-app", "ww-test-corp"
AES_KEY = new_aes_key()


class Callback:
    """Our 公众号 callback reduced to wechatpy calls: verify, decrypt, parse, answer "收到：…"."""

    def __init__(self, token: str = TOKEN, *, hold: float = 0.0, slow_attempts: int = 0, plain_reply: bool = False):
        self.token, self.hold, self.slow_attempts, self.plain_reply = token, hold, slow_attempts, plain_reply
        self.crypto = WeChatCrypto(token, AES_KEY, APPID)
        self.seen: list[Any] = []  # wechatpy message objects, one per delivery
        self.raw: list[tuple[dict[str, str], str]] = []

    async def handle(self, request: web.Request) -> web.Response:
        q = request.query
        try:
            check_signature(self.token, q.get("signature", ""), q.get("timestamp", ""), q.get("nonce", ""))
        except InvalidSignatureException:
            return web.Response(status=403, text="bad signature")
        if request.method == "GET":
            return web.Response(text=q["echostr"])
        body = await request.text()
        self.raw.append((dict(q), body))
        encrypted = q.get("encrypt_type") == "aes"
        xml = self.crypto.decrypt_message(body, q["msg_signature"], q["timestamp"], q["nonce"]) if encrypted else body
        message = parse_message(xml)
        self.seen.append(message)
        if len(self.seen) <= self.slow_attempts:
            await asyncio.sleep(self.hold)
        if message.type == "event":
            return web.Response(text="success")
        reply = TextReply(message=message, content=f"收到：{getattr(message, 'content', message.type)}").render()
        if encrypted and not self.plain_reply:
            reply = self.crypto.encrypt_message(reply, q["nonce"], q["timestamp"])
        return web.Response(text=reply, content_type="application/xml")


async def serve(aiohttp_server, handler) -> str:
    app = web.Application()
    app.router.add_route("*", "/wechat", handler)
    server = await aiohttp_server(app)
    return str(server.make_url("/wechat"))


@pytest.fixture
async def callback(aiohttp_server):
    cb = Callback()
    cb.url = await serve(aiohttp_server, cb.handle)
    return cb


def driver(url: str, mode: str = "plain", **kw: Any) -> WeChatDriver:
    return WeChatDriver(url, token=TOKEN, appid=APPID, aes_key=AES_KEY, mode=mode, **kw)


def test_new_aes_key_is_a_valid_encoding_aes_key():
    key = new_aes_key()
    assert len(key) == 43 and key.isalnum() and key != new_aes_key()
    assert len(base64.b64decode(key + "=")) == 32
    WeChatCrypto(TOKEN, key, APPID)  # wechatpy asserts a 32-byte key


async def test_url_check_is_signed_as_wechat_signs_it(callback, aiohttp_server):
    for mode in ("plain", "safe"):  # the URL check is plain in every mode
        assert await driver(callback.url, mode).url_check("93752") == (200, "93752")
    wrong = Callback(token="someone-elses-token")
    url = await serve(aiohttp_server, wrong.handle)
    assert (await driver(url).url_check("93752"))[0] == 403


@pytest.mark.parametrize("mode", ["plain", "compat", "safe"])
async def test_each_mode_is_what_wechatpy_accepts_and_the_reply_comes_back_parsed(callback, mode):
    delivery = await driver(callback.url, mode).send_text("owner-1", "厨房漏水", msg_id=777)
    assert (delivery.status, delivery.attempts) == (200, 1)
    assert delivery.reply is not None
    assert delivery.reply["MsgType"] == "text" and delivery.reply["Content"] == "收到：厨房漏水"
    assert delivery.reply["ToUserName"] == "owner-1" and delivery.reply["FromUserName"] == "gh_wuye_test"
    [message] = callback.seen
    assert (message.type, message.content, message.id, message.source) == ("text", "厨房漏水", 777, "owner-1")
    params, body = callback.raw[0]
    fields = xmltodict.parse(body)["xml"]
    assert params["openid"] == "owner-1"
    if mode == "plain":
        assert "encrypt_type" not in params and "Encrypt" not in fields
    else:
        assert params["encrypt_type"] == "aes" and "Encrypt" in fields
    assert ("Content" in fields) == (mode != "safe")  # safe mode: only ToUserName and Encrypt
    if mode == "safe":
        assert set(fields) == {"ToUserName", "Encrypt"}


@pytest.mark.parametrize("mode", ["plain", "safe"])
async def test_voice_image_location_and_events_parse_as_wechatpy_expects(callback, mode):
    wx = driver(callback.url, mode)
    await wx.send_voice("owner-1", "三号楼漏水")
    await wx.send_voice("owner-1", None)
    await wx.send_image("owner-1")
    await wx.send_location("owner-1", 31.2304, 121.4737, "上海市静安区")
    events = [await wx.send_event("owner-1", "subscribe", event_key="qrscene_building-3")]
    events.append(await wx.send_event("owner-1", "unsubscribe"))
    voice, silent, image, location, subscribe, unsubscribe = callback.seen
    assert (voice.type, voice.recognition) == ("voice", "三号楼漏水")
    assert silent.recognition is None  # WeChat is withdrawing Recognition
    assert image.type == "image" and image.image.startswith("http")
    assert (location.type, location.label) == ("location", "上海市静安区")
    assert tuple(map(float, location.location)) == (31.2304, 121.4737)
    assert (subscribe.event, subscribe.scene_id) == ("subscribe_scan", "building-3")
    assert unsubscribe.event == "unsubscribe"
    assert [e.reply for e in events] == [None, None]  # "success"


async def test_the_driver_retries_the_same_msg_id_after_the_timeout(aiohttp_server):
    cb = Callback(hold=0.8, slow_attempts=2)
    url = await serve(aiohttp_server, cb.handle)
    delivery = await driver(url, "safe", timeout=0.3).send_text("owner-1", "电梯困人")
    assert delivery.attempts == 3 and delivery.status == 200
    assert delivery.reply is not None and delivery.reply["Content"] == "收到：电梯困人"
    assert len({m.id for m in cb.seen}) == 1 and len(cb.seen) == 3
    assert len({params["nonce"] for params, _ in cb.raw}) == 3  # signed anew each time, as WeChat does
    # gave up at its timeout, before the answer: each slow attempt was answered only after 0.8 s
    assert all(e >= 0.3 for e in delivery.elapsed[:2]) and len(cb.seen) == 3


async def test_the_driver_gives_up_after_attempts(aiohttp_server):
    cb = Callback(hold=0.4, slow_attempts=99)
    url = await serve(aiohttp_server, cb.handle)
    delivery = await driver(url, timeout=0.2, attempts=2).send_event("owner-1", "subscribe")
    assert (delivery.attempts, delivery.status, delivery.reply) == (2, 0, None)
    assert len(cb.seen) == 2
    assert cb.seen[0].create_time == cb.seen[1].create_time  # events repeat FromUserName + CreateTime
    await asyncio.sleep(0.3)  # let the held handlers finish before the server closes


async def test_a_reply_wechat_could_not_read_is_an_error(aiohttp_server):
    cb = Callback(plain_reply=True)
    url = await serve(aiohttp_server, cb.handle)
    with pytest.raises(InvalidReply):
        await driver(url, "safe").send_text("owner-1", "报修")
    assert (await driver(url, "compat").send_text("owner-1", "报修")).reply is not None  # compat accepts plaintext


async def test_build_and_post_let_tests_tamper(callback):
    wx = driver(callback.url, "safe")
    fields = {"ToUserName": "gh_wuye_test", "FromUserName": "owner-1", "CreateTime": 1, "MsgType": "text"}
    params, body = wx.build(fields | {"Content": "伪造", "MsgId": 1})
    assert await wx.post(params | {"signature": "0" * 40}, body) == (403, "bad signature")
    status, _ = await wx.post(params, body)
    assert status == 200 and callback.seen[-1].content == "伪造"


async def test_with_the_fake_each_owner_message_opens_the_customer_service_window(callback):
    async with FakeWeChat() as fake, aiohttp.ClientSession() as http:
        body = {"grant_type": "client_credential", "appid": fake.appid, "secret": fake.secret}
        async with http.post(fake.url + "/cgi-bin/stable_token", json=body) as response:
            token = (await response.json())["access_token"]

        async def custom(openid: str) -> int:
            message = {"touser": openid, "msgtype": "text", "text": {"content": "进度更新"}}
            url = fake.url + "/cgi-bin/message/custom/send"
            async with http.post(url, params={"access_token": token}, json=message) as response:
                return (await response.json())["errcode"]

        assert await custom("owner-1") == 45015
        await driver(callback.url, fake=fake).send_text("owner-1", "查进度")
        assert await custom("owner-1") == 0
        await driver(callback.url, fake=fake).send_event("owner-1", "unsubscribe")
        assert await custom("owner-1") == 45015


class KfCallback:
    """Our 微信客服 callback reduced to wechatpy: decrypt the notification, pull with its Token."""

    def __init__(self, fake: FakeWeChat) -> None:
        self.fake = fake
        self.crypto = WorkCrypto(TOKEN, AES_KEY, CORPID)
        self.pulled: list[dict[str, Any]] = []

    async def handle(self, request: web.Request) -> web.Response:
        q = request.query
        if request.method == "GET":
            echo = self.crypto.check_signature(q["msg_signature"], q["timestamp"], q["nonce"], q["echostr"])
            return web.Response(text=echo)
        xml = self.crypto.decrypt_message(await request.text(), q["msg_signature"], q["timestamp"], q["nonce"])
        event = xmltodict.parse(xml)["xml"]
        assert (event["ToUserName"], event["MsgType"], event["Event"]) == (CORPID, "event", "kf_msg_or_event")
        async with aiohttp.ClientSession() as http:
            query = {"corpid": self.fake.corpid, "corpsecret": self.fake.kf_secret}
            async with http.get(self.fake.url + "/cgi-bin/gettoken", params=query) as response:
                token = (await response.json())["access_token"]
            body = {"open_kfid": event["OpenKfId"], "token": event["Token"]}
            sync = self.fake.url + "/cgi-bin/kf/sync_msg"
            async with http.post(sync, params={"access_token": token}, json=body) as response:
                self.pulled.append(await response.json())
        return web.Response(text="success")


async def test_kf_driver_url_check_and_notification_work_with_wechatpy_and_the_fake(aiohttp_server):
    async with FakeWeChat(corpid=CORPID) as fake:
        cb = KfCallback(fake)
        url = await serve(aiohttp_server, cb.handle)
        kf = KfDriver(url, token=TOKEN, aes_key=AES_KEY, corpid=CORPID)
        assert await kf.url_check("kf-echo-1") == (200, "kf-echo-1")
        msg_token = fake.kf_customer_writes("wk-test-kf", "wm-1", "停车场灯坏了")
        assert await kf.notify("wk-test-kf", msg_token) == (200, "success")
        [page] = cb.pulled
        assert page["errcode"] == 0 and page["msg_list"][0]["text"]["content"] == "停车场灯坏了"
        assert await kf.notify("wk-test-kf", "ENCforged") == (200, "success")
        assert cb.pulled[-1]["errcode"] == 95007  # the Token really travelled through the encryption
        params, _ = kf.build("wk-test-kf", msg_token)
        assert set(params) == {"msg_signature", "timestamp", "nonce"}
