"""What both sides of the fake WeChat share: the error answer, its codes and messages, time helpers.

The real platforms answer an API error with HTTP 200 and ``{"errcode": N, "errmsg": "..."}``; the
message carries a request id that changes every time, so a client must branch on ``errcode`` only.
The fake appends such an id too, to catch code that compares messages.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timezone
from typing import Any

# Messages as the platforms word them (the id suffix is added by ``errmsg``).
ERRMSG: dict[int, str] = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40008: "invalid message type",
    40013: "invalid appid",
    40014: "invalid access_token",
    40033: "invalid charaters in request, \\uxxxx is not allowed",
    40037: "invalid template_id",
    40058: "invalid parameter",
    40125: "invalid appsecret",
    41001: "access_token missing",
    42001: "access_token expired",
    43004: "require subscribe",
    44004: "empty content",
    45002: "content size out of limit",
    45009: "reach max api daily quota limit",
    45015: "response out of time limit or subscription is canceled",
    45047: "out of response count limit",
    47001: "data format error",
    40056: "invalid agentid",
    50100: "invalid cursor",
    81013: "user & party & tag all invalid",
    93000: "invalid webhook url",
    95000: "invalid open_kfid",
    95001: "send msg count limit",
    95002: "send msg time limit",
    95007: "invalid msg token",
    95013: "session already ended",
    95014: "user is not servicer",
    95016: "invalid service state transition",
    95018: "send msg session status invalid",
}


class ApiError(Exception):
    """A refusal the fake answers as the platform would: HTTP 200 with this errcode."""

    def __init__(self, errcode: int, detail: str = "") -> None:
        super().__init__(f"{errcode} {detail}".strip())
        self.errcode = errcode
        self.detail = detail


def errmsg(errcode: int, side: str, detail: str = "") -> str:
    """The platform's message plus a fresh request id (``rid`` on 公众号, ``hint`` on WeCom)."""
    text = ERRMSG.get(errcode, "error")
    if detail:
        text = f"{text}: {detail}"
    if side == "mp":
        return f"{text} rid: {secrets.token_hex(4)}-{secrets.token_hex(4)}-{secrets.token_hex(4)}"
    return f"{text}, hint: [{secrets.randbelow(10**18):018d}]"


def aware(moment: datetime) -> datetime:
    """Tests may pass naive datetimes; the fake compares in UTC, so naive means UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def utf8_len(text: str) -> int:
    """The platforms limit text by UTF-8 bytes (a CJK character is 3), not by characters."""
    return len(text.encode("utf-8"))


def text_content(body: dict[str, Any], max_bytes: int = 2048) -> str:
    """``text.content`` of a send request: present (44004 if not) and at most ``max_bytes`` (45002)."""
    text = body.get("text")
    content = text.get("content") if isinstance(text, dict) else None
    if not isinstance(content, str) or not content:
        raise ApiError(44004)
    if utf8_len(content) > max_bytes:
        raise ApiError(45002, f"{utf8_len(content)} bytes")
    return content
