"""Status (查进度): the sender's open tickets, or the one they named, and where each stands."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend import BackendUnavailable, backend
from actions.common import entity

SHOWN = 5


def line(ticket: dict) -> str:
    what = ticket["description"] if len(ticket["description"]) <= 20 else ticket["description"][:20] + "…"
    return f"{ticket['id']}（{what}）：{ticket['status_label']}"


class ActionCheckStatus(Action):
    def name(self) -> str:
        return "action_check_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        number = entity(tracker, "ticket_id")
        try:
            if number:
                ticket = await backend().ticket(tracker.sender_id, number)
                if ticket is None:
                    dispatcher.utter_message(response="utter_ticket_not_found")
                else:
                    dispatcher.utter_message(response="utter_status_one", line=line(ticket))
                return []
            tickets = await backend().open_tickets(tracker.sender_id)
        except BackendUnavailable:
            dispatcher.utter_message(response="utter_backend_down")
            return []
        if not tickets:
            dispatcher.utter_message(response="utter_no_open_tickets")
        else:
            lines = "\n".join(f"{i}. {line(t)}" for i, t in enumerate(tickets[:SHOWN], 1))
            dispatcher.utter_message(response="utter_status_list", count=len(tickets), lines=lines)
        return []
