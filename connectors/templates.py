"""Filling an operator's message template (content: wechat_templates, sms_templates) from a
notification's structured fields: one reading of the fields for every template channel.

Times (NOTICE_TIMES, ISO 8601 in the fields) become datetimes that format with the template's
own spec ("{at:%m月%d日}") or the channel's default; a field the notification lacks reads as the
channel's placeholder, since platforms refuse empty values. Each channel still applies its own
platform's limits to what comes out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from backend_bridge.domain.model import NOTICE_TIMES


class _Time(datetime):
    default = "%Y-%m-%d %H:%M"  # set per value by template_values

    def __format__(self, spec: str) -> str:
        return self.strftime(spec or self.default)


class _Fields(dict):
    def __init__(self, missing: str, **values: Any) -> None:
        super().__init__(**values)
        self.missing = missing

    def __missing__(self, key: str) -> str:
        return self.missing


def template_values(fields: dict[str, Any] | None, text: str, *, time_format: str, missing: str) -> dict[str, Any]:
    """The values a template's patterns are formatted with: the notification's ``text`` and its
    ``fields``, times as datetimes (``time_format`` when the pattern gives none), ``missing`` for
    any name the notification does not have."""
    values = _Fields(missing, text=text)
    for name, value in (fields or {}).items():
        if name in NOTICE_TIMES and isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                values[name] = value
                continue
            moment = _Time(*parsed.timetuple()[:6], tzinfo=parsed.tzinfo)
            moment.default = time_format
            values[name] = moment
        elif value is not None:
            values[name] = str(value)
    return values
