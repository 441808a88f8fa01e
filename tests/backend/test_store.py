"""The backend's use cases through the message bus, stored on SQLite and on PostgreSQL.

Protects what owners and staff rely on: ticket numbers and published service levels,
emergencies handed to staff, status changes stored together with the owner's
notification (or not at all), the outbox delivered to the owner's mailbox by the dispatcher,
phone-checked binding with its lockout, visitor passes
and their validity over time, handoff to staff and back, the inbound log with
retries and late replies, and that every sender only ever sees their own data.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from backend_bridge.domain import commands, model
from backend_bridge.service_layer import handlers, views
from connectors.rasa import DialogueUnavailable
from tests.conftest import deliver

SHANGHAI = ZoneInfo("Asia/Shanghai")
ALICE = "webchat:alice"  # the web chat delivers to its mailbox, where updates_for reads
BOB = "webchat:bob"
REPAIR_PROMISE = "维修人员会在30分钟内联系您，24小时内处理好。"
COMPLAINT_PROMISE = "我们会在24小时内回复您处理结果。"
EMERGENCY_PROMISE = "值班人员会在15分钟内赶到现场。"
GAS_ADVICE = "闻到煤气味请马上：关闭燃气总阀，打开门窗通风；不要开关电灯电器、不要在屋里打电话；带家人离开到室外。"
DEFAULT_ADVICE = "请注意安全，先远离危险区域。"

RATING_QUESTION = "请您评价：回复“满意”“一般”或“不满意”，也可以打分，如“5分”（5分最满意，1分最不满意）。"


# -- helpers ---------------------------------------------------------------------------------


async def handle(backend, command):
    return await backend.bus.handle(command)


async def open_repair(backend, sender: str = ALICE, description: str = "厨房水龙头漏水", **where) -> str:
    where = where or {"building": "3", "unit": "2", "room": "501"}
    result = await handle(backend, commands.OpenTicket(sender=sender, kind="repair", description=description, **where))
    return result.number


async def open_complaint(backend, sender: str = ALICE, description: str = "楼上半夜很吵", **kwargs) -> str:
    command = commands.OpenTicket(sender=sender, kind="complaint", description=description, **kwargs)
    return (await handle(backend, command)).number


async def add_staff(backend, username: str = "chen", role: str = "technician", name: str = "陈师傅") -> None:
    await handle(backend, commands.AddStaff(username, name, role, actor="admin"))


async def move(backend, number: str, status: str, actor: str = "staff", note: str = "") -> dict:
    """A step of the life cycle: "assigned" dispatches to 陈师傅 (the account must exist)."""
    if status == "assigned":
        return await handle(backend, commands.AssignTicket(number, "chen", actor=actor))
    return await handle(backend, commands.ChangeTicketStatus(number, status, actor=actor, note=note))


TICKET_FIELDS = (
    "number",
    "kind",
    "priority",
    "status",
    "location",
    "description",
    "category",
    "sender",
    "anonymous",
    "hazard",
    "created_at",
    "updated_at",
    "respond_by",
    "resolve_by",
    "is_open",
)
OUTBOX_FIELDS = ("id", "recipient", "text", "kind", "created_at", "status", "delivered_at")


def snapshot(obj, names) -> SimpleNamespace:
    """What was stored, read while the session is open (leaving the unit of work expires it)."""
    return SimpleNamespace(**{name: getattr(obj, name) for name in names})


async def stored_ticket(backend, number: str) -> SimpleNamespace | None:
    async with backend.new_uow() as uow:
        ticket = await uow.tickets.by_number(number)
        if ticket is None:
            return None
        stored = snapshot(ticket, TICKET_FIELDS)
        stored.history = [snapshot(c, ("at", "type", "status", "actor", "note")) for c in ticket.history]
        return stored


async def outbox_rows(backend, recipient: str | None = None) -> list[SimpleNamespace]:
    """The notifications outbox, oldest first (for everyone, or one recipient)."""
    async with backend.new_uow() as uow:
        stmt = select(model.Notification).order_by(model.Notification.id)
        if recipient is not None:
            stmt = stmt.where(model.Notification.recipient == recipient)
        return [snapshot(m, OUTBOX_FIELDS) for m in (await uow.session.scalars(stmt)).all()]


async def count_rows(backend, cls, **equal) -> int:
    async with backend.new_uow() as uow:
        stmt = select(func.count()).select_from(cls)
        for name, value in equal.items():
            stmt = stmt.where(getattr(cls, name) == value)
        return int(await uow.session.scalar(stmt))


async def bind(backend, sender: str, building: str, unit: str, room: str, phone: str) -> dict:
    return (await handle(backend, commands.BindSender(sender, building, unit, room, phone))).as_json()


def ticket_id(number: str) -> int:
    return int(number[2:])


def is_utc(value: datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() == timedelta(0)


# -- OpenTicket --------------------------------------------------------------------------------


async def test_open_repair_returns_bx_number_and_the_published_repair_promise(backend):
    result = await handle(
        backend, commands.OpenTicket(sender=ALICE, kind="repair", description="厨房水龙头漏水", building="3")
    )

    assert re.fullmatch(r"BX\d{6}", result.number)
    assert result.promise == REPAIR_PROMISE


async def test_open_complaint_returns_ts_number_and_the_published_complaint_promise(backend):
    result = await handle(backend, commands.OpenTicket(sender=ALICE, kind="complaint", description="楼上半夜很吵"))

    assert re.fullmatch(r"TS\d{6}", result.number)
    assert result.promise == COMPLAINT_PROMISE


async def test_stored_repair_round_trips_every_field_with_aware_utc_times(backend, clock):
    clock.advance(minutes=7)
    now = clock.now
    number = await open_repair(
        backend, description="  厨房水龙头漏水，地上全是水  ", building="3", unit="2", room="501"
    )

    ticket = await stored_ticket(backend, number)
    assert ticket is not None and ticket.number == number
    assert ticket.kind is model.TicketKind.REPAIR
    assert ticket.priority is model.Priority.NORMAL
    assert ticket.status is model.TicketStatus.NEW
    assert ticket.location == model.Location("3", "2", "501", None)
    assert ticket.location.is_flat
    assert ticket.description == "厨房水龙头漏水，地上全是水"
    assert ticket.category == "plumbing"
    assert ticket.sender == ALICE
    assert ticket.anonymous is False
    assert ticket.hazard is None
    for value in (ticket.created_at, ticket.updated_at, ticket.respond_by, ticket.resolve_by):
        assert is_utc(value)
    assert ticket.created_at == now
    assert ticket.updated_at == now
    assert ticket.respond_by == now + timedelta(minutes=30)
    assert ticket.resolve_by == now + timedelta(hours=24)
    assert [(c.type, c.status, c.actor, c.at) for c in ticket.history] == [
        (model.EventType.OPENED, model.TicketStatus.NEW, "owner", now)
    ]


async def test_stored_anonymous_complaint_in_a_public_area_round_trips(backend, clock):
    number = await open_complaint(
        backend, description="地下车库有人乱停车堵住消防通道", public_area="地下车库", building="2", anonymous=True
    )

    ticket = await stored_ticket(backend, number)
    assert ticket.kind is model.TicketKind.COMPLAINT
    assert ticket.location == model.Location("2", None, None, "地下车库")
    assert not ticket.location.is_flat
    assert ticket.category == "parking"
    assert ticket.anonymous is True
    assert ticket.created_at == clock.now
    assert ticket.respond_by == clock.now + timedelta(minutes=1440)
    assert ticket.resolve_by == clock.now + timedelta(hours=72)


async def test_ticket_numbers_are_global_and_increasing_across_kinds(backend):
    numbers = [
        await open_repair(backend),
        await open_complaint(backend),
        await open_repair(backend, sender=BOB),
        (await handle(backend, commands.ReportEmergency(BOB, "fire", "楼道着火了", building="1"))).number,
        await open_complaint(backend, sender=BOB),
    ]

    assert [n[:2] for n in numbers] == ["BX", "TS", "BX", "BX", "TS"]
    ids = [ticket_id(n) for n in numbers]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    for number in numbers:
        assert (await stored_ticket(backend, number)).number == number


async def test_blank_description_is_refused_and_nothing_is_stored(backend):
    with pytest.raises(model.DomainError):
        await handle(backend, commands.OpenTicket(sender=ALICE, kind="repair", description="   \n "))

    assert await count_rows(backend, model.Ticket) == 0


# -- ReportEmergency -----------------------------------------------------------------------------


async def test_emergency_opens_an_emergency_ticket_with_the_hazard_and_hands_off(backend, clock):
    result = await handle(
        backend,
        commands.ReportEmergency(ALICE, "gas_leak", "厨房煤气味很重", building="3", unit="2", room="501"),
    )

    assert re.fullmatch(r"BX\d{6}", result.number)
    assert result.promise == EMERGENCY_PROMISE
    assert result.advice == GAS_ADVICE
    assert result.duty_hotline == "0571-8888 7777"

    ticket = await stored_ticket(backend, result.number)
    assert ticket.priority is model.Priority.EMERGENCY
    assert ticket.kind is model.TicketKind.REPAIR
    assert ticket.hazard == "gas_leak"
    assert ticket.location == model.Location("3", "2", "501", None)
    assert ticket.respond_by == clock.now + timedelta(minutes=15)
    assert ticket.resolve_by == clock.now + timedelta(hours=4)

    assert await views.conversation_state(backend.new_uow(), ALICE) == ("handed_off", None)
    handed = await views.conversations(backend.new_uow(), "handed_off")
    assert [(c["sender"], c["channel"], c["handoff_reason"]) for c in handed] == [
        (ALICE, "webchat", "emergency:gas_leak")
    ]
    assert handed[0]["handed_off_at"] == clock.now.isoformat()
    # the duty group hears of the new emergency and the duty supervisors are paged, in the same
    # transaction (no supervisor account yet: the shared recipient)
    post, page = await outbox_rows(backend)
    assert (post.recipient.split(":")[0], post.kind, post.created_at) == ("duty", "duty_emergency", clock.now)
    assert (page.recipient, page.kind, page.created_at) == ("staff:supervisors", "emergency", clock.now)
    assert result.number in page.text and "厨房煤气味很重" in page.text
    assert post.text.startswith(f"【急修】新工单 {result.number}") and "厨房煤气味很重" in post.text


async def test_an_emergency_pages_every_supervisor_on_the_roster(backend):
    await add_staff(backend, "wang", "supervisor", "王主管")
    await add_staff(backend, "zhao", "supervisor", "赵主管")
    await add_staff(backend, "liu", "agent", "客服小刘")

    await handle(backend, commands.ReportEmergency(ALICE, "fire", "楼道着火了", building="1"))

    assert [(r.recipient, r.kind) for r in await outbox_rows(backend) if r.recipient.startswith("staff:")] == [
        ("staff:wang", "emergency"),
        ("staff:zhao", "emergency"),
    ]


async def test_the_same_owner_reporting_again_adds_to_their_open_emergency_and_pages_once(backend, clock):
    """A frightened owner repeats themselves; one chat id flooding reports must not bury the others."""
    await add_staff(backend, "wang", "supervisor", "王主管")
    first = await handle(backend, commands.ReportEmergency(ALICE, "fire", "楼道着火了", building="1"))
    clock.advance(minutes=5)
    again = [
        await handle(backend, commands.ReportEmergency(ALICE, "fire", f"火很大，快来人 {i}", building="1"))
        for i in range(20)
    ]
    assert {r.number for r in again} == {first.number} and again[0].advice == first.advice
    rows = [(r.recipient.split(":")[0], r.kind) for r in await outbox_rows(backend)]
    assert rows == [("duty", "duty_emergency"), ("staff", "emergency")]  # one post to the duty group, one page
    ticket = await views.ticket_for_staff(backend.new_uow(), first.number)
    notes = [e["note"] for e in ticket["history"] if e["type"] == "note"]
    assert len(notes) == 20 and notes[0].startswith("业主再次报告（fire）：火很大")
    other = await handle(backend, commands.ReportEmergency(BOB, "fire", "楼道着火了", building="1"))
    assert other.number != first.number  # another owner's report is its own ticket, paged
    clock.advance(hours=1, minutes=1)
    later = await handle(backend, commands.ReportEmergency(ALICE, "flooding", "家里进水了", building="3"))
    assert later.number != first.number  # an hour on, a new emergency


async def test_unverified_emergencies_past_the_limit_are_opened_and_answered_but_paged_once_for_the_lot(backend, clock):
    """Throwaway chat ids flooding 急修 reports (issue 13 #7): every report is still a ticket and the
    owner still gets the safety advice, but past the limit the leads get one alert, not a page each;
    an owner bound to a flat pages as always, and after the window the limit starts again."""
    await add_staff(backend, "wang", "supervisor", "王主管")
    opened = []
    for i in range(8):
        result = await handle(
            backend, commands.ReportEmergency(f"webchat:throwaway{i}", "fire", f"楼道着火了 {i}", building="1")
        )
        assert result.advice and result.duty_hotline
        opened.append(result.number)
        clock.advance(seconds=30)
    assert len(set(opened)) == 8

    def counted(rows, kind: str) -> dict[str, int]:
        found: dict[str, int] = {}
        for r in rows:
            if r.kind == kind:
                found[r.recipient.split(":")[0]] = found.get(r.recipient.split(":")[0], 0) + 1
        return found

    rows = await outbox_rows(backend)
    limit = model.UNVERIFIED_EMERGENCY_PAGES
    assert counted(rows, "emergency") == {"staff": limit}
    assert counted(rows, "duty_emergency") == {"duty": limit}
    assert counted(rows, "emergency_flood") == {"staff": 1, "duty": 1}
    alert = next(r for r in rows if r.kind == "emergency_flood")
    assert f"已有{limit + 1}起未核实身份" in alert.text and opened[limit] in alert.text
    flagged = await views.ticket_for_staff(backend.new_uow(), opened[-1])
    assert flagged["priority"] == "emergency" and any("未核实身份" in (e["note"] or "") for e in flagged["history"])

    assert await bind(backend, ALICE, "3", "2", "501", "13800000501") == {"status": "bound"}
    await handle(backend, commands.ReportEmergency(ALICE, "gas_leak", "厨房煤气味很重", building="3"))
    assert counted(await outbox_rows(backend), "emergency") == {"staff": limit + 1}  # a known owner pages

    clock.advance(minutes=model.UNVERIFIED_EMERGENCY_WINDOW.total_seconds() / 60 + 1)
    await handle(backend, commands.ReportEmergency("webchat:later", "fire", "楼道着火了", building="1"))
    assert counted(await outbox_rows(backend), "emergency") == {"staff": limit + 2}


@pytest.mark.parametrize(
    ("verified", "before", "expected"),
    [
        (False, 0, "page"),
        (False, 2, "page"),
        (False, 3, "flood_alert"),
        (False, 4, "flagged"),
        (False, 400, "flagged"),
        (True, 400, "page"),
    ],
)
def test_emergency_paging_rule(verified, before, expected):
    assert model.UNVERIFIED_EMERGENCY_PAGES == 3
    assert model.emergency_paging(verified=verified, unverified_before=before).value == expected


async def test_emergency_with_an_unlisted_hazard_gets_the_default_advice(backend):
    result = await handle(backend, commands.ReportEmergency(ALICE, "meteor", "有东西砸下来了", public_area="小区大门"))

    assert result.advice == DEFAULT_ADVICE
    assert (await stored_ticket(backend, result.number)).hazard == "meteor"


# -- ChangeTicketStatus --------------------------------------------------------------------------


async def test_valid_transition_stores_history_and_queues_one_update_for_the_owner(backend, clock):
    await add_staff(backend)
    number = await open_repair(backend, sender=ALICE)
    await open_repair(backend, sender=BOB, building="1", unit="1", room="101")
    await move(backend, number, "assigned", actor="dispatcher")
    assigned_at = clock.now
    clock.advance(minutes=10)

    result = await handle(
        backend, commands.ChangeTicketStatus(number, "in_progress", actor="chen", note="师傅已上门，在查漏点")
    )

    assert result.as_json() == {"number": number, "status": "in_progress"}
    ticket = await stored_ticket(backend, number)
    assert ticket.status is model.TicketStatus.IN_PROGRESS
    assert ticket.updated_at == clock.now
    assert [(c.type, c.status, c.actor, c.note, c.at) for c in ticket.history][1:] == [
        (model.EventType.ASSIGNED, model.TicketStatus.ASSIGNED, "dispatcher", "", assigned_at),
        (model.EventType.STATUS, model.TicketStatus.IN_PROGRESS, "chen", "师傅已上门，在查漏点", clock.now),
    ]

    rows = await outbox_rows(backend, ALICE)
    assert [(r.kind, r.created_at, r.status, r.delivered_at) for r in rows] == [
        ("ticket_assigned", assigned_at, model.NotificationStatus.PENDING, None),
        ("ticket_in_progress", clock.now, model.NotificationStatus.PENDING, None),
    ]
    assert await views.updates_for(backend.new_uow(), ALICE, 0) == []  # nothing shown before it is delivered

    assert await deliver(backend) == 3  # Alice's two, and the assignment to 陈师傅
    updates = await views.updates_for(backend.new_uow(), ALICE, 0)
    assert [(u["kind"], u["text"]) for u in updates] == [
        ("ticket_assigned", f"您的工单 {number} 已派单，由陈师傅负责，会尽快和您联系。"),
        ("ticket_in_progress", f"您的工单 {number} 正在处理中。\n说明：师傅已上门，在查漏点"),
    ]
    assert [r.status for r in await outbox_rows(backend)] == [model.NotificationStatus.DELIVERED] * 3
    assert await views.updates_for(backend.new_uow(), BOB, 0) == []


async def test_full_life_cycle_including_a_reopen_queues_one_message_per_change(backend):
    await add_staff(backend)
    number = await open_repair(backend)
    path = ["assigned", "in_progress", "on_hold", "in_progress", "resolved", "reopened", "in_progress", "resolved"]
    for status in [*path, "closed"]:
        await move(backend, number, status)

    ticket = await stored_ticket(backend, number)
    assert ticket.status is model.TicketStatus.CLOSED
    assert not ticket.is_open
    assert [c.status.value for c in ticket.history] == ["new", *path, "closed"]
    texts = [r.text for r in await outbox_rows(backend, ALICE)]
    assert len(texts) == len(path) + 1
    assert all(number in text for text in texts)
    assert texts[4] == f"您的工单 {number} 已处理完。{RATING_QUESTION}"
    assert texts[5] == f"您的工单 {number} 已重新打开，我们会重新安排处理。"
    assert texts[-1] == f"您的工单 {number} 已办结，感谢您的支持。"


@pytest.mark.parametrize(
    ("earlier", "refused"),
    [
        ([], "closed"),  # new → closed skips resolution
        ([], "in_progress"),  # nobody is assigned to do the work
        ([], "assigned"),  # only an assignment, naming someone, dispatches
        (["cancelled"], "in_progress"),  # cancelled is final
        (["assigned", "resolved", "closed"], "resolved"),  # closed is final
        (["assigned"], "new"),  # never back to new
    ],
)
async def test_invalid_transition_raises_and_stores_nothing(backend, clock, earlier, refused):
    await add_staff(backend)
    number = await open_repair(backend)
    for status in earlier:
        await move(backend, number, status)
    before = await stored_ticket(backend, number)
    queued_before = [r.id for r in await outbox_rows(backend)]
    clock.advance(hours=1)

    with pytest.raises(model.InvalidTransition):
        await handle(backend, commands.ChangeTicketStatus(number, refused, actor="staff", note="不应保存"))

    after = await stored_ticket(backend, number)
    assert after.status is before.status
    assert after.updated_at == before.updated_at
    assert [(c.type, c.status, c.note) for c in after.history] == [(c.type, c.status, c.note) for c in before.history]
    assert [r.id for r in await outbox_rows(backend)] == queued_before


async def test_unknown_status_is_a_domain_error_and_stores_nothing(backend):
    number = await open_repair(backend)

    with pytest.raises(model.DomainError):
        await handle(backend, commands.ChangeTicketStatus(number, "done", actor="staff"))

    assert (await stored_ticket(backend, number)).status is model.TicketStatus.NEW
    assert await outbox_rows(backend) == []


@pytest.mark.parametrize(
    "number",
    [
        "BX999999",
        "TS000000",
        "999999",
        "BX",
        "",
        "'; DROP TABLE tickets; --",
        "BX-1",
        "BX①",  # str.isdigit() accepts these, int() does not
        "BX１",  # full-width digit
        "²",
        "BX2147483647",  # the largest id the column holds
        "BX2147483648",  # one past it
        "BX" + "9" * 12,
        "BX" + "9" * 5000,  # absurdly long
    ],
)
async def test_unknown_ticket_number_raises_not_found_and_finds_nothing(backend, number):
    await open_repair(backend)

    with pytest.raises(model.NotFound):
        await handle(backend, commands.ChangeTicketStatus(number, "cancelled", actor="staff"))

    assert await views.ticket_for_staff(backend.new_uow(), number) is None
    assert await views.ticket_for_sender(backend.new_uow(), ALICE, number) is None

    assert await outbox_rows(backend) == []
    assert await count_rows(backend, model.Ticket, status=model.TicketStatus.NEW) == 1


async def test_complaint_number_does_not_find_a_repair_with_the_same_id(backend):
    repair = await open_repair(backend)
    as_complaint = f"TS{ticket_id(repair):06d}"

    with pytest.raises(model.NotFound):
        await handle(backend, commands.ChangeTicketStatus(as_complaint, "cancelled", actor="staff"))

    assert (await stored_ticket(backend, repair)).status is model.TicketStatus.NEW
    assert await stored_ticket(backend, as_complaint) is None
    assert await views.ticket_for_staff(backend.new_uow(), as_complaint) is None
    assert await views.ticket_for_sender(backend.new_uow(), ALICE, as_complaint) is None
    assert (await views.ticket_for_staff(backend.new_uow(), repair))["id"] == repair
    assert await outbox_rows(backend) == []


# -- BindSender ---------------------------------------------------------------------------------


@pytest.mark.parametrize("phone", ["13800000501", "138-0000-0501", " 138 0000 0501 ", "+86 138 0000 0501"])
async def test_binding_with_the_phone_on_file_binds_the_sender_to_that_flat(backend, phone):
    assert await bind(backend, ALICE, "3", "2", "501", phone) == {"status": "bound"}

    assert await views.binding_for_sender(backend.new_uow(), ALICE) == {
        "building": "3",
        "unit": "2",
        "room": "501",
        "community": "shifan",
    }
    assert (await views.ledger_for_sender(backend.new_uow(), ALICE))["location"] == "3号楼2单元501"
    assert await views.binding_for_sender(backend.new_uow(), BOB) is None


@pytest.mark.parametrize(
    ("building", "unit", "room", "phone"),
    [
        ("3", "2", "501", "13800000502"),  # wrong phone for a real flat
        ("3", "2", "501", "13800000101"),  # another owner's real phone
        ("3", "2", "502", "13800000501"),  # right phone, neighbour's flat
        ("4", "1", "101", "13900401101"),  # there is no building 4
        ("9", "9", "999", "13800000501"),  # nothing like it on file
        ("3", "2", "501", ""),  # no phone at all
    ],
)
async def test_wrong_phone_and_missing_flat_get_the_same_mismatch_answer(backend, building, unit, room, phone):
    result = await bind(backend, ALICE, building, unit, room, phone)

    assert result == {"status": "mismatch"}
    assert await views.binding_for_sender(backend.new_uow(), ALICE) is None
    assert await views.ledger_for_sender(backend.new_uow(), ALICE) is None
    assert await count_rows(backend, model.Binding) == 0


async def test_four_failures_do_not_lock_the_sender(backend):
    for _ in range(4):
        assert await bind(backend, ALICE, "3", "2", "501", "13800000000") == {"status": "mismatch"}

    assert await bind(backend, ALICE, "3", "2", "501", "13800000501") == {"status": "bound"}


async def test_five_failures_lock_the_sender_for_a_day(backend, clock):
    for building in ("3", "3", "4", "9", "3"):  # wrong phones and missing flats both count
        assert await bind(backend, ALICE, building, "2", "501", "13800000000") == {"status": "mismatch"}

    assert await bind(backend, ALICE, "3", "2", "501", "13800000501") == {"status": "locked"}
    assert await bind(backend, ALICE, "3", "2", "501", "13800000000") == {"status": "locked"}
    assert await views.binding_for_sender(backend.new_uow(), ALICE) is None
    # the lock is on the sender that guessed, not on the flat
    assert await bind(backend, BOB, "3", "2", "501", "13800000501") == {"status": "bound"}

    clock.advance(hours=23, minutes=59)
    assert await bind(backend, ALICE, "3", "2", "501", "13800000501") == {"status": "locked"}
    assert await views.binding_for_sender(backend.new_uow(), ALICE) is None

    clock.advance(minutes=1)
    assert await bind(backend, ALICE, "3", "2", "501", "13800000501") == {"status": "bound"}
    assert await views.binding_for_sender(backend.new_uow(), ALICE) == {
        "building": "3",
        "unit": "2",
        "room": "501",
        "community": "shifan",
    }


async def test_rebinding_moves_the_binding_to_the_new_flat(backend, clock):
    assert await bind(backend, ALICE, "3", "2", "501", "13800000501") == {"status": "bound"}
    clock.advance(hours=2)
    assert await bind(backend, ALICE, "1", "1", "101", "13800000101") == {"status": "bound"}

    assert await views.binding_for_sender(backend.new_uow(), ALICE) == {
        "building": "1",
        "unit": "1",
        "room": "101",
        "community": "shifan",
    }
    ledger = await views.ledger_for_sender(backend.new_uow(), ALICE)
    assert (ledger["building"], ledger["unit"], ledger["room"]) == ("1", "1", "101")
    assert ledger["owed_cents"] == 0 and ledger["unpaid"] == []
    assert await count_rows(backend, model.Binding, sender=ALICE) == 1
    async with backend.new_uow() as uow:
        binding = (await uow.bindings.for_sender(ALICE))["shifan"]  # one flat per community: replaced
        assert binding.bound_at == clock.now


# -- ledger ---------------------------------------------------------------------------------------


async def test_ledger_is_none_for_an_unbound_sender(backend):
    assert await views.ledger_for_sender(backend.new_uow(), ALICE) is None
    await bind(backend, BOB, "3", "2", "501", "13800000501")
    assert await views.ledger_for_sender(backend.new_uow(), ALICE) is None


async def test_ledger_shows_only_the_bound_flat(backend):
    await bind(backend, ALICE, "3", "2", "501", "13800000501")
    await bind(backend, BOB, "5", "1", "302", "13800000302")

    alice = await views.ledger_for_sender(backend.new_uow(), ALICE)
    bob = await views.ledger_for_sender(backend.new_uow(), BOB)

    monthly_501 = round(89.5 * 220)  # the area follows the room's last digit: x01 is 89.5 m²
    assert (alice["building"], alice["unit"], alice["room"]) == ("3", "2", "501")
    assert alice["owed_cents"] == 2 * monthly_501
    assert alice["paid_until"] == "2026-09"
    assert alice["unpaid"] == [
        {"period": "2026-10", "item": "物业费", "amount_cents": monthly_501, "due_date": "2026-10-20"},
        {"period": "2026-11", "item": "物业费", "amount_cents": monthly_501, "due_date": "2026-11-20"},
    ]
    assert (bob["building"], bob["unit"], bob["room"]) == ("5", "1", "302")
    assert len(bob["unpaid"]) == 5
    assert bob["owed_cents"] == 5 * round(126.3 * 220)
    assert "302" not in str(alice) and "501" not in str(bob)


# -- IssuePass ------------------------------------------------------------------------------------


async def test_unbound_sender_gets_not_bound_and_no_pass_is_stored(backend, clock):
    await bind(backend, ALICE, "3", "2", "501", "13800000000")  # a failed attempt does not bind

    with pytest.raises(handlers.NotBound):
        await handle(backend, commands.IssuePass(ALICE, "小王", clock.now + timedelta(hours=3), None, "point"))

    assert await count_rows(backend, model.VisitorPass) == 0


async def test_pass_window_follows_the_kind_of_time_given(backend, clock):
    await bind(backend, ALICE, "3", "2", "501", "13800000501")
    now = clock.now
    tomorrow = datetime(2026, 11, 22, tzinfo=SHANGHAI)
    cases = [
        ("point", now + timedelta(hours=3), None, now + timedelta(hours=2), now + timedelta(hours=7)),
        (
            "period",
            now + timedelta(hours=4),
            now + timedelta(hours=8),
            now + timedelta(hours=3, minutes=30),
            now + timedelta(hours=8, minutes=30),
        ),
        (
            "span",
            now + timedelta(days=1),
            now + timedelta(days=1, hours=2),
            now + timedelta(days=1, minutes=-30),
            now + timedelta(days=1, hours=2, minutes=30),
        ),
        ("day", tomorrow, tomorrow + timedelta(days=1), tomorrow, tomorrow + timedelta(days=1)),
        ("day", tomorrow - timedelta(days=1), tomorrow, now - timedelta(minutes=5), tomorrow),  # today: from now on
        ("period", now + timedelta(hours=5), None, now + timedelta(hours=4), now + timedelta(hours=9)),  # no end
        ("point", now + timedelta(minutes=30), None, now - timedelta(minutes=5), now + timedelta(hours=4, minutes=30)),
    ]
    for kind, start, end, valid_from, valid_until in cases:
        result = await handle(backend, commands.IssuePass(ALICE, " 小王 ", start, end, kind, plate="浙A12345"))

        assert re.fullmatch(r"\d{6}", result.code), kind
        assert (result.valid_from, result.valid_until) == (valid_from, valid_until), kind
        checked = await views.check_pass(backend.new_uow(), result.code, now)
        assert checked["visitor_name"] == "小王"
        assert checked["plate"] == "浙A12345"
        assert (checked["building"], checked["unit"], checked["room"]) == ("3", "2", "501")
        assert datetime.fromisoformat(checked["valid_from"]) == valid_from
        assert datetime.fromisoformat(checked["valid_until"]) == valid_until
    assert await count_rows(backend, model.VisitorPass, issued_to=ALICE) == len(cases)


async def test_pass_is_refused_for_the_past_and_too_far_ahead(backend, clock):
    await bind(backend, ALICE, "3", "2", "501", "13800000501")
    now = clock.now
    refused = [
        ("past", now - timedelta(hours=4), None, "point"),  # window ended exactly now
        ("past", now - timedelta(days=1, hours=3), now - timedelta(hours=3), "day"),
        ("past", now - timedelta(hours=3), now - timedelta(minutes=31), "period"),
        ("too_far", now + timedelta(days=8), None, "point"),
        ("too_far", now + timedelta(days=7, hours=1, minutes=1), None, "point"),
    ]
    for reason, start, end, kind in refused:
        with pytest.raises(model.PassRefused) as caught:
            await handle(backend, commands.IssuePass(ALICE, "小王", start, end, kind))
        assert caught.value.reason == reason, (start, kind)
    assert await count_rows(backend, model.VisitorPass) == 0

    # the edges just inside are accepted
    await handle(backend, commands.IssuePass(ALICE, "小王", now + timedelta(days=7, hours=1), None, "point"))
    await handle(backend, commands.IssuePass(ALICE, "小王", now - timedelta(hours=3, minutes=59), None, "point"))
    assert await count_rows(backend, model.VisitorPass) == 2


async def test_check_pass_state_follows_the_clock(backend, clock):
    await bind(backend, ALICE, "3", "2", "501", "13800000501")
    result = await handle(backend, commands.IssuePass(ALICE, "小王", clock.now + timedelta(hours=3), None, "point"))
    code = result.code

    async def state() -> tuple[str, bool]:
        found = await views.check_pass(backend.new_uow(), code, clock.now)
        return found["state"], found["valid"]

    assert await state() == ("not_yet_valid", False)
    clock.advance(hours=1, minutes=59)
    assert await state() == ("not_yet_valid", False)
    clock.advance(minutes=1)  # one hour before the stated time
    assert await state() == ("valid", True)
    clock.advance(hours=5)  # four hours after the stated time: the last valid moment
    assert await state() == ("valid", True)
    clock.advance(seconds=1)
    assert await state() == ("expired", False)

    unused = next(c for c in (f"{n:06d}" for n in range(1000)) if c != code)
    assert await views.check_pass(backend.new_uow(), unused, clock.now) is None


async def test_live_pass_codes_are_never_duplicated(backend, clock):
    await bind(backend, ALICE, "3", "2", "501", "13800000501")
    await bind(backend, BOB, "1", "1", "101", "13800000101")
    issued: dict[str, tuple[str, str]] = {}
    codes = []
    for i in range(120):
        sender = ALICE if i % 2 else BOB
        name = f"访客{i}"
        start = clock.now + timedelta(hours=1 + i % 48)
        result = await handle(backend, commands.IssuePass(sender, name, start, None, "point"))
        codes.append(result.code)
        issued[result.code] = (name, "501" if sender == ALICE else "101")

    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"\d{6}", c) for c in codes)
    for code, (name, room) in issued.items():
        found = await views.check_pass(backend.new_uow(), code, clock.now)
        assert (found["visitor_name"], found["room"]) == (name, room)


# -- HandOff / HandBack ---------------------------------------------------------------------------


async def test_hand_off_and_hand_back_change_the_state_and_resume_the_dialogue(backend, clock, dialogue):
    assert (await handle(backend, commands.HandOff(ALICE, "owner_asked"))).as_json() == {"state": "handed_off"}
    handed_at = clock.now
    clock.advance(minutes=5)
    assert (await handle(backend, commands.HandOff(ALICE, "second_reason"))).as_json() == {"state": "handed_off"}

    assert await views.conversation_state(backend.new_uow(), ALICE) == ("handed_off", None)
    [row] = await views.conversations(backend.new_uow(), "handed_off")
    assert (row["sender"], row["handoff_reason"], row["handed_off_at"]) == (ALICE, "owner_asked", handed_at.isoformat())
    assert dialogue.resumed == []

    assert (await handle(backend, commands.HandBack(ALICE, actor="staff"))).as_json() == {"state": "bot"}

    assert dialogue.resumed == [ALICE]
    assert await views.conversation_state(backend.new_uow(), ALICE) == ("bot", None)
    assert await views.conversations(backend.new_uow(), "handed_off") == []
    [row] = await views.conversations(backend.new_uow(), "bot")
    assert (row["sender"], row["handoff_reason"], row["handed_off_at"]) == (ALICE, None, None)


async def test_hand_back_of_a_conversation_not_with_staff_is_refused(backend, dialogue):
    await handle(backend, commands.RecordInbound(ALICE, "你好"))

    with pytest.raises(model.DomainError):
        await handle(backend, commands.HandBack(ALICE, actor="staff"))
    with pytest.raises(model.NotFound):
        await handle(backend, commands.HandBack("webchat:nobody", actor="staff"))

    assert dialogue.resumed == []
    assert await views.conversation_state(backend.new_uow(), ALICE) == ("bot", None)


async def test_hand_back_leaves_the_conversation_with_staff_when_the_dialogue_is_down(backend, clock, dialogue):
    await handle(backend, commands.HandOff(ALICE, "owner_asked"))
    dialogue.fail = True

    with pytest.raises(DialogueUnavailable):
        await handle(backend, commands.HandBack(ALICE, actor="staff"))

    assert await views.conversation_state(backend.new_uow(), ALICE) == ("handed_off", None)
    [row] = await views.conversations(backend.new_uow(), "handed_off")
    assert (row["handoff_reason"], row["handed_off_at"]) == ("owner_asked", clock.now.isoformat())

    dialogue.fail = False
    assert (await handle(backend, commands.HandBack(ALICE, actor="staff"))).as_json() == {"state": "bot"}
    assert dialogue.resumed == [ALICE]


# -- SendStaffMessage -----------------------------------------------------------------------------


async def test_staff_message_is_queued_for_the_owner_and_copied_to_the_dialogue(backend, clock, dialogue):
    await handle(backend, commands.HandOff(ALICE, "owner_asked"))

    result = await handle(backend, commands.SendStaffMessage(ALICE, "您好，我是客服小刘，马上安排。", actor="客服小刘"))

    assert result.as_json() == {"queued": True}
    [row] = await outbox_rows(backend, ALICE)
    assert (row.recipient, row.kind, row.text, row.created_at) == (
        ALICE,
        "staff",
        "您好，我是客服小刘，马上安排。",
        clock.now,
    )
    assert dialogue.staff_messages == [(ALICE, "您好，我是客服小刘，马上安排。")]
    await deliver(backend)
    updates = await views.updates_for(backend.new_uow(), ALICE, 0)
    assert [(u["kind"], u["text"]) for u in updates] == [("staff", "您好，我是客服小刘，马上安排。")]


async def test_staff_message_to_an_unknown_conversation_is_not_found(backend, dialogue):
    with pytest.raises(model.NotFound):
        await handle(backend, commands.SendStaffMessage("webchat:nobody", "在吗", actor="staff"))

    assert await outbox_rows(backend) == []
    assert dialogue.staff_messages == []


# -- RecordInbound / RecordReplies ----------------------------------------------------------------


async def test_inbound_message_is_written_down_first(backend, clock):
    result = await handle(backend, commands.RecordInbound(ALICE, "我家水管爆了", client_message_id="c-1"))

    assert result.duplicate is False
    assert (result.status, result.state, result.replies) == ("received", "bot", [])
    async with backend.new_uow() as uow:
        stored = await uow.messages.inbound(result.id)
        assert (stored.sender, stored.text, stored.client_message_id) == (ALICE, "我家水管爆了", "c-1")
        assert stored.status is model.InboundStatus.RECEIVED
        assert stored.received_at == clock.now and is_utc(stored.received_at)
        assert stored.replies == []
    [conversation] = await views.conversations(backend.new_uow())
    assert (conversation["sender"], conversation["channel"]) == (ALICE, "webchat")
    assert conversation["last_inbound_at"] == clock.now.isoformat()


async def test_retried_client_message_returns_the_stored_replies_once(backend):
    first = await handle(backend, commands.RecordInbound(ALICE, "物业费怎么交", client_message_id="m-1"))
    await handle(backend, commands.RecordReplies(first.id, ("可以在公众号缴费。", "还有别的吗？"), answered=True))

    again = await handle(backend, commands.RecordInbound(ALICE, "物业费怎么交", client_message_id="m-1"))

    assert again.duplicate is True
    assert again.id == first.id
    assert again.replies == ["可以在公众号缴费。", "还有别的吗？"]
    assert again.status == "answered"
    assert await count_rows(backend, model.InboundMessage, sender=ALICE) == 1

    # another sender using the same client id is a different message and sees none of Alice's replies
    other = await handle(backend, commands.RecordInbound(BOB, "你好", client_message_id="m-1"))
    assert other.duplicate is False and other.replies == [] and other.id != first.id


async def test_messages_without_client_id_are_never_treated_as_duplicates(backend):
    first = await handle(backend, commands.RecordInbound(ALICE, "你好"))
    second = await handle(backend, commands.RecordInbound(ALICE, "你好"))

    assert second.duplicate is False and second.id != first.id
    assert await count_rows(backend, model.InboundMessage, sender=ALICE) == 2


async def test_script_is_remembered_until_the_owner_writes_in_another(backend):
    result = await handle(backend, commands.RecordInbound(ALICE, "電梯壞了", script="traditional"))
    assert result.script == "traditional"

    result = await handle(backend, commands.RecordInbound(ALICE, "123", script=None))
    assert result.script == "traditional"
    assert await views.conversation_state(backend.new_uow(), ALICE) == ("bot", "traditional")

    await handle(backend, commands.RecordInbound(ALICE, "电梯坏了", script="simplified"))
    assert await views.conversation_state(backend.new_uow(), ALICE) == ("bot", "simplified")
    assert await views.conversation_state(backend.new_uow(), BOB) == ("bot", None)


async def test_late_replies_are_queued_in_the_outbox_when_pushed(backend, clock):
    late = await handle(backend, commands.RecordInbound(ALICE, "我家还欠多少物业费"))
    live = await handle(backend, commands.RecordInbound(ALICE, "谢谢"))

    await handle(backend, commands.RecordReplies(live.id, ("不客气",), answered=True))
    assert await outbox_rows(backend) == []

    clock.advance(minutes=3)
    result = await handle(
        backend, commands.RecordReplies(late.id, ("您家欠费555.72元。", "请及时缴纳。"), True, push=True)
    )

    assert result.as_json() == {"status": "answered"}
    rows = await outbox_rows(backend)
    assert [(r.recipient, r.kind, r.text, r.created_at) for r in rows] == [
        (ALICE, "late_reply", "您家欠费555.72元。", clock.now),
        (ALICE, "late_reply", "请及时缴纳。", clock.now),
    ]
    await deliver(backend)
    updates = await views.updates_for(backend.new_uow(), ALICE, 0)
    assert [u["text"] for u in updates] == ["您家欠费555.72元。", "请及时缴纳。"]


async def test_failed_messages_are_listed_as_unanswered_until_answered(backend):
    failed = await handle(backend, commands.RecordInbound(ALICE, "电梯坏了"))
    pending = await handle(backend, commands.RecordInbound(BOB, "你好"))

    assert (await handle(backend, commands.RecordReplies(failed.id, (), answered=False))).as_json() == {
        "status": "failed"
    }

    expected = [
        {
            "id": failed.id,
            "sender": ALICE,
            "text": "电梯坏了",
            "status": "failed",
            "attempts": 1,
            "received_at": backend.clock(),
        }
    ]
    assert await views.unanswered(backend.new_uow()) == expected
    assert await views.unanswered(backend.new_uow(), ALICE) == expected
    assert await views.unanswered(backend.new_uow(), BOB) == []

    await handle(backend, commands.RecordReplies(failed.id, (), answered=False))
    expected[0]["attempts"] = 2
    assert await views.unanswered(backend.new_uow()) == expected  # still waiting after a second failure

    await handle(backend, commands.RecordReplies(failed.id, ("已为您报修。",), answered=True))
    assert await views.unanswered(backend.new_uow()) == []
    async with backend.new_uow() as uow:
        stored = await uow.messages.inbound(failed.id)
        assert (stored.status, stored.replies, stored.attempts) == (model.InboundStatus.ANSWERED, ["已为您报修。"], 3)
        assert (await uow.messages.inbound(pending.id)).status is model.InboundStatus.RECEIVED


async def test_a_retry_learns_whether_the_first_attempt_may_still_be_answering(backend, clock):
    first = await handle(backend, commands.RecordInbound(ALICE, "阳台的灯不亮了", client_message_id="c-7"))
    arrived = clock.now
    assert (first.in_flight, first.in_flight_since, first.received_at) == (True, arrived, arrived)

    clock.advance(seconds=model.IN_FLIGHT_FOR.total_seconds() - 1)
    again = await handle(backend, commands.RecordInbound(ALICE, "阳台的灯不亮了", client_message_id="c-7"))
    assert (again.duplicate, again.status, again.in_flight, again.in_flight_since) == (True, "received", True, arrived)
    assert again.received_at == arrived

    clock.advance(seconds=1)  # IN_FLIGHT_FOR since it came: whoever had it is gone
    again = await handle(backend, commands.RecordInbound(ALICE, "阳台的灯不亮了", client_message_id="c-7"))
    assert (again.in_flight, again.in_flight_since) == (False, arrived)

    await handle(backend, commands.RecordReplies(first.id, ("已记下，物业会派电工上门。",), answered=True))
    again = await handle(backend, commands.RecordInbound(ALICE, "阳台的灯不亮了", client_message_id="c-7"))
    assert (again.status, again.in_flight, again.in_flight_since) == ("answered", False, None)


async def test_a_message_left_received_is_taken_over_only_after_its_time_in_flight_and_then_once(backend, clock):
    left = await handle(backend, commands.RecordInbound(ALICE, "地下车库的门禁坏了"))
    assert (await handle(backend, commands.ClaimInbound(left.id))).claimed is False  # its first attempt may be at it

    clock.advance(seconds=model.IN_FLIGHT_FOR.total_seconds())
    taken = await handle(backend, commands.ClaimInbound(left.id))
    assert (taken.claimed, taken.since) == (True, clock.now)
    assert (await handle(backend, commands.ClaimInbound(left.id))).claimed is False  # in flight again, from now
    # its first attempt, reaching the engine late, finds it taken; the taker keeps it
    assert (await handle(backend, commands.ClaimInbound(left.id, held_since=left.in_flight_since))).claimed is False
    clock.advance(seconds=20)
    kept = await handle(backend, commands.ClaimInbound(left.id, held_since=taken.since))
    assert (kept.claimed, kept.since) == (True, clock.now)

    await handle(backend, commands.RecordReplies(left.id, ("已通知保安处理门禁。",), answered=True))
    clock.advance(minutes=5)
    # a first attempt nobody took over keeps its message (its in-flight time read from the arrival)
    queued = await handle(backend, commands.RecordInbound(ALICE, "门禁卡也刷不开"))
    clock.advance(seconds=10)
    assert (await handle(backend, commands.ClaimInbound(queued.id, held_since=queued.in_flight_since))).claimed
    assert (await handle(backend, commands.ClaimInbound(left.id))).claimed is False  # answered: nothing to take
    async with backend.new_uow() as uow:
        stored = await uow.messages.inbound(left.id)
        assert (stored.status, stored.attempts, stored.claimed_at) == (model.InboundStatus.ANSWERED, 1, kept.since)


async def test_of_gateways_taking_over_one_message_at_once_exactly_one_does(backend, clock):
    left = await handle(backend, commands.RecordInbound(ALICE, "楼道里有股焦糊味"))
    clock.advance(minutes=1)
    results = await asyncio.gather(*(handle(backend, commands.ClaimInbound(left.id)) for _ in range(5)))
    assert sorted(r.claimed for r in results) == [False, False, False, False, True]


async def test_the_backlog_leaves_a_stalled_message_alone_once_a_retry_took_it_over(backend, clock):
    left = await handle(backend, commands.RecordInbound(ALICE, "小区东门的路灯一直闪"))
    clock.advance(seconds=model.STALLED_AFTER.total_seconds() + 1)
    [stalled] = await views.unanswered(backend.new_uow(), now=clock.now)
    assert (stalled["id"], stalled["status"]) == (left.id, "received")

    assert (await handle(backend, commands.ClaimInbound(left.id))).claimed is True
    assert await views.unanswered(backend.new_uow(), now=clock.now) == []  # its taker is answering it
    clock.advance(seconds=model.STALLED_AFTER.total_seconds() + 1)
    assert [m["id"] for m in await views.unanswered(backend.new_uow(), now=clock.now)] == [left.id]  # so was its taker


async def test_replies_for_an_unknown_inbound_message_are_not_found(backend):
    with pytest.raises(model.NotFound):
        await handle(backend, commands.RecordReplies(424242, ("x",), answered=True, push=True))
    assert await outbox_rows(backend) == []


# RecordInbound and RecordReplies read the conversation and the message with one Core statement each
# and write back what changed with another (adapters/repository.py, issue 14): the rules they apply
# are the domain's as before, and what follows holds them to it.


async def test_an_answer_on_its_way_when_staff_took_over_is_dropped_even_when_it_was_to_be_pushed(backend):
    inbound = await handle(backend, commands.RecordInbound(ALICE, "电梯坏了"))
    await handle(backend, commands.HandOff(ALICE, "assistant_unreachable"))  # from outside the answer

    answer = commands.RecordReplies(inbound.id, ("好的，已为您报修。",), answered=True, push=True)
    result = await handle(backend, answer)

    assert result.status == "for_staff"
    assert [r for r in await outbox_rows(backend, ALICE) if r.kind == "late_reply"] == []
    async with backend.new_uow() as uow:
        stored = await uow.messages.inbound(inbound.id)
        assert (stored.status, stored.replies, stored.attempts) == (model.InboundStatus.FOR_STAFF, [], 0)
    # ... while the assistant's own handoff (its answer asked for a person) still lets that answer out
    asked = await handle(backend, commands.RecordInbound(BOB, "转人工"))
    await handle(backend, commands.HandOff(BOB, "asked_for_staff"))
    result = await handle(backend, commands.RecordReplies(asked.id, ("正在为您转接人工客服",), answered=True))
    assert result.status == "answered"


async def test_a_message_written_while_staff_hold_the_conversation_is_theirs_and_keeps_no_answer(backend):
    await handle(backend, commands.RecordInbound(ALICE, "你好"))
    await handle(backend, commands.ClaimConversation(ALICE, actor="staff"))

    written = await handle(backend, commands.RecordInbound(ALICE, "师傅什么时候来", client_message_id="c-9"))
    assert (written.status, written.state) == ("for_staff", "handed_off")
    assert (await handle(backend, commands.RecordReplies(written.id, (), answered=True))).status == "for_staff"

    again = await handle(backend, commands.RecordInbound(ALICE, "师傅什么时候来", client_message_id="c-9"))
    assert (again.duplicate, again.id, again.replies, again.status) == (True, written.id, [], "for_staff")


async def test_a_pushed_answer_raises_replies_deferred_for_the_bus_and_one_in_the_request_none(backend):
    from backend_bridge.domain import events

    heard: list[events.Event] = []

    async def listener(event, uow, deps) -> None:
        heard.append(event)

    handlers_of = backend.bus.event_handlers.setdefault(events.RepliesDeferred, [])
    handlers_of.append(listener)
    try:
        live = await handle(backend, commands.RecordInbound(ALICE, "谢谢"))
        await handle(backend, commands.RecordReplies(live.id, ("不客气",), answered=True))
        assert heard == []
        late = await handle(backend, commands.RecordInbound(ALICE, "我家还欠多少物业费"))
        await handle(backend, commands.RecordReplies(late.id, ("您家欠费555.72元。",), answered=True, push=True))
    finally:
        handlers_of.remove(listener)

    assert heard == [events.RepliesDeferred(sender=ALICE, replies=("您家欠费555.72元。",))]
    assert [(r.kind, r.text) for r in await outbox_rows(backend, ALICE)] == [("late_reply", "您家欠费555.72元。")]


async def test_the_waiting_count_is_the_backlogs(backend):
    failed = [await handle(backend, commands.RecordInbound(ALICE, f"第{i}条")) for i in range(3)]
    for record in failed:
        await handle(backend, commands.RecordReplies(record.id, (), answered=False))
    for _ in range(model.MAX_ANSWER_ATTEMPTS - 1):  # the first has been tried as often as it will be
        await handle(backend, commands.RecordReplies(failed[0].id, (), answered=False))
    await handle(backend, commands.RecordReplies(failed[1].id, ("好的",), answered=True))
    await handle(backend, commands.RecordInbound(BOB, "你好"))

    record = await handle(backend, commands.RecordInbound(ALICE, "在吗"))

    async with backend.new_uow() as uow:
        backlog = await uow.messages.unanswered(sender=ALICE)
        assert [m.id for m in backlog] == [failed[2].id]
        assert record.waiting == len(backlog) == await uow.messages.count_unanswered(ALICE) == 1
        assert await uow.messages.count_unanswered(BOB) == 0


async def test_a_conversation_read_for_a_message_writes_back_only_what_changed(backend, clock):
    await handle(backend, commands.RecordInbound(ALICE, "你好"))
    async with backend.new_uow() as uow:
        conversation = await uow.conversations.read(ALICE)
        conversation.script = "traditional"
        async with backend.new_uow() as other:  # meanwhile the owner binds a flat: the community is routed
            routed = await other.conversations.get(ALICE)
            routed.community = "yangguang"
            await other.commit()
        await uow.conversations.save(conversation)
        await uow.commit()

    async with backend.new_uow() as uow:
        stored = await uow.conversations.get(ALICE)
        assert (stored.script, stored.community) == ("traditional", "yangguang")


async def test_a_change_of_hands_is_not_saved_through_a_conversation_read_for_a_message(backend, clock):
    await handle(backend, commands.RecordInbound(ALICE, "你好"))
    async with backend.new_uow() as uow:
        conversation = await uow.conversations.read(ALICE)
        conversation.hand_off("asked_for_staff", clock.now)
        with pytest.raises(ValueError, match="change of hands"):
            await uow.conversations.save(conversation)
    assert await views.conversation_state(backend.new_uow(), ALICE) == ("bot", None)

    await handle(backend, commands.HandOff(ALICE, "asked_for_staff"))
    async with backend.new_uow() as uow:  # nor a handback, whose end of the handoff was not read
        conversation = await uow.conversations.read(ALICE)
        conversation.hand_back("staff", clock.now)
        with pytest.raises(ValueError, match="change of hands"):
            await uow.conversations.save(conversation)
    assert await views.conversation_state(backend.new_uow(), ALICE) == ("handed_off", None)


# -- views isolation -----------------------------------------------------------------------------


async def test_sender_views_never_return_another_senders_ticket(backend):
    alice_repair = await open_repair(backend, sender=ALICE)
    alice_complaint = await open_complaint(backend, sender=ALICE)
    bob_repair = await open_repair(backend, sender=BOB, building="1", unit="1", room="101")

    alice = await views.tickets_for_sender(backend.new_uow(), ALICE)
    assert [t["id"] for t in alice] == [alice_complaint, alice_repair]
    assert all("sender" not in t for t in alice)
    assert [t["id"] for t in await views.tickets_for_sender(backend.new_uow(), BOB)] == [bob_repair]
    assert await views.tickets_for_sender(backend.new_uow(), "webchat:carol") == []

    assert await views.ticket_for_sender(backend.new_uow(), ALICE, bob_repair) is None
    assert await views.ticket_for_sender(backend.new_uow(), BOB, alice_repair) is None
    assert await views.ticket_for_sender(backend.new_uow(), BOB, str(ticket_id(alice_repair))) is None
    mine = await views.ticket_for_sender(backend.new_uow(), BOB, bob_repair)
    assert (mine["id"], mine["room"]) == (bob_repair, "101")


async def test_sender_ticket_list_shows_open_and_resolved_unless_all_are_asked_for(backend):
    await add_staff(backend)
    paths = {
        "new": [],
        "assigned": ["assigned"],
        "on_hold": ["assigned", "on_hold"],
        "resolved": ["assigned", "resolved"],
        "reopened": ["assigned", "resolved", "reopened"],
        "closed": ["assigned", "resolved", "closed"],
        "cancelled": ["cancelled"],
    }
    kept = {status: await open_repair(backend) for status in paths}
    for status, number in kept.items():
        for step in paths[status]:
            await move(backend, number, step)

    open_view = await views.tickets_for_sender(backend.new_uow(), ALICE)
    assert {t["id"]: t["status"] for t in open_view} == {
        kept[s]: s for s in ("new", "assigned", "on_hold", "resolved", "reopened")
    }
    every = await views.tickets_for_sender(backend.new_uow(), ALICE, open_only=False)
    assert {t["id"] for t in every} == set(kept.values())


async def test_staff_views_hide_the_sender_of_anonymous_complaints_only(backend):
    anonymous = await open_complaint(backend, sender=ALICE, description="邻居装修太吵", anonymous=True)
    named = await open_complaint(backend, sender=BOB, description="垃圾没人清")
    repair = await open_repair(backend, sender=ALICE)

    listed = {t["id"]: t for t in (await views.tickets_for_staff(backend.new_uow()))[0]}
    assert (listed[anonymous]["sender"], listed[anonymous]["anonymous"]) == (None, True)
    assert ALICE not in str(listed[anonymous])
    assert (listed[named]["sender"], listed[named]["anonymous"]) == (BOB, False)
    assert listed[repair]["sender"] == ALICE

    single = await views.ticket_for_staff(backend.new_uow(), anonymous)
    assert single["sender"] is None and ALICE not in str(single)
    assert (await views.ticket_for_staff(backend.new_uow(), named))["sender"] == BOB
    # the owner still sees their own anonymous complaint
    assert (await views.ticket_for_sender(backend.new_uow(), ALICE, anonymous))["id"] == anonymous


async def test_staff_ticket_list_filters_and_pages(backend):
    await add_staff(backend)
    repairs = [await open_repair(backend, sender=f"webchat:owner{i}") for i in range(3)]
    complaints = [await open_complaint(backend, sender=f"webchat:owner{i}") for i in range(2)]
    urgent = (await handle(backend, commands.ReportEmergency(ALICE, "flooding", "家里进水了", building="2"))).number
    await move(backend, repairs[0], "assigned")
    everything = [urgent, *reversed(complaints), *reversed(repairs)]  # newest first

    async def ids(**filters) -> tuple[list[str], int]:
        found, total = await views.tickets_for_staff(backend.new_uow(), **filters)
        return [t["id"] for t in found], total

    assert await ids() == (everything, 6)
    assert await ids(kind="repair") == ([urgent, repairs[2], repairs[1], repairs[0]], 4)
    assert await ids(kind="complaint") == ([complaints[1], complaints[0]], 2)
    assert await ids(priority="emergency") == ([urgent], 1)
    assert await ids(priority="urgent") == ([], 0)
    assert await ids(status="assigned") == ([repairs[0]], 1)
    assert await ids(assignee="chen") == ([repairs[0]], 1)
    assert await ids(category="plumbing", kind="repair") == ([urgent, *reversed(repairs)], 4)
    assert await ids(status="new", kind="repair", priority="normal") == ([repairs[2], repairs[1]], 2)
    assert await ids(status="closed") == ([], 0)

    pages = [await ids(limit=4, offset=0), await ids(limit=4, offset=4), await ids(limit=4, offset=8)]
    assert pages == [(everything[:4], 6), (everything[4:], 6), ([], 6)]
    assert await ids(kind="repair", limit=1, offset=1) == ([repairs[2]], 4)


# -- updates_for ----------------------------------------------------------------------------------


async def test_updates_for_follows_the_cursor_once_the_dispatcher_delivered(backend, clock):
    await add_staff(backend)
    number = await open_repair(backend, sender=ALICE)
    bobs = await open_repair(backend, sender=BOB, building="1", unit="1", room="101")
    for status in ("assigned", "in_progress", "resolved"):
        await move(backend, number, status)
    await move(backend, bobs, "assigned")
    assert await views.updates_for(backend.new_uow(), ALICE, 0) == []  # in the outbox, not yet delivered
    clock.advance(minutes=2)
    delivered_at = clock.now

    await deliver(backend)

    updates = await views.updates_for(backend.new_uow(), ALICE, 0)
    ids = [u["id"] for u in updates]
    assert len(ids) == 3 and ids == sorted(ids)
    assert all(number in u["text"] for u in updates)
    assert [u["kind"] for u in updates] == ["ticket_assigned", "ticket_in_progress", "ticket_resolved"]
    assert [(r.status, r.delivered_at) for r in await outbox_rows(backend, ALICE)] == [
        (model.NotificationStatus.DELIVERED, delivered_at)
    ] * 3

    assert [u["id"] for u in await views.updates_for(backend.new_uow(), ALICE, ids[0])] == ids[1:]
    assert await views.updates_for(backend.new_uow(), ALICE, ids[-1]) == []

    # Reading changes nothing, and a second sweep sends nothing again.
    clock.advance(minutes=5)
    assert await deliver(backend) == 0
    assert [u["id"] for u in await views.updates_for(backend.new_uow(), ALICE, 0)] == ids
    assert [r.delivered_at for r in await outbox_rows(backend, ALICE)] == [delivered_at] * 3

    [bob_update] = await views.updates_for(backend.new_uow(), BOB, 0)
    assert bobs in bob_update["text"] and number not in bob_update["text"]
    assert bob_update["id"] not in ids


async def test_updates_for_pages_through_a_long_backlog_with_the_cursor(backend, clock):
    await handle(backend, commands.HandOff(ALICE, "owner_asked"))
    for i in range(105):
        await handle(backend, commands.SendStaffMessage(ALICE, f"第{i}条", actor="staff"))
    assert await deliver(backend) == 105 + 1  # and the desk's notice that an owner waits

    first = await views.updates_for(backend.new_uow(), ALICE, 0)
    assert [u["text"] for u in first] == [f"第{i}条" for i in range(100)]
    rest = await views.updates_for(backend.new_uow(), ALICE, first[-1]["id"])
    assert [u["text"] for u in rest] == [f"第{i}条" for i in range(100, 105)]
    assert await views.updates_for(backend.new_uow(), ALICE, rest[-1]["id"]) == []


async def test_a_notification_for_a_channel_nobody_delivers_goes_dead_and_holds_nothing_up(backend):
    await handle(backend, commands.HandOff("nochannel:x", "owner_asked"))
    await handle(backend, commands.SendStaffMessage("nochannel:x", "没人送得到", actor="staff"))
    await handle(backend, commands.HandOff(ALICE, "owner_asked"))
    await handle(backend, commands.SendStaffMessage(ALICE, "您好", actor="staff"))

    assert await deliver(backend) == 1 + 2  # and the desk's two notices that an owner waits

    [dead] = await outbox_rows(backend, "nochannel:x")
    assert dead.status is model.NotificationStatus.DEAD
    assert [u["text"] for u in await views.updates_for(backend.new_uow(), ALICE, 0)] == ["您好"]
    [listed] = await views.dead_notifications(backend.new_uow())
    assert (listed["id"], listed["recipient"], listed["attempts"]) == (dead.id, "nochannel:x", 1)
    assert "nochannel" in listed["last_error"]


async def test_without_a_flat_register_every_address_is_accepted(backend):
    """A company that has not imported its flats yet must still be able to take repairs."""
    assert not await views.room_exists(backend.new_uow(), None, "99", "9", "999")  # the demo register is loaded
    async with backend.engine.begin() as conn:
        for table in ("bills", "owners", "rooms"):
            await conn.exec_driver_sql(f"DELETE FROM {table}")
    assert await views.room_exists(backend.new_uow(), None, "99", "9", "999")


async def test_guesses_at_one_flat_from_many_chat_ids_lock_that_flat(backend):
    """A new web chat id costs nothing, so failures are also counted per flat."""
    for i in range(model.MAX_FAILED_BINDINGS_PER_FLAT):
        result = await backend.bus.handle(commands.BindSender(f"webchat:guesser{i}", "3", "2", "501", "1390000000{i}"))
        assert result.as_json() == {"status": "mismatch"}
    fresh = await backend.bus.handle(commands.BindSender("webchat:another", "3", "2", "501", "13800000501"))
    assert fresh.as_json() == {"status": "locked"}
    other_flat = await backend.bus.handle(commands.BindSender("webchat:another", "1", "1", "101", "13800000101"))
    assert other_flat.as_json() == {"status": "bound"}


async def test_guesses_at_one_flat_made_at_the_same_moment_are_checked_no_more_than_the_limit(backend):
    """Counting and recording were two steps: 60 guesses at once got 23 checks past a limit of 10."""
    guesses = [
        backend.bus.handle(commands.BindSender(f"webchat:swarm{i}", "3", "2", "501", f"139{i:08d}")) for i in range(40)
    ]
    answers = [r.status for r in await asyncio.gather(*guesses)]
    assert answers.count("mismatch") <= model.MAX_FAILED_BINDINGS_PER_FLAT
    assert answers.count("locked") >= 40 - model.MAX_FAILED_BINDINGS_PER_FLAT
    assert set(answers) <= {"mismatch", "locked"}
