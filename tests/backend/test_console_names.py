"""The console names colleagues (王师傅), not their logins: each ticket of the staff list carries
``assignee_name``, and one ticket ``names``, the name of every staff account its history mentions.

Protects: names only for real accounts (the owner, the scheduler and the built-in admin have
none and stay as they are), a handover names both people, and a ticket nobody holds has none.
"""

from __future__ import annotations

from backend_bridge.domain import commands
from tests.conftest import ADMIN_TOKEN, bearer

AUTH = bearer(ADMIN_TOKEN)


async def test_the_list_and_a_ticket_name_their_people(public_client, backend):
    for username, name in (("wang", "王师傅"), ("li", "李师傅")):
        await backend.bus.handle(commands.AddStaff(username, name, "technician", "admin"))
    opened = commands.OpenTicket(
        sender="webchat:alice", kind="repair", building="3", unit="2", room="501", description="厨房水管漏水"
    )
    number = (await backend.bus.handle(opened)).number
    other = (await backend.bus.handle(opened.__class__(**{**opened.__dict__, "room": "502"}))).number
    await backend.bus.handle(commands.AssignTicket(number, "wang", actor="admin"))
    await backend.bus.handle(commands.AssignTicket(number, "li", actor="admin"))  # handed over

    resp = await public_client.get("/api/tickets", headers=AUTH)
    assert resp.status == 200, await resp.text()
    by_number = {item["id"]: item for item in await resp.json()}
    assert (by_number[number]["assignee"], by_number[number]["assignee_name"]) == ("li", "李师傅")
    assert (by_number[other]["assignee"], by_number[other]["assignee_name"]) == (None, None)

    detail = await (await public_client.get(f"/api/tickets/{number}", headers=AUTH)).json()
    assert detail["assignee_name"] == "李师傅"
    assert detail["names"] == {"wang": "王师傅", "li": "李师傅"}  # admin and the owner have no account
    assert [e["data"].get("previous") for e in detail["history"] if e["type"] == "assigned"] == [None, "wang"]


async def test_a_conversation_names_who_holds_it(public_client, backend):
    await backend.bus.handle(commands.AddStaff("zhoujing", "周静", "agent", "admin"))
    await backend.bus.handle(commands.RecordInbound("webchat:alice", "人工", community="shifan"))
    await backend.bus.handle(commands.HandOff("webchat:alice", "requested"))
    [waiting] = await (await public_client.get("/api/conversations?tab=waiting", headers=AUTH)).json()
    assert (waiting["assignee"], waiting["assignee_name"]) == (None, None)

    await backend.bus.handle(commands.ClaimConversation("webchat:alice", actor="zhoujing"))
    [held] = await (await public_client.get("/api/conversations?tab=all", headers=AUTH)).json()
    assert (held["assignee"], held["assignee_name"]) == ("zhoujing", "周静")
    detail = await (await public_client.get("/api/conversations/webchat:alice", headers=AUTH)).json()
    assert (detail["assignee"], detail["assignee_name"]) == ("zhoujing", "周静")
