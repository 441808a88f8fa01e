"""The providers' HTTP pushes: owners' replies (上行短信) and delivery receipts, read and checked.

Pushes are not signed; the secret path token (checked by the channel) is what makes them ours.
Everything is checked before anything is processed: a body that is not the provider's shape,
or any one item in it that is not, refuses the whole push (400), so nothing half-happens.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from common.phones import normalize_mobile
from connectors.callbacks import Refused, parse_json

MAX_BODY = 64 * 1024  # a real push is a few hundred bytes per message
MAX_ITEMS = 100
MAX_TEXT = 1000  # an owner's reply: a long SMS is at most a few hundred characters

# How each provider wants its pushes answered (they retry anything else).
ANSWERS = {"aliyun": {"code": 0, "msg": "接收成功"}, "tencent": {"result": 0, "errmsg": "OK"}}


@dataclass(frozen=True)
class Reply:
    """An owner's SMS to us: their mobile (11 digits), the text, a key that is the same for
    every repeat of the same push."""

    mobile: str
    text: str
    key: str


@dataclass(frozen=True)
class Receipt:
    message_id: str
    delivered: bool
    error: str | None
    parts: int | None


def _items(body: bytes, *, single_allowed: bool = False) -> list[dict[str, Any]]:
    if len(body) > MAX_BODY:
        raise Refused(413, "body over 64 KB")
    data = parse_json(body)
    if single_allowed and isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not data or len(data) > MAX_ITEMS:
        raise Refused(400, f"not a JSON array of 1 to {MAX_ITEMS} items")
    if not all(isinstance(item, dict) for item in data):
        raise Refused(400, "an item that is not an object")
    return data


def _text(item: dict[str, Any], name: str, limit: int = 64, *, required: bool = True) -> str:
    value = item.get(name)
    if value is None and not required:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or (required and not value) or len(value) > limit:
        raise Refused(400, f"a missing or malformed {name}")
    return value


def _mobile(value: str, nationcode: str = "") -> str:
    mobile = normalize_mobile(f"+{nationcode}{value}" if nationcode and nationcode != "86" else value)
    if mobile is None or (nationcode and nationcode != "86"):
        raise Refused(400, "not a mainland mobile number")
    return mobile


def _key(provider: str, *parts: str) -> str:
    """The de-duplication key: a stable digest of what identifies the message. JSON can carry a
    lone surrogate ("\\ud800"), which has no UTF-8 form: surrogatepass digests it like any other
    character (the gateway drops it from the text itself); it was a 500 once."""
    return f"{provider}:" + hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:40]


def replies(provider: str, body: bytes) -> list[Reply]:
    """Aliyun SmsUp: [{phone_number, content, send_time, sequence_id, sign_name, dest_code}];
    Tencent reply callback: {mobile, nationcode, text, time, sign, extend} (or an array of them)."""
    found = []
    if provider == "aliyun":
        for item in _items(body):
            mobile = _mobile(_text(item, "phone_number", 20))
            text = _text(item, "content", MAX_TEXT)
            sequence = _text(item, "sequence_id", 32, required=False)
            sent = _text(item, "send_time", 32)
            key = f"aliyun:{sequence}" if sequence.isdigit() else _key("aliyun", mobile, sent, text)
            found.append(Reply(mobile, text, key))
    else:
        for item in _items(body, single_allowed=True):
            mobile = _mobile(_text(item, "mobile", 20), _text(item, "nationcode", 8, required=False))
            text = _text(item, "text", MAX_TEXT)
            found.append(Reply(mobile, text, _key("tencent", mobile, _text(item, "time", 20), text)))
    return found


def receipts(provider: str, body: bytes) -> list[Receipt]:
    """Aliyun SmsReport: [{biz_id, success, err_code, err_msg, sms_size, phone_number, …}];
    Tencent status callback: [{sid, report_status SUCCESS|FAIL, errmsg, description, mobile, …}]."""
    found = []
    for item in _items(body):
        if provider == "aliyun":
            success = item.get("success")
            if not isinstance(success, bool):
                raise Refused(400, "a missing or malformed success")
            code, why = _text(item, "err_code", 64, required=False), _text(item, "err_msg", 200, required=False)
            size = _text(item, "sms_size", 4, required=False)
            error = None if success else f"{code or 'failed'}: {why}".rstrip(": ")
            found.append(Receipt(_text(item, "biz_id"), success, error, int(size) if size.isdigit() else None))
        else:
            status = _text(item, "report_status", 16)
            if status not in ("SUCCESS", "FAIL"):
                raise Refused(400, "report_status is neither SUCCESS nor FAIL")
            code, why = _text(item, "errmsg", 64, required=False), _text(item, "description", 200, required=False)
            error = None if status == "SUCCESS" else f"{code or 'FAIL'}: {why}".rstrip(": ")
            found.append(Receipt(_text(item, "sid"), status == "SUCCESS", error, None))
    return found
