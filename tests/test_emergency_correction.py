"""A misread emergency, corrected by the owner in one word (issue 15).

The model calls some ordinary faults emergencies (a stuck door, a seeping drain): the owner gets an
urgent ticket, the leads are paged and the conversation waits for a person. Protects: "不急" (and
the other ways owners say it, traditional and Cantonese too) as the owner's word while nobody has
taken the conversation up turns the ticket into an ordinary repair with the ordinary deadlines,
tells whoever was paged, and gives the conversation back to the assistant, which answers this
message and the next; anything that may still be danger, a question, a conversation a person holds,
a handoff for another reason or a late word changes nothing and stays with staff.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from backend_bridge.domain import commands, model
from bot.text.script import render
from bot.text.urgency import says_not_urgent
from connectors.gateway import NOT_URGENT_REPLY
from tests.test_gateway import message

OWNER = "webchat:owner1"


@pytest.mark.parametrize(
    "text",
    [
        "不急",
        "不急的，慢慢来",
        "不紧急",
        "不是紧急情况",
        "没那么急",
        "不是很急 明天来就行",
        "不着急",
        "不用急",
        "没有危险",
        "报错了，不急",
        "普通报修就行",
        "按普通报修吧",
        "不緊急",  # traditional
        "唔急",  # Cantonese
        "唔係好急",
        "冇咁急",
    ],
)
def test_owners_ways_of_saying_it_is_not_urgent(text):
    assert says_not_urgent(text)


@pytest.mark.parametrize(
    "text",
    [
        "不急吗？",  # a question
        "怎么不急",
        "不急才怪",
        "急死了",
        "很急",
        "不急，但是快点来",
        "不急，就是还有点煤气味",  # still a danger sign
        "不急 但是水还在漏 到处都是",
        "不是",  # a bare no is not about urgency
        "不用了",
        "谢谢",
        "电梯里困人了",
        "不急" + "，" * 30,  # longer than a one-word correction
    ],
)
def test_anything_that_may_still_be_danger_is_not_read_as_not_urgent(text):
    assert not says_not_urgent(text)


async def report_emergency(backend, sender: str = OWNER) -> str:
    result = await backend.bus.handle(
        commands.ReportEmergency(sender, "water_leak", "卫生间推拉门卡住了", building="3", unit="2", room="501")
    )
    return result.number


async def ticket(backend, number: str) -> model.Ticket:
    async with backend.new_uow() as uow:
        return await uow.tickets.by_number(number)


async def notices(backend, kind: str) -> list[str]:
    async with backend.new_uow() as uow:
        stmt = select(model.Notification).where(model.Notification.kind == kind).order_by(model.Notification.id)
        return [n.recipient for n in (await uow.session.scalars(stmt)).all()]


async def add_supervisor(backend) -> None:
    await backend.bus.handle(commands.AddStaff("wang", "王主管", "supervisor", actor="admin"))


async def test_not_urgent_makes_an_ordinary_repair_and_the_assistant_answers_again(gateway, rasa, backend, clock):
    await add_supervisor(backend)
    number = await report_emergency(backend)
    reported = clock.now
    clock.advance(minutes=3)

    replies = await gateway.handle(message("不急"))

    content = backend.bus.deps.content.get((await ticket(backend, number)).community)
    promise = content.promise(model.TicketKind.REPAIR, model.Priority.NORMAL)
    assert replies == [NOT_URGENT_REPLY.format(number=number, promise=promise)]
    found = await ticket(backend, number)
    level = content.level(model.TicketKind.REPAIR, model.Priority.NORMAL)
    assert found.priority is model.Priority.NORMAL and found.status is model.TicketStatus.NEW
    assert (found.respond_by, found.resolve_by) == (
        reported + timedelta(minutes=level.respond_minutes),
        reported + timedelta(hours=level.resolve_hours),
    )
    assert found.hazard == "water_leak"  # what was reported stays on record
    change = found.history[-1]
    assert (change.type, change.actor) == (model.EventType.PRIORITY, OWNER) and "不急" in change.note
    # whoever was paged hears that it is not an emergency
    recipients = await notices(backend, "emergency_withdrawn")
    assert "staff:wang" in recipients and any(r.startswith("duty:") for r in recipients)
    # the conversation is the assistant's again: this message was answered, the next reaches Rasa
    assert backend.bus.deps.dialogue.resumed == [OWNER]
    assert rasa.seen == []
    assert await gateway.handle(message("谢谢")) == ["收到：谢谢"]


async def test_traditional_is_answered_in_traditional(gateway, rasa, backend):
    number = await report_emergency(backend)
    replies = await gateway.handle(message("唔緊急"))  # Cantonese, in traditional characters
    assert len(replies) == 1 and replies[0] == render(replies[0], "traditional") and number in replies[0]
    assert (await ticket(backend, number)).priority is model.Priority.NORMAL


@pytest.mark.parametrize("text", ["不急吗？", "还有人吗", "不急，就是还有点煤气味"])
async def test_other_words_stay_with_staff_and_the_emergency_stands(gateway, rasa, backend, text):
    number = await report_emergency(backend)
    assert await gateway.handle(message(text)) == []
    assert (await ticket(backend, number)).priority is model.Priority.EMERGENCY
    assert rasa.seen == [] and backend.bus.deps.dialogue.resumed == []


async def test_once_a_person_has_the_conversation_the_person_decides(gateway, rasa, backend):
    await add_supervisor(backend)
    number = await report_emergency(backend)
    await backend.bus.handle(commands.ClaimConversation(OWNER, "wang"))
    assert await gateway.handle(message("不急")) == []
    assert (await ticket(backend, number)).priority is model.Priority.EMERGENCY
    assert await notices(backend, "emergency_withdrawn") == []


async def test_too_late_a_word_changes_nothing(gateway, rasa, backend, clock):
    number = await report_emergency(backend)
    clock.advance(minutes=model.EMERGENCY_CORRECTION_WINDOW.total_seconds() / 60 + 1)
    assert await gateway.handle(message("不急")) == []
    assert (await ticket(backend, number)).priority is model.Priority.EMERGENCY


async def test_a_handoff_for_another_reason_is_not_an_emergency_to_take_back(gateway, rasa, backend):
    await backend.bus.handle(commands.HandOff(OWNER, "requested"))
    assert await gateway.handle(message("不急")) == []
    assert rasa.seen == []


async def test_if_the_assistant_cannot_be_resumed_nothing_changes(gateway, rasa, backend):
    number = await report_emergency(backend)
    backend.bus.deps.dialogue.fail = True
    assert await gateway.handle(message("不急")) == []
    assert (await ticket(backend, number)).priority is model.Priority.EMERGENCY
    assert await notices(backend, "emergency_withdrawn") == []


def test_an_ordinary_ticket_or_a_closed_one_cannot_be_taken_back():
    from datetime import datetime, timezone

    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    level = model.ServiceLevel(30, 24)

    def opened(ticket_id: int, priority: model.Priority) -> model.Ticket:
        found = model.Ticket.open(
            kind=model.TicketKind.REPAIR,
            location=model.Location("3"),
            description="门卡住了",
            sender=OWNER,
            now=now,
            level=level,
            priority=priority,
        )
        found.id = ticket_id
        return found

    ordinary = opened(1, model.Priority.NORMAL)
    with pytest.raises(model.DomainError):
        ordinary.not_an_emergency(level, actor=OWNER, now=now, note="不急")
    urgent = opened(2, model.Priority.EMERGENCY)
    urgent.status = model.TicketStatus.CLOSED
    with pytest.raises(model.DomainError):
        urgent.not_an_emergency(level, actor=OWNER, now=now, note="不急")
