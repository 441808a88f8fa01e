"""Complaint (投诉): what happened, optionally anonymous, a confirmed summary, a ticket."""

from __future__ import annotations

import re

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend import BackendUnavailable, backend
from actions.common import (
    clear_flow,
    describe,
    intent,
    recent_description,
    recent_location,
    text,
)
from actions.forms import ConfirmingForm, Slots, described
from bot.text.script import to_simplified

_REFUSED = re.compile(
    r"(不|别|无|勿|没|甭)(要|想|需要|需|用|必|必要)?匿名|实名|公开|无所谓|都行|都可以|^\s*(不用|不需要|不要)"
)


def wants_anonymity(said: str) -> bool | None:
    """True for 匿名/我想匿名, False for 不要匿名/实名/不用, None when the text does not say."""
    said = to_simplified(said)
    if _REFUSED.search(said):
        return False
    return True if "匿名" in said else None


class ActionPrepareComplaint(Action):
    def name(self) -> str:
        return "action_prepare_complaint"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        events = clear_flow()
        events += [SlotSet(k, v) for k, v in recent_location(tracker).items()]
        details = recent_description(tracker)
        if details:
            events.append(SlotSet("complaint_details", details))
        if wants_anonymity(text(tracker)):  # 我想匿名投诉…
            events.append(SlotSet("anonymous", True))
        return events


class ValidateComplaintForm(ConfirmingForm):
    restartable = ("complaint_details", "anonymous", "building", "unit", "room", "public_area")

    def name(self) -> str:
        return "validate_complaint_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        return ["complaint_details", "anonymous", "confirmed"]

    async def extract_complaint_details(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return described(tracker, "complaint_details")

    async def extract_anonymous(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Slots:
        if tracker.get_slot("requested_slot") != "anonymous":
            return {}
        wanted = wants_anonymity(text(tracker))
        if wanted is None:
            wanted = {"affirm": True, "deny": False}.get(intent(tracker))
        return {} if wanted is None else {"anonymous": wanted}

    def summary(self, tracker: Tracker) -> str | None:
        details, anonymous = tracker.get_slot("complaint_details"), tracker.get_slot("anonymous")
        if not details or anonymous is None:
            return None
        location = {k: tracker.get_slot(k) for k in ("building", "unit", "room", "public_area")}
        where = [f"地点：{describe(location)}"] if any(location.values()) else []
        lines = [f"内容：{details}", *where, f"方式：{'匿名' if anonymous else '实名'}"]
        return "\n".join(lines)


class ActionSubmitComplaint(Action):
    def name(self) -> str:
        return "action_submit_complaint"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        slots = tracker.slots
        try:
            ticket = await backend().open_ticket(
                tracker.sender_id,
                "complaint",
                slots["complaint_details"],
                anonymous=bool(slots.get("anonymous")),
                **{k: slots.get(k) for k in ("building", "unit", "room", "public_area") if slots.get(k)},
            )
        except BackendUnavailable:
            dispatcher.utter_message(response="utter_backend_down")
            return [SlotSet("confirmed", None), ActiveLoop("complaint_form")]
        dispatcher.utter_message(
            response="utter_complaint_submitted", ticket_id=ticket["id"], promise=ticket["promise"]
        )
        return clear_flow()
