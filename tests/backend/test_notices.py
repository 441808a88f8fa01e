"""The notice table: every domain event has a decision (who hears it, or nobody); the shared staff
recipients are names no staff account may take."""

from __future__ import annotations

import inspect
from zoneinfo import ZoneInfo

import pytest

from backend_bridge.domain import events, model
from backend_bridge.service_layer import notices


def _event_types() -> set[type[events.Event]]:
    return {
        cls
        for _, cls in inspect.getmembers(events, inspect.isclass)
        if issubclass(cls, events.Event) and cls is not events.Event
    }


def test_every_event_is_either_told_or_silent_never_both():
    told, silent = set(notices.NOTICES), set(notices.SILENT)
    assert told | silent == _event_types()
    assert not told & silent


async def test_an_event_with_no_decision_stops_the_commit():
    class Unheard(events.Event):
        pass

    writer = notices.NoticeWriter(clock=lambda: None, timezone=ZoneInfo("Asia/Shanghai"))
    with pytest.raises(TypeError, match="Unheard"):
        await writer.write(uow=None, raised=[(object(), Unheard())])  # type: ignore[arg-type]


def test_the_shared_recipients_are_reserved_so_no_account_reads_the_whole_desk_s_alerts():
    shared = {notices.NO_SUPERVISOR, notices.NO_AGENT, *notices.OWNER_CHANNELS_WITHOUT_PUSH}
    assert shared <= model.RESERVED_USERNAMES


# -- structured fields beside the text: what a template channel builds its message from -----------

OWNER = "wechat:oAbC-_123owner"


async def _owner_notices(backend) -> list[model.Notification]:
    from sqlalchemy import select

    async with backend.new_uow() as uow:
        found = await uow.session.scalars(
            select(model.Notification).where(model.Notification.recipient == OWNER).order_by(model.Notification.id)
        )
        return list(found.all())


async def test_ticket_notices_carry_their_number_status_assignee_and_times(backend, clock):
    from datetime import timedelta

    from backend_bridge.domain import commands

    opened = await backend.bus.handle(commands.OpenTicket(OWNER, "repair", "厨房水管漏水", "3", "2", "501"))
    await backend.bus.handle(commands.AddStaff("wang", "王师傅", "technician", actor="admin"))
    expected = clock.now + timedelta(hours=2)
    await backend.bus.handle(commands.AssignTicket(opened.number, "wang", actor="admin", expected_at=expected))
    clock.advance(hours=1)
    await backend.bus.handle(commands.ChangeTicketStatus(opened.number, "in_progress", actor="wang", note="已出发"))

    assigned, started = await _owner_notices(backend)
    assert assigned.kind == "ticket_assigned" and "王师傅" in assigned.text
    assert assigned.fields == {
        "number": opened.number,
        "ticket_kind": "repair",
        "category": "水暖",
        "place": "3号楼2单元501",
        "summary": "厨房水管漏水",
        "status": "assigned",
        "status_label": "已派单",
        "assignee": "王师傅",
        "at": "2026-11-21T10:30:00+08:00",
        "expected_at": "2026-11-21T12:30:00+08:00",
    }
    assert started.kind == "ticket_in_progress"
    assert {k: started.fields[k] for k in ("status", "status_label", "assignee", "note", "at")} == {
        "status": "in_progress",
        "status_label": "处理中",
        "assignee": "王师傅",
        "note": "已出发",
        "at": "2026-11-21T11:30:00+08:00",
    }


async def test_a_staff_message_names_only_its_author(backend):
    from backend_bridge.domain import commands

    await backend.bus.handle(commands.RecordInbound(OWNER, "你好"))
    await backend.bus.handle(commands.SendStaffMessage(OWNER, "您好，我是管家小李", actor="admin"))
    (sent,) = await _owner_notices(backend)
    assert (sent.kind, sent.fields) == ("staff", {"author": "admin"})  # the log shows who wrote it


async def test_a_handoff_tells_the_desk_of_the_conversations_community_that_an_owner_waits_and_why(backend):
    """Agents of the owner's community hear it (company-wide ones too, the other community's not);
    the shared desk recipient when the community has none; handing back tells nobody."""
    from sqlalchemy import select

    from backend_bridge.domain import commands

    await backend.bus.handle(commands.AddStaff("xiaoli", "小李", "agent", actor="admin", communities=("shifan",)))
    await backend.bus.handle(commands.AddStaff("laozhang", "老张", "agent", actor="admin"))
    await backend.bus.handle(commands.AddStaff("other", "小王", "agent", actor="admin", communities=("yangguang",)))
    await backend.bus.handle(commands.RecordInbound("sms:13900000001", "我是示例花园的"))
    await backend.bus.handle(commands.HandOff("sms:13900000001", "not_understood"))
    await backend.bus.handle(commands.HandBack("sms:13900000001", actor="xiaoli"))
    await backend.bus.handle(commands.HandOff("sms:13900000002", "requested"))

    async with backend.new_uow() as uow:
        found = await uow.session.scalars(
            select(model.Notification)
            .where(model.Notification.kind == "handoff_waiting")
            .order_by(model.Notification.id)
        )
        told = [(n.recipient, n.text, n.fields["sender"]) for n in found.all()]
    waiting_first = "业主在等人工接待：助手两次没听懂。请到会话列表接手。"
    waiting_second = "业主在等人工接待：业主要求转人工。请到会话列表接手。"
    assert sorted(told[:2]) == [
        ("staff:laozhang", waiting_first, "sms:13900000001"),
        ("staff:xiaoli", waiting_first, "sms:13900000001"),
    ]
    # not routed: only company-wide agents see it
    assert told[2:] == [("staff:laozhang", waiting_second, "sms:13900000002")]


async def test_an_emergency_handoff_pages_the_leads_and_adds_no_desk_notice(backend):
    from sqlalchemy import select

    from backend_bridge.domain import commands

    await backend.bus.handle(commands.AddStaff("laozhang", "老张", "agent", actor="admin"))
    await backend.bus.handle(commands.HandOff("sms:13900000003", "emergency:gas"))
    async with backend.new_uow() as uow:
        kinds = (await uow.session.scalars(select(model.Notification.kind))).all()
    assert "handoff_waiting" not in kinds
