"""回访: after a ticket is resolved the owner is asked for a rating and answers in their own words.

Protects: the ratings owners actually write ("5", "五分", "还行", "不满意，根本没修好", 不滿意)
are read as ratings and nothing else is ("我家水管又坏了能来看看吗" is a new request); a
rating closes the ticket or reopens it and alerts a supervisor; without a resolved
ticket the same words go to the assistant; a rating never reaches Rasa.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backend_bridge.domain import commands, model
from bot.text.rating import parse_rating
from bot.text.script import render
from connectors.gateway import POOR_RATING_REPLY, RATED_REPLY
from tests.test_gateway import message

OWNER = "webchat:owner1"


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("5", 5),
        ("五分", 5),
        ("打4分吧", 4),
        ("给3星", 3),
        ("1分", 1),
        ("打一分", 1),
        ("两分", 2),
        ("非常满意", 5),
        ("很满意！👍", 5),
        ("满意", 4),
        ("不错，谢谢", 4),
        ("修好了", 4),
        ("还行", 3),
        ("一般般吧", 3),
        ("不满意，根本没修好", 2),
        ("还是坏的", 2),
        ("不滿意", 2),
        ("差评", 1),
        ("非常不满意", 1),
        ("非常滿意", 5),
    ],
)
def test_ratings_in_owners_words(text, score):
    assert parse_rating(text) == score


@pytest.mark.parametrize(
    "text",
    [
        "",
        "好的",
        "谢谢",
        "我要报修",
        "我家水管又坏了能来看看吗",
        "6",
        "1",  # the menu's 报修 after a resolution, not a one-star rating (the question asks "1分")
        "一",
        "10分",
        "物业费怎么交",
        "你好" * 30,
        "垃圾桶满了",
        "楼道垃圾没人收",
        "电梯又坏了",
        "一般几点开门",
        "好的可以",
        "满意吗",
        "可以",
    ],
)
def test_other_messages_are_not_ratings(text):
    assert parse_rating(text) is None


async def resolved_ticket(backend) -> str:
    number = (await backend.bus.handle(commands.OpenTicket(OWNER, "repair", "厨房水管漏水", "3", "2", "501"))).number
    await backend.bus.handle(commands.AddStaff("wang", "王师傅", "technician", "admin"))
    await backend.bus.handle(commands.AddStaff("zhou", "周主管", "supervisor", "admin"))
    await backend.bus.handle(commands.AssignTicket(number, "wang", "admin"))
    await backend.bus.handle(commands.ChangeTicketStatus(number, "resolved", "wang", "换了水管接头"))
    return number


async def ticket(backend, number: str) -> model.Ticket:
    async with backend.new_uow() as uow:
        return await uow.tickets.by_number(number)


async def staff_notifications(backend) -> list[model.Notification]:
    async with backend.new_uow() as uow:
        stmt = select(model.Notification).where(model.Notification.recipient.like("staff:%"))
        return list((await uow.session.scalars(stmt.order_by(model.Notification.id))).all())


async def test_a_good_rating_closes_the_ticket_without_asking_rasa(gateway, rasa, backend):
    number = await resolved_ticket(backend)
    assert await gateway.handle(message("非常满意")) == [RATED_REPLY.format(number=number)]
    found = await ticket(backend, number)
    assert found.status is model.TicketStatus.CLOSED and found.rating == 5
    assert [e.type for e in found.history][-2:] == [model.EventType.RATING, model.EventType.STATUS]
    assert rasa.seen == []


async def test_a_poor_rating_reopens_the_ticket_and_alerts_a_supervisor(gateway, rasa, backend):
    number = await resolved_ticket(backend)
    replies = await gateway.handle(message("不滿意，根本沒修好"))  # traditional: answered in traditional
    assert replies == [render(POOR_RATING_REPLY.format(number=number), "traditional")]
    assert "重新打開" in replies[0]
    found = await ticket(backend, number)
    assert found.status is model.TicketStatus.REOPENED and found.rating == 2
    alerts = [n for n in await staff_notifications(backend) if n.kind == "poor_rating"]
    assert {n.recipient for n in alerts} == {"staff:wang", "staff:zhou"}
    assert rasa.seen == []


async def test_the_same_words_without_a_resolved_ticket_go_to_the_assistant(gateway, rasa, backend):
    assert await gateway.handle(message("满意")) == ["收到：满意"]
    assert rasa.seen == [(OWNER, "满意")]


async def test_a_new_request_after_resolution_is_not_taken_for_a_rating(gateway, rasa, backend):
    number = await resolved_ticket(backend)
    await gateway.handle(message("我家水管又坏了能来看看吗"))
    assert (await ticket(backend, number)).status is model.TicketStatus.RESOLVED
    assert rasa.seen == [(OWNER, "我家水管又坏了能来看看吗")]


async def test_an_unanswered_follow_up_closes_the_ticket_after_the_configured_time(backend, clock):
    number = await resolved_ticket(backend)
    hours = backend.content.get().follow_up_close_hours
    clock.advance(hours=hours - 1)
    await backend.bus.handle(commands.CheckDeadlines())
    assert (await ticket(backend, number)).status is model.TicketStatus.RESOLVED
    clock.advance(hours=1)
    assert (await backend.bus.handle(commands.CheckDeadlines())).closed == 1
    closed = await ticket(backend, number)
    assert closed.status is model.TicketStatus.CLOSED and closed.rating is None
    assert closed.history[-1].actor == "system"


async def test_only_the_first_reply_after_the_question_is_read_as_a_rating(gateway, rasa, backend):
    """ "5" typed later (a menu choice, a building number) is not an answer to the survey."""
    number = await resolved_ticket(backend)
    await gateway.handle(message("你好"))
    assert await gateway.handle(message("5")) == ["收到：5"]
    assert (await ticket(backend, number)).status is model.TicketStatus.RESOLVED


async def test_a_rating_racing_the_auto_close_goes_to_the_assistant(gateway, rasa, backend, clock):
    number = await resolved_ticket(backend)
    clock.advance(hours=backend.content.get().follow_up_close_hours)
    await backend.bus.handle(commands.CheckDeadlines())
    assert await gateway.handle(message("满意")) == ["收到：满意"]
    assert (await ticket(backend, number)).rating is None
