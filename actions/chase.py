"""Chase (催单): hurry one of the sender's open tickets; the backend records it and tells staff.

With a ticket number, that ticket. Without one, the most recently opened ticket that can
still be chased — a repair when the owner speaks of 修/师傅, a complaint when of 投诉 —
and the reply names it, listing the sender's other open tickets with how to chase one of
them instead. Owners (many elderly) get an answer in one message and only type a ticket
number when the guess was wrong. A second chase of the same ticket goes to a supervisor.

An owner with nothing open here who urges a repair and says what is wrong (上周打电话报的漏水
到现在没人来 还在滴) reported it somewhere we cannot see — a phone call, a word at the desk. The
problem must not be lost to a "nothing to chase": the repair is registered now, from what they
said, through the ordinary repair form (which asks only for what is missing).
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend import BackendUnavailable, backend
from actions.common import entity, text
from actions.repair import repair_from_what_was_said
from actions.status import SHOWN, line
from bot.text.intent_cues import reports_a_fault
from bot.text.normalize import normalize

# Open tickets the list shows but a chase would refuse: done, waiting for the owner's rating.
NOT_CHASEABLE = {"resolved"}
COMPLAINT_WORDS = ("投诉", "投訴", "举报", "舉報")
REPAIR_WORDS = ("修", "师傅", "師傅")


def wanted_kind(said: str) -> str | None:
    """Which kind of ticket the owner is talking about, when the words say it."""
    if any(word in said for word in COMPLAINT_WORDS):
        return "complaint"
    if any(word in said for word in REPAIR_WORDS):
        return "repair"
    return None


def label(number: str, ticket: dict | None) -> str:
    if ticket is None:
        return number
    what = ticket["description"] if len(ticket["description"]) <= 12 else ticket["description"][:12] + "…"
    return f"{number}（{what}）"


class ActionChaseTicket(Action):
    def name(self) -> str:
        return "action_chase_ticket"

    @staticmethod
    def _registers_anew(tracker: Tracker) -> bool:
        """A repair urged with nothing open: names a fault, is not a complaint, no form running."""
        said = text(tracker)
        return (
            not tracker.active_loop.get("name")
            and wanted_kind(said) != "complaint"
            and reports_a_fault(normalize(said).text)
        )

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        number = entity(tracker, "ticket_id")
        others: list[dict] = []
        try:
            tickets = await backend().open_tickets(tracker.sender_id)
            if not number:
                chaseable = [t for t in tickets if t["status"] not in NOT_CHASEABLE]
                if not chaseable:
                    if tickets:  # only tickets already done, waiting for a rating
                        done = tickets[0]
                        dispatcher.utter_message(response="utter_chase_not_open", ticket=label(done["id"], done))
                    elif self._registers_anew(tracker):
                        dispatcher.utter_message(response="utter_chase_nothing_open_register")
                        return [*await repair_from_what_was_said(tracker), FollowupAction("repair_form")]
                    else:
                        dispatcher.utter_message(response="utter_chase_nothing_open")
                    return []
                kind = wanted_kind(text(tracker))
                target = next((t for t in chaseable if t["kind"] == kind), chaseable[0])
                number = target["id"]
                others = [t for t in chaseable if t is not target]
            status, body = await backend().chase(tracker.sender_id, number)
        except BackendUnavailable:
            dispatcher.utter_message(response="utter_chase_failed")
            return []
        if status == 404:
            dispatcher.utter_message(response="utter_ticket_not_found")
            return []
        if status == 409:
            dispatcher.utter_message(response="utter_chase_not_open", ticket=number)
            return []
        chased = next((t for t in tickets if t["id"] == body["id"]), None)
        ticket = label(body["id"], chased)
        staff = "师傅" if chased is not None and chased["kind"] == "repair" else "工作人员"
        if body["times"] > 1:
            dispatcher.utter_message(response="utter_chased_again", ticket=ticket)
        elif body["assigned"]:
            dispatcher.utter_message(response="utter_chased", ticket=ticket, staff=staff)
        else:
            dispatcher.utter_message(response="utter_chased_unassigned", ticket=ticket, staff=staff)
        if others:
            lines = "\n".join(line(t) for t in others[: SHOWN - 1])
            dispatcher.utter_message(response="utter_chase_others", lines=lines, example=others[0]["id"])
        return []
