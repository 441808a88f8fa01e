"""What the SMS channel says and how it shapes text for mainland SMS: unsubscribe words, billed
parts, the operator's template variables filled from a notification's fields.

Mainland SMS may only carry pre-approved templates; the variables are what we choose. Each
variable is kept short (providers refuse long ones, and older readers want short texts), an
assistant's reply goes through the generic ``late_reply`` template in as few parts as needed.
"""

from __future__ import annotations

import math
import string
import unicodedata
from typing import Any

from backend_bridge.adapters.content import MessageTemplate
from connectors.templates import template_values

UNSUBSCRIBE_WORDS = frozenset({"T", "TD", "N", "R", "退订"})
OPTED_OUT = "您已退订，今后不再收到通知类短信；您报修、投诉的办理进度仍会短信告知。"
OPTED_OUT_MARK = "[退订]"
MAX_VARIABLE = 35  # characters per template variable (Aliyun's limit for a generic variable)
MAX_REPLY_PARTS = 4  # a longer reply is cut: SMS is for short answers
ONE_PART, EACH_PART = 70, 67  # characters in a single SMS; per part of a long (concatenated) one
EMPTY_VARIABLE = "-"  # providers refuse empty values


def is_unsubscribe(text: str) -> bool:
    """T, TD, N, R or 退订, however written (full-width, lower case, spaces around)."""
    return unicodedata.normalize("NFKC", text).strip().upper() in UNSUBSCRIBE_WORDS


def billed_parts(text: str) -> int:
    """How many SMS parts a text costs: up to 70 characters in one, 67 per part beyond."""
    size = len(text)
    return 1 if size <= ONE_PART else math.ceil(size / EACH_PART)


def split_reply(text: str, limit: int = MAX_VARIABLE, most: int = MAX_REPLY_PARTS) -> list[str]:
    """A reply in pieces of at most ``limit`` characters (one template variable each), line
    breaks as spaces; past ``most`` pieces the last ends with "…"."""
    flat = " ".join(text.split())
    pieces = [flat[i : i + limit] for i in range(0, len(flat), limit)] or [EMPTY_VARIABLE]
    if len(pieces) > most:
        pieces = pieces[:most]
        pieces[-1] = pieces[-1][: limit - 1] + "…"
    return pieces


class _Lenient(string.Formatter):
    """A format spec that does not fit the value (a time's "%H:%M" on a missing time, "-")
    writes the value plainly: a notice must not fail on a field it happens not to have."""

    def format_field(self, value: Any, format_spec: str) -> str:
        try:
            return super().format_field(value, format_spec)
        except (ValueError, TypeError):
            return str(value)


def variables(template: MessageTemplate, fields: dict[str, Any] | None, text: str) -> dict[str, str]:
    """The template's variables, in the operator's order, filled from the notification's fields
    (content: sms_templates, the same shape as wechat_templates); each at most 35 characters."""
    values = template_values(fields, text, time_format="%m-%d %H:%M", missing=EMPTY_VARIABLE)
    formatter = _Lenient()
    filled = {}
    for key, pattern in template.fields.items():
        value = " ".join(formatter.vformat(pattern, (), values).split())
        if len(value) > MAX_VARIABLE:
            value = value[: MAX_VARIABLE - 1] + "…"
        filled[key] = value or EMPTY_VARIABLE
    return filled
