"""Owners' chat ids as long as the APIs accept are kept wherever a sender is, on SQLite and PostgreSQL.

Protects: an owner whose conversation id is the longest the web chat (64 characters after
"webchat:") or the bot API (MAX_CONVERSATION_ID in all) accepts can open, chase and rate a
ticket, and the rating is kept: a poor one reopens the ticket, so the SLA sweep does not close
it as unanswered; and every column that keeps a sender, a recipient or an actor is as wide as
the APIs allow. SQLite does not enforce a VARCHAR's width, PostgreSQL does: these run on both.
"""

from __future__ import annotations

from backend_bridge.adapters.orm import metadata
from backend_bridge.domain import commands, model
from backend_bridge.service_layer import views
from tests.conftest import INTERNAL_TOKEN, bearer

LONGEST_WEB_CHAT_ID = "w" * 64  # connectors/webchat's limit on the id the page chooses
CHANNEL = "longchannel:"
LONGEST = CHANNEL + "x" * (model.MAX_CONVERSATION_ID - len(CHANNEL))
INTERNAL = bearer(INTERNAL_TOKEN)
SENDER_COLUMNS = {"sender", "recipient", "issued_to", "actor"}


async def resolved_for(backend, sender: str) -> str:
    opened = await backend.bus.handle(commands.OpenTicket(sender, "repair", "厨房水管漏水", "3", "2", "501"))
    await backend.bus.handle(commands.AddStaff("li", "李师傅", "technician", actor="admin"))
    await backend.bus.handle(commands.AssignTicket(opened.number, "li", actor="admin"))
    await backend.bus.handle(commands.ChangeTicketStatus(opened.number, "resolved", actor="li"))
    return opened.number


async def staff_view(backend, number: str) -> dict:
    return await views.ticket_for_staff(backend.new_uow(), number)


async def test_the_longest_web_chat_id_rates_and_a_poor_rating_keeps_the_ticket_from_auto_closing(
    public_client, backend, clock
):
    number = await resolved_for(backend, f"webchat:{LONGEST_WEB_CHAT_ID}")

    resp = await public_client.post("/api/chat", json={"sender": LONGEST_WEB_CHAT_ID, "text": "1分"})
    assert resp.status == 200, await resp.text()
    ticket = await staff_view(backend, number)
    assert (ticket["status"], ticket["rating"]) == ("reopened", 1)
    assert [(h["type"], h["actor"]) for h in ticket["history"][-2:]] == [("rating", "owner"), ("status", "owner")]

    clock.advance(hours=backend.content.get().follow_up_close_hours + 1)
    sweep = await backend.bus.handle(commands.CheckDeadlines())
    assert sweep.closed == 0
    assert (await staff_view(backend, number))["status"] == "reopened"


async def test_the_longest_id_the_bot_api_accepts_opens_chases_and_rates(internal_client, backend):
    resp = await internal_client.post(
        "/bot/v1/tickets", json={"sender": LONGEST, "kind": "repair", "description": "楼道灯不亮"}, headers=INTERNAL
    )
    assert resp.status == 201, await resp.text()
    number = (await resp.json())["id"]

    resp = await internal_client.post(f"/bot/v1/tickets/{number}/chase", json={"sender": LONGEST}, headers=INTERNAL)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["times"] == 1

    await backend.bus.handle(commands.AddStaff("li", "李师傅", "technician", actor="admin"))
    await backend.bus.handle(commands.AssignTicket(number, "li", actor="admin"))
    await backend.bus.handle(commands.ChangeTicketStatus(number, "resolved", actor="li"))
    rated = await backend.bus.handle(commands.RateTicket(LONGEST, 2, "还是不亮"))
    assert (rated.number, rated.status) == (number, "reopened")
    async with backend.new_uow() as uow:
        ticket = await uow.tickets.by_number(number)
        assert [e.actor for e in ticket.history if e.type is model.EventType.CHASE] == [LONGEST]
        assert [e.actor for e in ticket.history if e.type is model.EventType.RATING] == [LONGEST]

    one_more = {"sender": LONGEST + "x", "kind": "repair", "description": "楼道灯不亮"}
    assert (await internal_client.post("/bot/v1/tickets", json=one_more, headers=INTERNAL)).status == 400


def test_every_column_keeping_a_sender_or_an_actor_fits_the_longest_id_the_apis_accept():
    widths = {
        f"{table.name}.{column.name}": column.type.length
        for table in metadata.tables.values()
        for column in table.columns
        if column.name in SENDER_COLUMNS
    }
    assert "ticket_events.actor" in widths and "tickets.sender" in widths
    assert {name: width for name, width in widths.items() if width < model.MAX_CONVERSATION_ID} == {}
