"""Repair (报修): where and what, a confirmed summary, a ticket with its promised times."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend import BackendUnavailable, backend
from actions.common import (
    clear_flow,
    describe,
    own_flat,
    recent_description,
    recent_location,
)
from actions.forms import AddressForm, Slots, described
from bot.text.entities import IN_A_BUILDING


class ActionPrepareRepair(Action):
    """Start a repair: take the address and the problem from what the owner already said,
    and default to the owner's own flat when they are bound and named no place."""

    def name(self) -> str:
        return "action_prepare_repair"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        return await repair_from_what_was_said(tracker)


async def repair_from_what_was_said(tracker: Tracker) -> list[dict]:
    """The slots a repair starts with: the place and the problem the owner already gave."""
    events = clear_flow()
    location = recent_location(tracker) or await own_flat(tracker.sender_id)
    events += [SlotSet(k, v) for k, v in location.items()]
    problem = recent_description(tracker)
    if problem:
        events.append(SlotSet("problem", problem))
    return events


class ValidateRepairForm(AddressForm):
    restartable = ("building", "unit", "room", "public_area", "problem")

    def name(self) -> str:
        return "validate_repair_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        area = tracker.slots.get("public_area")
        if area:  # a lift or a stairwell belongs to a building; a garden or the main gate does not
            where = ["building", "public_area"] if area in IN_A_BUILDING else ["public_area"]
        else:
            where = ["building", "unit", "room"]
        return [*where, "problem", "confirmed"]

    async def extract_problem(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Slots:
        return described(tracker, "problem")

    def summary(self, tracker: Tracker) -> str | None:
        location = {k: tracker.get_slot(k) for k in ("building", "unit", "room", "public_area")}
        area = location["public_area"]
        complete = (area and (location["building"] or area not in IN_A_BUILDING)) or all(
            location[k] for k in ("building", "unit", "room")
        )
        if not (complete and tracker.get_slot("problem")):
            return None
        return f"地点：{describe(location)}\n问题：{tracker.get_slot('problem')}"


def ask_which_building(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Which building? — worded for a public area (几号楼的电梯) or for a flat."""
    area = tracker.get_slot("public_area")
    if area:
        dispatcher.utter_message(response="utter_ask_building_of_area", public_area=area)
    else:
        dispatcher.utter_message(response="utter_ask_repair_form_building")


class ActionAskRepairFormBuilding(Action):
    def name(self) -> str:
        return "action_ask_repair_form_building"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        ask_which_building(dispatcher, tracker)
        return []


class ActionSubmitRepair(Action):
    def name(self) -> str:
        return "action_submit_repair"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        slots = tracker.slots
        try:
            ticket = await backend().open_ticket(
                tracker.sender_id,
                "repair",
                slots["problem"],
                **{k: slots.get(k) for k in ("building", "unit", "room", "public_area") if slots.get(k)},
            )
        except BackendUnavailable:
            dispatcher.utter_message(response="utter_backend_down")
            # Back to the confirmation step with every detail kept: a later 是 submits again.
            return [SlotSet("confirmed", None), ActiveLoop("repair_form")]
        dispatcher.utter_message(response="utter_repair_submitted", ticket_id=ticket["id"], promise=ticket["promise"])
        return clear_flow()
