"""Per-community content an operator edits without touching code (content/community.yml).

Fee answers, hotlines, published service levels and emergency advice differ per
community and change more often than code. The file is re-read when it changes;
an edit that does not validate is logged and the last good version stays in use,
so a typo never takes the assistant down.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from backend_bridge.domain.model import ServiceLevel

log = logging.getLogger(__name__)

FEE_TOPICS = ("overview", "how_to_pay", "invoice", "late_fee", "standard", "public_income")
SERVICE_LEVELS = ("repair", "urgent", "complaint")


class ContentError(ValueError):
    pass


@dataclass(frozen=True)
class CommunityContent:
    name: str
    service_hotline: str
    duty_hotline: str
    office_hours: str
    fees: dict[str, str]
    service_levels: dict[str, ServiceLevel]
    promises: dict[str, str]
    emergency_advice: dict[str, str]

    def fee_answer(self, topic: str) -> str:
        return self.fees.get(topic) or self.fees["overview"]

    def advice(self, hazard: str) -> str:
        return self.emergency_advice.get(hazard) or self.emergency_advice["default"]

    def promise(self, level_name: str) -> str:
        """The published promise for a ticket, e.g. 维修人员会在30分钟内联系您，24小时内处理好。"""
        level = self.service_levels[level_name]
        return self.promises[level_name].format(
            respond=_duration(level.respond_minutes), resolve=_duration(level.resolve_hours * 60)
        )


def _duration(minutes: int) -> str:
    if minutes % 60 == 0 and minutes >= 60:
        return f"{minutes // 60}小时"
    return f"{minutes}分钟"


def parse_content(raw: object) -> CommunityContent:
    """Validate the YAML document; raises ContentError naming the first problem."""
    if not isinstance(raw, dict):
        raise ContentError("the file must be a mapping")

    def section(name: str, keys: tuple[str, ...] = ()) -> dict:
        value = raw.get(name)
        if not isinstance(value, dict):
            raise ContentError(f"section '{name}' is missing")
        for key in keys:
            if key not in value:
                raise ContentError(f"'{name}.{key}' is missing")
        return value

    community = section("community", ("name", "service_hotline", "duty_hotline", "office_hours"))
    fees = section("fees", FEE_TOPICS)
    levels = section("service_levels", SERVICE_LEVELS)
    promises = section("promises", SERVICE_LEVELS)
    advice = section("emergency_advice", ("default",))
    try:
        service_levels = {
            name: ServiceLevel(int(levels[name]["respond_minutes"]), int(levels[name]["resolve_hours"]))
            for name in SERVICE_LEVELS
        }
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise ContentError(f"service_levels: {exc}") from exc
    for name, level in service_levels.items():
        if level.respond_minutes <= 0 or level.resolve_hours <= 0:
            raise ContentError(f"service_levels.{name} must be positive")
    texts = (
        {f"fees.{k}": v for k, v in fees.items()}
        | {f"promises.{k}": v for k, v in promises.items()}
        | {f"emergency_advice.{k}": v for k, v in advice.items()}
    )
    for key, value in texts.items():
        if not isinstance(value, str) or not value.strip():
            raise ContentError(f"'{key}' must be non-empty text")
    for key, value in community.items():  # a hotline may be written as a bare number
        if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
            raise ContentError(f"'community.{key}' must be non-empty text")
    for name in SERVICE_LEVELS:  # a placeholder typo must fail here, not in front of an owner
        try:
            promises[name].format(respond="", resolve="")
        except (KeyError, IndexError, ValueError) as exc:
            raise ContentError(
                f"'promises.{name}' has a bad placeholder ({exc!r}); use {{respond}} and {{resolve}}"
            ) from exc
    return CommunityContent(
        name=str(community["name"]),
        service_hotline=str(community["service_hotline"]),
        duty_hotline=str(community["duty_hotline"]),
        office_hours=str(community["office_hours"]),
        fees={k: v.strip() for k, v in fees.items()},
        service_levels=service_levels,
        promises={k: v.strip() for k, v in promises.items()},
        emergency_advice={k: str(v).strip() for k, v in advice.items()},
    )


class ContentStore:
    """Hands out the current content, reloading the file when its mtime changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._mtime = os.stat(path).st_mtime  # before reading: an edit in between is loaded next time
        self._content = parse_content(yaml.safe_load(path.read_text(encoding="utf-8")))

    def get(self) -> CommunityContent:
        try:
            mtime = os.stat(self.path).st_mtime
        except OSError:
            log.error("community content %s is unreadable; keeping the last good version", self.path)
            return self._content
        if mtime != self._mtime:
            self._mtime = mtime
            try:
                self._content = parse_content(yaml.safe_load(self.path.read_text(encoding="utf-8")))
                log.info("reloaded community content from %s", self.path)
            except (ContentError, yaml.YAMLError, OSError, ValueError) as exc:  # ValueError: not UTF-8
                log.error("community content %s rejected (%s); keeping the last good version", self.path, exc)
        return self._content
