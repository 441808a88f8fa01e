"""The domain rules on their own, with no database: what a ticket, a flat's ledger, a visitor
pass and a conversation allow, and how tickets are numbered and categorised.

These are the rules staff and owners see the effects of (deadlines promised, status flow,
who can bind to a flat, when a gate code works), so each one is pinned down here.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from backend_bridge.domain import categories, events
from backend_bridge.domain.model import (
    MAX_FAILED_BINDINGS_PER_DAY,
    MAX_PASS_DAYS,
    Bill,
    BindingAttempt,
    Conversation,
    ConversationState,
    DomainError,
    EventType,
    Forbidden,
    Location,
    Owner,
    PassState,
    Priority,
    Role,
    Room,
    ServiceLevel,
    StaffMember,
    Ticket,
    TicketKind,
    TicketStatus,
    VisitorPass,
    binding_locked,
    format_number,
    new_pass_code,
    parse_number,
    pass_window,
)

NOW = datetime(2026, 11, 21, 2, 30, tzinfo=timezone.utc)  # 10:30 in Shanghai
REPAIR_LEVEL = ServiceLevel(respond_minutes=30, resolve_hours=24)
SENDER = "wechat:owner-501"


def open_ticket(*, kind: TicketKind = TicketKind.REPAIR, ticket_id: int | None = 123, **overrides) -> Ticket:
    params = {
        "kind": kind,
        "location": Location("3", "2", "501"),
        "description": "厨房水管漏水",
        "sender": SENDER,
        "now": NOW,
        "level": REPAIR_LEVEL,
    } | overrides
    ticket = Ticket.open(**params)
    ticket.id = ticket_id
    return ticket


# --- Ticket.open -------------------------------------------------------------------------


async def test_open_sets_deadlines_from_the_service_level(clock):
    ticket = Ticket.open(
        kind=TicketKind.REPAIR,
        location=Location("3", "2", "501"),
        description="卫生间漏水",
        sender=SENDER,
        now=clock(),
        level=ServiceLevel(respond_minutes=15, resolve_hours=4),
        priority=Priority.URGENT,
    )
    assert ticket.created_at == clock.now
    assert ticket.updated_at == clock.now
    assert ticket.respond_by == clock.now + timedelta(minutes=15)
    assert ticket.resolve_by == clock.now + timedelta(hours=4)
    assert ticket.priority is Priority.URGENT


async def test_open_starts_new_and_open_with_one_history_entry_by_the_owner():
    ticket = open_ticket()
    assert ticket.status is TicketStatus.NEW
    assert ticket.is_open
    assert len(ticket.history) == 1
    first = ticket.history[0]
    assert (first.at, first.type, first.status, first.actor) == (NOW, EventType.OPENED, TicketStatus.NEW, "owner")
    assert ticket.events == []


async def test_open_strips_the_description_and_keeps_the_given_fields():
    ticket = open_ticket(description="  楼道灯不亮  \n", category="electrical", hazard="fire", anonymous=True)
    assert ticket.description == "楼道灯不亮"
    assert (ticket.category, ticket.hazard, ticket.anonymous) == ("electrical", "fire", True)
    assert ticket.priority is Priority.NORMAL


@pytest.mark.parametrize("description", ["", "   ", "\n\t　"])
async def test_open_refuses_an_empty_description(description):
    with pytest.raises(DomainError, match="description"):
        open_ticket(description=description)


# --- ticket numbers ------------------------------------------------------------------------


async def test_number_uses_the_kind_prefix_and_six_digits():
    assert open_ticket(kind=TicketKind.REPAIR, ticket_id=123).number == "BX000123"
    assert open_ticket(kind=TicketKind.COMPLAINT, ticket_id=124).number == "TS000124"


async def test_number_needs_an_id():
    ticket = open_ticket(ticket_id=None)
    with pytest.raises(DomainError):
        _ = ticket.number


async def test_format_number_keeps_ids_beyond_six_digits():
    assert format_number(TicketKind.REPAIR, 1234567) == "BX1234567"


@pytest.mark.parametrize("kind", list(TicketKind))
@pytest.mark.parametrize("ticket_id", [1, 42, 999999, 1234567])
async def test_format_then_parse_round_trips(kind, ticket_id):
    assert parse_number(format_number(kind, ticket_id)) == (kind, ticket_id)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("BX000123", (TicketKind.REPAIR, 123)),
        ("TS000124", (TicketKind.COMPLAINT, 124)),
        ("  bx000123 ", (TicketKind.REPAIR, 123)),  # owners type lower case and spaces
        ("ts7", (TicketKind.COMPLAINT, 7)),
        ("123", (None, 123)),
        ("000123", (None, 123)),
    ],
)
async def test_parse_number_reads_prefixed_and_bare_numbers(text, expected):
    assert parse_number(text) == expected


async def test_parse_number_tells_repair_and_complaint_apart():
    repair, complaint = parse_number("BX000005"), parse_number("TS000005")
    assert repair is not None and complaint is not None
    assert repair[0] is TicketKind.REPAIR
    assert complaint[0] is TicketKind.COMPLAINT


@pytest.mark.parametrize(
    "text",
    ["", "   ", "BX", "TS", "XY000123", "BX-000123", "BX12a", "12 3", "-5", "1.5", "报修单", "BXTS1", "🙂"],
)
async def test_parse_number_returns_none_for_junk(text):
    assert parse_number(text) is None


@pytest.mark.parametrize("text", ["①", "BX①②③", "TS²", "³"])
async def test_parse_number_returns_none_for_digit_like_symbols(text):
    # str.isdigit() accepts ① and ², int() does not: junk must give None, not raise.
    assert parse_number(text) is None


async def test_parse_number_does_not_raise_on_an_oversized_number():
    huge = "9" * 5000  # beyond Python's int-from-string limit
    result = parse_number(huge)
    assert result is None or result[0] is None
    result = parse_number("BX" + huge)
    assert result is None or result[0] is TicketKind.REPAIR


# The ticket life cycle (transitions, assignment, history, ratings, merges, SLA alerts) is
# pinned down in test_lifecycle.py.


# --- Location ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "text"),
    [
        (Location("3", "2", "501"), "3号楼2单元501"),
        (Location("A", "1", "1203"), "A座1单元1203"),
        (Location("B"), "B座"),
        (Location("5"), "5号楼"),
        (Location(public_area="地下车库"), "地下车库"),
        (Location("2", public_area="电梯厅"), "2号楼 电梯厅"),
        (Location("2", "1", public_area="楼道"), "2号楼1单元 楼道"),
        (Location(), "待确认"),
    ],
)
async def test_describe_reads_like_an_address(location, text):
    assert location.describe() == text


async def test_only_a_full_address_without_public_area_is_a_flat():
    assert Location("3", "2", "501").is_flat
    assert not Location("3", "2").is_flat
    assert not Location("3", "2", "501", public_area="阳台外墙").is_flat
    assert not Location().is_flat


# --- Room: identity and ledger ---------------------------------------------------------------


def room_with_owners() -> Room:
    return Room(
        "3",
        "2",
        "501",
        owners=[Owner("张伟", "13800000501", id=1), Owner("张伟家属", "13800000502", role="family", id=2)],
    )


@pytest.mark.parametrize(
    "typed",
    [
        "13800000501",
        "138-0000-0501",
        "138 0000 0501",
        " 138 0000 0501 ",
        "+86 138 0000 0501",
        "0086 138 0000 0501",
        "0086-13800000501",
        "１３８０００００５０１",
        "138.0000.0501",
    ],
)
async def test_phone_matches_compares_the_mobile_however_typed(typed):
    owner = room_with_owners().phone_matches(typed)
    assert owner is not None and owner.name == "张伟"


async def test_phone_matches_finds_the_right_owner_among_several():
    owner = room_with_owners().phone_matches("13800000502")
    assert owner is not None and owner.id == 2 and owner.role == "family"


@pytest.mark.parametrize("typed", ["13800000500", "1380000050", "138000005011", "13900000501"])
async def test_phone_matches_refuses_a_wrong_phone(typed):
    assert room_with_owners().phone_matches(typed) is None


@pytest.mark.parametrize("typed", ["", "   ", "电话", "---"])
async def test_phone_matches_refuses_an_empty_phone_even_against_an_empty_record(typed):
    room = Room("3", "2", "501", owners=[Owner("没留电话", "", id=9)])
    assert room.phone_matches(typed) is None
    assert room_with_owners().phone_matches(typed) is None


async def test_room_location_is_its_flat():
    assert Room("3", "2", "501").location == Location("3", "2", "501")


def bill(period: str, amount_yuan: int, *, paid: bool, item: str = "物业费") -> Bill:
    due = datetime.strptime(period + "-20", "%Y-%m-%d").replace(tzinfo=timezone.utc)
    return Bill(period, item, amount_yuan * 100, due, paid_at=due if paid else None)


async def test_ledger_totals_and_sorts_what_is_owed():
    room = Room(
        "5",
        "1",
        "302",
        bills=[
            bill("2026-10", 220, paid=False),
            bill("2026-08", 220, paid=True),
            bill("2026-09", 60, paid=False, item="车位管理费"),
            bill("2026-09", 220, paid=False),
            bill("2026-10", 60, paid=False, item="车位管理费"),
        ],
    )
    ledger = room.ledger()
    assert ledger.owed_cents == (220 + 60 + 220 + 60) * 100
    assert [(b.period, b.item) for b in ledger.unpaid] == [
        ("2026-09", "物业费"),
        ("2026-09", "车位管理费"),
        ("2026-10", "物业费"),
        ("2026-10", "车位管理费"),
    ]
    assert ledger.paid_until == "2026-08"


async def test_paid_until_stops_at_the_first_gap():
    room = Room(
        "3",
        "2",
        "501",
        bills=[
            bill("2026-04", 220, paid=True),
            bill("2026-01", 220, paid=True),
            bill("2026-02", 220, paid=True),
            bill("2026-03", 220, paid=False),  # the gap: April being paid does not cover March
        ],
    )
    ledger = room.ledger()
    assert ledger.paid_until == "2026-02"
    assert [b.period for b in ledger.unpaid] == ["2026-03"]
    assert ledger.owed_cents == 22000


async def test_paid_until_ignores_other_items():
    room = Room(
        "3",
        "2",
        "501",
        bills=[
            bill("2026-01", 220, paid=True),
            bill("2026-02", 60, paid=False, item="车位管理费"),
            bill("2026-02", 220, paid=True),
        ],
    )
    ledger = room.ledger()
    assert ledger.paid_until == "2026-02"
    assert ledger.owed_cents == 6000


async def test_ledger_of_a_flat_that_paid_everything():
    room = Room("1", "1", "101", bills=[bill("2026-09", 220, paid=True), bill("2026-10", 220, paid=True)])
    ledger = room.ledger()
    assert (ledger.owed_cents, ledger.unpaid, ledger.paid_until) == (0, [], "2026-10")


async def test_ledger_when_nothing_was_ever_paid():
    room = Room("5", "1", "302", bills=[bill("2026-09", 220, paid=False), bill("2026-10", 220, paid=False)])
    ledger = room.ledger()
    assert ledger.paid_until is None
    assert ledger.owed_cents == 44000


async def test_ledger_of_a_flat_without_bills():
    ledger = Room("6", "2", "602").ledger()
    assert (ledger.owed_cents, ledger.unpaid, ledger.paid_until) == (0, [], None)


# --- binding lockout -----------------------------------------------------------------------


def failures(count: int, *, start: datetime, step: timedelta = timedelta(minutes=1)) -> list[BindingAttempt]:
    return [BindingAttempt(SENDER, start + i * step, ok=False) for i in range(count)]


async def test_five_failures_within_a_day_lock_binding():
    assert MAX_FAILED_BINDINGS_PER_DAY == 5
    attempts = failures(5, start=NOW - timedelta(hours=23), step=timedelta(hours=4))
    assert binding_locked(attempts, NOW)


async def test_four_failures_do_not_lock():
    assert not binding_locked(failures(4, start=NOW - timedelta(minutes=10)), NOW)


async def test_no_attempts_do_not_lock():
    assert not binding_locked([], NOW)


async def test_failures_older_than_a_day_do_not_count():
    old = failures(10, start=NOW - timedelta(days=3))
    exactly_a_day = [BindingAttempt(SENDER, NOW - timedelta(days=1), ok=False)]
    recent = failures(3, start=NOW - timedelta(hours=1))
    assert not binding_locked(old + exactly_a_day + recent, NOW)


async def test_successes_do_not_count_towards_the_lock():
    attempts = failures(4, start=NOW - timedelta(hours=1)) + [
        BindingAttempt(SENDER, NOW - timedelta(minutes=m), ok=True) for m in range(5)
    ]
    assert not binding_locked(attempts, NOW)


async def test_the_lock_lapses_a_day_after_the_failures(clock):
    attempts = failures(5, start=clock())
    clock.advance(minutes=10)
    assert binding_locked(attempts, clock())
    clock.advance(hours=23, minutes=54)  # the first failure is now more than a day old
    assert not binding_locked(attempts, clock())


# --- visitor passes ------------------------------------------------------------------------


def visitor_pass(**overrides) -> VisitorPass:
    params = {
        "code": "042917",
        "room_id": 1,
        "visitor_name": "刘先生",
        "valid_from": NOW + timedelta(hours=1),
        "valid_until": NOW + timedelta(hours=6),
        "issued_to": SENDER,
        "issued_at": NOW,
    } | overrides
    return VisitorPass(**params)


@pytest.mark.parametrize(
    ("offset", "state"),
    [
        (timedelta(0), PassState.NOT_YET_VALID),
        (timedelta(minutes=59), PassState.NOT_YET_VALID),
        (timedelta(hours=1), PassState.VALID),
        (timedelta(hours=3), PassState.VALID),
        (timedelta(hours=6), PassState.VALID),
        (timedelta(hours=6, seconds=1), PassState.EXPIRED),
        (timedelta(days=2), PassState.EXPIRED),
    ],
)
async def test_pass_state_follows_its_window(offset, state):
    assert visitor_pass().state(NOW + offset) is state


@pytest.mark.parametrize("offset", [timedelta(0), timedelta(hours=3), timedelta(days=2)])
async def test_a_revoked_pass_is_revoked_whenever_asked(offset):
    revoked = visitor_pass(revoked_at=NOW + timedelta(minutes=5))
    assert revoked.state(NOW + offset) is PassState.REVOKED


async def test_pass_window_for_a_clock_time_is_an_hour_before_to_four_after():
    three_pm = datetime(2026, 11, 21, 7, 0, tzinfo=timezone.utc)
    assert pass_window(three_pm, None, "point") == (three_pm - timedelta(hours=1), three_pm + timedelta(hours=4))


async def test_pass_window_treats_a_missing_end_as_a_clock_time():
    start = datetime(2026, 11, 21, 7, 0, tzinfo=timezone.utc)
    assert pass_window(start, None, "period") == (start - timedelta(hours=1), start + timedelta(hours=4))


@pytest.mark.parametrize("kind", ["period", "span"])
async def test_pass_window_for_a_part_of_day_or_range_adds_half_an_hour_grace(kind):
    start = datetime(2026, 11, 21, 6, 0, tzinfo=timezone.utc)
    end = datetime(2026, 11, 21, 10, 0, tzinfo=timezone.utc)
    assert pass_window(start, end, kind) == (start - timedelta(minutes=30), end + timedelta(minutes=30))


async def test_pass_window_for_a_whole_day_is_that_day():
    start = datetime(2026, 11, 21, 16, 0, tzinfo=timezone.utc)  # 明天 00:00 in Shanghai
    end = start + timedelta(days=1)
    assert pass_window(start, end, "day") == (start, end)


async def test_pass_window_ignores_the_end_for_a_clock_time():
    start = datetime(2026, 11, 21, 7, 0, tzinfo=timezone.utc)
    end = start + timedelta(hours=10)
    assert pass_window(start, end, "point") == (start - timedelta(hours=1), start + timedelta(hours=4))


@pytest.mark.parametrize("kind", ["period", "span", "day"])
async def test_pass_window_is_never_longer_than_max_pass_days(kind):
    """今天到明年年底: a code read out at the gate must not admit whoever says it for a year."""
    start = datetime(2026, 11, 21, 2, 0, tzinfo=timezone.utc)
    end = datetime(2027, 12, 31, 16, 0, tzinfo=timezone.utc)
    valid_from, valid_until = pass_window(start, end, kind)
    assert valid_from <= start and valid_until - valid_from == timedelta(days=MAX_PASS_DAYS)


async def test_pass_window_of_exactly_max_pass_days_is_kept_as_asked():
    start = datetime(2026, 11, 21, 16, 0, tzinfo=timezone.utc)
    end = start + timedelta(days=MAX_PASS_DAYS)
    assert pass_window(start, end, "day") == (start, end)


async def test_pass_codes_are_six_ascii_digits_and_vary():
    codes = [new_pass_code() for _ in range(300)]
    assert all(re.fullmatch(r"[0-9]{6}", code) for code in codes), codes
    assert len(set(codes)) > 250  # 300 draws from a million: repeats are rare


# --- conversations -------------------------------------------------------------------------


async def test_hand_off_passes_the_conversation_to_staff_with_one_event(clock):
    conversation = Conversation(sender=SENDER, channel="wechat")
    conversation.hand_off("owner asked for a person", clock())
    first_time = clock()
    clock.advance(minutes=5)
    conversation.hand_off("angry", clock())  # idempotent: the first reason and time stay
    assert conversation.state is ConversationState.HANDED_OFF
    assert conversation.handoff_reason == "owner asked for a person"
    assert conversation.handed_off_at == first_time
    assert conversation.events == [events.ConversationHandedOff(sender=SENDER, reason="owner asked for a person")]


async def test_hand_back_returns_the_conversation_to_the_bot():
    conversation = Conversation(sender=SENDER, channel="wechat")
    conversation.hand_off("angry", NOW)
    conversation.hand_back("staff:王主管", NOW)
    assert conversation.state is ConversationState.BOT
    assert conversation.handoff_reason is None
    assert conversation.handed_off_at is None
    assert conversation.events[-1] == events.ConversationHandedBack(sender=SENDER, actor="staff:王主管")
    assert len(conversation.events) == 2


async def test_hand_back_is_refused_when_the_bot_has_the_conversation():
    conversation = Conversation(sender=SENDER, channel="wechat")
    with pytest.raises(DomainError):
        conversation.hand_back("staff", NOW)
    assert conversation.state is ConversationState.BOT
    assert conversation.events == []


async def test_hand_back_twice_is_refused_the_second_time():
    conversation = Conversation(sender=SENDER, channel="wechat")
    conversation.hand_off("angry", NOW)
    conversation.hand_back("staff", NOW)
    with pytest.raises(DomainError):
        conversation.hand_back("staff", NOW)
    assert len(conversation.events) == 2


async def test_a_conversation_can_be_handed_off_again_after_hand_back():
    conversation = Conversation(sender=SENDER, channel="wechat")
    conversation.hand_off("first", NOW)
    conversation.hand_back("staff", NOW)
    conversation.hand_off("second", NOW + timedelta(hours=1))
    assert conversation.handoff_reason == "second"
    assert conversation.handed_off_at == NOW + timedelta(hours=1)
    assert [type(e) for e in conversation.events] == [
        events.ConversationHandedOff,
        events.ConversationHandedBack,
        events.ConversationHandedOff,
    ]


# --- categories ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("3号楼电梯又坏了", "lift"),
        ("厨房闻到煤气味", "gas"),
        ("燃气灶打不着火", "gas"),
        ("马桶堵了", "plumbing"),
        ("卫生间天花板渗水", "plumbing"),
        ("客厅插座没电", "electrical"),
        ("家里总跳闸", "electrical"),
        ("入户门锁坏了", "doors_windows"),
        ("窗户玻璃裂了", "doors_windows"),
        ("楼下快递柜打不开", "low_voltage"),
        ("可视对讲没有声音", "low_voltage"),
        ("墙皮脱落", "structure"),
        ("小区健身器材坏了", "public_facility"),
        ("想问问你们几点上班", "other"),
    ],
)
async def test_categorize_repairs(text, category):
    assert categories.categorize("repair", text) == category


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("单元门禁刷卡没反应", "low_voltage"),
        ("小区充电桩坏了", "low_voltage"),
        ("小区路灯不亮", "public_facility"),
    ],
)
async def test_categorize_repairs_prefers_the_specific_term(text, category):
    # 门禁/充电桩 (弱电) and 路灯 (公共设施) are listed on purpose; the broader 门/电/灯
    # patterns of earlier categories must not swallow them.
    assert categories.categorize("repair", text) == category


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("楼上有人往下扔东西", "falling_objects"),
        ("隔壁装修电钻太吵", "renovation"),
        ("半夜广场舞音响太响", "noise"),
        ("楼下的狗随地大小便", "pets"),
        ("有人乱停车堵住消防通道", "parking"),
        ("垃圾好几天没人清，很臭", "hygiene"),
        ("电动车推进楼道充电", "security"),
        ("客服态度很差", "staff_conduct"),
        ("顶楼私搭乱建", "illegal_building"),
        ("物业乱收费", "fees"),
        ("我想表扬一下", "other"),
    ],
)
async def test_categorize_complaints(text, category):
    assert categories.categorize("complaint", text) == category


async def test_categorize_uses_the_table_of_the_ticket_kind():
    # the same words mean different things in a repair and a complaint
    assert categories.categorize(TicketKind.REPAIR.value, "门禁坏了") != "security"
    assert categories.categorize("complaint", "门禁坏了") == "security"
    assert categories.categorize("repair", "垃圾桶坏了") == "public_facility"
    assert categories.categorize("complaint", "垃圾桶坏了") == "hygiene"


async def test_every_category_code_has_a_chinese_label():
    codes = {code for table in (categories.REPAIR_CATEGORIES, categories.COMPLAINT_CATEGORIES) for code, _ in table}
    assert codes | {"other"} == set(categories.LABELS) == categories.CODES
    assert all(code.isascii() and not label.isascii() for code, label in categories.LABELS.items())


# --- who may move a ticket ------------------------------------------------------------------------


def member(username: str, role: Role, *, active: bool = True) -> StaffMember:
    return StaffMember(username, username, role, "hash", NOW, active=active)


def assigned_to(username: str) -> Ticket:
    ticket = open_ticket()
    ticket.assign(username, actor="desk", now=NOW)
    return ticket


@pytest.mark.parametrize("status", [TicketStatus.IN_PROGRESS, TicketStatus.ON_HOLD, TicketStatus.RESOLVED])
async def test_a_technician_works_their_own_ticket_forward(status):
    member("li", Role.TECHNICIAN).check_move(assigned_to("li"), status)


@pytest.mark.parametrize("status", [TicketStatus.CLOSED, TicketStatus.CANCELLED, TicketStatus.REOPENED])
async def test_a_technician_may_not_close_cancel_or_reopen_even_their_own_ticket(status):
    """Closing a resolved ticket would skip the owner's 回访 (and a poor rating's reopening)."""
    with pytest.raises(Forbidden, match=f"the technician role may not move a ticket to {status.value}"):
        member("li", Role.TECHNICIAN).check_move(assigned_to("li"), status)


@pytest.mark.parametrize("status", list(TicketStatus))
async def test_a_technician_may_not_move_someone_else_s_ticket(status):
    with pytest.raises(Forbidden, match="assigned to someone else"):
        member("li", Role.TECHNICIAN).check_move(assigned_to("zhang"), status)


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR, Role.ADMIN])
@pytest.mark.parametrize("status", list(TicketStatus))
async def test_the_desk_may_make_any_move_on_any_ticket(role, status):
    member("desk", role).check_move(assigned_to("li"), status)  # whether the ticket can is Ticket.move_to's rule


async def test_an_inactive_member_may_make_no_move():
    with pytest.raises(Forbidden):
        member("liu", Role.AGENT, active=False).check_move(assigned_to("li"), TicketStatus.CANCELLED)


def _cancel_by_owner(ticket: Ticket, now: datetime) -> None:
    ticket.withdraw(actor=SENDER, now=now)


def _cancel_by_staff(ticket: Ticket, now: datetime) -> None:
    ticket.move_to(TicketStatus.CANCELLED, actor="wang.li", now=now, note="业主说不修了")


def _merge(ticket: Ticket, now: datetime) -> None:
    ticket.merge_into(open_ticket(ticket_id=7), actor="wang.li", now=now)


@pytest.mark.parametrize(
    ("cancel", "reason"),
    [(_cancel_by_owner, "业主撤销"), (_cancel_by_staff, "物业取消"), (_merge, "与 BX000007 合并处理")],
)
def test_a_ticket_cancelled_here_owes_the_external_system_a_cancellation_whoever_cancelled_it(cancel, reason):
    held, local = open_ticket(), open_ticket(ticket_id=124)
    held.synced("hc", "HC-1", now=NOW)
    later = NOW + timedelta(minutes=5)
    cancel(held, later)
    cancel(local, later)
    assert held.external_cancel_owed_at == later and held.cancellation_reason == reason
    assert local.external_cancel_owed_at is None  # never reached them: nothing to call off
    held.cancelled_there()
    assert held.external_cancel_owed_at is None
    # Cancelled while its creation was on its way: the id arrives after, and so does the debt.
    local.synced("hc", "HC-2", now=later)
    assert local.external_cancel_owed_at == later


def test_their_own_cancellation_leaves_nothing_owed_once_settled_and_an_open_ticket_owes_nothing():
    ticket = open_ticket()
    ticket.synced("hc", "HC-1", now=NOW)
    ticket.assign("wang.li", actor="external:hc", now=NOW)
    ticket.move_to(TicketStatus.IN_PROGRESS, actor="external:hc", now=NOW)
    assert ticket.external_cancel_owed_at is None
    ticket.move_to(TicketStatus.CANCELLED, actor="external:hc", now=NOW)
    ticket.cancelled_there()  # what apply_external_update does in the same transaction
    assert ticket.external_cancel_owed_at is None
