"""What several actions need: reading the latest message, form slots, location helpers."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from actions.backend import BackendUnavailable, backend
from bot.text.description import says_what, without_address
from bot.text.normalize import without_fillers
from common.wording import describe_place

# Slots every flow fills; a new flow starts from a clean slate so nothing leaks between requests.
FLOW_SLOTS = (
    "building",
    "unit",
    "room",
    "public_area",
    "phone",
    "problem",
    "complaint_details",
    "anonymous",
    "visitor_name",
    "visit_start",
    "visit_end",
    "visit_kind",
    "visitor_plate",
    "summary",
    "confirmed",
)
ADDRESS_SLOTS = ("building", "unit", "room", "public_area")
# While one of these is the owner's intent, their words are a question or a command,
# not the free-text answer a form is waiting for.
NOT_AN_ANSWER = {
    "ask_fee",
    "check_status",
    "chase_ticket",
    "request_human",
    "cancel",
    "request_visitor_pass",
    "report_emergency",
    "greet",
    "goodbye",
    "thank",
    "affirm",
    "deny",
}


def clear_flow() -> list[dict[str, Any]]:
    return [SlotSet(name, None) for name in (*FLOW_SLOTS, "requested_slot")]


def intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def text(tracker: Tracker) -> str:
    return (tracker.latest_message.get("text") or "").strip()


def entities(tracker: Tracker, name: str) -> list[dict]:
    return [e for e in tracker.latest_message.get("entities") or [] if e.get("entity") == name]


def entity(tracker: Tracker, name: str) -> str | None:
    found = entities(tracker, name)
    return str(found[0]["value"]) if found else None


def description(message: dict) -> str:
    """What the owner wrote about the problem, without mentions, a leading/trailing address or
    a call's fillers (the message log keeps the original)."""
    return without_fillers(without_address(message.get("text") or ""))


def location_in_message(message: dict) -> dict[str, str]:
    found: dict[str, str] = {}
    for e in message.get("entities") or []:
        if e.get("entity") in ADDRESS_SLOTS and e["entity"] not in found:
            found[e["entity"]] = str(e["value"])
    return found


def previous_inform(tracker: Tracker) -> dict:
    """The owner's previous message when it only informed (3号楼2单元501 阳台门卡住了 → 报修).

    Lets a flow that starts now use what was said just before; {} when there is none.
    """
    users = [e for e in tracker.events if e.get("event") == "user"]
    if len(users) >= 2:
        parsed = users[-2].get("parse_data") or {}
        if (parsed.get("intent") or {}).get("name") == "inform":
            return {**parsed, "text": users[-2].get("text") or parsed.get("text", "")}
    return {}


def recent_location(tracker: Tracker) -> dict[str, str]:
    """Address in this message, or in the owner's previous, informing message."""
    return location_in_message(tracker.latest_message) or location_in_message(previous_inform(tracker))


def recent_description(tracker: Tracker) -> str | None:
    """What the owner says is wrong, in this message or the previous informing one."""
    for message in (tracker.latest_message, previous_inform(tracker)):
        if message and says_what(message.get("text") or ""):
            return description(message)
    return None


async def own_flat(sender: str) -> dict[str, str]:
    """The flat this sender is bound to (own unit), or {} when unknown or unreachable."""
    try:
        found = await backend().binding(sender)
    except BackendUnavailable:
        return {}
    return {k: found[k] for k in ("building", "unit", "room")} if found else {}


def describe(location: dict[str, Any]) -> str:
    """3号楼2单元501 / 5号楼 电梯: worded exactly as the backend words it on the ticket."""
    return describe_place(**{k: location.get(k) for k in ADDRESS_SLOTS})
