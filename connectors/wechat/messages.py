"""What the 公众号 channel says and how it shapes text for WeChat: the welcome, the fixed answers,
long texts cut to the platform's 2048 bytes, template data, openids masked for logs."""

from __future__ import annotations

import re
import string
from typing import Any

from backend_bridge.adapters.content import MessageTemplate
from connectors.templates import template_values

MAX_TEXT_BYTES = 2048  # a customer-service or passive text message
# The bot's menu (domain.yml utter_greet; tests/wechat keeps the two the same): elderly owners answer with a digit.
MENU = "也可以回复数字：1 报修  2 投诉  3 物业费  4 访客登记  5 查进度  0 人工"
WELCOME = "您好，欢迎关注{name}！我是物业小助手，报修、投诉、查物业费、访客登记都可以直接跟我说。\n" + MENU
WELCOME_BACK = "欢迎回来！我是{name}的物业小助手，请问有什么可以帮您？\n" + MENU
VOICE_UNHEARD = "抱歉，这条语音我没能听清。麻烦您打字告诉我，比如“3号楼2单元501 厨房漏水”，工作人员也会看到您发了语音。"
IMAGE_RECEIVED = "收到您的图片，已转给物业工作人员查看。如需报修，请用文字说一下地址和问题。"
LOCATION_RECEIVED = "收到您发的位置，已转给物业工作人员。如需报修，请用文字说一下地址和问题。"
OTHER_RECEIVED = "收到。这类消息我还看不了，请用文字告诉我要办什么事。"
# What staff see in the message log for what the assistant cannot read.
VOICE_MARK = "[语音，未能识别]"
IMAGE_MARK = "[图片] {url}"
LOCATION_MARK = "[位置] {label}（{lat},{lng}）"
OTHER_MARK = "[{kind}]"
SUBSCRIBED_MARK = "[关注公众号]"
UNSUBSCRIBED_MARK = "[取消关注公众号]"

# The platform's limits per kind of template field (the key without its number: thing1 → thing).
FIELD_LIMITS = {
    "thing": 20,
    "character_string": 32,
    "number": 32,
    "letter": 32,
    "symbol": 5,
    "phrase": 5,
    "name": 10,
    "phone_number": 17,
    "car_number": 8,
}
EMPTY_FIELD = "-"  # the platform refuses empty values


def mask(openid: str) -> str:
    """An openid as logs may show it: enough to tell two apart, not enough to reach anyone."""
    return openid[:4] + "***" if len(openid) > 8 else "***"


def split_text(text: str, limit: int = MAX_TEXT_BYTES) -> list[str]:
    """``text`` in parts of at most ``limit`` UTF-8 bytes, cut after a line break where one is
    near, never inside a character."""
    parts: list[str] = []
    rest = text
    while len(rest.encode("utf-8")) > limit:
        cut, size = 0, 0
        for i, char in enumerate(rest):
            size += len(char.encode("utf-8"))
            if size > limit:
                break
            cut = i + 1
        newline = rest.rfind("\n", 0, cut)
        if newline > cut // 2:
            cut = newline + 1
        parts.append(rest[:cut].rstrip("\n"))
        rest = rest[cut:]
    if rest or not parts:
        parts.append(rest)
    return parts


def fits(replies: list[str]) -> bool:
    """Whether the replies fit one passive reply (which can carry only one message)."""
    return len(joined(replies).encode("utf-8")) <= MAX_TEXT_BYTES


def joined(replies: list[str]) -> str:
    return "\n\n".join(replies)


def _limit(key: str, value: str) -> str:
    kind = re.sub(r"\d+$", "", key)
    limit = FIELD_LIMITS.get(kind)
    if limit is None or len(value) <= limit:
        return value
    return value[: limit - 1] + "…" if kind == "thing" else value[:limit]


def template_data(template: MessageTemplate, fields: dict[str, Any] | None, text: str) -> dict[str, str]:
    """The template's keys filled from the notification's fields (content/company.yml wechat_templates)."""
    values = template_values(fields, text, time_format="%Y-%m-%d %H:%M", missing=EMPTY_FIELD)
    formatter = string.Formatter()
    data = {}
    for key, pattern in template.fields.items():
        value = formatter.vformat(pattern, (), values).strip()
        data[key] = _limit(key, value) or EMPTY_FIELD
    return data
