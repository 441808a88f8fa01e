"""Fee questions: general ones from the community's own content, personal ones from the
ledger of the flat the sender is bound to (never anyone else's)."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend import BackendUnavailable, backend
from actions.common import entities, entity, location_in_message
from common.wording import which_community

PERSONAL = {"owed", "paid_until", "bills"}


def yuan(cents: int) -> str:
    return f"{cents / 100:,.2f}"


def period(value: str | None) -> str:
    """2026-09 → 2026年9月"""
    if not value:
        return "还没有缴费记录"
    year, month = value.split("-")
    return f"{year}年{int(month)}月"


async def answer(dispatcher: CollectingDispatcher, tracker: Tracker, topic: str | None) -> list[dict]:
    """Answer a fee question; for a personal one by an unbound sender, start the identity check."""
    try:
        if topic in PERSONAL:
            ledger = await backend().ledger(tracker.sender_id)
            if ledger is None:
                if tracker.active_loop.get("name"):
                    dispatcher.utter_message(response="utter_fee_needs_binding_later")
                    return []
                said = location_in_message(tracker.latest_message)  # 3-2-501欠多少: already told us
                flat = [SlotSet(k, v) for k, v in said.items() if k in ("building", "unit", "room")]
                return [*flat, SlotSet("pending_request", f"fee:{topic}"), FollowupAction("binding_form")]
            if "which_community" in ledger:
                dispatcher.utter_message(text=which_community(ledger["which_community"]))
                return []
            _personal(dispatcher, ledger)
            return []
        item = entity(tracker, "fee_item")
        text = await backend().fee_answer(tracker.sender_id, topic or "overview", item)
        if text is None:  # 停车费 where the content says nothing about parking: never the 物业费 answer
            hotline = (await backend().community(tracker.sender_id))["service_hotline"]
            dispatcher.utter_message(
                response="utter_fee_not_covered", fee=_words_for(tracker, "fee_item"), hotline=hotline
            )
            return []
        dispatcher.utter_message(text=text)
    except BackendUnavailable:
        dispatcher.utter_message(response="utter_backend_down")
    return []


def _words_for(tracker: Tracker, name: str) -> str:
    """The owner's own words for an entity (停车费), as they wrote them."""
    said = tracker.latest_message.get("text") or ""  # unstripped: the offsets index it
    for found in entities(tracker, name):
        if isinstance(found.get("start"), int) and isinstance(found.get("end"), int):
            return said[found["start"] : found["end"]] or str(found.get("value"))
    return "这项费用"


def _personal(dispatcher: CollectingDispatcher, ledger: dict) -> None:
    unpaid = ledger["unpaid"]
    if not unpaid:
        dispatcher.utter_message(
            response="utter_fee_clear", location=ledger["location"], paid_until=period(ledger["paid_until"])
        )
        return
    lines = "\n".join(f"{b['period']} {b['item']} {yuan(b['amount_cents'])}元" for b in unpaid[:12])
    more = f"\n……共 {len(unpaid)} 笔" if len(unpaid) > 12 else ""
    dispatcher.utter_message(
        response="utter_fee_owed",
        location=ledger["location"],
        amount=yuan(ledger["owed_cents"]),
        count=len(unpaid),
        details=lines + more,
        paid_until=period(ledger["paid_until"]),
    )


class ActionAnswerFee(Action):
    def name(self) -> str:
        return "action_answer_fee"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        return await answer(dispatcher, tracker, entity(tracker, "fee_topic"))
