"""Cancel (取消/算了): stop whatever form is running and forget its details."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.handoff import stop_flow


class ActionCancelFlow(Action):
    def name(self) -> str:
        return "action_cancel_flow"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        if not tracker.active_loop.get("name"):
            dispatcher.utter_message(response="utter_nothing_to_cancel")
            return [SlotSet("pending_request", None)]
        dispatcher.utter_message(response="utter_cancelled")
        return [*stop_flow(tracker), SlotSet("pending_request", None)]
