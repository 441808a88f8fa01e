"""Proving who you are (unit + the phone on file) before anything personal: ledger, passes."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend import BackendUnavailable, backend
from actions.common import clear_flow
from actions.fees import answer as answer_fee
from actions.forms import AddressForm, Slots

IDENTITY_SLOTS = ("building", "unit", "room", "phone", "requested_slot")


class ValidateBindingForm(AddressForm):
    def name(self) -> str:
        return "validate_binding_form"

    def summary(self, tracker: Tracker) -> str | None:
        return None  # nothing to confirm: the check itself is the confirmation

    async def checked(self, dispatcher: CollectingDispatcher, tracker: Tracker, events: list[dict]) -> list[dict]:
        return []  # no "unknown flat" here: it must look exactly like a wrong phone

    async def validate_phone(
        self, value: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        digits = "".join(ch for ch in str(value) if ch.isdigit())
        return {"phone": digits if 7 <= len(digits) <= 12 else None}


class ActionBindOwner(Action):
    """Check unit + phone; on success continue with what the owner asked for."""

    def name(self) -> str:
        return "action_bind_owner"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        slots = tracker.slots
        pending = slots.get("pending_request")
        try:
            status = await backend().bind(
                tracker.sender_id, slots["building"], slots["unit"], slots["room"], slots["phone"]
            )
        except BackendUnavailable:
            dispatcher.utter_message(response="utter_backend_down")
            return [*clear_flow(), SlotSet("pending_request", None)]
        if status != "bound":
            dispatcher.utter_message(response="utter_bind_locked" if status == "locked" else "utter_bind_failed")
            return [*clear_flow(), SlotSet("pending_request", None)]
        dispatcher.utter_message(response="utter_bound")
        # Only the identity slots go: what the owner said about the visit (张伟, 明天三点) stays.
        events = [SlotSet(name, None) for name in IDENTITY_SLOTS] + [SlotSet("pending_request", None)]
        if pending == "visitor_pass":
            return [*events, FollowupAction("visitor_form")]
        if pending and pending.startswith("fee:"):
            return [*events, *await answer_fee(dispatcher, tracker, pending[4:])]
        return events
