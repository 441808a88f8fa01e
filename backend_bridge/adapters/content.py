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

from backend_bridge.domain.model import Priority, ServiceLevel, TicketKind

log = logging.getLogger(__name__)

FEE_TOPICS = ("overview", "how_to_pay", "invoice", "late_fee", "standard", "public_income")
# Deadlines per kind and priority tier; a complaint has no emergency tier of its own.
TIERS = {
    "repair": ("emergency", "urgent", "normal", "low"),
    "complaint": ("urgent", "normal", "low"),
}
PROMISES = ("repair", "emergency", "complaint")


class ContentError(ValueError):
    pass


@dataclass(frozen=True)
class CommunityContent:
    name: str
    service_hotline: str
    duty_hotline: str
    office_hours: str
    fees: dict[str, str]
    service_levels: dict[str, dict[str, ServiceLevel]]
    promises: dict[str, str]
    emergency_advice: dict[str, str]
    warn_before_minutes: int = 30  # warn the accountable person this long before a deadline
    follow_up_close_hours: int = 72  # an unanswered rating question closes the ticket after this

    def fee_answer(self, topic: str) -> str:
        return self.fees.get(topic) or self.fees["overview"]

    def advice(self, hazard: str) -> str:
        return self.emergency_advice.get(hazard) or self.emergency_advice["default"]

    def level(self, kind: TicketKind | str, priority: Priority | str) -> ServiceLevel:
        kind, priority = TicketKind(kind).value, Priority(priority).value
        return self.service_levels[kind].get(priority) or self.service_levels["repair"][priority]

    def promise(self, kind: TicketKind | str, priority: Priority | str) -> str:
        """The published promise for a ticket, e.g. 维修人员会在30分钟内联系您，24小时内处理好。"""
        level = self.level(kind, priority)
        name = "emergency" if Priority(priority) is Priority.EMERGENCY else TicketKind(kind).value
        return self.promises[name].format(
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
    levels = section("service_levels", tuple(TIERS))
    promises = section("promises", PROMISES)
    advice = section("emergency_advice", ("default",))
    sla = raw.get("sla") or {}
    service_levels: dict[str, dict[str, ServiceLevel]] = {}
    try:
        for kind, tiers in TIERS.items():
            service_levels[kind] = {}
            for tier in tiers:
                entry = levels[kind][tier]
                level = ServiceLevel(int(entry["respond_minutes"]), int(entry["resolve_hours"]))
                if level.respond_minutes <= 0 or level.resolve_hours <= 0:
                    raise ContentError(f"service_levels.{kind}.{tier} must be positive")
                service_levels[kind][tier] = level
        warn_before = int(sla.get("warn_before_minutes", 30))
        close_after = int(sla.get("follow_up_close_hours", 72))
    except (KeyError, TypeError, ValueError, OverflowError, AttributeError) as exc:
        if isinstance(exc, ContentError):
            raise
        raise ContentError(f"service_levels/sla: missing or not a number: {exc}") from exc
    if warn_before < 0 or close_after <= 0:
        raise ContentError("sla values must be positive")
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
    for name in PROMISES:  # a placeholder typo must fail here, not in front of an owner
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
        warn_before_minutes=warn_before,
        follow_up_close_hours=close_after,
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
