"""Visitor passes: only for a bound owner; name, time window, plate optional; a short code."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend import BackendUnavailable, backend
from actions.common import NOT_AN_ANSWER, clear_flow, entities, entity, intent, text
from actions.forms import ConfirmingForm, Slots
from bot.text.script import to_simplified
from common.passes import MAX_PASS_DAYS
from common.wording import local_time, which_community

_NO_CAR = re.compile(r"没有|没车|无车|不开车|不是开车|走路|步行|打车|坐地铁|坐公交|骑车|^无$|^没$|^不$")
_NAME_PREFIX = re.compile(r"^(?:他|她|访客|客人|对方)?(?:叫|是|名字是|名字叫|姓名是?|姓名叫)?[:：]?\s*")


def _visit(tracker: Tracker) -> Slots:
    """visit_start / visit_end / visit_kind from the first time in the latest message."""
    found = entities(tracker, "visit_time")
    if not found:
        return {}
    info = found[0].get("additional_info") or {}
    return {
        "visit_start": info.get("start", found[0]["value"]),
        "visit_end": info.get("end"),
        "visit_kind": info.get("kind", "point"),
    }


def _local(value: str) -> str:
    return local_time(datetime.fromisoformat(value))


class ActionPrepareVisitorPass(Action):
    """Take what the owner already said; prove who they are first if they have not yet."""

    def name(self) -> str:
        return "action_prepare_visitor_pass"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        events = clear_flow()
        name, plate = entity(tracker, "person_name"), entity(tracker, "plate")
        prefill = (
            _visit(tracker) | ({"visitor_name": name} if name else {}) | ({"visitor_plate": plate} if plate else {})
        )
        events += [SlotSet(k, v) for k, v in prefill.items()]
        try:
            bound = await backend().binding(tracker.sender_id)
        except BackendUnavailable:
            dispatcher.utter_message(response="utter_backend_down")
            return events
        if bound is None:
            return [*events, SlotSet("pending_request", "visitor_pass"), FollowupAction("binding_form")]
        return [*events, FollowupAction("visitor_form")]


class ValidateVisitorForm(ConfirmingForm):
    restartable = ("visitor_name", "visit_start", "visit_end", "visit_kind", "visitor_plate")

    def name(self) -> str:
        return "validate_visitor_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        return ["visitor_name", "visit_start", "visitor_plate", "confirmed"]

    async def extract_visitor_name(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        named = entity(tracker, "person_name")
        if named:
            return {"visitor_name": named}
        if tracker.get_slot("requested_slot") != "visitor_name" or intent(tracker) in NOT_AN_ANSWER:
            return {}
        candidate = _NAME_PREFIX.sub("", text(tracker)).strip(" ，,。.!！")
        if 1 <= len(candidate) <= 20 and not entities(tracker, "visit_time") and not entities(tracker, "plate"):
            return {"visitor_name": candidate}  # 小王 / Tom / 装空调的师傅: whatever the gate should ask for
        return {}

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        events = await super().run(dispatcher, tracker, domain)
        # rasa-sdk keeps only required slots from a validation; the window's end and kind
        # travel with visit_start, so they are set again whenever it is.
        start = next((e["value"] for e in events if e.get("event") == "slot" and e["name"] == "visit_start"), None)
        if start:
            visit = _visit(tracker)
            if visit.get("visit_start") == start:
                events += [SlotSet("visit_end", visit["visit_end"]), SlotSet("visit_kind", visit["visit_kind"])]
        return events

    async def extract_visit_start(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return _visit(tracker)

    async def validate_visit_start(
        self, value: str | None, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        if not value:  # slots cleared in this turn are validated too
            return {"visit_start": None}
        start = datetime.fromisoformat(value)
        end = datetime.fromisoformat(tracker.get_slot("visit_end") or value)
        now = datetime.now(start.tzinfo)
        problem = "utter_visit_time_past" if end < now else None
        if start > now + timedelta(days=MAX_PASS_DAYS):
            problem = "utter_visit_too_far"
        if problem:
            dispatcher.utter_message(response=problem)
            return {"visit_start": None, "visit_end": None, "visit_kind": None}
        return {"visit_start": value}

    async def extract_visitor_plate(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        plate = entity(tracker, "plate")
        if plate:
            return {"visitor_plate": plate}
        no_car = intent(tracker) == "deny" or _NO_CAR.search(to_simplified(text(tracker)))
        if tracker.get_slot("requested_slot") == "visitor_plate" and no_car:
            return {"visitor_plate": "无"}
        return {}

    def summary(self, tracker: Tracker) -> str | None:
        name, start, plate = (tracker.get_slot(k) for k in ("visitor_name", "visit_start", "visitor_plate"))
        if not (name and start and plate):
            return None
        return f"访客：{name}\n到访：{_local(start)}\n车牌：{plate}"


class ActionIssuePass(Action):
    def name(self) -> str:
        return "action_issue_pass"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        slots = tracker.slots
        plate = slots.get("visitor_plate")
        try:
            status, body = await backend().issue_pass(
                tracker.sender_id,
                visitor_name=slots["visitor_name"],
                start=slots["visit_start"],
                end=slots.get("visit_end"),
                time_kind=slots.get("visit_kind") or "point",
                plate=None if plate in (None, "无") else plate,
            )
        except BackendUnavailable:
            dispatcher.utter_message(response="utter_backend_down")
            return [SlotSet("confirmed", None), ActiveLoop("visitor_form")]
        if status == 403:  # the binding went away (staff removed it) between steps
            return [*clear_flow(), SlotSet("pending_request", "visitor_pass"), FollowupAction("binding_form")]
        if status == 409:  # flats in two communities: which one; the answer routes the owner, then confirm again
            dispatcher.utter_message(text=which_community(body.get("choices", [])))
            return [SlotSet("confirmed", None), ActiveLoop("visitor_form")]
        if status == 422:
            dispatcher.utter_message(
                response="utter_visit_too_far" if body.get("error") == "too_far" else "utter_visit_time_past"
            )
            return [
                SlotSet("visit_start", None),
                SlotSet("visit_end", None),
                SlotSet("confirmed", None),
                ActiveLoop("visitor_form"),
            ]
        dispatcher.utter_message(
            response="utter_pass_issued",
            code=body["code"],
            visitor_name=slots["visitor_name"],
            window=body["window"],
            plate_line=f"车牌：{plate}\n" if plate and plate != "无" else "",
        )
        return clear_flow()
