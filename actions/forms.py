"""Shared behaviour of the forms: bare-number answers, address checks, confirm-before-submit.

Every form that opens something ends with a ``confirmed`` slot: the owner sees a
short summary and answers 是/不是. "不是" together with a correction (不对，是502)
updates that part and asks again; "不是" alone starts the form over.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.backend import BackendUnavailable, backend
from actions.common import (
    ADDRESS_SLOTS,
    NOT_AN_ANSWER,
    description,
    entities,
    entity,
    intent,
    location_in_message,
    own_flat,
    text,
)
from actions.emergency import open_emergency
from bot.text.description import says_what
from bot.text.entities import hazard_read_together
from bot.text.normalize import normalize
from bot.text.script import to_simplified

Slots = dict[str, Any]
# A confirmation answered with these is a "no", whatever the classifier made of the rest.
_NO = re.compile(r"\s*(不对|不是|错了|错啦|有错|不正确|否)")


def previous_text(tracker: Tracker) -> str:
    """What the owner wrote before their latest message in this conversation ("" if nothing)."""
    said = [e.get("text") or "" for e in tracker.events if e.get("event") == "user"]
    return said[-2] if len(said) >= 2 else ""


def second_look(tracker: Tracker) -> str | None:
    """The hazard the owner's previous message and the latest one show together (issue 15: a
    missed emergency caught at the next message), or None."""
    earlier = previous_text(tracker)
    if not earlier:
        return None
    return hazard_read_together(normalize(earlier).text, normalize(text(tracker)).text)


def described(tracker: Tracker, slot: str) -> Slots:
    """The owner's own words for a free-text slot whenever they describe something,
    even before being asked (厨房漏水 while we asked for the address); never a command."""
    if intent(tracker) in NOT_AN_ANSWER:
        return {}
    asked = tracker.get_slot("requested_slot") == slot
    if (asked or not tracker.get_slot(slot)) and says_what(text(tracker)):
        return {slot: description(tracker.latest_message)}
    return {}


def _bare_number(tracker: Tracker, slot: str) -> Slots:
    """A message that is only a number answers the question just asked (几单元？→ 2)."""
    number = entity(tracker, "number")
    if number and tracker.get_slot("requested_slot") == slot:
        return {slot: number}
    return {}


def _asks(event: dict) -> bool:
    return event.get("event") == "slot" and event.get("name") == "requested_slot"


class ConfirmingForm(FormValidationAction):
    """Base for forms: subclasses name their ``restartable`` slots and write ``summary``."""

    restartable: tuple[str, ...] = ()

    @abstractmethod
    def name(self) -> str:
        """Abstract here, so rasa-sdk registers only the concrete forms."""

    @abstractmethod
    def summary(self, tracker: Tracker) -> str | None:
        """The text shown before confirmation, or None while something is still missing."""

    async def checked(self, dispatcher: CollectingDispatcher, tracker: Tracker, events: list[dict]) -> list[dict]:
        """Checks that need all of this turn's slots at once; returns events to append."""
        return []

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        if hazard := second_look(tracker):
            # A danger the owner's last two messages show only together: the form ends, the
            # emergency opens, as if the first message had been read right.
            where = {k: str(tracker.get_slot(k)) for k in ADDRESS_SLOTS if tracker.get_slot(k)}
            where = location_in_message(tracker.latest_message) or where or await own_flat(tracker.sender_id)
            said = f"{previous_text(tracker)}，{text(tracker)}"
            return await open_emergency(dispatcher, tracker, hazard, said, where)
        events = await super().run(dispatcher, tracker, domain)
        tracker.add_slots([e for e in events if e.get("event") == "slot"])
        extra = await self.checked(dispatcher, tracker, events)
        tracker.add_slots(extra)
        if any(_asks(e) for e in extra):
            # Rasa asks for the first requested_slot it finds: the one rasa-sdk chose from the
            # slots before the check (the confirmation, with a summary that no longer exists)
            # must give way to the check's own (the address again).
            events = [e for e in events if not _asks(e)]
        events += extra
        summary = self.summary(tracker) if tracker.get_slot("confirmed") is None else tracker.get_slot("summary")
        if summary != tracker.get_slot("summary"):
            events.append(SlotSet("summary", summary))  # only on change, so digressions are still rejected
        return events

    async def extract_confirmed(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Slots:
        if tracker.get_slot("requested_slot") != "confirmed":
            return {}
        said = intent(tracker)
        if said == "affirm":
            return {"confirmed": True}
        negated = said == "deny" or _NO.match(to_simplified(text(tracker)))
        if negated or (said in ("inform", "nlu_fallback") and self.corrected(tracker)):
            return {"confirmed": False}
        return {}

    def corrected(self, tracker: Tracker) -> bool:
        """Whether the owner's "不是" message already carries the right value (不对，是502)."""
        return bool(location_in_message(tracker.latest_message)) or bool(entities(tracker, "person_name"))

    def corrections(self, tracker: Tracker) -> Slots:
        """Slot values a correction implies beyond what the slot mappings already applied."""
        return {}

    async def validate_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        if value is None:  # cleared in this turn (rasa-sdk validates cleared slots too)
            return {"confirmed": None}
        if value is True:
            return {"confirmed": True}
        if self.corrected(tracker):
            # The correction is applied; show the new summary and ask again.
            return {"confirmed": None, "summary": None, **self.corrections(tracker)}
        dispatcher.utter_message(response="utter_restart_form")
        return {name: None for name in (*self.restartable, "confirmed", "summary")}


_LONE_ROOM = re.compile(r"(?<![\d.])(\d{3,4})(?![\d.])")


class AddressForm(ConfirmingForm):
    """Forms that ask for a flat: bare numbers fill the asked part; unknown flats are refused."""

    def corrected(self, tracker: Tracker) -> bool:
        return super().corrected(tracker) or bool(self.corrections(tracker))

    def corrections(self, tracker: Tracker) -> Slots:
        """不对，是301: a lone three- or four-digit number in a correction is the room."""
        if location_in_message(tracker.latest_message) or not tracker.get_slot("room"):
            return {}
        numbers = _LONE_ROOM.findall(tracker.latest_message.get("text") or "")
        return {"room": numbers[0]} if len(numbers) == 1 else {}

    async def extract_building(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Slots:
        return _bare_number(tracker, "building")

    async def extract_unit(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Slots:
        return _bare_number(tracker, "unit")

    async def extract_room(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Slots:
        return _bare_number(tracker, "room")

    async def checked(self, dispatcher: CollectingDispatcher, tracker: Tracker, events: list[dict]) -> list[dict]:
        """An unknown flat is refused as a whole, once all three parts of this turn are in.

        (Per-slot validators would each see a partial flat: rasa-sdk validates slots one by one.)
        """
        touched = {e["name"] for e in events if e.get("event") == "slot" and e.get("value") is not None}
        flat = {name: tracker.get_slot(name) for name in ("building", "unit", "room")}
        if not touched & set(flat) or not all(flat.values()):
            return []
        try:
            known = await backend().address_known(tracker.sender_id, flat["building"], flat["unit"], flat["room"])
        except BackendUnavailable:
            known = True  # checked again by staff; never block an owner on our outage
        if known:
            return []
        dispatcher.utter_message(response="utter_unknown_address")
        cleared = [SlotSet(name, None) for name in flat]
        return [*cleared, SlotSet("confirmed", None), SlotSet("requested_slot", "building")]


__all__ = ["ADDRESS_SLOTS", "AddressForm", "ConfirmingForm", "Slots", "described"]
