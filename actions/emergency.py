"""Emergencies (急修): no form. Open an urgent ticket at once, give safety advice and the
duty hotline, and hand the conversation to staff."""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend import BackendUnavailable, backend
from actions.common import entity, location_in_message, own_flat, text
from actions.handoff import pause_for_staff, stop_flow

log = logging.getLogger(__name__)


class ActionReportEmergency(Action):
    def name(self) -> str:
        return "action_report_emergency"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        hazard = entity(tracker, "hazard") or "unspecified"
        location = location_in_message(tracker.latest_message) or await own_flat(tracker.sender_id)
        return await open_emergency(dispatcher, tracker, hazard, text(tracker), location)


async def open_emergency(
    dispatcher: CollectingDispatcher, tracker: Tracker, hazard: str, description: str, location: dict[str, str]
) -> list[dict]:
    """Open the urgent ticket, give the safety advice and the duty hotline, hand the conversation
    to staff; whatever form was running ends. Also the forms' second look (actions/forms.py)."""
    try:
        ticket = await backend().report_emergency(tracker.sender_id, hazard, description, **location)
    except BackendUnavailable:
        # Safety advice must never depend on our own systems being up. No ticket and no
        # staff on it: say so, and raise the alarm where operators look.
        log.error("EMERGENCY NOT RECORDED: backend unreachable (hazard %s)", hazard)
        dispatcher.utter_message(response="utter_emergency_fallback")
        return stop_flow(tracker)
    dispatcher.utter_message(
        response="utter_emergency",
        advice=ticket["advice"],
        ticket_id=ticket["id"],
        promise=ticket["promise"],
        duty_hotline=ticket["duty_hotline"],
    )
    return pause_for_staff(tracker)
