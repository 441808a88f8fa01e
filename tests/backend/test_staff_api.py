"""The staff API on the public port (``Authorization: Bearer $WUYE_ADMIN_TOKEN``), over real HTTP.

Protects: no ticket, pass or conversation data without the admin token; the ticket
list's shape, filters and paging; anonymous complainants staying anonymous; status
changes reaching the owner (and only the owner) through the web chat's updates; the
gate's pass check; and handing conversations back and writing to owners.
Data is made through the backend's message bus, as the bot API would.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from backend_bridge.domain import commands
from backend_bridge.service_layer import views
from tests.conftest import ADMIN_TOKEN, INTERNAL_TOKEN, bearer

AUTH = bearer(ADMIN_TOKEN)
OWNER_ID = "owner-zhang-4c1d9e"
OWNER = f"webchat:{OWNER_ID}"
OTHER_ID = "owner-li-88a0b1"
OTHER = f"webchat:{OTHER_ID}"
SECRET = "卧室天花板渗水-私密描述-91ce"
ZHANG = {"building": "3", "unit": "2", "room": "501", "phone": "13800000501"}


async def open_ticket(backend, sender: str = OWNER, kind: str = "repair", **extra) -> str:
    extra.setdefault("description", SECRET)
    result = await backend.bus.handle(
        commands.OpenTicket(sender=sender, kind=kind, building="3", unit="2", room="501", **extra)
    )
    return result["number"]


async def emergency(backend, sender: str = OWNER) -> str:
    result = await backend.bus.handle(
        commands.ReportEmergency(
            sender=sender, hazard="gas_leak", description="煤气味很重", building="3", unit="2", room="501"
        )
    )
    return result["number"]


async def issue_pass(backend, start: datetime, sender: str = OWNER) -> str:
    await backend.bus.handle(commands.BindSender(sender=sender, **ZHANG))
    result = await backend.bus.handle(
        commands.IssuePass(sender=sender, visitor_name="小李", start=start, end=None, time_kind="point", plate="浙A1")
    )
    return result["code"]


async def updates(client, user: str) -> list[dict]:
    resp = await client.get(f"/api/chat/{user}/updates")
    assert resp.status == 200
    return (await resp.json())["updates"]


async def staff_get(client, path: str, **params: str):
    return await client.get(path, params=params, headers=AUTH)


async def assert_bad_request(resp) -> None:
    assert resp.status == 400, await resp.text()
    body = await resp.json()
    assert body["error"] == "bad_request" and body["message"]


# -- authentication ----------------------------------------------------------------------------

ROUTES = [
    ("GET", "/api/tickets", None),
    ("GET", "/api/tickets?status=new&kind=repair", None),
    ("GET", "/api/tickets/{number}", None),
    ("POST", "/api/tickets/{number}/status", {"status": "accepted", "note": "派给王师傅"}),
    ("GET", "/api/passes/{code}", None),
    ("GET", "/api/conversations", None),
    ("GET", "/api/conversations?state=handed_off", None),
    ("POST", f"/api/conversations/{OWNER}/handback", None),
    ("POST", f"/api/conversations/{OWNER}/messages", {"text": "您好，我是物业小王"}),
]
BAD_HEADERS = [
    {},
    bearer("wrong-token"),
    bearer(INTERNAL_TOKEN),  # the bot's token is not a staff token
    bearer(ADMIN_TOKEN + "x"),
    bearer(ADMIN_TOKEN[:-1]),
    bearer(ADMIN_TOKEN.upper()),
    {"Authorization": "Bearer "},
    {"Authorization": ADMIN_TOKEN},
    {"Authorization": f"Basic {ADMIN_TOKEN}"},
    {"Authorization": f"Token {ADMIN_TOKEN}"},
    {"X-Admin-Token": ADMIN_TOKEN},
    {"Cookie": f"token={ADMIN_TOKEN}"},
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
async def test_every_staff_route_answers_401_with_no_data_without_the_admin_token(
    public_client, backend, clock, dialogue, method, path, body
):
    number = await open_ticket(backend)
    code = await issue_pass(backend, clock() + timedelta(hours=1))
    await backend.bus.handle(commands.HandOff(OWNER, "owner_asked"))
    path = path.replace("{number}", number).replace("{code}", code)
    for headers in BAD_HEADERS:
        resp = await public_client.request(method, path, json=body, headers=headers)
        assert resp.status == 401, (headers, await resp.text())
        assert resp.headers["WWW-Authenticate"] == 'Bearer realm="staff"'
        assert "X-Total-Count" not in resp.headers
        payload = await resp.json()
        assert set(payload) == {"error", "message"} and payload["error"] == "unauthorized"
        text = await resp.text()
        for leak in (SECRET, number, code, OWNER_ID, "小李", "501"):
            assert leak not in text
    # A token in the query string is not a token either.
    resp = await public_client.request(method, path + ("&" if "?" in path else "?") + f"token={ADMIN_TOKEN}", json=body)
    assert resp.status == 401
    # Nothing the refused requests asked for happened.
    assert (await views.ticket_for_staff(backend.new_uow(), number))["status"] == "new"
    assert await updates(public_client, OWNER_ID) == []
    assert (await views.conversation_state(backend.new_uow(), OWNER))[0] == "handed_off"
    assert dialogue.resumed == [] and dialogue.staff_messages == []


async def test_the_bot_api_is_not_served_on_the_public_port(public_client, backend):
    await backend.bus.handle(commands.BindSender(sender=OWNER, **ZHANG))
    for path in (f"/bot/v1/ledger?sender={OWNER}", "/bot/v1/content", f"/bot/v1/bindings?sender={OWNER}"):
        for headers in (bearer(INTERNAL_TOKEN), AUTH):
            resp = await public_client.get(path, headers=headers)
            assert resp.status == 404, path
            assert "owed_cents" not in await resp.text()


# -- the ticket list ---------------------------------------------------------------------------

TICKET_FIELDS = {"id", "kind", "status", "priority", "building", "unit", "room", "description", "sender", "created_at"}


async def test_the_ticket_list_is_a_json_array_with_the_fields_staff_need_and_a_total(public_client, backend):
    repair = await open_ticket(backend, description="卫生间漏水")
    complaint = await open_ticket(backend, OTHER, "complaint", description="楼下广场舞太吵", public_area="中心广场")

    resp = await staff_get(public_client, "/api/tickets")
    assert resp.status == 200
    assert resp.headers["X-Total-Count"] == "2"
    found = await resp.json()
    assert isinstance(found, list)
    assert [t["id"] for t in found] == [complaint, repair]  # newest first
    for ticket in found:
        assert set(ticket) >= TICKET_FIELDS
    first, second = found
    assert (first["kind"], first["status"], first["priority"], first["sender"]) == ("complaint", "new", "normal", OTHER)
    assert first["public_area"] == "中心广场"
    assert (second["building"], second["unit"], second["room"]) == ("3", "2", "501")
    assert (second["description"], second["sender"]) == ("卫生间漏水", OWNER)
    assert datetime.fromisoformat(second["created_at"]) == backend.clock()


async def test_an_empty_ticket_list_is_an_empty_array_with_total_0(public_client):
    resp = await staff_get(public_client, "/api/tickets")
    assert resp.status == 200
    assert await resp.json() == []
    assert resp.headers["X-Total-Count"] == "0"


async def test_the_ticket_list_filters_by_status_kind_and_priority(public_client, backend):
    repair = await open_ticket(backend)
    complaint = await open_ticket(backend, kind="complaint", description="噪音")
    urgent = await emergency(backend, OTHER)
    await backend.bus.handle(commands.ChangeTicketStatus(repair, "accepted", actor="staff"))

    async def ids(**params: str) -> tuple[list[str], str]:
        resp = await staff_get(public_client, "/api/tickets", **params)
        assert resp.status == 200
        return [t["id"] for t in await resp.json()], resp.headers["X-Total-Count"]

    assert await ids(kind="complaint") == ([complaint], "1")
    assert await ids(kind="repair") == ([urgent, repair], "2")
    assert await ids(priority="urgent") == ([urgent], "1")
    assert await ids(status="accepted") == ([repair], "1")
    assert await ids(status="new", kind="repair") == ([urgent], "1")
    assert await ids(status="cancelled") == ([], "0")


async def test_the_ticket_list_pages_with_limit_and_offset_and_keeps_the_total(public_client, backend):
    numbers = [await open_ticket(backend, description=f"第{i}件事") for i in range(5)]
    resp = await staff_get(public_client, "/api/tickets", limit="2")
    assert [t["id"] for t in await resp.json()] == [numbers[4], numbers[3]]
    assert resp.headers["X-Total-Count"] == "5"
    resp = await staff_get(public_client, "/api/tickets", limit="2", offset="4")
    assert [t["id"] for t in await resp.json()] == [numbers[0]]
    assert resp.headers["X-Total-Count"] == "5"


@pytest.mark.parametrize(
    "params",
    [
        {"status": "open"},
        {"status": "NEW"},
        {"kind": "fire"},
        {"priority": "high"},
        {"limit": "abc"},
        {"limit": "0"},
        {"limit": "201"},
        {"limit": "-1"},
        {"limit": "1.5"},
        {"offset": "-1"},
        {"offset": "x"},
        {"status": "new' OR '1'='1"},
    ],
)
async def test_unknown_filters_and_bad_paging_are_400(public_client, backend, params):
    await open_ticket(backend)
    resp = await staff_get(public_client, "/api/tickets", **params)
    await assert_bad_request(resp)
    assert SECRET not in await resp.text()


async def test_an_anonymous_complaint_never_shows_who_made_it(public_client, backend):
    number = await open_ticket(backend, OWNER, "complaint", description="邻居占用消防通道", anonymous=True)
    for resp in (
        await staff_get(public_client, "/api/tickets"),
        await staff_get(public_client, f"/api/tickets/{number}"),
    ):
        assert resp.status == 200
        assert OWNER_ID not in await resp.text()
    [listed] = await (await staff_get(public_client, "/api/tickets")).json()
    assert listed["sender"] is None
    assert listed["anonymous"] is True
    assert listed["description"] == "邻居占用消防通道"


# -- one ticket --------------------------------------------------------------------------------


async def test_one_ticket_is_shown_with_its_history(public_client, backend):
    number = await open_ticket(backend)
    resp = await staff_get(public_client, f"/api/tickets/{number}")
    assert resp.status == 200
    ticket = await resp.json()
    assert (ticket["id"], ticket["description"], ticket["sender"]) == (number, SECRET, OWNER)
    assert [(h["status"], h["actor"]) for h in ticket["history"]] == [("new", "owner")]


@pytest.mark.parametrize("number", ["BX999999", "TS{n}", "nonsense", "BX-1"])
async def test_an_unknown_ticket_is_404(public_client, backend, number):
    repair = await open_ticket(backend)
    resp = await staff_get(public_client, "/api/tickets/" + number.replace("{n}", repair[2:]))
    assert resp.status == 404
    assert (await resp.json())["error"] == "not_found"
    assert SECRET not in await resp.text()


# -- status changes ----------------------------------------------------------------------------


async def test_a_status_change_moves_the_ticket_and_tells_its_owner_only(public_client, backend):
    number = await open_ticket(backend)
    other_number = await open_ticket(backend, OTHER, description="别人的工单")

    resp = await public_client.post(
        f"/api/tickets/{number}/status",
        json={"status": "accepted", "actor": "王师傅", "note": "下午两点上门"},
        headers=AUTH,
    )
    assert resp.status == 200
    ticket = await resp.json()
    assert (ticket["id"], ticket["status"]) == (number, "accepted")
    assert [(h["status"], h["actor"], h["note"]) for h in ticket["history"]] == [
        ("new", "owner", ""),
        ("accepted", "王师傅", "下午两点上门"),
    ]
    assert (await views.ticket_for_staff(backend.new_uow(), number))["status"] == "accepted"
    assert (await views.ticket_for_staff(backend.new_uow(), other_number))["status"] == "new"

    [update] = await updates(public_client, OWNER_ID)
    assert update["text"] == f"您的工单 {number} 已派单，师傅会尽快和您联系。\n备注：下午两点上门"
    assert update["kind"] == "status_update"
    assert await updates(public_client, OTHER_ID) == []


async def test_a_ticket_goes_through_its_life_cycle_with_an_update_at_each_step(public_client, backend):
    number = await open_ticket(backend)
    for status in ("in_progress", "resolved", "closed"):
        resp = await public_client.post(f"/api/tickets/{number}/status", json={"status": status}, headers=AUTH)
        assert resp.status == 200
        assert (await resp.json())["status"] == status
    texts = [u["text"] for u in await updates(public_client, OWNER_ID)]
    assert texts == [
        f"您的工单 {number} 正在处理中。",
        f"您的工单 {number} 已处理完。如果问题还在，请直接在这里告诉我们。",
        f"您的工单 {number} 已办结，感谢您的支持。",
    ]


@pytest.mark.parametrize(("first", "then"), [(None, "closed"), ("cancelled", "accepted"), ("closed", "in_progress")])
async def test_an_invalid_transition_is_409_and_changes_nothing(public_client, backend, first, then):
    number = await open_ticket(backend)
    if first == "closed":
        await backend.bus.handle(commands.ChangeTicketStatus(number, "resolved", actor="staff"))
    if first:
        await backend.bus.handle(commands.ChangeTicketStatus(number, first, actor="staff"))
    before = await views.ticket_for_staff(backend.new_uow(), number)
    sent = await updates(public_client, OWNER_ID)

    resp = await public_client.post(f"/api/tickets/{number}/status", json={"status": then}, headers=AUTH)
    assert resp.status == 409
    assert (await resp.json())["error"] == "conflict"
    assert await views.ticket_for_staff(backend.new_uow(), number) == before
    assert await updates(public_client, OWNER_ID) == sent  # no new message for the owner


async def test_an_invalid_transition_sends_the_owner_nothing(public_client, backend):
    number = await open_ticket(backend)
    resp = await public_client.post(f"/api/tickets/{number}/status", json={"status": "closed"}, headers=AUTH)
    assert resp.status == 409
    assert await updates(public_client, OWNER_ID) == []


async def test_an_unknown_status_value_is_refused_and_changes_nothing(public_client, backend):
    number = await open_ticket(backend)
    resp = await public_client.post(f"/api/tickets/{number}/status", json={"status": "done"}, headers=AUTH)
    assert resp.status in (400, 409)
    assert (await resp.json())["error"] in ("bad_request", "conflict")
    assert (await views.ticket_for_staff(backend.new_uow(), number))["status"] == "new"
    assert await updates(public_client, OWNER_ID) == []


async def test_a_status_change_for_an_unknown_ticket_is_404(public_client):
    resp = await public_client.post("/api/tickets/BX999999/status", json={"status": "accepted"}, headers=AUTH)
    assert resp.status == 404
    assert (await resp.json())["error"] == "not_found"


@pytest.mark.parametrize(
    "raw",
    [
        b"status=accepted",
        bytes(range(256)),
        b'["accepted"]',
        b"{}",
        b'{"status": 3.5}',
        b'{"status": null}',
        b'{"status": "accepted", "note": "' + "长".encode() * 501 + b'"}',
    ],
    ids=["form", "binary", "array", "empty object", "status a number", "status null", "note too long"],
)
async def test_a_malformed_status_change_is_400_and_changes_nothing(public_client, backend, raw):
    number = await open_ticket(backend)
    resp = await public_client.post(
        f"/api/tickets/{number}/status", data=raw, headers={**AUTH, "Content-Type": "application/json"}
    )
    await assert_bad_request(resp)
    assert (await views.ticket_for_staff(backend.new_uow(), number))["status"] == "new"


# -- visitor passes at the gate ----------------------------------------------------------------


async def test_a_pass_is_valid_during_its_window_and_expired_after(public_client, backend, clock):
    code = await issue_pass(backend, clock() + timedelta(hours=1))
    resp = await staff_get(public_client, f"/api/passes/{code}")
    assert resp.status == 200
    checked = await resp.json()
    assert (checked["code"], checked["valid"], checked["state"]) == (code, True, "valid")
    assert (checked["building"], checked["unit"], checked["room"]) == ("3", "2", "501")
    assert (checked["visitor_name"], checked["plate"]) == ("小李", "浙A1")

    clock.advance(hours=5, minutes=1)  # the window closes four hours after the visit time
    resp = await staff_get(public_client, f"/api/passes/{code}")
    assert resp.status == 200
    checked = await resp.json()
    assert (checked["valid"], checked["state"]) == (False, "expired")


async def test_a_pass_for_tomorrow_is_not_yet_valid(public_client, backend, clock):
    code = await issue_pass(backend, clock() + timedelta(days=1))
    checked = await (await staff_get(public_client, f"/api/passes/{code}")).json()
    assert (checked["valid"], checked["state"]) == (False, "not_yet_valid")


async def test_an_unknown_pass_code_is_404_and_not_valid(public_client, backend, clock):
    code = await issue_pass(backend, clock())
    unknown = f"{(int(code) + 1) % 1_000_000:06d}"
    resp = await staff_get(public_client, f"/api/passes/{unknown}")
    assert resp.status == 404
    assert await resp.json() == {"code": unknown, "valid": False, "state": "unknown"}


@pytest.mark.parametrize("code", ["12345", "1234567", "12a456", "abcdef", "１２３４５６", "-12345"])
async def test_a_malformed_pass_code_is_404_and_not_valid(public_client, backend, clock, code):
    await issue_pass(backend, clock())
    resp = await staff_get(public_client, f"/api/passes/{code}")
    assert resp.status == 404
    body = await resp.json()
    assert (body["valid"], body["state"]) == (False, "unknown")
    assert "room" not in body


# -- conversations -----------------------------------------------------------------------------


async def test_conversations_can_be_listed_by_state(public_client, backend):
    await backend.bus.handle(commands.HandOff(OWNER, "owner_asked"))
    await backend.bus.handle(commands.RecordInbound(OTHER, "你好"))

    resp = await staff_get(public_client, "/api/conversations", state="handed_off")
    assert resp.status == 200
    [handed] = await resp.json()
    assert (handed["sender"], handed["state"], handed["handoff_reason"]) == (OWNER, "handed_off", "owner_asked")
    assert handed["channel"] == "webchat"

    resp = await staff_get(public_client, "/api/conversations", state="bot")
    assert [c["sender"] for c in await resp.json()] == [OTHER]
    resp = await staff_get(public_client, "/api/conversations")
    assert {c["sender"] for c in await resp.json()} == {OWNER, OTHER}


@pytest.mark.parametrize("state", ["staff", "HANDED_OFF", "1"])
async def test_an_unknown_conversation_state_is_400(public_client, state):
    await assert_bad_request(await staff_get(public_client, "/api/conversations", state=state))


async def test_handing_back_returns_the_conversation_to_the_assistant(public_client, backend, dialogue):
    await backend.bus.handle(commands.HandOff(OWNER, "owner_asked"))
    await backend.bus.handle(commands.HandOff(OTHER, "owner_asked"))
    resp = await public_client.post(f"/api/conversations/{OWNER}/handback", headers=AUTH)
    assert resp.status == 200
    assert await resp.json() == {"state": "bot"}
    assert dialogue.resumed == [OWNER]
    assert (await views.conversation_state(backend.new_uow(), OWNER))[0] == "bot"
    resp = await staff_get(public_client, "/api/conversations", state="handed_off")
    assert [c["sender"] for c in await resp.json()] == [OTHER]


async def test_handing_back_a_conversation_not_with_staff_is_409(public_client, backend, dialogue):
    await backend.bus.handle(commands.RecordInbound(OWNER, "你好"))
    resp = await public_client.post(f"/api/conversations/{OWNER}/handback", headers=AUTH)
    assert resp.status == 409
    assert (await resp.json())["error"] == "conflict"
    assert dialogue.resumed == []


async def test_handing_back_twice_is_409_the_second_time(public_client, backend, dialogue):
    await backend.bus.handle(commands.HandOff(OWNER, "owner_asked"))
    assert (await public_client.post(f"/api/conversations/{OWNER}/handback", headers=AUTH)).status == 200
    assert (await public_client.post(f"/api/conversations/{OWNER}/handback", headers=AUTH)).status == 409
    assert dialogue.resumed == [OWNER]


async def test_handing_back_an_unknown_conversation_is_404(public_client, dialogue):
    resp = await public_client.post("/api/conversations/webchat:nobody-here/handback", headers=AUTH)
    assert resp.status == 404
    assert (await resp.json())["error"] == "not_found"
    assert dialogue.resumed == []


@pytest.mark.parametrize("sender", ["ab", "webchat:a%20b", "webchat:%E4%BD%A0%E5%A5%BD", "x" * 161, "a%3Bb%3Bc"])
async def test_a_malformed_conversation_id_is_400(public_client, dialogue, sender):
    for route in ("handback", "messages"):
        resp = await public_client.post(f"/api/conversations/{sender}/{route}", json={"text": "你好"}, headers=AUTH)
        await assert_bad_request(resp)
    assert dialogue.resumed == [] and dialogue.staff_messages == []


async def test_handing_back_while_the_dialogue_engine_is_down_keeps_the_conversation_with_staff(
    public_client, backend, dialogue
):
    await backend.bus.handle(commands.HandOff(OWNER, "owner_asked"))
    dialogue.fail = True
    resp = await public_client.post(f"/api/conversations/{OWNER}/handback", headers=AUTH)
    assert (await views.conversation_state(backend.new_uow(), OWNER))[0] == "handed_off"
    # Staff are told, in JSON like every other answer, that it did not work and why.
    assert resp.status in (502, 503), await resp.text()
    assert resp.content_type == "application/json"
    assert (await resp.json())["error"]


# -- staff messages ----------------------------------------------------------------------------


async def test_a_staff_message_is_queued_for_the_owner_only(public_client, backend, dialogue):
    await backend.bus.handle(commands.HandOff(OWNER, "owner_asked"))
    await backend.bus.handle(commands.RecordInbound(OTHER, "你好"))
    resp = await public_client.post(
        f"/api/conversations/{OWNER}/messages", json={"text": "您好，我是物业小王，马上安排师傅。"}, headers=AUTH
    )
    assert resp.status == 202
    assert await resp.json() == {"queued": True}

    [update] = await updates(public_client, OWNER_ID)
    assert (update["text"], update["kind"]) == ("您好，我是物业小王，马上安排师傅。", "staff")
    assert await updates(public_client, OTHER_ID) == []
    assert dialogue.staff_messages == [(OWNER, "您好，我是物业小王，马上安排师傅。")]


async def test_a_staff_message_to_an_unknown_conversation_is_404_and_queues_nothing(public_client, dialogue):
    resp = await public_client.post(f"/api/conversations/{OWNER}/messages", json={"text": "您好"}, headers=AUTH)
    assert resp.status == 404
    assert (await resp.json())["error"] == "not_found"
    assert await updates(public_client, OWNER_ID) == []
    assert dialogue.staff_messages == []


@pytest.mark.parametrize(
    "raw",
    [
        b"hello",
        bytes(range(256)),
        b'["hi"]',
        b"{}",
        b'{"text": ""}',
        b'{"text": ["hi"]}',
        b'{"text": "' + "长".encode() * 2001 + b'"}',
    ],
    ids=["not json", "binary", "array", "text missing", "text empty", "text a list", "text too long"],
)
async def test_a_malformed_staff_message_is_400_and_queues_nothing(public_client, backend, dialogue, raw):
    await backend.bus.handle(commands.HandOff(OWNER, "owner_asked"))
    resp = await public_client.post(
        f"/api/conversations/{OWNER}/messages", data=raw, headers={**AUTH, "Content-Type": "application/json"}
    )
    await assert_bad_request(resp)
    assert await updates(public_client, OWNER_ID) == []
    assert dialogue.staff_messages == []


async def test_odd_authorization_headers_are_refused_not_crashed(public_client):
    for header in ("Bearer tökén", "Bearer \xff\xfe", "Bearer ü" + "x" * 40):  # headers are Latin-1
        resp = await public_client.get("/api/tickets", headers={"Authorization": header})
        assert resp.status == 401
        assert (await resp.json())["error"] == "unauthorized"
