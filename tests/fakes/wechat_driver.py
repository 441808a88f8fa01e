"""Drivers that play WeChat calling our callback URLs: the 公众号 push and the 微信客服 notification.

Why they exist: the hard parts of a WeChat channel are on the inbound side — signatures, the three
message modes, AES, and above all WeChat's retry (no answer within 5 s → the same message again,
3 deliveries in all). The drivers do what WeChat does, with wechatpy for all signing and crypto, so
the channel under test is checked against the same implementation the ecosystem uses.
"""

from __future__ import annotations

import secrets
import string
import struct
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from xml.parsers.expat import ExpatError

import aiohttp
import xmltodict
from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.enterprise.crypto import PrpCrypto as WorkPrpCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WorkCrypto
from wechatpy.exceptions import WeChatException
from wechatpy.utils import WeChatSigner

if TYPE_CHECKING:
    from tests.fakes.wechat import FakeWeChat

MODES = ("plain", "compat", "safe")
DEFAULT_ECHOSTR = "6349810528367109472"  # WeChat sends a random number string
REPLY_TYPES = {"text", "image", "voice", "video", "music", "news", "transfer_customer_service"}
# What opens the 48-hour customer-service window besides a message (the platform's list): a
# follow, a QR scan, a click on a menu item of the "click" kind. Leaving, links, location reports do not.
WINDOW_EVENTS = {"subscribe", "scan", "click"}


def new_aes_key() -> str:
    """A valid random EncodingAESKey: 43 letters and digits, as the admin console generates them."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(43))


def to_xml(fields: Mapping[str, Any]) -> str:
    """WeChat's XML: numbers bare, text in CDATA (a ``]]>`` inside is split the standard way)."""
    parts = ["<xml>"]
    for name, value in fields.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            parts.append(f"<{name}>{value}</{name}>")
        else:
            text = str(value).replace("]]>", "]]]]><![CDATA[>")
            parts.append(f"<{name}><![CDATA[{text}]]></{name}>")
    parts.append("</xml>")
    return "".join(parts)


def sign(*parts: str) -> str:
    """sha1 of the sorted concatenation: the signature of the URL check, the push, and msg_signature."""
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def _nonce() -> str:
    return str(secrets.randbelow(10**10)).zfill(10)


class InvalidReply(AssertionError):
    """The callback answered 200 with something WeChat would not accept (it would show the owner
    "该公众号暂时无法提供服务"): not "success"/empty, not a reply XML, or not encrypted in safe mode."""


@dataclass
class Delivery:
    status: int  # HTTP status of the last attempt (0: no answer within the timeout, or no connection)
    body: str  # raw body of the last attempt
    attempts: int  # deliveries made (1..attempts)
    reply: dict[str, Any] | None  # the passive reply, decrypted and parsed; None for "success"/empty
    elapsed: list[float] = field(default_factory=list)  # seconds per attempt


async def _request(
    method: str, url: str, timeout: float, params: dict[str, str], body: bytes | None
) -> tuple[int, str]:
    """One HTTP exchange; raises TimeoutError when the callback does not answer within ``timeout``."""
    headers = {"Content-Type": "text/xml", "User-Agent": "Mozilla/4.0"} if body is not None else {}
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
        session.request(method, url, params=params, data=body, headers=headers) as response,
    ):
        return response.status, await response.text()


class WeChatDriver:
    """Plays WeChat calling our 公众号 callback URL: builds, signs and (compat/safe) encrypts messages,
    gives up after ``timeout`` and delivers the same MsgId again, at most ``attempts`` deliveries.

    ``account`` is the 公众号's original id (ToUserName of every push). ``clock`` sets CreateTime and
    the signature timestamp; by default the fake's clock when ``fake`` is given, else real time.
    """

    def __init__(
        self,
        callback_url: str,
        *,
        token: str,
        appid: str,
        aes_key: str | None = None,
        mode: str = "plain",
        timeout: float = 5.0,
        attempts: int = 3,
        fake: FakeWeChat | None = None,
        account: str = "gh_wuye_test",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        if mode != "plain" and not aes_key:
            raise ValueError(f"{mode} mode needs the EncodingAESKey")
        self.callback_url, self.token, self.appid, self.mode = callback_url, token, appid, mode
        self.timeout, self.attempts, self.fake, self.account = timeout, attempts, fake, account
        self.clock = clock or (fake.now if fake is not None else lambda: datetime.now(timezone.utc))
        self._crypto = WeChatCrypto(token, aes_key, appid) if aes_key else None
        self._next_msg_id = 24_000_000_000_000_000 + secrets.randbelow(10**15)

    def _timestamp(self) -> int:
        return int(self.clock().timestamp())

    # -- the messages an owner sends ---------------------------------------------------------
    async def send_text(self, openid: str, text: str, *, msg_id: int | None = None) -> Delivery:
        return await self._message(openid, "text", {"Content": text}, msg_id)

    async def send_voice(self, openid: str, recognition: str | None, *, msg_id: int | None = None) -> Delivery:
        """``recognition`` None: the field is absent (WeChat is withdrawing it); "" arrives empty."""
        fields: dict[str, Any] = {"MediaId": f"media-{secrets.token_hex(8)}", "Format": "amr"}
        if recognition is not None:
            fields["Recognition"] = recognition
        return await self._message(openid, "voice", fields, msg_id)

    async def send_image(self, openid: str, *, msg_id: int | None = None) -> Delivery:
        picture = {
            "PicUrl": f"http://mmbiz.qpic.cn/{secrets.token_hex(8)}/0",
            "MediaId": f"media-{secrets.token_hex(8)}",
        }
        return await self._message(openid, "image", picture, msg_id)

    async def send_location(
        self, openid: str, lat: float, lng: float, label: str, *, msg_id: int | None = None
    ) -> Delivery:
        fields = {"Location_X": lat, "Location_Y": lng, "Scale": 15, "Label": label}
        return await self._message(openid, "location", fields, msg_id)

    async def send_event(self, openid: str, event: str, *, event_key: str = "") -> Delivery:
        """subscribe (event_key "qrscene_<scene>" when through a QR code), unsubscribe, SCAN, CLICK…
        Events have no MsgId: WeChat's retries repeat FromUserName + CreateTime instead."""
        fields: dict[str, Any] = self._head(openid, "event") | {"Event": event}
        if event_key or event.lower() in ("click", "view", "scan"):
            fields["EventKey"] = event_key
        if event_key and event.lower() in ("subscribe", "scan"):
            fields["Ticket"] = f"gQ{secrets.token_hex(12)}"
        if self.fake is not None:
            if event.lower() in WINDOW_EVENTS:
                self.fake.user_wrote(openid)
            if event.lower() == "subscribe":
                self.fake.unsubscribed.discard(openid)
            elif event.lower() == "unsubscribe":
                self.fake.unsubscribed.add(openid)
        return await self._deliver(fields)

    def _head(self, openid: str, msgtype: str) -> dict[str, Any]:
        return {"ToUserName": self.account, "FromUserName": openid, "CreateTime": self._timestamp(), "MsgType": msgtype}

    async def _message(self, openid: str, msgtype: str, fields: dict[str, Any], msg_id: int | None) -> Delivery:
        if msg_id is None:
            self._next_msg_id += 1
            msg_id = self._next_msg_id
        if self.fake is not None:
            self.fake.user_wrote(openid)  # before delivery: the callback may answer by custom/send at once
        return await self._deliver(self._head(openid, msgtype) | fields | {"MsgId": msg_id})

    # -- delivery ----------------------------------------------------------------------------
    async def _deliver(self, fields: dict[str, Any]) -> Delivery:
        """WeChat's loop: the same message (new nonce and signature each time) until an answer comes."""
        status, body, elapsed = 0, "", []
        for attempt in range(1, self.attempts + 1):
            params, payload = self.build(fields)
            started = time.monotonic()
            try:
                status, body = await self.post(params, payload)
            except (TimeoutError, aiohttp.ClientError):
                status, body = 0, ""
            elapsed.append(time.monotonic() - started)
            if status == 200:
                return Delivery(status, body, attempt, self._reply(body, str(fields["FromUserName"])), elapsed)
        return Delivery(status, body, self.attempts, None, elapsed)

    def build(self, xml_fields: dict[str, Any]) -> tuple[dict[str, str], bytes]:
        """Query parameters and body of one push, signed (and encrypted in compat/safe mode)."""
        timestamp, nonce = str(self._timestamp()), _nonce()
        params = {"signature": sign(self.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
        params["openid"] = str(xml_fields.get("FromUserName", ""))
        plaintext = to_xml(xml_fields)
        if self.mode == "plain":
            return params, plaintext.encode("utf-8")
        assert self._crypto is not None
        encrypted = PrpCrypto(self._crypto.key).encrypt(plaintext, self.appid).decode("ascii")
        params |= {"encrypt_type": "aes", "msg_signature": sign(self.token, timestamp, nonce, encrypted)}
        if self.mode == "compat":
            body = to_xml(dict(xml_fields) | {"Encrypt": encrypted})
        else:
            body = to_xml({"ToUserName": xml_fields.get("ToUserName", self.account), "Encrypt": encrypted})
        return params, body.encode("utf-8")

    async def post(self, params: dict[str, str], body: bytes) -> tuple[int, str]:
        """One raw delivery, no retry; raises TimeoutError after ``timeout``."""
        return await _request("POST", self.callback_url, self.timeout, params, body)

    async def url_check(self, echostr: str = DEFAULT_ECHOSTR) -> tuple[int, str]:
        """The GET WeChat sends when the URL is configured (plain in every mode): answer ``echostr``."""
        timestamp, nonce = str(self._timestamp()), _nonce()
        params = {"signature": sign(self.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
        return await _request("GET", self.callback_url, self.timeout, params | {"echostr": echostr}, None)

    def _reply(self, body: str, openid: str) -> dict[str, Any] | None:
        """What WeChat makes of a 200: nothing for "success"/empty, else a reply it can read or an error."""
        if body.strip() in ("", "success"):
            return None
        fields = _parse_xml(body)
        if "Encrypt" in fields:
            if self.mode == "plain" or self._crypto is None:
                raise InvalidReply(f"an encrypted reply in plain mode: {body[:200]}")
            try:
                plaintext = self._crypto.decrypt_message(
                    body, fields.get("MsgSignature", ""), fields.get("TimeStamp", ""), fields.get("Nonce", "")
                )
            except (WeChatException, ValueError, KeyError, IndexError, struct.error) as exc:
                raise InvalidReply(f"the encrypted reply does not verify ({exc!r}): {body[:200]}") from exc
            fields = _parse_xml(plaintext)
        elif self.mode == "safe":
            raise InvalidReply(f"a plaintext reply in safe mode: {body[:200]}")
        if fields.get("ToUserName") != openid or str(fields.get("MsgType", "")).lower() not in REPLY_TYPES:
            raise InvalidReply(f"not a reply to {openid}: {fields}")
        return fields


def _parse_xml(text: str) -> dict[str, Any]:
    try:
        parsed = xmltodict.parse(text)
    except ExpatError as exc:
        raise InvalidReply(f"not XML: {text[:200]}") from exc
    if not isinstance(parsed, dict) or not isinstance(parsed.get("xml"), dict):
        raise InvalidReply(f"not a WeChat XML document: {text[:200]}")
    return dict(parsed["xml"])


class KfDriver:
    """Plays WeCom calling our 微信客服 callback: encrypted (WeCom crypto, receiveid=corpid)
    kf_msg_or_event with the Token from the fake."""

    def __init__(
        self,
        callback_url: str,
        *,
        token: str,
        aes_key: str,
        corpid: str,
        timeout: float = 5.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.callback_url, self.token, self.corpid, self.timeout = callback_url, token, corpid, timeout
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self._crypto = WorkCrypto(token, aes_key, corpid)

    def _encrypt(self, plaintext: str) -> str:
        return WorkPrpCrypto(self._crypto.key).encrypt(plaintext, self.corpid).decode("ascii")

    async def url_check(self, echostr: str = DEFAULT_ECHOSTR) -> tuple[int, str]:
        """WeCom's URL check: echostr encrypted and signed; the answer must be its plaintext."""
        timestamp, nonce = str(int(self.clock().timestamp())), _nonce()
        encrypted = self._encrypt(echostr)
        params = {"msg_signature": sign(self.token, timestamp, nonce, encrypted), "timestamp": timestamp}
        params |= {"nonce": nonce, "echostr": encrypted}
        return await _request("GET", self.callback_url, self.timeout, params, None)

    def build(self, open_kfid: str, msg_token: str) -> tuple[dict[str, str], bytes]:
        timestamp = int(self.clock().timestamp())
        event = {"ToUserName": self.corpid, "CreateTime": timestamp, "MsgType": "event", "Event": "kf_msg_or_event"}
        encrypted = self._encrypt(to_xml(event | {"Token": msg_token, "OpenKfId": open_kfid}))
        nonce = _nonce()
        params = {"msg_signature": sign(self.token, str(timestamp), nonce, encrypted), "timestamp": str(timestamp)}
        params["nonce"] = nonce
        return params, to_xml({"ToUserName": self.corpid, "Encrypt": encrypted}).encode("utf-8")

    async def notify(self, open_kfid: str, msg_token: str) -> tuple[int, str]:
        """One delivery of the notification; raises TimeoutError after ``timeout``."""
        params, body = self.build(open_kfid, msg_token)
        return await _request("POST", self.callback_url, self.timeout, params, body)
