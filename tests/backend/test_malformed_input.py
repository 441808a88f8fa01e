"""Hostile JSON and text no database can hold, on every JSON POST, over real HTTP.

Protects: a body nested past the parser's recursion limit, an integer past Python's
4,300-digit conversion limit, NUL characters (PostgreSQL refuses them in text) and lone
surrogates (no UTF-8 encoding exists for them) are each a 400 JSON answer with nothing
stored, never a 500 with half a request written down. Free text (an owner's description,
a staff note or message) keeps its words with those characters dropped instead; ids,
codes and names are refused, since a changed id could be somebody else's. The signed
webhook's cases are in test_external.py, with its fake system.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from backend_bridge.adapters import orm
from backend_bridge.domain import commands, model
from tests.conftest import ADMIN_TOKEN, INTERNAL_TOKEN, bearer

OWNER = "webchat:owner-zhang-wei"
USER = "owner-zhang-wei"
ZHANG = {"building": "3", "unit": "2", "room": "501", "phone": "13800000501"}
STAFF = bearer(ADMIN_TOKEN)
BOT = bearer(INTERNAL_TOKEN)
UNSTORABLE = "\x00\ud800"  # NUL, and the first half of a surrogate pair without its second

HOSTILE_BODIES = {
    "arrays nested 50,000 deep": b"[" * 50_000,  # under the 64 KB limit: the parser must give up, not us
    "objects nested 10,000 deep": b'{"a":' * 10_000,
    "an integer of 5,000 digits": b'{"sender": "' + USER.encode() + b'", "text": "hi", "n": ' + b"9" * 5000 + b"}",
}
# (app, path) of every route that reads a JSON body, with a ticket BX000001 and the owner's conversation
JSON_ROUTES = [
    ("public", "/api/chat"),
    ("public", "/api/tickets"),
    ("public", "/api/tickets/BX000001/assign"),
    ("public", "/api/tickets/BX000001/status"),
    ("public", "/api/tickets/BX000001/comments"),
    ("public", "/api/tickets/BX000001/merge"),
    ("public", f"/api/conversations/{OWNER}/messages"),
    ("public", "/api/staff"),
    ("internal", "/bot/v1/tickets"),
    ("internal", "/bot/v1/emergencies"),
    ("internal", "/bot/v1/tickets/BX000001/chase"),
    ("internal", "/bot/v1/bindings"),
    ("internal", "/bot/v1/passes"),
    ("internal", "/bot/v1/handoffs"),
]


def raw(body: dict) -> bytes:
    """JSON as a client with no scruples sends it: \\u0000 and \\ud800 escapes kept."""
    return json.dumps(body).encode()


async def counts(backend) -> tuple[int, ...]:
    """Rows of every table a refused request could have written to."""
    tables = (orm.tickets, orm.ticket_events, orm.inbound_messages, orm.notifications, orm.mailbox, orm.staff)
    tables += (orm.conversations, orm.handoffs, orm.visitor_passes, orm.bindings, orm.binding_attempts)
    async with backend.new_uow() as uow:
        return tuple([await uow.session.scalar(select(func.count()).select_from(t)) for t in tables])


async def open_ticket(backend) -> str:
    await backend.bus.handle(commands.BindSender(sender=OWNER, **ZHANG))
    result = await backend.bus.handle(
        commands.OpenTicket(sender=OWNER, kind="repair", description="漏水", building="3", unit="2", room="501")
    )
    return result.number


async def post(public_client, internal_client, app: str, path: str, data: bytes):
    client, auth = (public_client, STAFF) if app == "public" else (internal_client, BOT)
    return await client.post(path, data=data, headers={**auth, "Content-Type": "application/json"})


async def assert_bad_request(resp) -> str:
    assert resp.status == 400, await resp.text()
    assert resp.content_type == "application/json"
    body = await resp.json()
    assert body["error"] == "bad_request" and body["message"]
    return body["message"]


@pytest.mark.parametrize("data", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
async def test_hostile_json_is_a_400_on_every_json_route_and_nothing_is_stored(
    public_client, internal_client, backend, data
):
    assert await open_ticket(backend) == "BX000001"
    before = await counts(backend)
    for app, path in JSON_ROUTES:
        resp = await post(public_client, internal_client, app, path, data)
        message = await assert_bad_request(resp)
        assert "nested" in message or "number" in message, (path, message)
    assert await counts(backend) == before


@pytest.mark.parametrize("bad", ["\x00", "\ud800", "\udc00"], ids=["NUL", "high surrogate", "low surrogate"])
async def test_an_owners_chat_message_keeps_its_words_without_nul_or_lone_surrogates(public_client, backend, bad):
    resp = await public_client.post("/api/chat", data=raw({"sender": USER, "text": f"厨房{bad}漏水"}))
    assert resp.status == 200, await resp.text()
    async with backend.new_uow() as uow:
        assert (await uow.session.scalars(select(model.InboundMessage.text))).all() == ["厨房漏水"]


IDS_REFUSED = {
    "chat message_id": ("public", "/api/chat", {"sender": USER, "text": "你好", "message_id": "m-1"}, "message_id"),
    "bot ticket kind": (
        "internal",
        "/bot/v1/tickets",
        {"sender": OWNER, "kind": "repair", "description": "漏水", "building": "3", "unit": "2", "room": "501"},
        "kind",
    ),
    "bot ticket public area": (
        "internal",
        "/bot/v1/tickets",
        {"sender": OWNER, "kind": "repair", "description": "漏水", "public_area": "电梯"},
        "public_area",
    ),
    "bot binding phone": ("internal", "/bot/v1/bindings", {"sender": OWNER, **ZHANG}, "phone"),
    "bot handoff reason": ("internal", "/bot/v1/handoffs", {"sender": OWNER, "reason": "owner_asked"}, "reason"),
    "bot pass visitor": (
        "internal",
        "/bot/v1/passes",
        {"sender": OWNER, "visitor_name": "小李", "start": "2026-11-21T12:00:00+08:00", "time_kind": "point"},
        "visitor_name",
    ),
    "staff assignee": ("public", "/api/tickets/BX000001/assign", {"assignee": "wang"}, "assignee"),
    "staff status": ("public", "/api/tickets/BX000001/status", {"status": "in_progress"}, "status"),
    "staff name": ("public", "/api/staff", {"username": "wang", "name": "王", "role": "technician"}, "name"),
}


@pytest.mark.parametrize("case", IDS_REFUSED)
@pytest.mark.parametrize("bad", ["\x00", "\ud800"], ids=["NUL", "lone surrogate"])
async def test_nul_or_a_lone_surrogate_in_an_id_or_name_is_a_400_and_nothing_is_stored(
    public_client, internal_client, backend, case, bad
):
    await open_ticket(backend)
    before = await counts(backend)
    app, path, body, field = IDS_REFUSED[case]
    value = body[field]
    body = {**body, field: value[:1] + bad + value[1:]}
    message = await assert_bad_request(await post(public_client, internal_client, app, path, raw(body)))
    assert field in message
    assert await counts(backend) == before


async def test_free_text_keeps_its_words_without_nul_or_lone_surrogates(public_client, internal_client, backend):
    number = await open_ticket(backend)
    sent = {"sender": OWNER, "kind": "repair", "description": f"卫生间{UNSTORABLE}漏水", "building": "3"}
    resp = await post(public_client, internal_client, "internal", "/bot/v1/tickets", raw({**sent, "unit": "2"}))
    assert resp.status == 201, await resp.text()
    reported = (await resp.json())["id"]
    for path, body in [
        (f"/api/tickets/{number}/comments", {"note": f"业主{UNSTORABLE}下午在家"}),
        (f"/api/tickets/{number}/status", {"status": "cancelled", "note": f"业主{UNSTORABLE}自己修好了"}),
    ]:
        resp = await post(public_client, internal_client, "public", path, raw(body))
        assert resp.status in (200, 201), await resp.text()
    async with backend.new_uow() as uow:
        assert (await uow.tickets.by_number(reported)).description == "卫生间漏水"
        notes = [e.note for e in (await uow.tickets.by_number(number)).history if e.note]
    assert "业主下午在家" in notes and "业主自己修好了" in notes


async def test_a_staff_message_keeps_its_words_without_nul_or_lone_surrogates(public_client, backend, dialogue):
    await open_ticket(backend)
    await backend.bus.handle(commands.HandOff(OWNER, "owner_asked"))
    path = f"/api/conversations/{OWNER}/messages"
    resp = await public_client.post(path, data=raw({"text": f"您好{UNSTORABLE}，马上到"}), headers=STAFF)
    assert resp.status == 202, await resp.text()
    assert dialogue.staff_messages == [(OWNER, "您好，马上到")]


@pytest.mark.parametrize("name", ["assignee", "building"])
async def test_nul_in_a_staff_list_filter_is_a_400(public_client, backend, name):
    await assert_bad_request(await public_client.get("/api/tickets", params={name: "a\x00b"}, headers=STAFF))
