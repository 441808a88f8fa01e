"""Cancel (取消/算了/不用来了/访客不来了).

While a form runs, cancelling stops it and forgets its details. With none running, the owner
is calling off something booked earlier: an open request (a repair or a complaint) or a
visitor pass. The assistant names the one thing meant and asks before it acts, because a
withdrawn repair means nobody comes — "是" withdraws or revokes it, "不是" keeps it. A
ticket number, a visitor's name or the words (访客/登记 for a pass, 修/师傅/投诉 for a
request) pick the thing; with several left, the owner is shown them and asked which.

An emergency is never called off here: the duty staff close it once someone has looked (an
owner whose message was misread as one says 不急: connectors/gateway.py, handlers.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend import BackendUnavailable, backend
from actions.chase import label
from actions.common import entities, entity, intent, text
from actions.handoff import stop_flow

PASS_WORDS = ("访客", "訪客", "登记", "登記", "通行", "预约", "預約", "朋友", "亲戚", "親戚", "客人", "来访", "來訪")
TICKET_WORDS = ("修", "师傅", "師傅", "工单", "工單", "单号", "單號", "投诉", "投訴", "上门", "上門")
SLOT = "cancel_target"
SHOWN = 5


@dataclass(frozen=True)
class Target:
    """One thing the owner may call off: ``key`` is what the confirmation acts on."""

    key: str  # "ticket:BX000123" or "pass:123456", kept in the slot until the owner answers
    what: str  # as the owner reads it


def ticket_target(ticket: dict) -> Target:
    kind = "投诉" if ticket.get("kind") == "complaint" else "报修"
    return Target(f"ticket:{ticket['id']}", f"{kind} {label(ticket['id'], ticket)}")


def pass_target(visitor_pass: dict) -> Target:
    return Target(
        f"pass:{visitor_pass['code']}", f"{visitor_pass['window']} 访客{visitor_pass['visitor_name']}的通行码"
    )


def wanted(said: str) -> set[str]:
    """Which kinds the words point at: a pass, a request, or (saying neither) both."""
    kinds = {k for k, words in (("pass", PASS_WORDS), ("ticket", TICKET_WORDS)) if any(w in said for w in words)}
    return kinds or {"pass", "ticket"}


def _just_asked(tracker: Tracker) -> bool:
    """Whether the assistant's last action before this message was the cancellation question
    (events after the message, such as Rasa's featurization marks, are passed over)."""
    answered = False
    for event in reversed(tracker.events or []):
        kind = event.get("event")
        if kind == "user":
            if answered:
                return False  # an earlier message came in between: the question is not fresh
            answered = True
        elif answered and kind == "action" and event.get("name") != "action_listen":
            return event.get("name") == "action_cancel_flow"
    return False


class ActionCancelFlow(Action):
    def name(self) -> str:
        return "action_cancel_flow"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        cleared = [SlotSet("pending_request", None)]
        if tracker.active_loop.get("name"):
            dispatcher.utter_message(response="utter_cancelled")
            return [*stop_flow(tracker), *cleared, SlotSet(SLOT, None)]
        asked = tracker.get_slot(SLOT)
        if asked and _just_asked(tracker) and not entity(tracker, "ticket_id"):
            # "要撤销…吗？" answered "确认撤销": a yes in other words
            return [*cleared, *await confirm(dispatcher, tracker.sender_id, asked)]
        try:
            targets, emergencies = await _targets(tracker)
        except BackendUnavailable:
            dispatcher.utter_message(response="utter_backend_down")
            return [*cleared, SlotSet(SLOT, None)]
        if len(targets) == 1:
            dispatcher.utter_message(response="utter_confirm_cancel", what=targets[0].what)
            return [*cleared, SlotSet(SLOT, targets[0].key)]
        if targets:
            choices = "\n".join(f"{i}. {t.what}" for i, t in enumerate(targets[:SHOWN], 1))
            dispatcher.utter_message(response="utter_which_to_cancel", choices=choices)
        elif emergencies:
            dispatcher.utter_message(response="utter_cancel_emergency", ticket=emergencies[0].what)
        else:
            dispatcher.utter_message(response="utter_nothing_to_cancel")
        return [*cleared, SlotSet(SLOT, None)]


async def _targets(tracker: Tracker) -> tuple[list[Target], list[Target]]:
    """(what the owner may mean, their open emergencies that match): by the ticket number said,
    else by the words and a visitor's name."""
    sender, said = tracker.sender_id, text(tracker)
    number = entity(tracker, "ticket_id")
    if number:
        found = await backend().ticket(sender, number)
        tickets = [found] if found and found.get("open") else []  # a closed one named by number is not offered
        kinds = {"ticket"}
    else:
        kinds = wanted(said)
        tickets = await backend().open_tickets(sender) if "ticket" in kinds else []
        tickets = [t for t in tickets if t.get("open")]
    passes = await backend().passes(sender) if "pass" in kinds else []
    names = [e["value"] for e in entities(tracker, "person_name")]
    if names and passes:
        named = [p for p in passes if any(n in p["visitor_name"] or p["visitor_name"] in n for n in names)]
        passes, tickets = (named, []) if named else (passes, tickets)
    ordinary = [ticket_target(t) for t in tickets if t.get("priority") != "emergency"]
    emergencies = [ticket_target(t) for t in tickets if t.get("priority") == "emergency"]
    return [*ordinary, *(pass_target(p) for p in passes)], emergencies


async def confirm(dispatcher: CollectingDispatcher, sender: str, key: str) -> list[dict]:
    """Withdraw the ticket or revoke the pass the owner said yes to."""
    kind, ref = key.split(":", 1)
    try:
        if kind == "ticket":
            status, _ = await backend().withdraw(sender, ref)
            response = "utter_ticket_withdrawn" if status == 200 else "utter_cancel_not_possible"
        else:
            status, _ = await backend().revoke_pass(sender, ref)
            response = "utter_pass_revoked" if status == 200 else "utter_cancel_not_possible"
    except BackendUnavailable:
        dispatcher.utter_message(response="utter_backend_down")
        return [SlotSet(SLOT, None)]
    dispatcher.utter_message(response=response, ref=ref)
    return [SlotSet(SLOT, None)]


class ActionConfirmCancel(Action):
    """The answer to "要撤销…吗？": yes acts, no keeps it. With nothing asked (a form was
    cancelled, or nothing was found) a yes or a no means what it means anywhere."""

    def name(self) -> str:
        return "action_confirm_cancel"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        asked = tracker.get_slot(SLOT)
        yes = intent(tracker) == "affirm"
        if not asked:
            dispatcher.utter_message(response="utter_anything_else" if yes else "utter_goodbye")
            return []
        if not yes:
            dispatcher.utter_message(response="utter_cancel_kept")
            return [SlotSet(SLOT, None)]
        return await confirm(dispatcher, tracker.sender_id, asked)
