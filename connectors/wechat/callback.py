"""The 公众号 callback's wire format: signatures, the three message modes, XML.

WeChat signs every call with sha1 over the sorted (token, timestamp, nonce); in compatible and
safe mode the message itself is AES-encrypted and signed again (``msg_signature``, over the
ciphertext too). wechatpy decrypts and parses; the signatures are compared here in constant time,
and everything that could hurt the parser is refused before it runs: bodies over 64 KB, any
DOCTYPE or ENTITY declaration (entity expansion), anything that is not one ``<xml>`` element.
Nothing of a refused call is processed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any
from xml.parsers.expat import ExpatError

import xmltodict
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.messages import BaseMessage
from wechatpy.replies import TextReply

from connectors.callbacks import Refused

MAX_BODY = 64 * 1024  # a real push is a few hundred bytes
MAX_AGE = 300  # seconds a signed call stays acceptable (WeChat retries within about 15)
# An openid is 28 characters of letters, digits, '-' and '_'; leave room, refuse anything else.
OPENID = re.compile(r"[A-Za-z0-9_-]{6,64}")
_DECLARATION = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("ascii"))


def verify(token: str, query: dict[str, str], now: float) -> tuple[str, str]:
    """Check the call's signature and age; returns (timestamp, nonce). Refused(403) otherwise."""
    timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
    if not timestamp.isdigit() or len(timestamp) > 12 or len(nonce) > 64:
        raise Refused(403, "missing or malformed timestamp or nonce")
    if not _same(query.get("signature", ""), signature(token, timestamp, nonce)):
        raise Refused(403, "bad signature")
    if abs(now - int(timestamp)) > MAX_AGE:
        raise Refused(403, "timestamp too old or in the future")
    return timestamp, nonce


def _xml_fields(raw: bytes | str) -> dict[str, Any]:
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    if _DECLARATION.search(data):
        raise Refused(400, "XML with a DOCTYPE or ENTITY declaration")
    try:
        parsed = xmltodict.parse(data)
    except (ExpatError, ValueError) as exc:
        raise Refused(400, f"not XML ({type(exc).__name__})") from None
    fields = parsed.get("xml") if isinstance(parsed, dict) else None
    if not isinstance(fields, dict):
        raise Refused(400, "not a WeChat message")
    return fields


@dataclass(frozen=True)
class Push:
    """One verified, decrypted push: the wechatpy message and whether the reply must be encrypted."""

    message: BaseMessage
    fields: dict[str, Any]
    encrypted: bool
    timestamp: str
    nonce: str

    @property
    def openid(self) -> str:
        return self.fields.get("FromUserName") or ""


def read_push(body: bytes, query: dict[str, str], *, token: str, crypto: WeChatCrypto | None, now: float) -> Push:
    """The push in any mode: plaintext; compatible (both, the ciphertext wins); safe (ciphertext)."""
    if len(body) > MAX_BODY:
        raise Refused(413, "body over 64 KB")
    timestamp, nonce = verify(token, query, now)
    fields = _xml_fields(body)
    encrypted = query.get("encrypt_type", "raw") == "aes"
    if encrypted:
        if crypto is None:
            raise Refused(400, "an encrypted message, but no WUYE_WECHAT_AES_KEY is set")
        ciphertext = fields.get("Encrypt")
        if not ciphertext:
            raise Refused(400, "encrypt_type=aes without Encrypt")
        if not _same(query.get("msg_signature", ""), signature(token, timestamp, nonce, ciphertext)):
            raise Refused(403, "bad msg_signature")
        try:
            plaintext = crypto.decrypt_message({"Encrypt": ciphertext}, query["msg_signature"], timestamp, nonce)
        except Exception as exc:  # noqa: BLE001 - whatever wechatpy makes of bad ciphertext (struct.error too)
            raise Refused(400, f"the message does not decrypt ({type(exc).__name__})") from None
        fields = _xml_fields(plaintext)
    if not OPENID.fullmatch(fields.get("FromUserName") or ""):
        raise Refused(400, "no usable FromUserName")
    if not fields.get("MsgType"):
        raise Refused(400, "no MsgType")
    for name, digits in (("MsgId", 32), ("CreateTime", 12)):  # the de-duplication key is made of these
        value = fields.get(name)
        if value is not None and (not isinstance(value, str) or not value.isdigit() or len(value) > digits):
            raise Refused(400, f"a malformed {name}")
    try:
        message = parse_message(xmltodict.unparse({"xml": fields}))
    except (ExpatError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise Refused(400, f"not a WeChat message ({type(exc).__name__})") from None
    return Push(message, fields, encrypted, timestamp, nonce)


def passive_reply(push: Push, text: str, crypto: WeChatCrypto | None, now: int) -> str:
    """The reply XML WeChat shows the owner (encrypted when the push was)."""
    reply = TextReply(source=push.fields.get("ToUserName", ""), target=push.openid, content=text, time=now).render()
    if push.encrypted and crypto is not None:
        return crypto.encrypt_message(reply, push.nonce, str(now))
    return reply
