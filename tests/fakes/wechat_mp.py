"""The 公众号 (api.weixin.qq.com) endpoints of the fake: stable_token, customer-service and template messages.

Each handler takes the fake and the parsed JSON body and returns the success answer, or raises
ApiError with the code the real platform gives. The rules enforced are the ones that shape the
channel's design: the 48-hour window and 5 replies per owner message for customer-service messages,
2048 bytes of text, templates that must exist, a forced token refresh that retires the old token.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from tests.fakes.wechat_common import ApiError, text_content

if TYPE_CHECKING:
    from tests.fakes.wechat import FakeWeChat

WINDOW = timedelta(hours=48)  # customer-service messages only within 48 h of the owner's last message
REPLIES_PER_MESSAGE = 5  # and at most 5 of them per owner message
MAX_TEXT_BYTES = 2048
FORCED_REFRESHES_PER_DAY = 20  # stable_token with force_refresh
CUSTOM_TYPES = frozenset(
    {"text", "image", "voice", "video", "music", "news", "mpnews", "mpnewsarticle", "msgmenu", "wxcard"}
    | {"miniprogrampage"}
)


def stable_token(fake: FakeWeChat, body: dict[str, Any]) -> dict[str, Any]:
    if body.get("grant_type") != "client_credential":
        raise ApiError(40002)
    if body.get("appid") != fake.appid:
        raise ApiError(40013)
    if body.get("secret") != fake.secret:
        raise ApiError(40125)
    force = bool(body.get("force_refresh"))
    if force:
        day = fake.now().date()
        used = fake.forced_refreshes.get(day, 0)
        if used >= FORCED_REFRESHES_PER_DAY:
            raise ApiError(45009, "force_refresh")
        fake.forced_refreshes[day] = used + 1
    token = fake.mp_tokens.current(force=force)
    fake.token_requests += 1
    return {"access_token": token.value, "expires_in": fake.mp_tokens.seconds_left(token)}


def custom_send(fake: FakeWeChat, body: dict[str, Any]) -> dict[str, Any]:
    openid = body.get("touser")
    if not isinstance(openid, str) or not openid:
        raise ApiError(40003)
    msgtype = body.get("msgtype")
    if msgtype not in CUSTOM_TYPES:
        raise ApiError(40008, str(msgtype))
    content = text_content(body, MAX_TEXT_BYTES) if msgtype == "text" else None
    if openid in fake.unsubscribed:
        raise ApiError(45015, "unsubscribed")
    last = fake.mp_last_message.get(openid)
    if last is None or fake.now() - last > WINDOW:
        raise ApiError(45015)
    if fake.mp_replies.get(openid, 0) >= REPLIES_PER_MESSAGE:
        raise ApiError(45047)
    fake.mp_replies[openid] = fake.mp_replies.get(openid, 0) + 1
    fake.record_sent("custom", openid, msgtype, content)
    return {"errcode": 0, "errmsg": "ok"}


def template_send(fake: FakeWeChat, body: dict[str, Any]) -> dict[str, Any]:
    openid = body.get("touser")
    if not isinstance(openid, str) or not openid:
        raise ApiError(40003)
    template_id = body.get("template_id")
    if template_id not in fake.templates:
        raise ApiError(40037)
    data = body.get("data")
    if not isinstance(data, dict) or not all(isinstance(v, dict) and "value" in v for v in data.values()):
        raise ApiError(47001, "data must be {key: {value: ...}}")
    if openid in fake.unsubscribed:
        raise ApiError(43004)
    fake.template_msgids += 1
    msgid = fake.template_msgids
    extra = {"template_id": template_id, "data": data, "url": body.get("url"), "msgid": msgid}
    fake.record_sent("template", openid, "template", None, **extra)
    return {"errcode": 0, "errmsg": "ok", "msgid": msgid}
