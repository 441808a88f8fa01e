"""Not understood: ask again (re-asking the pending question in a form); the second time
in a row, hand the owner to a person instead of looping."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.handoff import hand_off
from actions.repair import ask_which_building

HANDOFF_AFTER = 2  # consecutive misunderstandings
# Bookkeeping actions that run between the owner's messages and say nothing themselves.
_SILENT = {"action_listen", "action_extract_slots", "action_default_fallback"}


def misunderstood_in_a_row(tracker: Tracker) -> int:
    """How many times in a row (this one included) the assistant did not understand."""
    count = 1
    for event in reversed(tracker.events):
        if event.get("event") != "action":
            continue
        name = event.get("name")
        if name == "action_default_fallback":
            count += 1
        elif name not in _SILENT:
            break
    return count


class ActionDefaultFallback(Action):
    def name(self) -> str:
        return "action_default_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        if misunderstood_in_a_row(tracker) >= HANDOFF_AFTER:
            events = await hand_off(dispatcher, tracker, "not_understood", "utter_fallback_handoff")
            if events:
                return events
        else:
            form, asked = tracker.active_loop.get("name"), tracker.get_slot("requested_slot")
            if form and asked:
                dispatcher.utter_message(response="utter_default_in_form")
                ask_again(dispatcher, tracker, domain, form, asked)
            else:
                dispatcher.utter_message(response="utter_default")
        return [UserUtteranceReverted()]  # the garbled message must not steer the dialogue


def ask_again(dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, form: str, slot: str) -> None:
    """The question the form is waiting on, worded as the form itself would ask it."""
    if form == "repair_form" and slot == "building":
        ask_which_building(dispatcher, tracker)
        return
    ask = f"utter_ask_{form}_{slot}"
    dispatcher.utter_message(response=ask if ask in domain.get("responses", {}) else f"utter_ask_{slot}")
