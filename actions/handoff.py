"""Handing a conversation to staff: record it in the backend, then pause the assistant.

Rasa logs every later message but runs no action until staff hand the conversation
back (POST /api/conversations/{sender}/handback resumes it).
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend import BackendUnavailable, backend
from actions.common import clear_flow


def stop_flow(tracker: Tracker) -> list[dict]:
    """End whatever form is running and forget its details."""
    return ([ActiveLoop(None)] if tracker.active_loop.get("name") else []) + clear_flow()


def pause_for_staff(tracker: Tracker) -> list[dict]:
    """Staff take over: the form ends and the assistant stays silent until handed back."""
    return [*stop_flow(tracker), ConversationPaused()]


async def hand_off(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str, response: str) -> list[dict]:
    try:
        await backend().hand_off(tracker.sender_id, reason)
    except BackendUnavailable:
        # Nobody would know the owner is waiting: stay with them rather than go silent.
        dispatcher.utter_message(response="utter_handoff_failed")
        return []
    dispatcher.utter_message(response=response)
    return pause_for_staff(tracker)


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        return await hand_off(dispatcher, tracker, "requested", "utter_handoff")
