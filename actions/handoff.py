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


async def hand_off(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str, response: str) -> list[dict]:
    try:
        await backend().hand_off(tracker.sender_id, reason)
    except BackendUnavailable:
        # Nobody would know the owner is waiting: stay with them rather than go silent.
        dispatcher.utter_message(response="utter_handoff_failed")
        return []
    dispatcher.utter_message(response=response)
    events = clear_flow()
    if tracker.active_loop.get("name"):
        events.insert(0, ActiveLoop(None))
    return [*events, ConversationPaused()]


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        return await hand_off(dispatcher, tracker, "requested", "utter_handoff")
