"""The custom actions (actions/) against the real internal bot API over HTTP.

Protects what the owner experiences in each flow — repair, complaint, emergency, fees,
identity check, visitor passes, status, chase (催单), hand-off, fallback and cancel: which replies the
actions choose, which slots they set or clear, what they store in the backend, and how
they behave when the backend is unreachable. Trackers are built the way the action server
receives them: entities come from the real rule extractor (bot.text.entities) with the
pipeline's offset mapping; a form turn ends with the SlotSet candidates Rasa's slot
mappings (domain.yml) produce. Only ``visit_time`` entities are written by hand, because
their parser (jionlp) lives in the Rasa environment, not in the actions' one.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, FollowupAction, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

import actions.backend
from actions.binding import ActionBindOwner, ValidateBindingForm
from actions.chase import ActionChaseTicket
from actions.complaint import ActionPrepareComplaint, ActionSubmitComplaint, ValidateComplaintForm
from actions.emergency import ActionReportEmergency
from actions.fallback import ActionDefaultFallback
from actions.fees import ActionAnswerFee
from actions.flow import ActionCancelFlow, ActionConfirmCancel
from actions.handoff import ActionHandoff
from actions.inform import ActionReadInform
from actions.repair import ActionAskRepairFormBuilding, ActionPrepareRepair, ActionSubmitRepair, ValidateRepairForm
from actions.status import ActionCheckStatus
from actions.visitor import ActionIssuePass, ActionPrepareVisitorPass, ValidateVisitorForm
from backend_bridge.domain import commands, model
from backend_bridge.service_layer import views
from bot.text.entities import extract_all
from bot.text.normalize import normalize
from tests.actions.conftest import TZ

ROOT = Path(__file__).resolve().parents[2]
DOMAIN: dict[str, Any] = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
COMMUNITY: dict[str, Any] = yaml.safe_load((ROOT / "content" / "company.yml").read_text(encoding="utf-8"))
FLOW_SLOTS = (
    "building",
    "unit",
    "room",
    "public_area",
    "phone",
    "problem",
    "complaint_details",
    "anonymous",
    "visitor_name",
    "visit_start",
    "visit_end",
    "visit_kind",
    "visitor_plate",
    "summary",
    "confirmed",
)
# Slot values left over from an earlier request; a new flow must not inherit any of them.
STALE = {name: "旧值" for name in FLOW_SLOTS} | {"anonymous": True, "confirmed": True, "requested_slot": "room"}

ZHANG = "webchat:zhangwei-3-2-501"  # 张伟, 3-2-501, phone 13800000501, owes 2 months
WANG = "webchat:wangxiuying-1-1-101"  # 王秀英, 1-1-101, phone 13800000101, owes nothing
LI = "webchat:liming-5-1-302"  # 李明, 5-1-302, phone 13800000302, owes 5 months
STRANGER = "webchat:stranger-0001"  # never bound
FLATS = {
    ZHANG: ("3", "2", "501", "13800000501"),
    WANG: ("1", "1", "101", "13800000101"),
    LI: ("5", "1", "302", "13800000302"),
}
MESSAGE_KEYS = {"text", "buttons", "elements", "custom", "template", "response", "image", "attachment"}


# ---------------------------------------------------------------- building trackers


def said(text: str, intent: str = "inform", *extra: dict) -> dict:
    """latest_message as Rasa parses ``text``: rule entities on normalised text, offsets into the original."""
    mapped = normalize(text)
    found = list(extra)
    for e in extract_all(mapped.text, datetime.now(TZ)):
        start, end = mapped.to_original(e.start, e.end)
        value = text[start:end] if e.entity == "person_name" else e.value
        entity = {"entity": e.entity, "value": value, "start": start, "end": end}
        if e.extra:
            entity["additional_info"] = e.extra
        found.append(entity | {"extractor": "PropertyEntityExtractor"})
    found.sort(key=lambda e: (e["start"], e["end"]))
    return {
        "text": text,
        "intent": {"name": intent, "confidence": 0.97},
        "entities": found,
        "intent_ranking": [{"name": intent, "confidence": 0.97}],
    }


def visit_time(text: str, phrase: str, start: datetime, end: datetime, kind: str = "point") -> dict:
    """A visit_time entity in the extractor's format (value = start; additional_info start/end/kind)."""
    at = text.index(phrase)
    return {
        "entity": "visit_time",
        "value": start.isoformat(),
        "start": at,
        "end": at + len(phrase),
        "additional_info": {"start": start.isoformat(), "end": end.isoformat(), "kind": kind},
        "extractor": "PropertyEntityExtractor",
    }


def user(message: dict) -> dict:
    return {
        "event": "user",
        "timestamp": time.time(),
        "text": message["text"],
        "parse_data": message,
        "input_channel": "webchat",
    }


def action(name: str) -> dict:
    return {"event": "action", "timestamp": time.time(), "name": name, "policy": "RulePolicy", "confidence": 1.0}


def tracker(
    sender: str,
    message: dict,
    *,
    slots: dict | None = None,
    form: str | None = None,
    history: list[dict] | None = None,
    candidates: dict | None = None,
) -> Tracker:
    """The tracker the action server receives: every domain slot, the history, this user turn and,
    for a form, the slot candidates appended at the end (what FormAction sends to validation)."""
    values = {name: None for name in DOMAIN["slots"]} | {"requested_slot": None} | (slots or {})
    events = [*(history or []), action("action_listen"), user(message)]
    for name, value in (candidates or {}).items():
        events.append(SlotSet(name, value))
        values[name] = value
    active_loop = {"name": form, "validate": True, "rejected": False, "trigger_message": {}} if form else {}
    return Tracker(sender, values, message, events, False, None, active_loop, "action_listen")


def mapped_from_entities(form: str, message: dict) -> dict:
    """The candidates Rasa's from_entity mappings produce while ``form`` is active (domain.yml)."""
    found = {}
    for slot in DOMAIN["forms"][form]["required_slots"]:
        for mapping in DOMAIN["slots"][slot]["mappings"]:
            if mapping["type"] != "from_entity":
                continue
            if not any(c.get("active_loop") == form for c in mapping.get("conditions", [])):
                continue
            said = message["intent"]["name"]
            if said in mapping.get("not_intent", []) or ("intent" in mapping and said not in mapping["intent"]):
                continue
            values = [e["value"] for e in message["entities"] if e["entity"] == mapping["entity"]]
            if values:
                found[slot] = values[0]
    return found


def form_turn(form: str, sender: str, message: dict, slots: dict, asked: str | None) -> Tracker:
    """The owner answers while ``form`` asks for ``asked``."""
    return tracker(
        sender,
        message,
        slots=slots | {"requested_slot": asked},
        form=form,
        candidates=mapped_from_entities(form, message),
    )


def activation(form: str, sender: str, message: dict, slots: dict) -> Tracker:
    """The form starts: Rasa validates the slots already filled, in the domain's order."""
    prefilled = {name: slots[name] for name in DOMAIN["forms"][form]["required_slots"] if slots.get(name) is not None}
    return tracker(sender, message, slots=slots, form=form, candidates=prefilled)


async def run(act, tr: Tracker) -> tuple[list[str], list[dict], list[dict]]:
    """(reply names or texts, their template arguments, returned events)."""
    dispatcher = CollectingDispatcher()
    events = await act.run(dispatcher, tr, DOMAIN)
    names = [m["response"] or m["text"] for m in dispatcher.messages]
    args = [{k: v for k, v in m.items() if k not in MESSAGE_KEYS} for m in dispatcher.messages]
    return names, args, events


def after(events: list[dict], slots: dict | None = None) -> dict:
    """Slot values once Rasa has applied ``events`` on top of ``slots``.

    As Rasa's form loop does (FormAction.request_next_slot): the slot it asks for next is the
    first requested_slot a validation sets, not the last.
    """
    values = {name: None for name in DOMAIN["slots"]} | {"requested_slot": None} | (slots or {})
    asked = False
    for e in events:
        if e.get("event") == "slot" and not (e["name"] == "requested_slot" and asked):
            values[e["name"]] = e["value"]
            asked = asked or e["name"] == "requested_slot"
    return values


def slot_events(events: list[dict]) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def not_slots(events: list[dict]) -> list[dict]:
    return [e for e in events if e.get("event") != "slot"]


def flow_cleared(events: list[dict]) -> bool:
    state = after(events, STALE)
    return all(state[name] is None for name in (*FLOW_SLOTS, "requested_slot"))


async def bind(backend, sender: str) -> None:
    building, unit, room, phone = FLATS[sender]
    result = await backend.bus.handle(commands.BindSender(sender, building, unit, room, phone))
    assert result.as_json() == {"status": "bound"}


async def open_ticket(backend, sender: str, description: str, kind: str = "repair", **where: str) -> str:
    result = await backend.bus.handle(commands.OpenTicket(sender=sender, kind=kind, description=description, **where))
    return result.number


async def assign(backend, number: str, username: str = "li") -> None:
    """Dispatch ``number`` to a new technician account (the demo community has no staff)."""
    await backend.bus.handle(commands.AddStaff(username, "李师傅", "technician", "admin"))
    await backend.bus.handle(commands.AssignTicket(number, username, "staff:前台"))


async def staff_view(backend, number: str) -> dict:
    found = await views.ticket_for_staff(backend.new_uow(), number)
    assert found is not None, f"ticket {number} is not stored"
    return found


def local(days: float = 0, hours: float = 0) -> datetime:
    return datetime.now(TZ) + timedelta(days=days, hours=hours)


def tomorrow_at(hour: int) -> datetime:
    return (datetime.now(TZ) + timedelta(days=1)).replace(hour=hour, minute=0, second=0, microsecond=0)


# ---------------------------------------------------------------- the client itself


async def test_backend_client_is_configured_from_the_environment_once(bot_api, monkeypatch):
    client = actions.backend.backend()
    assert client is actions.backend.backend()
    assert client.base_url.startswith("http://127.0.0.1:") and not client.base_url.endswith("/")
    monkeypatch.setenv("WUYE_BACKEND_URL", "http://127.0.0.1:9")
    assert actions.backend.backend() is client  # read once: a later change does not swap the client
    assert (await client.community("webchat:nobody"))["duty_hotline"] == COMMUNITY["community"]["duty_hotline"]


async def test_a_forged_internal_token_gets_nothing_and_the_owner_hears_backend_down(bot_api, monkeypatch):
    await open_ticket(bot_api, ZHANG, "厨房水管漏水")
    monkeypatch.setenv("WUYE_INTERNAL_TOKEN", "forged-token")
    names, args, events = await run(ActionCheckStatus(), tracker(ZHANG, said("我的工单到哪了", "check_status")))
    assert names == ["utter_backend_down"]
    assert args == [{}] and events == []


# ---------------------------------------------------------------- repair: preparing


async def test_prepare_repair_takes_address_and_problem_and_strips_the_address(bot_api):
    names, _, events = await run(
        ActionPrepareRepair(), tracker(STRANGER, said("3号楼2单元501 厨房水管漏水", "report_repair"), slots=STALE)
    )
    assert names == []
    state = after(events, STALE)
    assert (state["building"], state["unit"], state["room"]) == ("3", "2", "501")
    assert state["problem"] == "厨房水管漏水"
    assert state["public_area"] is None and state["visitor_name"] is None and state["summary"] is None
    assert state["confirmed"] is None and state["requested_slot"] is None


async def test_prepare_repair_strips_a_building_prefix_from_a_public_area_report(bot_api):
    _, _, events = await run(ActionPrepareRepair(), tracker(STRANGER, said("5号楼电梯坏了", "report_repair")))
    state = after(events)
    assert (state["building"], state["public_area"], state["problem"]) == ("5", "电梯", "电梯坏了")
    assert state["unit"] is None and state["room"] is None


async def test_prepare_repair_defaults_to_the_bound_flat_when_no_place_is_named(bot_api):
    await bind(bot_api, ZHANG)
    _, _, events = await run(ActionPrepareRepair(), tracker(ZHANG, said("厨房水管漏水了", "report_repair")))
    state = after(events)
    assert (state["building"], state["unit"], state["room"]) == ("3", "2", "501")
    assert state["problem"] == "厨房水管漏水了"


async def test_prepare_repair_for_an_unbound_owner_naming_no_place_leaves_the_address_to_ask(bot_api):
    await bind(bot_api, ZHANG)  # someone else's binding must not be used
    _, _, events = await run(ActionPrepareRepair(), tracker(STRANGER, said("厨房水管漏水了", "report_repair")))
    state = after(events)
    assert state["building"] is None and state["unit"] is None and state["room"] is None
    assert state["problem"] == "厨房水管漏水了"


async def test_prepare_repair_named_place_wins_over_the_bound_flat(bot_api):
    await bind(bot_api, ZHANG)
    _, _, events = await run(ActionPrepareRepair(), tracker(ZHANG, said("1号楼楼道的灯坏了", "report_repair")))
    state = after(events)
    assert (state["building"], state["public_area"]) == ("1", "楼道")
    assert state["unit"] is None and state["room"] is None


async def test_prepare_repair_takes_the_address_from_the_previous_inform_message(bot_api):
    earlier = said("3号楼2单元501", "inform")
    tr = tracker(STRANGER, said("报修", "report_repair"), history=[action("action_listen"), user(earlier)])
    _, _, events = await run(ActionPrepareRepair(), tr)
    state = after(events)
    assert (state["building"], state["unit"], state["room"]) == ("3", "2", "501")
    assert state["problem"] is None  # 报修 alone does not say what is wrong


async def test_prepare_repair_takes_address_and_problem_from_the_previous_inform_message(bot_api):
    earlier = said("3号楼2单元501 阳台门卡住了", "inform")
    tr = tracker(STRANGER, said("报修", "report_repair"), history=[action("action_listen"), user(earlier)])
    _, _, events = await run(ActionPrepareRepair(), tr)
    state = after(events)
    assert (state["building"], state["unit"], state["room"]) == ("3", "2", "501")
    assert state["problem"] == "阳台门卡住了"


async def test_prepare_repair_ignores_an_address_from_a_previous_message_that_was_not_an_answer(bot_api):
    earlier = said("3-2-501欠多少物业费", "ask_fee")
    tr = tracker(STRANGER, said("报修", "report_repair"), history=[action("action_listen"), user(earlier)])
    _, _, events = await run(ActionPrepareRepair(), tr)
    state = after(events)
    assert state["building"] is None and state["unit"] is None and state["room"] is None


async def test_prepare_repair_with_the_backend_down_still_takes_what_was_said(backend_down):
    _, _, events = await run(ActionPrepareRepair(), tracker(ZHANG, said("厨房水管漏水了", "report_repair")))
    state = after(events)
    assert state["problem"] == "厨房水管漏水了" and state["building"] is None


# ---------------------------------------------------------------- repair: the form


@pytest.mark.parametrize(
    ("filled", "asked_next"),
    [
        ({}, "building"),
        ({"building": "3"}, "unit"),
        ({"building": "3", "unit": "2"}, "room"),
        ({"building": "3", "unit": "2", "room": "501"}, "problem"),
        ({"building": "3", "unit": "2", "room": "501", "problem": "厨房水管漏水"}, "confirmed"),
        ({"public_area": "电梯"}, "building"),  # a lift belongs to a building
        ({"public_area": "电梯", "building": "5", "problem": "电梯不动了"}, "confirmed"),  # no unit or room
        ({"public_area": "花园"}, "problem"),  # the garden belongs to no building
        ({"public_area": "花园", "problem": "花园的路灯不亮了"}, "confirmed"),
    ],
)
async def test_repair_form_requires_what_the_place_needs(bot_api, filled, asked_next):
    tr = activation("repair_form", STRANGER, said("报修", "report_repair"), filled)
    names, _, events = await run(ValidateRepairForm(), tr)
    assert names == []
    assert after(events, filled)["requested_slot"] == asked_next


async def test_repair_form_bare_number_fills_the_part_that_was_asked(bot_api):
    tr = form_turn("repair_form", STRANGER, said("2"), {"building": "3"}, asked="unit")
    _, _, events = await run(ValidateRepairForm(), tr)
    state = after(events, {"building": "3"})
    assert (state["building"], state["unit"], state["room"]) == ("3", "2", None)
    assert state["requested_slot"] == "room"


async def test_repair_form_bare_number_answers_the_building_of_a_public_area(bot_api):
    slots = {"public_area": "电梯", "problem": "电梯坏了"}
    tr = form_turn("repair_form", STRANGER, said("5"), slots, asked="building")
    _, _, events = await run(ValidateRepairForm(), tr)
    state = after(events, slots)
    assert state["building"] == "5" and state["requested_slot"] == "confirmed"
    assert state["summary"] == "地点：5号楼 电梯\n问题：电梯坏了"


async def test_repair_form_bare_number_is_not_a_problem_description(bot_api):
    slots = {"building": "3", "unit": "2", "room": "501"}
    tr = form_turn("repair_form", STRANGER, said("501"), slots, asked="problem")
    _, _, events = await run(ValidateRepairForm(), tr)
    assert slot_events(events) == {"requested_slot": "problem"}


async def test_repair_form_takes_the_problem_in_the_owners_words(bot_api):
    slots = {"building": "3", "unit": "2", "room": "501"}
    tr = form_turn("repair_form", STRANGER, said("卫生间马桶堵了"), slots, asked="problem")
    names, _, events = await run(ValidateRepairForm(), tr)
    assert names == []
    state = after(events, slots)
    assert state["problem"] == "卫生间马桶堵了" and state["requested_slot"] == "confirmed"
    assert state["summary"] == "地点：3号楼2单元501\n问题：卫生间马桶堵了"


async def test_repair_form_refuses_an_unknown_room(bot_api):
    slots = {"building": "3", "unit": "2"}
    tr = form_turn("repair_form", STRANGER, said("909"), slots, asked="room")
    names, _, events = await run(ValidateRepairForm(), tr)
    assert names == ["utter_unknown_address"]
    state = after(events, slots)
    assert (state["building"], state["unit"], state["room"]) == (None, None, None)
    assert state["requested_slot"] == "building"


async def test_repair_form_refuses_an_unknown_flat_given_in_one_message(bot_api):
    """4号楼 does not exist in the demo community; every part of the refused address is cleared."""
    message = said("4号楼1单元101 水管漏了", "report_repair")
    slots = {"building": "4", "unit": "1", "room": "101", "problem": "水管漏了"}
    names, _, events = await run(ValidateRepairForm(), activation("repair_form", STRANGER, message, slots))
    assert names == ["utter_unknown_address"]
    state = after(events, slots)
    assert (state["building"], state["unit"], state["room"]) == (None, None, None)
    assert state["requested_slot"] == "building"
    assert state["summary"] is None


async def test_repair_form_summary_waits_until_everything_is_known(bot_api):
    slots = {"building": "3", "unit": "2", "room": "501"}
    names, _, events = await run(ValidateRepairForm(), activation("repair_form", STRANGER, said("报修"), slots))
    assert names == []
    assert "summary" not in slot_events(events)
    assert after(events, slots)["requested_slot"] == "problem"


FILLED_REPAIR = {
    "building": "3",
    "unit": "2",
    "room": "501",
    "problem": "厨房水管漏水",
    "summary": "地点：3号楼2单元501\n问题：厨房水管漏水",
}


async def test_repair_form_digression_at_confirmation_changes_no_slot(bot_api):
    """物业费怎么交 while asked to confirm: no slot event but requested_slot, so Rasa rejects the form
    and the digression is answered; the summary is not re-sent."""
    tr = form_turn("repair_form", ZHANG, said("物业费怎么交", "ask_fee"), FILLED_REPAIR, asked="confirmed")
    names, _, events = await run(ValidateRepairForm(), tr)
    assert names == []
    assert [e for e in events if e["name"] != "requested_slot"] == []
    assert after(events, FILLED_REPAIR)["requested_slot"] == "confirmed"


async def test_repair_form_affirm_confirms(bot_api):
    tr = form_turn("repair_form", ZHANG, said("是的", "affirm"), FILLED_REPAIR, asked="confirmed")
    names, _, events = await run(ValidateRepairForm(), tr)
    assert names == []
    state = after(events, FILLED_REPAIR)
    assert state["confirmed"] is True and state["requested_slot"] is None
    assert state["summary"] == FILLED_REPAIR["summary"] and state["problem"] == "厨房水管漏水"


async def test_repair_form_affirm_before_the_confirmation_question_confirms_nothing(bot_api):
    slots = {"building": "3", "unit": "2", "room": "501"}
    tr = form_turn("repair_form", ZHANG, said("好的", "affirm"), slots, asked="problem")
    _, _, events = await run(ValidateRepairForm(), tr)
    assert after(events, slots)["confirmed"] is None
    assert "confirmed" not in slot_events(events)


async def test_repair_form_plain_deny_starts_over(bot_api):
    tr = form_turn("repair_form", ZHANG, said("不是", "deny"), FILLED_REPAIR, asked="confirmed")
    names, _, events = await run(ValidateRepairForm(), tr)
    assert names == ["utter_restart_form"]
    state = after(events, FILLED_REPAIR)
    for name in ("building", "unit", "room", "public_area", "problem", "summary", "confirmed"):
        assert state[name] is None, name
    assert state["requested_slot"] == "building"


@pytest.mark.parametrize("intent", ["deny", "inform", "nlu_fallback"])  # 不对 is a "no" whatever the classifier says
async def test_repair_form_correction_with_a_room_number_changes_the_room(bot_api, intent):
    tr = form_turn("repair_form", ZHANG, said("不对，是301", intent), FILLED_REPAIR, asked="confirmed")
    names, _, events = await run(ValidateRepairForm(), tr)
    assert names == []
    state = after(events, FILLED_REPAIR)
    assert (state["building"], state["unit"], state["room"]) == ("3", "2", "301")
    assert state["problem"] == "厨房水管漏水"
    assert state["confirmed"] is None and state["requested_slot"] == "confirmed"
    assert state["summary"] == "地点：3号楼2单元301\n问题：厨房水管漏水"  # asked again with the new summary


async def test_repair_form_correction_with_a_full_address(bot_api):
    tr = form_turn("repair_form", ZHANG, said("不对，是3号楼2单元502", "deny"), FILLED_REPAIR, asked="confirmed")
    names, _, events = await run(ValidateRepairForm(), tr)
    assert names == []
    state = after(events, FILLED_REPAIR)
    assert state["room"] == "502" and state["confirmed"] is None
    assert state["summary"] == "地点：3号楼2单元502\n问题：厨房水管漏水"


async def test_repair_form_correction_to_an_unknown_room_is_refused(bot_api):
    tr = form_turn("repair_form", ZHANG, said("不对，是909", "deny"), FILLED_REPAIR, asked="confirmed")
    names, _, events = await run(ValidateRepairForm(), tr)
    assert names == ["utter_unknown_address"]
    state = after(events, FILLED_REPAIR)
    assert state["room"] is None and state["building"] is None
    assert state["requested_slot"] == "building" and state["summary"] is None


async def test_repair_form_validates_cleared_slots_without_error(bot_api):
    """rasa-sdk also validates slots set to None in this turn; none of that may crash or speak."""
    cleared = {"building": None, "unit": None, "room": None, "public_area": None, "problem": None, "confirmed": None}
    tr = tracker(STRANGER, said("报修", "report_repair"), form="repair_form", candidates=cleared)
    names, _, events = await run(ValidateRepairForm(), tr)
    assert names == []
    state = after(events)
    assert all(state[name] is None for name in cleared)
    assert state["requested_slot"] == "building"


async def test_ask_repair_building_names_the_public_area():
    tr = tracker(STRANGER, said("电梯坏了", "report_repair"), slots={"public_area": "电梯"}, form="repair_form")
    names, args, events = await run(ActionAskRepairFormBuilding(), tr)
    assert names == ["utter_ask_building_of_area"] and args == [{"public_area": "电梯"}]
    assert events == []


async def test_ask_repair_building_for_a_flat():
    tr = tracker(STRANGER, said("报修", "report_repair"), form="repair_form")
    names, args, events = await run(ActionAskRepairFormBuilding(), tr)
    assert names == ["utter_ask_repair_form_building"] and args == [{}]
    assert events == []


# ---------------------------------------------------------------- repair: submitting


async def test_submit_repair_opens_a_ticket_visible_to_the_owner_and_clears_the_flow(bot_api):
    slots = FILLED_REPAIR | {"confirmed": True}
    names, args, events = await run(ActionSubmitRepair(), tracker(ZHANG, said("是的", "affirm"), slots=slots))
    assert names == ["utter_repair_submitted"]
    number = args[0]["ticket_id"]
    assert re.fullmatch(r"BX\d{6}", number)
    assert args[0]["promise"] == "维修人员会在30分钟内联系您，24小时内处理好。"
    assert flow_cleared(events) and not_slots(events) == []
    stored = await staff_view(bot_api, number)
    assert stored["sender"] == ZHANG and stored["kind"] == "repair" and stored["priority"] == "normal"
    assert stored["location"] == "3号楼2单元501" and stored["description"] == "厨房水管漏水"
    assert [t["id"] for t in await views.tickets_for_sender(bot_api.new_uow(), ZHANG)] == [number]
    assert await views.tickets_for_sender(bot_api.new_uow(), STRANGER) == []


async def test_submit_repair_for_a_public_area(bot_api):
    slots = {"public_area": "电梯", "building": "5", "problem": "电梯不动了", "confirmed": True}
    names, args, _ = await run(ActionSubmitRepair(), tracker(STRANGER, said("是", "affirm"), slots=slots))
    assert names == ["utter_repair_submitted"]
    stored = await staff_view(bot_api, args[0]["ticket_id"])
    assert (stored["building"], stored["unit"], stored["room"], stored["public_area"]) == ("5", None, None, "电梯")
    assert stored["location"] == "5号楼 电梯"


async def test_submit_repair_with_the_backend_down_keeps_everything_and_asks_again(backend_down):
    slots = FILLED_REPAIR | {"confirmed": True}
    names, _, events = await run(ActionSubmitRepair(), tracker(ZHANG, said("是", "affirm"), slots=slots))
    assert names == ["utter_backend_down"]
    assert events == [SlotSet("confirmed", None), ActiveLoop("repair_form")]


# ---------------------------------------------------------------- complaint


async def test_prepare_complaint_takes_the_details_and_anonymity(bot_api):
    text = "我想匿名投诉，楼下广场舞太吵了"
    names, _, events = await run(ActionPrepareComplaint(), tracker(ZHANG, said(text, "file_complaint"), slots=STALE))
    assert names == []
    state = after(events, STALE)
    assert state["complaint_details"] == text and state["anonymous"] is True
    assert state["public_area"] == "广场"
    assert state["building"] is None and state["problem"] is None and state["summary"] is None


async def test_prepare_complaint_without_details_leaves_them_to_ask(bot_api):
    _, _, events = await run(ActionPrepareComplaint(), tracker(ZHANG, said("我要投诉", "file_complaint")))
    state = after(events)
    assert state["complaint_details"] is None and state["anonymous"] is None


async def test_prepare_complaint_refusing_anonymity_is_not_anonymous(bot_api):
    text = "我要投诉，不要匿名，楼上装修太吵了"
    _, _, events = await run(ActionPrepareComplaint(), tracker(ZHANG, said(text, "file_complaint")))
    state = after(events)
    assert state["complaint_details"] == text
    assert state["anonymous"] is not True


@pytest.mark.parametrize(
    ("text", "intent", "anonymous"),
    [
        ("匿名", "inform", True),
        ("要匿名", "inform", True),
        ("實名", "inform", False),  # traditional script
        ("实名", "inform", False),
        ("不用", "deny", False),
        ("不用匿名", "inform", False),
        ("我不想匿名", "inform", False),
        ("可以", "affirm", True),
        ("不", "deny", False),
    ],
)
async def test_complaint_form_reads_the_anonymity_answer(bot_api, text, intent, anonymous):
    slots = {"complaint_details": "楼上邻居半夜总是大声放音乐"}
    tr = form_turn("complaint_form", ZHANG, said(text, intent), slots, asked="anonymous")
    _, _, events = await run(ValidateComplaintForm(), tr)
    state = after(events, slots)
    assert state["anonymous"] is anonymous
    assert state["complaint_details"] == "楼上邻居半夜总是大声放音乐"  # the answer is not taken as details
    assert state["requested_slot"] == "confirmed"


async def test_complaint_form_unclear_anonymity_answer_asks_again(bot_api):
    slots = {"complaint_details": "楼上邻居半夜总是大声放音乐"}
    tr = form_turn("complaint_form", ZHANG, said("物业费怎么交", "ask_fee"), slots, asked="anonymous")
    _, _, events = await run(ValidateComplaintForm(), tr)
    assert slot_events(events) == {"requested_slot": "anonymous"}


async def test_complaint_summary_has_no_location_line_when_none_was_given(bot_api):
    slots = {"complaint_details": "楼上邻居半夜总是大声放音乐"}
    tr = form_turn("complaint_form", ZHANG, said("实名"), slots, asked="anonymous")
    _, _, events = await run(ValidateComplaintForm(), tr)
    assert after(events, slots)["summary"] == "内容：楼上邻居半夜总是大声放音乐\n方式：实名"


async def test_complaint_summary_shows_the_location_when_given(bot_api):
    slots = {"complaint_details": "广场舞太吵了", "public_area": "广场"}
    tr = form_turn("complaint_form", ZHANG, said("匿名"), slots, asked="anonymous")
    _, _, events = await run(ValidateComplaintForm(), tr)
    assert after(events, slots)["summary"] == "内容：广场舞太吵了\n地点：广场\n方式：匿名"


async def test_complaint_form_asks_for_details_first(bot_api):
    tr = activation("complaint_form", ZHANG, said("我要投诉", "file_complaint"), {})
    _, _, events = await run(ValidateComplaintForm(), tr)
    assert after(events)["requested_slot"] == "complaint_details"
    tr = form_turn("complaint_form", ZHANG, said("楼上邻居半夜总是大声放音乐"), {}, asked="complaint_details")
    _, _, events = await run(ValidateComplaintForm(), tr)
    state = after(events)
    assert state["complaint_details"] == "楼上邻居半夜总是大声放音乐" and state["requested_slot"] == "anonymous"
    assert state["summary"] is None


async def test_complaint_form_plain_deny_at_confirmation_starts_over(bot_api):
    slots = {"complaint_details": "广场舞太吵了", "anonymous": True, "summary": "内容：广场舞太吵了\n方式：匿名"}
    tr = form_turn("complaint_form", ZHANG, said("不是", "deny"), slots, asked="confirmed")
    names, _, events = await run(ValidateComplaintForm(), tr)
    assert names == ["utter_restart_form"]
    state = after(events, slots)
    assert state["complaint_details"] is None and state["anonymous"] is None and state["summary"] is None
    assert state["requested_slot"] == "complaint_details"


async def test_submit_complaint_stores_an_anonymous_complaint(bot_api):
    slots = {"complaint_details": "广场舞太吵了", "anonymous": True, "public_area": "广场", "confirmed": True}
    names, args, events = await run(ActionSubmitComplaint(), tracker(ZHANG, said("是", "affirm"), slots=slots))
    assert names == ["utter_complaint_submitted"]
    assert re.fullmatch(r"TS\d{6}", args[0]["ticket_id"])
    assert args[0]["promise"] == "我们会在24小时内回复您处理结果。"
    assert flow_cleared(events)
    stored = await staff_view(bot_api, args[0]["ticket_id"])
    assert stored["kind"] == "complaint" and stored["anonymous"] is True
    assert stored["sender"] is None  # staff never see who complained anonymously
    assert stored["description"] == "广场舞太吵了" and stored["public_area"] == "广场"


async def test_submit_complaint_stores_a_named_complaint(bot_api):
    slots = {"complaint_details": "楼上邻居半夜总是大声放音乐", "anonymous": False, "confirmed": True}
    _, args, _ = await run(ActionSubmitComplaint(), tracker(ZHANG, said("是", "affirm"), slots=slots))
    stored = await staff_view(bot_api, args[0]["ticket_id"])
    assert stored["anonymous"] is False and stored["sender"] == ZHANG
    assert stored["location"] == "待确认"


async def test_submit_complaint_with_the_backend_down_asks_again(backend_down):
    slots = {"complaint_details": "广场舞太吵了", "anonymous": True, "confirmed": True}
    names, _, events = await run(ActionSubmitComplaint(), tracker(ZHANG, said("是", "affirm"), slots=slots))
    assert names == ["utter_backend_down"]
    assert events == [SlotSet("confirmed", None), ActiveLoop("complaint_form")]


# ---------------------------------------------------------------- emergency


async def test_emergency_opens_an_urgent_ticket_advises_and_pauses(bot_api):
    await bind(bot_api, ZHANG)
    names, args, events = await run(ActionReportEmergency(), tracker(ZHANG, said("厨房有煤气味", "report_emergency")))
    assert names == ["utter_emergency"]
    assert args[0]["advice"] == COMMUNITY["emergency_advice"]["gas_leak"]
    assert args[0]["duty_hotline"] == "0571-8888 7777"
    assert args[0]["promise"] == "值班人员会在15分钟内赶到现场。"
    assert events[-1] == ConversationPaused() and flow_cleared(events)
    assert ActiveLoop(None) not in events  # no form was running
    stored = await staff_view(bot_api, args[0]["ticket_id"])
    assert stored["priority"] == "emergency" and stored["hazard"] == "gas_leak"
    assert stored["location"] == "3号楼2单元501"  # the bound flat, since no place was named
    assert stored["description"] == "厨房有煤气味"
    assert await views.conversation_state(bot_api.new_uow(), ZHANG) == ("handed_off", None)


async def test_emergency_during_a_form_deactivates_it_and_uses_the_address_said(bot_api):
    tr = tracker(
        STRANGER,
        said("3号楼2单元501着火了", "report_emergency"),
        slots={"problem": "厨房水管漏水", "requested_slot": "building"},
        form="repair_form",
    )
    names, args, events = await run(ActionReportEmergency(), tr)
    assert names == ["utter_emergency"]
    assert events[0] == ActiveLoop(None) and events[-1] == ConversationPaused()
    assert after(events, {"problem": "厨房水管漏水"})["problem"] is None
    stored = await staff_view(bot_api, args[0]["ticket_id"])
    assert stored["hazard"] == "fire" and stored["location"] == "3号楼2单元501"
    assert args[0]["advice"] == COMMUNITY["emergency_advice"]["fire"]


async def test_a_missed_emergency_is_caught_by_a_second_look_at_the_next_message(bot_api):
    """厨房有股怪味 read as a repair (no hazard alone); the owner's next message, 我都不敢开灯, shows
    the danger only together with it: the form ends and the emergency opens (issue 15)."""
    history = [action("action_listen"), user(said("3号楼2单元501 厨房有股怪味", "report_repair"))]
    slots = {"building": "3", "unit": "2", "room": "501", "problem": "厨房有股怪味"}
    tr = tracker(
        STRANGER,
        said("我都不敢开灯", "inform"),
        slots=slots | {"requested_slot": "confirmed"},
        form="repair_form",
        history=history,
    )
    names, args, events = await run(ValidateRepairForm(), tr)
    assert names == ["utter_emergency"]
    assert events[0] == ActiveLoop(None) and events[-1] == ConversationPaused() and flow_cleared(events)
    stored = await staff_view(bot_api, args[0]["ticket_id"])
    assert (stored["priority"], stored["hazard"], stored["location"]) == ("emergency", "gas_leak", "3号楼2单元501")
    assert "怪味" in stored["description"] and "不敢开灯" in stored["description"]


@pytest.mark.parametrize(
    ("earlier", "latest"),
    [
        ("3号楼2单元501 厨房有股怪味", "是的"),  # nothing new in the next message
        ("3号楼2单元501 厨房水管漏水", "我都不敢开灯"),  # no smell before: no gas
        ("昨天厨房有股怪味", "现在没有了"),
    ],
)
async def test_the_second_look_finds_nothing_where_the_two_messages_show_no_danger(bot_api, earlier, latest):
    history = [action("action_listen"), user(said(earlier, "report_repair"))]
    slots = {"building": "3", "unit": "2", "room": "501", "problem": "厨房"}
    tr = tracker(
        STRANGER,
        said(latest, "inform"),
        slots=slots | {"requested_slot": "confirmed"},
        form="repair_form",
        history=history,
    )
    names, _, events = await run(ValidateRepairForm(), tr)
    assert "utter_emergency" not in names and ConversationPaused() not in events


async def test_emergency_with_the_backend_down_gives_safety_advice_and_does_not_pause(backend_down):
    tr = tracker(ZHANG, said("厨房有煤气味", "report_emergency"), form="repair_form")
    names, _, events = await run(ActionReportEmergency(), tr)
    assert names == ["utter_emergency_fallback"]
    assert ConversationPaused() not in events
    assert events[0] == ActiveLoop(None) and flow_cleared(events)


# ---------------------------------------------------------------- fees


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("物业费怎么交", "how_to_pay"),
        ("可以开发票吗", "invoice"),
        ("滞纳金怎么算", "late_fee"),
        ("物业费收费标准是多少", "standard"),
        ("物业费", "overview"),  # no topic: the overview
    ],
)
async def test_general_fee_questions_are_answered_from_the_community_content(bot_api, text, topic):
    names, _, events = await run(ActionAnswerFee(), tracker(STRANGER, said(text, "ask_fee")))
    assert names == [COMMUNITY["fees"][topic]]
    assert events == []


async def test_a_fee_the_content_covers_is_answered_with_its_own_answer(bot_api):
    names, _, _ = await run(ActionAnswerFee(), tracker(STRANGER, said("停车费一个月多少钱", "ask_fee")))
    assert names == [COMMUNITY["fees"]["items"]["parking"]]


@pytest.mark.parametrize(("text", "fee"), [("垃圾清运费多少钱", "垃圾清运费"), ("装修押金怎么交", "装修押金")])
async def test_a_fee_the_content_does_not_cover_is_said_so_with_a_person_offered(bot_api, text, fee):
    names, args, _ = await run(ActionAnswerFee(), tracker(STRANGER, said(text, "ask_fee")))
    assert names == ["utter_fee_not_covered"]  # not the property fee's schedule
    assert args[0]["fee"] == fee and args[0]["hotline"] == COMMUNITY["community"]["service_hotline"]


async def test_personal_fee_question_from_an_unbound_sender_starts_the_identity_check(bot_api):
    await bind(bot_api, ZHANG)
    names, _, events = await run(ActionAnswerFee(), tracker(STRANGER, said("我家还欠多少物业费", "ask_fee")))
    assert names == []  # nothing about anyone's ledger
    assert events == [SlotSet("pending_request", "fee:owed"), FollowupAction("binding_form")]


async def test_a_landlord_with_flats_in_two_communities_is_asked_which_one_then_answered(bot_api):
    """张伟 owns 3-2-501 in 示例花园 and 7-1-1102 in 阳光小区 (content/demo_community.yml)."""
    landlord = "webchat:landlord-zhang"
    await bot_api.bus.handle(commands.BindSender(landlord, "3", "2", "501", "13800000501"))
    await bot_api.bus.handle(commands.RecordInbound(landlord, "阳光小区"))
    await bot_api.bus.handle(commands.BindSender(landlord, "7", "1", "1102", "13800000501"))
    async with bot_api.new_uow() as uow:  # a later day: the owner has not said which one yet
        (await uow.conversations.get(landlord)).community = None
        await uow.commit()
    names, _, events = await run(ActionAnswerFee(), tracker(landlord, said("我家还欠多少物业费", "ask_fee")))
    assert names == ["您在示例花园小区、阳光小区都有房屋，请问这次是哪个小区的事？直接回复小区名称就行。"]
    assert events == []
    await bot_api.bus.handle(commands.RecordInbound(landlord, "示例花园"))
    names, args, _ = await run(ActionAnswerFee(), tracker(landlord, said("我家还欠多少物业费", "ask_fee")))
    assert names == ["utter_fee_owed"] and args[0]["location"] == "3号楼2单元501"


async def test_general_fee_answers_come_from_the_owner_s_community(bot_api):
    await bot_api.bus.handle(commands.RecordInbound("webchat:yg-owner", "我是阳光小区的"))
    names, _, _ = await run(ActionAnswerFee(), tracker("webchat:yg-owner", said("物业费收费标准是多少", "ask_fee")))
    assert "1.80元" in names[0] and names[0] != COMMUNITY["fees"]["standard"]


async def test_personal_fee_question_with_an_address_prefills_the_identity_check(bot_api):
    names, _, events = await run(ActionAnswerFee(), tracker(STRANGER, said("3-2-501欠多少物业费", "ask_fee")))
    assert names == []
    assert slot_events(events) == {"building": "3", "unit": "2", "room": "501", "pending_request": "fee:owed"}
    assert not_slots(events) == [FollowupAction("binding_form")]


async def test_bound_owner_hears_what_their_flat_owes(bot_api):
    await bind(bot_api, ZHANG)
    names, args, events = await run(ActionAnswerFee(), tracker(ZHANG, said("我家还欠多少物业费", "ask_fee")))
    assert names == ["utter_fee_owed"]
    assert args == [
        {
            "location": "3号楼2单元501",
            "amount": "393.80",
            "count": 2,
            "details": "2026-10 物业费 196.90元\n2026-11 物业费 196.90元",
            "paid_until": "2026年9月",
        }
    ]
    assert events == []


async def test_large_amounts_are_grouped_in_thousands(bot_api):
    await bind(bot_api, LI)
    names, args, _ = await run(ActionAnswerFee(), tracker(LI, said("我家还欠多少物业费", "ask_fee")))
    assert names == ["utter_fee_owed"]
    assert args[0]["amount"] == "1,389.30" and args[0]["count"] == 5
    assert args[0]["paid_until"] == "2026年6月" and args[0]["location"] == "5号楼1单元302"


async def test_bound_owner_with_nothing_owed_hears_paid_until(bot_api):
    await bind(bot_api, WANG)
    names, args, _ = await run(ActionAnswerFee(), tracker(WANG, said("物业费交到几月了", "ask_fee")))
    assert names == ["utter_fee_clear"]
    assert args == [{"location": "1号楼1单元101", "paid_until": "2026年11月"}]


async def test_each_owner_hears_only_their_own_ledger(bot_api):
    await bind(bot_api, ZHANG)
    await bind(bot_api, WANG)
    _, zhang, _ = await run(ActionAnswerFee(), tracker(ZHANG, said("我家还欠多少物业费", "ask_fee")))
    _, wang, _ = await run(ActionAnswerFee(), tracker(WANG, said("我家还欠多少物业费", "ask_fee")))
    assert zhang[0]["location"] == "3号楼2单元501" and wang[0]["location"] == "1号楼1单元101"
    assert "amount" not in wang[0]


async def test_personal_fee_question_inside_another_form_waits(bot_api):
    tr = tracker(
        STRANGER,
        said("我家还欠多少物业费", "ask_fee"),
        slots={"building": "3", "requested_slot": "unit"},
        form="repair_form",
    )
    names, _, events = await run(ActionAnswerFee(), tr)
    assert names == ["utter_fee_needs_binding_later"]
    assert events == []


async def test_fee_question_with_the_backend_down(backend_down):
    names, _, events = await run(ActionAnswerFee(), tracker(ZHANG, said("我家还欠多少物业费", "ask_fee")))
    assert names == ["utter_backend_down"] and events == []


# ---------------------------------------------------------------- binding


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("13800000501", "13800000501"),
        ("138-0000-0501", "13800000501"),
        ("0571-88886666", "057188886666"),
        ("12345", None),  # too short to be a phone
        ("1380000050112345", None),  # too long
        ("电话", None),
        (None, None),
    ],
)
async def test_binding_form_validates_the_phone(value, kept):
    tr = tracker(STRANGER, said("13800000501"), form="binding_form")
    assert await ValidateBindingForm().validate_phone(value, CollectingDispatcher(), tr, DOMAIN) == {"phone": kept}


async def test_binding_form_takes_the_phone_from_the_message(bot_api):
    slots = {"building": "3", "unit": "2", "room": "501"}
    tr = form_turn("binding_form", STRANGER, said("138 0000 0501"), slots, asked="phone")
    names, _, events = await run(ValidateBindingForm(), tr)
    assert names == []
    assert slot_events(events) == {"phone": "13800000501"}  # nothing to confirm: no summary


async def test_binding_form_never_says_a_flat_is_unknown(bot_api):
    """Telling 'no such flat' before the phone is asked would let anyone map the register:
    an unknown flat must look exactly like a wrong phone (checked together, at the end)."""
    tr = form_turn("binding_form", STRANGER, said("4号楼1单元101"), {}, asked="building")
    names, _, events = await run(ValidateBindingForm(), tr)
    assert names == []
    state = after(events)
    assert (state["building"], state["unit"], state["room"]) == ("4", "1", "101")


def identity(sender: str, **slots: Any) -> Tracker:
    """The binding form is done: ``sender`` gave 张伟's flat and phone (3-2-501, 13800000501) unless overridden."""
    building, unit, room, phone = FLATS[ZHANG]
    values = {"building": building, "unit": unit, "room": room, "phone": phone} | slots
    return tracker(sender, said(values["phone"]), slots=values)


async def test_bind_answers_the_pending_fee_question_in_the_same_turn(bot_api):
    names, args, events = await run(ActionBindOwner(), identity(STRANGER, pending_request="fee:owed"))
    assert names == ["utter_bound", "utter_fee_owed"]
    assert args[1]["location"] == "3号楼2单元501" and args[1]["amount"] == "393.80"
    state = after(events, {"pending_request": "fee:owed", "phone": "13800000501"})
    assert state["pending_request"] is None and state["phone"] is None and state["building"] is None
    assert not_slots(events) == []
    assert await views.binding_for_sender(bot_api.new_uow(), STRANGER) == {
        "building": "3",
        "unit": "2",
        "room": "501",
        "community": "shifan",
    }


async def test_bind_continues_with_the_visitor_form_keeping_the_visit_details(bot_api):
    tr = identity(STRANGER, pending_request="visitor_pass", visitor_name="张三", visitor_plate="浙A12345")
    names, _, events = await run(ActionBindOwner(), tr)
    assert names == ["utter_bound"]
    assert not_slots(events) == [FollowupAction("visitor_form")]
    state = after(events, {"visitor_name": "张三", "visitor_plate": "浙A12345", "phone": "13800000501"})
    assert state["visitor_name"] == "张三" and state["visitor_plate"] == "浙A12345"
    assert state["phone"] is None and state["pending_request"] is None


async def test_bind_with_nothing_pending_just_confirms(bot_api):
    names, _, events = await run(ActionBindOwner(), identity(STRANGER))
    assert names == ["utter_bound"]
    assert not_slots(events) == []


@pytest.mark.parametrize(
    "wrong",
    [
        {"phone": "13900000000"},  # not the phone on file
        {"phone": "13900302101"},  # the phone of another flat (3-2-101)
        {"building": "4", "unit": "1", "room": "101"},  # no such flat
    ],
)
async def test_bind_mismatch_reveals_nothing_and_binds_nothing(bot_api, wrong):
    names, args, events = await run(ActionBindOwner(), identity(STRANGER, pending_request="fee:owed", **wrong))
    assert names == ["utter_bind_failed"] and args == [{}]
    assert not_slots(events) == []  # no fee answer, no follow-up
    state = after(events, {"pending_request": "fee:owed", "phone": "x"})
    assert state["pending_request"] is None and state["phone"] is None
    assert await views.binding_for_sender(bot_api.new_uow(), STRANGER) is None


async def test_bind_is_locked_after_too_many_wrong_guesses(bot_api):
    for _ in range(5):
        names, _, _ = await run(ActionBindOwner(), identity(STRANGER, phone="13900000000"))
        assert names == ["utter_bind_failed"]
    names, args, events = await run(ActionBindOwner(), identity(STRANGER, pending_request="fee:owed"))
    assert names == ["utter_bind_locked"] and args == [{}]
    assert not_slots(events) == []
    assert await views.binding_for_sender(bot_api.new_uow(), STRANGER) is None


async def test_bind_with_the_backend_down(backend_down):
    names, _, events = await run(ActionBindOwner(), identity(STRANGER, pending_request="visitor_pass"))
    assert names == ["utter_backend_down"]
    assert not_slots(events) == [] and after(events, {"pending_request": "visitor_pass"})["pending_request"] is None


# ---------------------------------------------------------------- visitor passes


def visit_message(text: str, phrase: str, start: datetime, end: datetime, intent: str = "inform") -> dict:
    return said(text, intent, visit_time(text, phrase, start, end))


async def test_prepare_visitor_pass_for_an_unbound_sender_checks_identity_first(bot_api):
    start = tomorrow_at(15)
    text = "访客张三明天下午三点来，车牌浙A12345"
    message = visit_message(text, "明天下午三点", start, start + timedelta(hours=1), "request_visitor_pass")
    names, _, events = await run(ActionPrepareVisitorPass(), tracker(STRANGER, message, slots=STALE))
    assert names == []
    assert not_slots(events) == [FollowupAction("binding_form")]
    state = after(events, STALE)
    assert state["pending_request"] == "visitor_pass"
    assert state["visitor_name"] == "张三" and state["visitor_plate"] == "浙A12345"
    assert state["visit_start"] == start.isoformat() and state["visit_kind"] == "point"
    assert state["visit_end"] == (start + timedelta(hours=1)).isoformat()
    assert state["building"] is None and state["summary"] is None and state["confirmed"] is None


async def test_prepare_visitor_pass_for_a_bound_owner_goes_to_the_form(bot_api):
    await bind(bot_api, ZHANG)
    names, _, events = await run(
        ActionPrepareVisitorPass(), tracker(ZHANG, said("我要登记访客", "request_visitor_pass"))
    )
    assert names == []
    assert not_slots(events) == [FollowupAction("visitor_form")]
    assert "pending_request" not in slot_events(events)
    assert after(events)["visitor_name"] is None


ANNOUNCED_VISIT = "明天下午两点我同学孙浩开车来 车牌苏E66A12"


def announced_visit() -> dict:
    """As Rasa parses it (the time from Rasa's extractor: this environment has no time parser)."""
    start = tomorrow_at(14)
    return visit_message(ANNOUNCED_VISIT, "明天下午两点", start, start + timedelta(hours=1))


async def test_an_announced_visit_read_as_mere_information_starts_the_visitor_pass(bot_api):
    """Who comes, when and by which car is a pass being asked for, request word or not."""
    await bind(bot_api, ZHANG)
    names, _, events = await run(ActionReadInform(), tracker(ZHANG, announced_visit()))
    assert names == []
    assert not_slots(events) == [FollowupAction("visitor_form")]
    state = after(events)
    assert (state["visitor_name"], state["visitor_plate"]) == ("孙浩", "苏E66A12")
    assert state["visit_start"] == tomorrow_at(14).isoformat()


async def test_an_announced_visit_from_an_unbound_sender_checks_identity_first(bot_api):
    names, _, events = await run(ActionReadInform(), tracker(STRANGER, announced_visit()))
    assert names == [] and not_slots(events) == [FollowupAction("binding_form")]
    assert after(events)["pending_request"] == "visitor_pass"


@pytest.mark.parametrize("text", ["3号楼2单元501", "我姓王", "车牌苏E66A12"])
async def test_other_information_without_a_request_is_asked_what_for(bot_api, text):
    names, _, events = await run(ActionReadInform(), tracker(ZHANG, said(text, "inform")))
    assert names == ["utter_ask_what_for"] and events == []


async def test_prepare_visitor_pass_with_the_backend_down(backend_down):
    names, _, events = await run(
        ActionPrepareVisitorPass(), tracker(ZHANG, said("我要登记访客", "request_visitor_pass"))
    )
    assert names == ["utter_backend_down"]
    assert not_slots(events) == []


@pytest.mark.parametrize(("text", "name"), [("小王", "小王"), ("她叫小李", "小李"), ("张三", "张三"), ("Tom", "Tom")])
async def test_visitor_form_takes_the_visitors_name(text, name):
    tr = form_turn("visitor_form", ZHANG, said(text), {}, asked="visitor_name")
    _, _, events = await run(ValidateVisitorForm(), tr)
    # The visitor form's slots are the domain's, so Rasa's FormAction picks the next question.
    assert slot_events(events) == {"visitor_name": name}


async def test_visitor_form_does_not_take_a_command_for_a_name():
    tr = form_turn("visitor_form", ZHANG, said("我的工单到哪了", "check_status"), {}, asked="visitor_name")
    _, _, events = await run(ValidateVisitorForm(), tr)
    assert events == []


async def test_visitor_form_takes_an_upcoming_time_with_its_window():
    """明天下午 is 13:00-18:00: the end and the kind decide the pass window, so they must be kept
    (returned to Rasa) just like the start."""
    start = tomorrow_at(13)
    afternoon = visit_time("明天下午", "明天下午", start, start + timedelta(hours=5), "period")
    message = said("明天下午", "inform", afternoon)
    tr = form_turn("visitor_form", ZHANG, message, {"visitor_name": "张三"}, asked="visit_start")
    names, _, events = await run(ValidateVisitorForm(), tr)
    assert names == []
    assert slot_events(events) == {
        "visit_start": start.isoformat(),
        "visit_end": (start + timedelta(hours=5)).isoformat(),
        "visit_kind": "period",
    }


async def test_visitor_form_refuses_a_time_that_has_passed():
    start = local(hours=-3).replace(minute=0, second=0, microsecond=0)
    phrase = f"{start.month}月{start.day}日{start.hour}点"
    message = visit_message(phrase, phrase, start, start + timedelta(hours=1))
    tr = form_turn("visitor_form", ZHANG, message, {"visitor_name": "张三"}, asked="visit_start")
    names, _, events = await run(ValidateVisitorForm(), tr)
    assert names == ["utter_visit_time_past"]
    assert "visit_start" in slot_events(events)
    assert all(value is None for value in slot_events(events).values())


async def test_visitor_form_refuses_a_time_more_than_seven_days_ahead():
    start = local(days=10).replace(hour=10, minute=0, second=0, microsecond=0)
    phrase = f"{start.month}月{start.day}日上午10点"
    message = visit_message(phrase, phrase, start, start + timedelta(hours=1))
    tr = form_turn("visitor_form", ZHANG, message, {"visitor_name": "张三"}, asked="visit_start")
    names, _, events = await run(ValidateVisitorForm(), tr)
    assert names == ["utter_visit_too_far"]
    assert "visit_start" in slot_events(events)
    assert all(value is None for value in slot_events(events).values())


@pytest.mark.parametrize(
    ("text", "intent", "plate"),
    [("浙A12345", "inform", "浙A12345"), ("没有", "inform", "无"), ("他走路来", "inform", "无"), ("不", "deny", "无")],
)
async def test_visitor_form_takes_the_plate_or_no_car(text, intent, plate):
    start = tomorrow_at(15)
    slots = {"visitor_name": "张三", "visit_start": start.isoformat(), "visit_kind": "point"}
    tr = form_turn("visitor_form", ZHANG, said(text, intent), slots, asked="visitor_plate")
    _, _, events = await run(ValidateVisitorForm(), tr)
    state = after(events, slots)
    assert state["visitor_plate"] == plate
    assert state["summary"] == f"访客：张三\n到访：{start.month}月{start.day}日 15:00\n车牌：{plate}"


async def test_visitor_form_validates_a_cleared_time_without_error():
    tr = tracker(ZHANG, said("不是", "deny"), form="visitor_form", candidates={"visit_start": None, "confirmed": None})
    names, _, events = await run(ValidateVisitorForm(), tr)
    assert names == []
    assert slot_events(events) == {"visit_start": None, "confirmed": None}


async def test_visitor_form_correction_with_a_name_updates_the_summary():
    start = tomorrow_at(15)
    slots = {
        "visitor_name": "张三",
        "visit_start": start.isoformat(),
        "visitor_plate": "无",
        "summary": f"访客：张三\n到访：{start.month}月{start.day}日 15:00\n车牌：无",
    }
    tr = form_turn("visitor_form", ZHANG, said("不对，是李四", "deny"), slots, asked="confirmed")
    names, _, events = await run(ValidateVisitorForm(), tr)
    assert names == []
    state = after(events, slots)
    assert state["visitor_name"] == "李四" and state["confirmed"] is None
    assert state["summary"] == f"访客：李四\n到访：{start.month}月{start.day}日 15:00\n车牌：无"


def pass_slots(start: datetime, plate: str = "浙A12345", **more: Any) -> dict:
    return {
        "visitor_name": "张三",
        "visit_start": start.isoformat(),
        "visit_end": (start + timedelta(hours=1)).isoformat(),
        "visit_kind": "point",
        "visitor_plate": plate,
        "confirmed": True,
    } | more


async def test_issue_pass_gives_a_code_and_its_window(bot_api, clock):
    clock.now = datetime.now(timezone.utc)
    await bind(bot_api, ZHANG)
    start = tomorrow_at(15)
    names, args, events = await run(ActionIssuePass(), tracker(ZHANG, said("是", "affirm"), slots=pass_slots(start)))
    assert names == ["utter_pass_issued"]
    code = args[0]["code"]
    assert re.fullmatch(r"\d{6}", code)
    assert args[0]["window"] == f"{start.month}月{start.day}日 14:00 - 19:00"
    assert args[0]["visitor_name"] == "张三" and args[0]["plate_line"] == "车牌：浙A12345\n"
    assert flow_cleared(events) and not_slots(events) == []
    stored = await views.check_pass(bot_api.new_uow(), code, start)
    assert stored is not None and stored["valid"] is True
    assert (stored["building"], stored["unit"], stored["room"]) == ("3", "2", "501")
    assert stored["visitor_name"] == "张三" and stored["plate"] == "浙A12345"


async def test_a_whole_day_visit_said_inside_the_form_gets_a_pass_for_that_day(bot_api, clock):
    """The form's answer 明天 flows through to the pass: valid all of tomorrow, not 23:00-04:00."""
    clock.now = datetime.now(timezone.utc)
    await bind(bot_api, ZHANG)
    start = tomorrow_at(0)
    end = start + timedelta(days=1)
    slots = {"visitor_name": "张三"}
    message = said("明天", "inform", visit_time("明天", "明天", start, end, "day"))
    _, _, events = await run(
        ValidateVisitorForm(), form_turn("visitor_form", ZHANG, message, slots, asked="visit_start")
    )
    slots = after(events, slots) | {"visitor_plate": "无", "confirmed": True}
    names, args, _ = await run(ActionIssuePass(), tracker(ZHANG, said("是", "affirm"), slots=slots))
    assert names == ["utter_pass_issued"]
    assert args[0]["window"] == f"{start.month}月{start.day}日 00:00 - {end.month}月{end.day}日 00:00"


async def test_a_landlord_s_pass_waits_for_which_community_and_keeps_the_visit(bot_api, clock):
    clock.now = datetime.now(timezone.utc)
    landlord = "webchat:landlord-pass"
    await bot_api.bus.handle(commands.BindSender(landlord, "3", "2", "501", "13800000501"))
    await bot_api.bus.handle(commands.RecordInbound(landlord, "阳光小区"))
    await bot_api.bus.handle(commands.BindSender(landlord, "7", "1", "1102", "13800000501"))
    async with bot_api.new_uow() as uow:
        (await uow.conversations.get(landlord)).community = None
        await uow.commit()
    start = tomorrow_at(15)
    tr = tracker(landlord, said("是", "affirm"), slots=pass_slots(start))
    names, _, events = await run(ActionIssuePass(), tr)
    assert names == ["您在示例花园小区、阳光小区都有房屋，请问这次是哪个小区的事？直接回复小区名称就行。"]
    assert after(events, pass_slots(start))["visitor_name"] == "张三"  # the visit is kept for the answer
    assert not_slots(events) == [ActiveLoop("visitor_form")]
    await bot_api.bus.handle(commands.RecordInbound(landlord, "阳光"))
    names, args, _ = await run(ActionIssuePass(), tr)
    assert names == ["utter_pass_issued"]
    assert (await views.check_pass(bot_api.new_uow(), args[0]["code"], start))["community"] == "yangguang"


async def test_issue_pass_for_a_visitor_without_a_car(bot_api, clock):
    clock.now = datetime.now(timezone.utc)
    await bind(bot_api, ZHANG)
    start = tomorrow_at(15)
    names, args, _ = await run(ActionIssuePass(), tracker(ZHANG, said("是", "affirm"), slots=pass_slots(start, "无")))
    assert names == ["utter_pass_issued"] and args[0]["plate_line"] == ""
    assert (await views.check_pass(bot_api.new_uow(), args[0]["code"], start))["plate"] is None


async def test_issue_pass_for_a_time_that_has_passed_asks_for_the_time_again(bot_api, clock):
    clock.now = datetime.now(timezone.utc)
    await bind(bot_api, ZHANG)
    start = local(hours=-6).replace(minute=0, second=0, microsecond=0)
    names, _, events = await run(ActionIssuePass(), tracker(ZHANG, said("是", "affirm"), slots=pass_slots(start)))
    assert names == ["utter_visit_time_past"]
    assert events == [
        SlotSet("visit_start", None),
        SlotSet("visit_end", None),
        SlotSet("confirmed", None),
        ActiveLoop("visitor_form"),
    ]


async def test_issue_pass_too_far_ahead_asks_for_the_day_again(bot_api, clock):
    clock.now = datetime.now(timezone.utc)
    await bind(bot_api, ZHANG)
    start = local(days=10).replace(hour=10, minute=0, second=0, microsecond=0)
    names, _, events = await run(ActionIssuePass(), tracker(ZHANG, said("是", "affirm"), slots=pass_slots(start)))
    assert names == ["utter_visit_too_far"]
    assert events == [
        SlotSet("visit_start", None),
        SlotSet("visit_end", None),
        SlotSet("confirmed", None),
        ActiveLoop("visitor_form"),
    ]


async def test_issue_pass_for_a_sender_no_longer_bound_checks_identity_again(bot_api, clock):
    clock.now = datetime.now(timezone.utc)
    start = tomorrow_at(15)
    names, _, events = await run(ActionIssuePass(), tracker(STRANGER, said("是", "affirm"), slots=pass_slots(start)))
    assert names == []
    assert not_slots(events) == [FollowupAction("binding_form")]
    assert after(events, STALE)["pending_request"] == "visitor_pass" and flow_cleared(events)


async def test_issue_pass_with_the_backend_down_keeps_the_details(backend_down):
    names, _, events = await run(
        ActionIssuePass(), tracker(ZHANG, said("是", "affirm"), slots=pass_slots(tomorrow_at(15)))
    )
    assert names == ["utter_backend_down"]
    assert events == [SlotSet("confirmed", None), ActiveLoop("visitor_form")]


# ---------------------------------------------------------------- status


async def test_status_lists_only_the_senders_open_tickets(bot_api):
    first = await open_ticket(bot_api, ZHANG, "厨房水管漏水", building="3", unit="2", room="501")
    second = await open_ticket(bot_api, ZHANG, "楼道的灯坏了好几天了晚上上下楼很不方便请尽快修", building="3")
    others = await open_ticket(bot_api, WANG, "卫生间马桶堵了")
    names, args, _ = await run(ActionCheckStatus(), tracker(ZHANG, said("我的工单到哪了", "check_status")))
    assert names == ["utter_status_list"]
    assert args[0]["count"] == 2
    assert args[0]["lines"] == (
        f"1. {second}（楼道的灯坏了好几天了晚上上下楼很不方便请…）：已受理，等待派单\n"
        f"2. {first}（厨房水管漏水）：已受理，等待派单"
    )
    assert others not in args[0]["lines"] and "马桶" not in args[0]["lines"]


async def test_status_of_one_ticket(bot_api):
    number = await open_ticket(bot_api, ZHANG, "厨房水管漏水")
    await assign(bot_api, number)  # "accepted" is now "assigned", entered by naming the technician
    names, args, _ = await run(ActionCheckStatus(), tracker(ZHANG, said(f"我的工单{number}到哪了", "check_status")))
    assert names == ["utter_status_one"]
    assert args == [{"line": f"{number}（厨房水管漏水）：已派单"}]


async def test_status_of_another_senders_ticket_is_not_found(bot_api):
    number = await open_ticket(bot_api, WANG, "卫生间马桶堵了")
    names, args, _ = await run(ActionCheckStatus(), tracker(ZHANG, said(f"我的工单{number}到哪了", "check_status")))
    assert names == ["utter_ticket_not_found"] and args == [{}]


async def test_status_of_an_unknown_ticket_is_not_found(bot_api):
    names, _, _ = await run(ActionCheckStatus(), tracker(ZHANG, said("我的工单BX999999到哪了", "check_status")))
    assert names == ["utter_ticket_not_found"]


async def test_status_with_no_open_tickets(bot_api):
    number = await open_ticket(bot_api, ZHANG, "厨房水管漏水")
    await bot_api.bus.handle(commands.ChangeTicketStatus(number, "cancelled", "staff:前台"))
    await open_ticket(bot_api, WANG, "卫生间马桶堵了")
    names, args, _ = await run(ActionCheckStatus(), tracker(ZHANG, said("我的工单到哪了", "check_status")))
    assert names == ["utter_no_open_tickets"] and args == [{}]


async def test_status_with_the_backend_down(backend_down):
    names, _, events = await run(ActionCheckStatus(), tracker(ZHANG, said("我的工单到哪了", "check_status")))
    assert names == ["utter_backend_down"] and events == []


# ---------------------------------------------------------------- chase (催单)


async def chases(backend, number: str) -> int:
    return sum(1 for e in (await staff_view(backend, number))["history"] if e["type"] == "chase")


async def test_chase_the_one_open_ticket(bot_api):
    number = await open_ticket(bot_api, ZHANG, "厨房水管漏水", building="3", unit="2", room="501")
    names, args, events = await run(ActionChaseTicket(), tracker(ZHANG, said("怎么还没人来修", "chase_ticket")))
    assert names == ["utter_chased_unassigned"]  # nobody dispatched yet: "we will send someone"
    assert args == [{"ticket": f"{number}（厨房水管漏水）", "staff": "师傅"}]
    assert events == []
    assert await chases(bot_api, number) == 1


async def test_chase_an_assigned_ticket_names_the_technician_in_charge(bot_api):
    number = await open_ticket(bot_api, ZHANG, "卫生间热水器打不着火了需要尽快修理一下")
    await assign(bot_api, number)
    names, args, _ = await run(ActionChaseTicket(), tracker(ZHANG, said("催一下我的报修", "chase_ticket")))
    assert names == ["utter_chased"]
    assert args == [{"ticket": f"{number}（卫生间热水器打不着火了需…）", "staff": "师傅"}]


async def test_chase_with_several_open_hurries_the_latest_and_lists_the_others(bot_api):
    first = await open_ticket(bot_api, ZHANG, "厨房水管漏水")
    complaint = await open_ticket(bot_api, ZHANG, "楼上装修太吵", kind="complaint")
    latest = await open_ticket(bot_api, ZHANG, "楼道灯不亮", building="3")
    await open_ticket(bot_api, WANG, "卫生间马桶堵了")
    names, args, _ = await run(ActionChaseTicket(), tracker(ZHANG, said("催单", "chase_ticket")))
    assert names == ["utter_chased_unassigned", "utter_chase_others"]
    assert args[0]["ticket"] == f"{latest}（楼道灯不亮）"
    assert args[1] == {
        "lines": f"{complaint}（楼上装修太吵）：已受理，等待派单\n{first}（厨房水管漏水）：已受理，等待派单",
        "example": complaint,
    }
    assert [await chases(bot_api, n) for n in (first, complaint, latest)] == [0, 0, 1]


async def test_chase_of_a_repair_passes_over_a_newer_complaint(bot_api):
    repair = await open_ticket(bot_api, ZHANG, "厨房水管漏水")
    complaint = await open_ticket(bot_api, ZHANG, "楼上装修太吵", kind="complaint")
    names, args, _ = await run(ActionChaseTicket(), tracker(ZHANG, said("师傅到底什么时候来啊", "chase_ticket")))
    assert names == ["utter_chased_unassigned", "utter_chase_others"]
    assert args[0]["ticket"].startswith(repair) and args[1]["example"] == complaint
    assert await chases(bot_api, complaint) == 0


async def test_chase_of_a_complaint_promises_staff_not_a_technician(bot_api):
    complaint = await open_ticket(bot_api, ZHANG, "楼上装修太吵", kind="complaint")
    await open_ticket(bot_api, ZHANG, "厨房水管漏水")
    names, args, _ = await run(ActionChaseTicket(), tracker(ZHANG, said("催一下我的投訴", "chase_ticket")))
    assert names[0] == "utter_chased_unassigned"
    assert args[0] == {"ticket": f"{complaint}（楼上装修太吵）", "staff": "工作人员"}


async def test_chase_by_number_hurries_that_ticket_and_lists_nothing_else(bot_api):
    older = await open_ticket(bot_api, ZHANG, "厨房水管漏水")
    await open_ticket(bot_api, ZHANG, "楼道灯不亮", building="3")
    names, args, _ = await run(ActionChaseTicket(), tracker(ZHANG, said(f"催单{older}", "chase_ticket")))
    assert names == ["utter_chased_unassigned"]
    assert args[0]["ticket"] == f"{older}（厨房水管漏水）"
    assert await chases(bot_api, older) == 1


async def test_second_chase_of_a_ticket_escalates_to_a_supervisor(bot_api):
    number = await open_ticket(bot_api, ZHANG, "厨房水管漏水")
    await assign(bot_api, number)
    await run(ActionChaseTicket(), tracker(ZHANG, said("催一下", "chase_ticket")))
    names, args, _ = await run(ActionChaseTicket(), tracker(ZHANG, said("都两天了还没来", "chase_ticket")))
    assert names == ["utter_chased_again"]
    assert args == [{"ticket": f"{number}（厨房水管漏水）"}]
    assert await chases(bot_api, number) == 2


async def test_chase_with_no_open_tickets(bot_api):
    number = await open_ticket(bot_api, ZHANG, "厨房水管漏水")
    await bot_api.bus.handle(commands.ChangeTicketStatus(number, "cancelled", "staff:前台"))
    await open_ticket(bot_api, WANG, "卫生间马桶堵了")  # someone else's ticket is not the sender's to chase
    names, args, events = await run(ActionChaseTicket(), tracker(ZHANG, said("催单", "chase_ticket")))
    assert names == ["utter_chase_nothing_open"] and args == [{}] and events == []


async def test_chase_of_a_repair_reported_elsewhere_registers_it_now(bot_api):
    """Nothing open here, but the owner says what is broken: the repair form starts from it."""
    message = said("上周打电话报过 3号楼2单元501 卫生间的灯不亮 到现在还没人来", "chase_ticket")
    names, _, events = await run(ActionChaseTicket(), tracker(ZHANG, message))
    assert names == ["utter_chase_nothing_open_register"]
    assert events[-1] == {"event": "followup", "name": "repair_form", "timestamp": None}
    slots = after(events)
    assert (slots["building"], slots["unit"], slots["room"]) == ("3", "2", "501")
    assert "灯不亮" in slots["problem"]


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("都两天了还没来", None),  # no fault named: nothing to register
        ("投诉了三次楼上漏水 还没人管", None),  # a complaint is not re-registered as a repair
        ("上周报的马桶堵了 还没人来", "visitor_form"),  # a form is running: leave it alone
    ],
)
async def test_chase_with_nothing_open_and_no_repair_to_register(bot_api, text, form):
    names, _, events = await run(ActionChaseTicket(), tracker(ZHANG, said(text, "chase_ticket"), form=form))
    assert names == ["utter_chase_nothing_open"] and events == []


async def test_chase_when_the_only_ticket_is_done_and_awaits_a_rating(bot_api):
    number = await open_ticket(bot_api, ZHANG, "厨房水管漏水")
    await assign(bot_api, number)
    await bot_api.bus.handle(commands.ChangeTicketStatus(number, "resolved", "li"))
    names, args, _ = await run(ActionChaseTicket(), tracker(ZHANG, said("怎么还没人来修", "chase_ticket")))
    assert names == ["utter_chase_not_open"]
    assert args == [{"ticket": f"{number}（厨房水管漏水）"}]
    assert await chases(bot_api, number) == 0


async def test_chase_by_number_of_another_senders_ticket_is_not_found(bot_api):
    theirs = await open_ticket(bot_api, WANG, "卫生间马桶堵了")
    await open_ticket(bot_api, ZHANG, "厨房水管漏水")
    names, args, _ = await run(ActionChaseTicket(), tracker(ZHANG, said(f"催一下{theirs}", "chase_ticket")))
    assert names == ["utter_ticket_not_found"] and args == [{}]
    assert await chases(bot_api, theirs) == 0  # and the sender's own ticket is not chased instead


async def test_chase_by_number_of_a_closed_ticket(bot_api):
    number = await open_ticket(bot_api, ZHANG, "厨房水管漏水")
    await bot_api.bus.handle(commands.ChangeTicketStatus(number, "cancelled", "staff:前台"))
    names, args, _ = await run(ActionChaseTicket(), tracker(ZHANG, said(f"催单 {number}", "chase_ticket")))
    assert names == ["utter_chase_not_open"] and args == [{"ticket": number}]


async def test_chase_during_a_form_leaves_the_form_alone(bot_api):
    await open_ticket(bot_api, ZHANG, "厨房水管漏水")
    slots = {"problem": "阳台门卡住了", "requested_slot": "building"}
    tr = tracker(ZHANG, said("催一下我的报修", "chase_ticket"), slots=slots, form="repair_form")
    names, _, events = await run(ActionChaseTicket(), tr)
    assert names == ["utter_chased_unassigned"] and events == []


async def test_chase_with_the_backend_down(backend_down):
    names, args, events = await run(ActionChaseTicket(), tracker(ZHANG, said("催单", "chase_ticket")))
    assert names == ["utter_chase_failed"] and args == [{}] and events == []


async def test_chase_replies_exist_with_the_arguments_they_get():
    for name, needs in {
        "utter_chased": {"ticket", "staff"},
        "utter_chased_unassigned": {"ticket", "staff"},
        "utter_chased_again": {"ticket"},
        "utter_chase_others": {"lines", "example"},
        "utter_chase_nothing_open": set(),
        "utter_chase_not_open": {"ticket"},
        "utter_chase_failed": set(),
    }.items():
        template = DOMAIN["responses"][name][0]["text"]
        assert set(re.findall(r"{(\w+)}", template)) == needs, name


# ---------------------------------------------------------------- hand-off


async def test_handoff_is_recorded_and_the_assistant_pauses(bot_api):
    tr = tracker(ZHANG, said("转人工", "request_human"), slots={"problem": "厨房水管漏水"}, form="repair_form")
    names, _, events = await run(ActionHandoff(), tr)
    assert names == ["utter_handoff"]
    assert events[0] == ActiveLoop(None) and events[-1] == ConversationPaused() and flow_cleared(events)
    waiting = await views.conversations(bot_api.new_uow(), state="handed_off")
    assert [(c["sender"], c["handoff_reason"]) for c in waiting] == [(ZHANG, "requested")]


async def test_handoff_outside_a_form_does_not_touch_the_loop(bot_api):
    names, _, events = await run(ActionHandoff(), tracker(ZHANG, said("转人工", "request_human")))
    assert names == ["utter_handoff"]
    assert ActiveLoop(None) not in events and events[-1] == ConversationPaused()


async def test_handoff_with_the_backend_down_stays_with_the_owner(backend_down):
    names, _, events = await run(ActionHandoff(), tracker(ZHANG, said("转人工", "request_human"), form="repair_form"))
    assert names == ["utter_handoff_failed"]  # honest: no person reached
    assert events == []  # no pause: nobody would know the owner is waiting


# ---------------------------------------------------------------- fallback


def misunderstood(text: str = "阿巴阿巴") -> dict:
    return said(text, "nlu_fallback")


async def test_fallback_first_time_asks_to_rephrase():
    tr = tracker(ZHANG, misunderstood(), history=[action("utter_greet")])
    names, _, events = await run(ActionDefaultFallback(), tr)
    assert names == ["utter_default"]
    assert events == [UserUtteranceReverted()]


@pytest.mark.parametrize(
    ("form", "asked", "question"),
    [
        ("repair_form", "room", "utter_ask_room"),
        ("repair_form", "building", "utter_ask_repair_form_building"),  # the form-specific question wins
        ("visitor_form", "visit_start", "utter_ask_visit_start"),
        ("complaint_form", "confirmed", "utter_ask_complaint_form_confirmed"),
    ],
)
async def test_fallback_in_a_form_re_asks_the_forms_question(form, asked, question):
    tr = tracker(ZHANG, misunderstood(), slots={"requested_slot": asked}, form=form, history=[action(form)])
    names, _, events = await run(ActionDefaultFallback(), tr)
    assert names == ["utter_default_in_form", question]
    assert question in DOMAIN["responses"]
    assert events == [UserUtteranceReverted()]


def after_one_fallback() -> list[dict]:
    first = misunderstood("呃呃呃")
    return [
        action("utter_greet"),
        action("action_listen"),
        user(first),
        action("action_default_fallback"),
        {"event": "rewind"},
    ]


async def test_fallback_second_time_in_a_row_hands_off(bot_api):
    tr = tracker(ZHANG, misunderstood(), history=after_one_fallback())
    names, _, events = await run(ActionDefaultFallback(), tr)
    assert names == ["utter_fallback_handoff"]
    assert events[-1] == ConversationPaused() and flow_cleared(events)
    waiting = await views.conversations(bot_api.new_uow(), state="handed_off")
    assert [(c["sender"], c["handoff_reason"]) for c in waiting] == [(ZHANG, "not_understood")]


async def test_fallback_after_an_understood_turn_starts_counting_again(bot_api):
    history = [*after_one_fallback(), action("action_listen"), user(said("你好", "greet")), action("utter_greet")]
    names, _, events = await run(ActionDefaultFallback(), tracker(ZHANG, misunderstood(), history=history))
    assert names == ["utter_default"] and events == [UserUtteranceReverted()]
    assert await views.conversations(bot_api.new_uow(), state="handed_off") == []


async def test_fallback_second_time_with_the_backend_down_does_not_pause(backend_down):
    names, _, events = await run(ActionDefaultFallback(), tracker(ZHANG, misunderstood(), history=after_one_fallback()))
    assert names == ["utter_handoff_failed"]  # honest: no person reached
    assert ConversationPaused() not in events


# ---------------------------------------------------------------- cancel


async def test_cancel_inside_a_form_stops_it_and_forgets_its_details():
    slots = STALE | {"pending_request": "visitor_pass"}
    tr = tracker(ZHANG, said("算了", "cancel"), slots=slots, form="visitor_form")
    names, _, events = await run(ActionCancelFlow(), tr)
    assert names == ["utter_cancelled"]
    assert events[0] == ActiveLoop(None) and flow_cleared(events)
    assert after(events, slots)["pending_request"] is None


async def test_cancel_with_nothing_running_or_booked(bot_api):
    await open_ticket(bot_api, WANG, "卫生间马桶堵了")  # someone else's
    names, _, events = await run(
        ActionCancelFlow(), tracker(ZHANG, said("取消", "cancel"), slots={"pending_request": "fee:owed"})
    )
    assert names == ["utter_nothing_to_cancel"]
    assert events == [SlotSet("pending_request", None), SlotSet("cancel_target", None)]


async def _issue(backend, sender: str, visitor: str, start: datetime) -> str:
    result = await backend.bus.handle(
        commands.IssuePass(sender, visitor, start, start + timedelta(hours=1), "point", None)
    )
    return result.code


def answered(intent_name: str, words: str, slots: dict) -> Tracker:
    """The owner's answer right after the cancellation question."""
    return tracker(ZHANG, said(words, intent_name), slots=slots, history=[action("action_cancel_flow")])


async def test_a_technician_no_longer_needed_is_asked_about_then_withdrawn(bot_api):
    number = await open_ticket(bot_api, ZHANG, "厨房水管漏水", building="3", unit="2", room="501")
    await assign(bot_api, number)
    names, args, events = await run(ActionCancelFlow(), tracker(ZHANG, said("师傅不用来了 我自己修好了", "cancel")))
    assert names == ["utter_confirm_cancel"] and args[0]["what"] == f"报修 {number}（厨房水管漏水）"
    slots = after(events)
    assert slots["cancel_target"] == f"ticket:{number}"
    assert (await staff_view(bot_api, number))["status"] == "assigned"  # nothing happens before the yes

    names, args, events = await run(ActionConfirmCancel(), answered("affirm", "是的", slots))
    assert names == ["utter_ticket_withdrawn"] and args == [{"ref": number}]
    assert after(events, slots)["cancel_target"] is None
    stored = await staff_view(bot_api, number)
    assert stored["status"] == "cancelled"
    async with bot_api.new_uow() as uow:  # the technician hears not to come; the owner was answered here
        told = (await uow.session.scalars(select(model.Notification).order_by(model.Notification.id))).all()
    withdrawn = [(n.recipient, n.text) for n in told if n.kind == "withdrawn"]
    assert [r for r, _ in withdrawn] == ["staff:li"] and number in withdrawn[0][1]
    assert not [n for n in told if n.kind == "ticket_cancelled" and n.recipient == ZHANG]


async def test_no_keeps_what_was_booked(bot_api):
    number = await open_ticket(bot_api, ZHANG, "厨房水管漏水")
    _, _, events = await run(ActionCancelFlow(), tracker(ZHANG, said("报修不用了", "cancel")))
    names, _, events = await run(ActionConfirmCancel(), answered("deny", "不是", after(events)))
    assert names == ["utter_cancel_kept"] and after(events)["cancel_target"] is None
    assert (await staff_view(bot_api, number))["status"] == "new"


async def test_a_visitor_pass_called_off_by_the_visitors_name(bot_api, clock):
    clock.now = datetime.now(timezone.utc)
    await bind(bot_api, ZHANG)
    await open_ticket(bot_api, ZHANG, "厨房水管漏水")
    start = tomorrow_at(15)
    kept = await _issue(bot_api, ZHANG, "李四", start)
    code = await _issue(bot_api, ZHANG, "王五", start)
    names, args, events = await run(ActionCancelFlow(), tracker(ZHANG, said("明天王五不来了 登记取消吧", "cancel")))
    assert names == ["utter_confirm_cancel"] and "访客王五的通行码" in args[0]["what"]
    # "确认撤销": a yes in the words of a cancellation, right after the question
    names, args, _ = await run(
        ActionCancelFlow(),
        tracker(ZHANG, said("确认撤销", "cancel"), slots=after(events), history=[action("action_cancel_flow")]),
    )
    assert names == ["utter_pass_revoked"] and args == [{"ref": code}]
    assert (await views.check_pass(bot_api.new_uow(), code, start))["valid"] is False
    assert (await views.check_pass(bot_api.new_uow(), kept, start))["valid"] is True


async def test_several_things_booked_are_listed_to_choose_from(bot_api, clock):
    clock.now = datetime.now(timezone.utc)
    await bind(bot_api, ZHANG)
    number = await open_ticket(bot_api, ZHANG, "厨房水管漏水")
    await _issue(bot_api, ZHANG, "李四", tomorrow_at(15))
    names, args, events = await run(ActionCancelFlow(), tracker(ZHANG, said("取消", "cancel")))
    assert names == ["utter_which_to_cancel"] and after(events)["cancel_target"] is None
    assert number in args[0]["choices"] and "李四" in args[0]["choices"]
    # then by its number: that one, and only after a yes
    names, args, events = await run(ActionCancelFlow(), tracker(ZHANG, said(f"撤销{number}", "cancel")))
    assert names == ["utter_confirm_cancel"] and after(events)["cancel_target"] == f"ticket:{number}"


async def test_another_owners_ticket_or_an_emergency_is_not_called_off(bot_api):
    theirs = await open_ticket(bot_api, WANG, "卫生间马桶堵了")
    names, _, _ = await run(ActionCancelFlow(), tracker(ZHANG, said(f"撤销{theirs}", "cancel")))
    assert names == ["utter_nothing_to_cancel"]
    # a stale question for another owner's ticket is refused by the backend
    names, _, _ = await run(ActionConfirmCancel(), answered("affirm", "是", {"cancel_target": f"ticket:{theirs}"}))
    assert names == ["utter_cancel_not_possible"]
    assert (await staff_view(bot_api, theirs))["status"] == "new"
    await bot_api.bus.handle(commands.ReportEmergency(ZHANG, "gas", "厨房煤气味很重", "3", "2", "501"))
    names, args, _ = await run(ActionCancelFlow(), tracker(ZHANG, said("不用来了", "cancel")))
    assert names == ["utter_cancel_emergency"] and "BX" in args[0]["ticket"]


async def test_a_yes_with_nothing_asked_means_what_it_means_anywhere(bot_api):
    names, _, events = await run(ActionConfirmCancel(), answered("affirm", "好的", {}))
    assert names == ["utter_anything_else"] and events == []
    names, _, _ = await run(ActionConfirmCancel(), answered("deny", "不用", {}))
    assert names == ["utter_goodbye"]


async def test_calling_off_with_the_backend_down(backend_down):
    names, _, _ = await run(ActionCancelFlow(), tracker(ZHANG, said("访客登记取消", "cancel")))
    assert names == ["utter_backend_down"]


async def test_a_finished_ticket_named_by_number_is_not_offered_for_withdrawal(bot_api):
    number = await open_ticket(bot_api, ZHANG, "厨房水管漏水")
    await assign(bot_api, number)
    await bot_api.bus.handle(commands.ChangeTicketStatus(number, "resolved", "li"))
    await bot_api.bus.handle(commands.RateTicket(ZHANG, 5, number=number))  # closed by the owner's rating
    assert (await staff_view(bot_api, number))["status"] == "closed"
    names, _, events = await run(ActionCancelFlow(), tracker(ZHANG, said(f"撤销{number}", "cancel")))
    assert names == ["utter_nothing_to_cancel"] and after(events)["cancel_target"] is None
