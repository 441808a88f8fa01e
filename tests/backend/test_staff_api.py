"""The staff API on the public port (bearer tokens: $WUYE_ADMIN_TOKEN or a staff account's), over real HTTP.

Protects: no ticket, pass, conversation, notification or staff data without a valid token;
what each role may do (a technician only works their own tickets, and only forward: never closes
or cancels them); the ticket list's shape, filters and paging; anonymous complainants staying
anonymous; status changes reaching the owner (and only the owner) through the web chat's
updates once the dispatcher delivered them; refused transitions answering 409 with the reason;
the gate's pass check and use (once, even at two gates at the same moment); dead-lettered
notifications and their retry; handing conversations back and writing to owners; staff
accounts never named like a built-in actor, their tokens rotated or the member deactivated,
the old token refused at once.
Data is made through the backend's message bus, as the bot API would.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from backend_bridge.adapters.repository import PassRepository
from backend_bridge.domain import commands, model
from backend_bridge.entrypoints.keys import BACKEND
from backend_bridge.service_layer import views
from tests.conftest import ADMIN_TOKEN, INTERNAL_TOKEN, bearer, deliver

AUTH = bearer(ADMIN_TOKEN)
OWNER_ID = "owner-zhang-4c1d9e"
OWNER = f"webchat:{OWNER_ID}"
OTHER_ID = "owner-li-88a0b1"
OTHER = f"webchat:{OTHER_ID}"
SECRET = "卧室天花板渗水-私密描述-91ce"
ZHANG = {"building": "3", "unit": "2", "room": "501", "phone": "13800000501"}

RATING_QUESTION = "请您评价：回复“满意”“一般”或“不满意”，也可以打分，如“5分”（5分最满意，1分最不满意）。"


async def open_ticket(backend, sender: str = OWNER, kind: str = "repair", **extra) -> str:
    extra.setdefault("description", SECRET)
    result = await backend.bus.handle(
        commands.OpenTicket(sender=sender, kind=kind, building="3", unit="2", room="501", **extra)
    )
    return result.number


async def emergency(backend, sender: str = OWNER) -> str:
    result = await backend.bus.handle(
        commands.ReportEmergency(
            sender=sender, hazard="gas_leak", description="煤气味很重", building="3", unit="2", room="501"
        )
    )
    return result.number


async def issue_pass(backend, start: datetime, sender: str = OWNER) -> str:
    await backend.bus.handle(commands.BindSender(sender=sender, **ZHANG))
    result = await backend.bus.handle(
        commands.IssuePass(sender=sender, visitor_name="小李", start=start, end=None, time_kind="point", plate="浙A1")
    )
    return result.code


async def add_staff(backend, username: str, role: str, name: str = "") -> dict[str, str]:
    """A staff account; returns the Authorization header carrying its token."""
    result = await backend.bus.handle(commands.AddStaff(username, name or username, role, actor="admin"))
    return bearer(result.token)


async def assign(backend, number: str, assignee: str) -> None:
    await backend.bus.handle(commands.AssignTicket(number, assignee, actor="desk"))


async def updates(client, user: str) -> list[dict]:
    """What the owner's web chat shows, after a dispatcher sweep delivered the outbox."""
    await deliver(client.app[BACKEND])
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
    ("POST", "/api/tickets", {"kind": "repair", "description": "业主来电：楼道灯坏了", "intake": "phone"}),
    ("POST", "/api/tickets/{number}/status", {"status": "cancelled", "note": "业主说不用修了"}),
    ("POST", "/api/tickets/{number}/assign", {"assignee": "lichen"}),
    ("POST", "/api/tickets/{number}/comments", {"note": "内部备注"}),
    ("POST", "/api/tickets/{number}/merge", {"into": "{number}"}),
    ("GET", "/api/passes/{code}", None),
    ("POST", "/api/passes/{code}/use", None),
    ("GET", "/api/conversations", None),
    ("GET", "/api/conversations?state=handed_off", None),
    ("POST", f"/api/conversations/{OWNER}/handback", None),
    ("POST", f"/api/conversations/{OWNER}/messages", {"text": "您好，我是物业小王"}),
    ("POST", f"/api/conversations/{OWNER}/binding", {**ZHANG}),
    ("GET", "/api/notifications/dead", None),
    ("POST", "/api/notifications/1/retry", None),
    ("GET", "/api/staff", None),
    ("POST", "/api/staff", {"username": "intruder", "name": "入侵者", "role": "admin"}),
    ("POST", "/api/staff/lichen/token", None),
    ("POST", "/api/staff/lichen/deactivate", None),
    ("PATCH", "/api/staff/lichen", {"wecom_userid": "LiChen"}),
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
    lichen = await add_staff(backend, "lichen", "technician", "李师傅")
    path = path.replace("{number}", number).replace("{code}", code)
    if body and body.get("into"):
        body = {"into": await open_ticket(backend, OTHER)}
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
    ticket = await views.ticket_for_staff(backend.new_uow(), number)
    assert (ticket["status"], ticket["assignee"], len(ticket["history"])) == ("new", None, 1)
    assert (await views.tickets_for_staff(backend.new_uow()))[1] == (2 if body and "into" in body else 1)
    assert await updates(public_client, OWNER_ID) == []
    assert (await views.conversation_state(backend.new_uow(), OWNER))[0] == "handed_off"
    assert dialogue.resumed == [] and dialogue.staff_messages == []
    assert (await views.check_pass(backend.new_uow(), code, clock()))["state"] == "valid"  # not used
    async with backend.new_uow() as uow:
        assert [m.username for m in await uow.staff.all()] == ["lichen"]
    assert (await public_client.get("/api/tickets", headers=lichen)).status == 200  # not rotated, not deactivated


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
    await add_staff(backend, "lichen", "technician")
    await assign(backend, repair, "lichen")

    async def ids(**params: str) -> tuple[list[str], str]:
        resp = await staff_get(public_client, "/api/tickets", **params)
        assert resp.status == 200
        return [t["id"] for t in await resp.json()], resp.headers["X-Total-Count"]

    assert await ids(kind="complaint") == ([complaint], "1")
    assert await ids(kind="repair") == ([urgent, repair], "2")
    assert await ids(priority="emergency") == ([urgent], "1")
    assert await ids(priority="urgent") == ([], "0")
    assert await ids(status="assigned") == ([repair], "1")
    assert await ids(assignee="lichen") == ([repair], "1")
    assert await ids(category="plumbing") == ([repair], "1")  # 渗水
    assert await ids(category="gas") == ([urgent], "1")
    assert await ids(status="new", kind="repair") == ([urgent], "1")
    assert await ids(status="cancelled") == ([], "0")
    # 未完结: every open status at once; a cancelled ticket is not among them
    await backend.bus.handle(commands.ChangeTicketStatus(complaint, "cancelled", actor="staff"))
    assert await ids(status="open") == ([urgent, repair], "2")
    assert await ids(status="cancelled") == ([complaint], "1")


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
        {"status": "OPEN"},
        {"status": "NEW"},
        {"kind": "fire"},
        {"priority": "high"},
        {"category": "水暖"},  # categories are codes now
        {"overdue": "yes"},
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
    await add_staff(backend, "lichen", "technician", "李师傅")
    await assign(backend, number, "lichen")

    resp = await public_client.post(
        f"/api/tickets/{number}/status",
        json={"status": "in_progress", "actor": "冒名的人", "note": "下午两点上门"},
        headers=AUTH,
    )
    assert resp.status == 200
    ticket = await resp.json()
    assert (ticket["id"], ticket["status"], ticket["assignee"]) == (number, "in_progress", "lichen")
    # the actor is who the token belongs to, never what the body claims
    assert [(h["type"], h["status"], h["actor"], h["note"]) for h in ticket["history"]] == [
        ("opened", "new", "owner", ""),
        ("assigned", "assigned", "desk", ""),
        ("status", "in_progress", "admin", "下午两点上门"),
    ]
    assert (await views.ticket_for_staff(backend.new_uow(), number))["status"] == "in_progress"
    assert (await views.ticket_for_staff(backend.new_uow(), other_number))["status"] == "new"

    assigned, started = await updates(public_client, OWNER_ID)
    assert (assigned["kind"], assigned["text"]) == (
        "ticket_assigned",
        f"您的工单 {number} 已派单，由李师傅负责，会尽快和您联系。",
    )
    assert (started["kind"], started["text"]) == (
        "ticket_in_progress",
        f"您的工单 {number} 正在处理中。\n说明：下午两点上门",
    )
    assert await updates(public_client, OTHER_ID) == []


async def test_a_ticket_goes_through_its_life_cycle_with_an_update_at_each_step(public_client, backend):
    number = await open_ticket(backend)
    await add_staff(backend, "lichen", "technician", "李师傅")
    resp = await public_client.post(
        f"/api/tickets/{number}/assign",
        json={"assignee": "lichen", "expected_at": "2026-11-21T14:00:00+08:00"},
        headers=AUTH,
    )
    assert resp.status == 200
    assert ((await resp.json())["status"], (await resp.json())["assignee"]) == ("assigned", "lichen")
    for status in ("in_progress", "resolved", "closed"):
        resp = await public_client.post(f"/api/tickets/{number}/status", json={"status": status}, headers=AUTH)
        assert resp.status == 200
        assert (await resp.json())["status"] == status
    texts = [u["text"] for u in await updates(public_client, OWNER_ID)]
    assert texts == [
        f"您的工单 {number} 已派单，由李师傅负责，预计11月21日 14:00前到。",
        f"您的工单 {number} 正在处理中。",
        f"您的工单 {number} 已处理完。{RATING_QUESTION}",
        f"您的工单 {number} 已办结，感谢您的支持。",
    ]


@pytest.mark.parametrize(
    ("earlier", "then", "reason"),
    [
        ([], "closed", "cannot move a new ticket to closed"),
        ([], "in_progress", "cannot move a new ticket to in_progress"),
        ([], "assigned", "assign the ticket to someone to dispatch it"),
        (["cancelled"], "in_progress", "cannot move a cancelled ticket to in_progress"),
        (["in_progress", "resolved", "closed"], "in_progress", "cannot move a closed ticket to in_progress"),
        (["resolved"], "on_hold", "cannot move a resolved ticket to on_hold"),
    ],
)
async def test_an_invalid_transition_is_409_with_the_reason_and_changes_nothing(
    public_client, backend, clock, earlier, then, reason
):
    number = await open_ticket(backend)
    await add_staff(backend, "lichen", "technician")
    if earlier and earlier != ["cancelled"]:
        await assign(backend, number, "lichen")
    for status in earlier:
        await backend.bus.handle(commands.ChangeTicketStatus(number, status, actor="staff"))
    before = await views.ticket_for_staff(backend.new_uow(), number)
    sent = await updates(public_client, OWNER_ID)
    clock.advance(minutes=5)

    resp = await public_client.post(f"/api/tickets/{number}/status", json={"status": then}, headers=AUTH)
    assert resp.status == 409
    assert await resp.json() == {"error": "conflict", "message": reason}
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
    resp = await public_client.post("/api/tickets/BX999999/status", json={"status": "cancelled"}, headers=AUTH)
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


# -- assignment, comments and merges -------------------------------------------------------------


@pytest.mark.parametrize(
    ("assignee", "setup", "reason"),
    [
        ("nobody", [], "no active staff member 'nobody'"),
        ("lichen", ["cancelled"], "cannot assign a cancelled ticket"),
        ("lichen", ["assign", "resolved", "closed"], "cannot assign a closed ticket"),
    ],
    ids=["unknown staff", "cancelled", "closed"],
)
async def test_an_assignment_that_cannot_be_made_is_409_with_the_reason(
    public_client, backend, assignee, setup, reason
):
    number = await open_ticket(backend)
    await add_staff(backend, "lichen", "technician")
    for step in setup:
        if step == "assign":
            await assign(backend, number, "lichen")
        else:
            await backend.bus.handle(commands.ChangeTicketStatus(number, step, actor="desk"))
    before = await views.ticket_for_staff(backend.new_uow(), number)

    resp = await public_client.post(f"/api/tickets/{number}/assign", json={"assignee": assignee}, headers=AUTH)

    assert resp.status == 409
    assert await resp.json() == {"error": "conflict", "message": reason}
    assert await views.ticket_for_staff(backend.new_uow(), number) == before


@pytest.mark.parametrize("expected_at", ["明天下午", "2026-11-21T14:00:00", 3])
async def test_an_expected_time_must_be_iso_with_an_offset(public_client, backend, expected_at):
    number = await open_ticket(backend)
    await add_staff(backend, "lichen", "technician")
    resp = await public_client.post(
        f"/api/tickets/{number}/assign", json={"assignee": "lichen", "expected_at": expected_at}, headers=AUTH
    )
    await assert_bad_request(resp)
    assert (await views.ticket_for_staff(backend.new_uow(), number))["status"] == "new"


async def test_a_comment_is_201_in_the_history_and_the_owner_hears_nothing(public_client, backend):
    number = await open_ticket(backend)
    resp = await public_client.post(f"/api/tickets/{number}/comments", json={"note": "业主白天不在家"}, headers=AUTH)
    assert resp.status == 201
    last = (await resp.json())["history"][-1]
    assert (last["type"], last["actor"], last["note"], last["status"]) == ("note", "admin", "业主白天不在家", None)
    assert await updates(public_client, OWNER_ID) == []


async def test_a_supervisor_merges_a_duplicate_and_both_owners_follow_the_primary(public_client, backend):
    supervisor = await add_staff(backend, "wang", "supervisor", "王主管")
    await add_staff(backend, "lichen", "technician", "李师傅")
    primary = await open_ticket(backend, OWNER, description="2号楼电梯停了")
    duplicate = await open_ticket(backend, OTHER, description="电梯不动了")

    resp = await public_client.post(f"/api/tickets/{duplicate}/merge", json={"into": primary}, headers=supervisor)

    assert resp.status == 200
    merged = await resp.json()
    assert (merged["status"], merged["merged_into"], merged["history"][-1]["actor"]) == ("cancelled", primary, "wang")
    [told] = await updates(public_client, OTHER_ID)
    assert told["text"] == f"您的工单 {duplicate} 和另一张工单是同一个问题，与 {primary} 合并处理，进度会继续通知您。"

    await assign(backend, primary, "lichen")
    resp = await public_client.post(f"/api/tickets/{primary}/status", json={"status": "in_progress"}, headers=AUTH)
    assert resp.status == 200
    for user in (OWNER_ID, OTHER_ID):
        assert [u["text"] for u in await updates(public_client, user)][-2:] == [
            f"您的工单 {primary} 已派单，由李师傅负责，会尽快和您联系。",
            f"您的工单 {primary} 正在处理中。",
        ]

    resp = await public_client.post(f"/api/tickets/{primary}/merge", json={"into": primary}, headers=supervisor)
    assert resp.status == 409
    assert (await resp.json())["message"] == "a ticket cannot be merged into itself"


# -- roles -----------------------------------------------------------------------------------------


async def test_an_unknown_token_is_401_and_an_account_token_is_not_the_admin_token(public_client, backend):
    token = (await backend.bus.handle(commands.AddStaff("lichen", "李师傅", "technician", actor="admin"))).token
    for wrong in ("not-a-token", token[:-1], token + "x", token.upper()):
        for method, path in (("GET", "/api/tickets"), ("GET", "/api/staff"), ("POST", "/api/staff")):
            resp = await public_client.request(method, path, headers=bearer(wrong), json={})
            assert resp.status == 401, (wrong, path)
            assert (await resp.json())["error"] == "unauthorized"
    async with backend.new_uow() as uow:
        [stored] = await uow.staff.all()
        assert token not in (stored.token_hash, stored.username, stored.name)  # only a hash of it is kept


async def test_the_admin_adds_staff_and_the_returned_token_works_for_that_role(public_client, backend):
    resp = await public_client.post(
        "/api/staff", json={"username": "li.chen", "name": "李师傅", "role": "technician"}, headers=AUTH
    )
    assert resp.status == 201
    added = await resp.json()
    assert {k: v for k, v in added.items() if k != "token"} == {
        "username": "li.chen",
        "name": "李师傅",
        "role": "technician",
        "communities": [],  # none given: company-wide
        "wecom_userid": None,  # none given: their notices go to the log
    }
    technician = bearer(added["token"])

    resp = await public_client.get("/api/tickets", headers=technician)
    assert resp.status == 200
    resp = await public_client.post(
        "/api/staff", json={"username": "li2", "name": "李二", "role": "admin"}, headers=technician
    )
    assert resp.status == 403
    assert await resp.json() == {"error": "forbidden", "message": "the technician role may not do this"}

    resp = await staff_get(public_client, "/api/staff")
    assert await resp.json() == [
        {
            "username": "li.chen",
            "name": "李师傅",
            "role": "technician",
            "active": True,
            "communities": [],
            "wecom_userid": None,
        }
    ]
    again = await public_client.post(
        "/api/staff", json={"username": "li.chen", "name": "另一个", "role": "agent"}, headers=AUTH
    )
    assert again.status == 409
    await assert_bad_request(
        await public_client.post("/api/staff", json={"username": "li chen", "name": "x", "role": "agent"}, headers=AUTH)
    )
    resp = await public_client.post("/api/staff", json={"username": "boss", "name": "x", "role": "boss"}, headers=AUTH)
    assert resp.status == 409
    assert [m["username"] for m in await (await staff_get(public_client, "/api/staff")).json()] == ["li.chen"]


@pytest.mark.parametrize(
    "username", ["admin", "owner", "system", "staff", "external", "desk", "supervisors", "Admin", "SYSTEM"]
)
async def test_a_name_the_histories_use_for_someone_else_cannot_be_an_account(public_client, backend, username):
    """A staff account named "system" or "owner" would pass for the scheduler or the owner in a
    ticket's history; "supervisors" and "desk" would read the alerts meant for the whole team."""
    resp = await public_client.post(
        "/api/staff", json={"username": username, "name": "冒充", "role": "admin"}, headers=AUTH
    )
    assert resp.status == 409
    assert await resp.json() == {
        "error": "conflict",
        "message": f"{username!r} is reserved: histories use it for someone who is not a staff account",
    }
    assert await (await staff_get(public_client, "/api/staff")).json() == []


@pytest.mark.parametrize("username", ["external:erp", "staff:li", "webchat:owner"])
async def test_a_name_shaped_like_a_chat_id_or_an_external_actor_is_refused(public_client, backend, username):
    resp = await public_client.post(
        "/api/staff", json={"username": username, "name": "x", "role": "agent"}, headers=AUTH
    )
    await assert_bad_request(resp)
    with pytest.raises(model.DomainError, match="is reserved"):  # refused by the domain too, whoever asks
        await backend.bus.handle(commands.AddStaff(username, "x", "agent", actor="admin"))
    assert await (await staff_get(public_client, "/api/staff")).json() == []


async def test_the_admin_rotates_a_member_s_token_and_the_old_one_stops_working_at_once(public_client, backend):
    old = await add_staff(backend, "lichen", "technician", "李师傅")
    other = await add_staff(backend, "xiaoliu", "agent", "客服小刘")
    assert (await public_client.get("/api/tickets", headers=old)).status == 200

    resp = await public_client.post("/api/staff/lichen/token", headers=other)  # only an admin rotates
    assert resp.status == 403
    resp = await public_client.post("/api/staff/lichen/token", headers=AUTH)
    assert resp.status == 200
    rotated = await resp.json()
    assert set(rotated) == {"username", "token"} and rotated["username"] == "lichen"
    new = bearer(rotated["token"])
    assert new != old

    resp = await public_client.get("/api/tickets", headers=old)
    assert resp.status == 401
    assert (await resp.json())["error"] == "unauthorized"
    assert (await public_client.get("/api/tickets", headers=new)).status == 200
    assert (await public_client.get("/api/tickets", headers=other)).status == 200  # nobody else's changed
    listed = await (await staff_get(public_client, "/api/staff")).json()
    assert rotated["token"] not in str(listed)  # shown once, in the rotation's answer
    async with backend.new_uow() as uow:
        assert rotated["token"] not in [m.token_hash for m in await uow.staff.all()]  # only its hash is kept

    assert (await public_client.post("/api/staff/nobody/token", headers=AUTH)).status == 404
    assert (await public_client.post("/api/staff/admin/token", headers=AUTH)).status == 404  # not an account


async def test_a_deactivated_member_s_token_stops_working_on_every_route(public_client, backend):
    technician = await add_staff(backend, "lichen", "technician", "李师傅")
    supervisor = await add_staff(backend, "wang", "supervisor", "王主管")
    number = await open_ticket(backend)
    await assign(backend, number, "lichen")
    assert (await public_client.get("/api/tickets", headers=technician)).status == 200

    resp = await public_client.post("/api/staff/lichen/deactivate", headers=supervisor)  # only an admin
    assert resp.status == 403
    resp = await public_client.post("/api/staff/lichen/deactivate", headers=AUTH)
    assert resp.status == 200
    assert await resp.json() == {
        "username": "lichen",
        "name": "李师傅",
        "role": "technician",
        "active": False,
        "wecom_userid": None,
    }

    for method, path, body in (
        ("GET", "/api/tickets", None),
        ("GET", f"/api/tickets/{number}", None),
        ("POST", f"/api/tickets/{number}/status", {"status": "in_progress"}),
        ("POST", f"/api/tickets/{number}/comments", {"note": "走之前再修一下"}),
    ):
        resp = await public_client.request(method, path, json=body, headers=technician)
        assert resp.status == 401, path
    assert (await views.ticket_for_staff(backend.new_uow(), number))["status"] == "assigned"
    assert (await public_client.get("/api/tickets", headers=supervisor)).status == 200
    listed = await (await staff_get(public_client, "/api/staff")).json()
    assert [(m["username"], m["active"]) for m in listed] == [("lichen", False), ("wang", True)]
    resp = await public_client.post(f"/api/tickets/{number}/assign", json={"assignee": "lichen"}, headers=AUTH)
    assert resp.status == 409  # no new work for someone who left

    resp = await public_client.post("/api/staff/lichen/token", headers=AUTH)  # a new token does not bring them back
    assert (await public_client.get("/api/tickets", headers=bearer((await resp.json())["token"]))).status == 401
    assert (await public_client.post("/api/staff/nobody/deactivate", headers=AUTH)).status == 404


async def test_a_technician_cannot_dispatch_merge_open_tickets_or_read_dead_letters(public_client, backend):
    technician = await add_staff(backend, "lichen", "technician", "李师傅")
    number = await open_ticket(backend)
    other = await open_ticket(backend, OTHER)
    refused = [
        ("POST", f"/api/tickets/{number}/assign", {"assignee": "lichen"}),
        ("POST", f"/api/tickets/{number}/merge", {"into": other}),
        ("POST", "/api/tickets", {"kind": "repair", "description": "灯坏了"}),
        ("GET", "/api/notifications/dead", None),
        ("POST", "/api/notifications/1/retry", None),
        ("GET", "/api/conversations", None),
        ("GET", "/api/staff", None),
    ]
    for method, path, body in refused:
        resp = await public_client.request(method, path, json=body, headers=technician)
        assert resp.status == 403, path
        assert (await resp.json())["error"] == "forbidden"
    for n in (number, other):
        ticket = await views.ticket_for_staff(backend.new_uow(), n)
        assert (ticket["status"], ticket["assignee"], len(ticket["history"])) == ("new", None, 1)
    assert (await views.tickets_for_staff(backend.new_uow()))[1] == 2


async def test_a_technician_lists_and_works_only_their_own_tickets(public_client, backend):
    technician = await add_staff(backend, "lichen", "technician", "李师傅")
    await add_staff(backend, "zhang", "technician", "张师傅")
    mine = await open_ticket(backend, description="我的活")
    theirs = await open_ticket(backend, OTHER, description="别人的活")
    unassigned = await open_ticket(backend, description="还没派")
    await assign(backend, mine, "lichen")
    await assign(backend, theirs, "zhang")

    for params in ({}, {"assignee": "zhang"}, {"status": "assigned"}):
        resp = await public_client.get("/api/tickets", params=params, headers=technician)
        assert [t["id"] for t in await resp.json()] == [mine], params
    for path, body in ((f"/api/tickets/{n}/status", {"status": "in_progress"}) for n in (theirs, unassigned)):
        resp = await public_client.post(path, json=body, headers=technician)
        assert resp.status == 403
        assert (await resp.json())["message"] == "this ticket is assigned to someone else"
    resp = await public_client.post(f"/api/tickets/{theirs}/comments", json={"note": "我来吧"}, headers=technician)
    assert resp.status == 403
    assert (await views.ticket_for_staff(backend.new_uow(), theirs))["status"] == "assigned"

    resp = await public_client.post(f"/api/tickets/{mine}/status", json={"status": "in_progress"}, headers=technician)
    assert resp.status == 200
    resp = await public_client.post(f"/api/tickets/{mine}/comments", json={"note": "换了阀门"}, headers=technician)
    assert resp.status == 201
    history = (await resp.json())["history"]
    assert [(h["type"], h["actor"]) for h in history[-2:]] == [("status", "lichen"), ("note", "lichen")]
    resp = await public_client.post("/api/tickets/BX999999/status", json={"status": "resolved"}, headers=technician)
    assert resp.status == 404


async def test_a_technician_cannot_close_or_cancel_their_own_ticket_the_desk_can(public_client, backend):
    """Closing a resolved ticket would skip the owner's 回访 (a poor rating reopens it); cancelling
    drops the owner's request. Both belong to the desk and the leads, not to the one doing the work."""
    technician = await add_staff(backend, "lichen", "technician", "李师傅")
    agent = await add_staff(backend, "xiaoliu", "agent", "客服小刘")
    resolved, started = await open_ticket(backend), await open_ticket(backend, OTHER)
    for number in (resolved, started):
        await assign(backend, number, "lichen")
    work = {resolved: ("in_progress", "on_hold", "in_progress", "resolved"), started: ("in_progress",)}
    for number, steps in work.items():
        for status in steps:  # the work itself: start, hold, resume, finish
            path = f"/api/tickets/{number}/status"
            resp = await public_client.post(path, json={"status": status}, headers=technician)
            assert resp.status == 200, (status, await resp.text())
    sent = await updates(public_client, OWNER_ID)

    for number, status in ((resolved, "closed"), (resolved, "reopened"), (started, "cancelled")):
        before = await views.ticket_for_staff(backend.new_uow(), number)
        resp = await public_client.post(f"/api/tickets/{number}/status", json={"status": status}, headers=technician)
        assert resp.status == 403, status
        assert await resp.json() == {
            "error": "forbidden",
            "message": f"the technician role may not move a ticket to {status}",
        }
        assert await views.ticket_for_staff(backend.new_uow(), number) == before
    assert await updates(public_client, OWNER_ID) == sent  # the owner is still asked for a rating, nothing else
    rated = await backend.bus.handle(commands.RateTicket(OWNER, 2, "没修好"))
    assert (rated.number, rated.status) == (resolved, "reopened")

    resp = await public_client.post(f"/api/tickets/{started}/status", json={"status": "cancelled"}, headers=agent)
    assert resp.status == 200
    assert [(h["status"], h["actor"]) for h in (await resp.json())["history"][-1:]] == [("cancelled", "xiaoliu")]


async def test_an_agent_dispatches_and_opens_tickets_but_cannot_import_or_manage_staff(public_client, backend):
    agent = await add_staff(backend, "xiaoliu", "agent", "客服小刘")
    await add_staff(backend, "lichen", "technician", "李师傅")
    assert not await views.room_exists(backend.new_uow(), None, "9", "9", "909")
    roster = "楼栋,单元,房号,姓名,电话\n9,9,909,冒充的业主,13800009909\n".encode()
    for path, body, content_type in (
        ("/api/imports/roster", roster, "text/csv"),
        ("/api/staff", b'{"username": "x", "name": "x", "role": "admin"}', "application/json"),
        ("/api/tickets/BX000001/merge", b'{"into": "BX000002"}', "application/json"),
    ):
        resp = await public_client.post(path, data=body, headers={**agent, "Content-Type": content_type})
        assert resp.status == 403, path
        assert await resp.json() == {"error": "forbidden", "message": "the agent role may not do this"}
    assert not await views.room_exists(backend.new_uow(), None, "9", "9", "909")
    assert len(await (await staff_get(public_client, "/api/staff")).json()) == 2  # still just the two

    resp = await public_client.post(
        "/api/tickets",
        json={
            "kind": "repair",
            "description": "业主来电：厨房下水堵了",
            "intake": "phone",
            "priority": "urgent",
            "building": "3",
            "unit": "2",
            "room": "501",
            "contact": OWNER,
        },
        headers=agent,
    )
    assert resp.status == 201
    opened = await resp.json()
    assert (opened["intake"], opened["priority"], opened["category"], opened["sender"]) == (
        "phone",
        "urgent",
        "plumbing",
        OWNER,
    )
    assert [(h["type"], h["actor"]) for h in opened["history"]] == [("opened", "xiaoliu")]
    resp = await public_client.post(f"/api/tickets/{opened['id']}/assign", json={"assignee": "lichen"}, headers=agent)
    assert resp.status == 200
    assert (await resp.json())["history"][-1]["actor"] == "xiaoliu"
    [update] = await updates(public_client, OWNER_ID)  # the caller hears about it in their web chat
    assert update["text"] == f"您的工单 {opened['id']} 已派单，由李师傅负责，会尽快和您联系。"


# -- visitor passes used at the gate ---------------------------------------------------------------


async def test_a_pass_admits_once(public_client, backend, clock):
    code = await issue_pass(backend, clock() + timedelta(hours=1))
    clock.advance(minutes=20)

    resp = await public_client.post(f"/api/passes/{code}/use", headers=AUTH)
    assert resp.status == 200
    used = await resp.json()
    assert (used["code"], used["valid"], used["state"], used["used_at"]) == (code, False, "used", clock.now.isoformat())

    clock.advance(minutes=5)
    resp = await public_client.post(f"/api/passes/{code}/use", headers=AUTH)
    assert resp.status == 409
    assert await resp.json() == {"error": "not_valid", "message": "the pass is used"}
    checked = await (await staff_get(public_client, f"/api/passes/{code}")).json()
    assert (checked["valid"], checked["state"], checked["used_at"]) == (False, "used", used["used_at"])


async def test_two_gates_using_one_pass_at_the_same_moment_admit_the_visitor_once(
    public_client, backend, clock, monkeypatch
):
    """Both gates read the pass unused before either writes: one admits, the other is refused."""
    code = await issue_pass(backend, clock() + timedelta(hours=1))
    east, west = await add_staff(backend, "east", "agent"), await add_staff(backend, "west", "agent")
    lookup, read = PassRepository.live_with_code, []
    both_read = asyncio.Event()

    async def read_then_wait_for_the_other_gate(self, code: str, now: datetime):
        found = await lookup(self, code, now)
        read.append(found.used_at)
        if len(read) == 2:
            both_read.set()
        await asyncio.wait_for(both_read.wait(), timeout=10)
        return found

    monkeypatch.setattr(PassRepository, "live_with_code", read_then_wait_for_the_other_gate)
    answers = await asyncio.gather(
        *(public_client.post(f"/api/passes/{code}/use", headers=gate) for gate in (east, west))
    )

    assert read[:2] == [None, None]  # the race happened: both saw the pass unused
    assert sorted(a.status for a in answers) == [200, 409]
    [admitted] = [a for a in answers if a.status == 200]
    [refused] = [a for a in answers if a.status == 409]
    assert await refused.json() == {"error": "not_valid", "message": "the pass is used"}
    used = await admitted.json()
    async with backend.new_uow() as uow:
        [stored] = await uow.session.scalars(select(model.VisitorPass))
    assert (stored.used_at.isoformat(), stored.used_by) == (
        used["used_at"],
        "east" if answers[0] is admitted else "west",
    )


@pytest.mark.parametrize(("hours", "state"), [(0, "not_yet_valid"), (8, "expired")])
async def test_a_pass_outside_its_window_cannot_be_used(public_client, backend, clock, hours, state):
    code = await issue_pass(backend, clock() + timedelta(hours=3))  # valid from 2 to 7 hours from now
    clock.advance(hours=hours)
    resp = await public_client.post(f"/api/passes/{code}/use", headers=AUTH)
    assert resp.status == 409
    assert (await resp.json())["message"] == f"the pass is {state}"
    assert (await (await staff_get(public_client, f"/api/passes/{code}")).json())["state"] == state


@pytest.mark.parametrize("code", ["999999", "12345", "abcdef"])
async def test_using_an_unknown_or_malformed_pass_code_is_404(public_client, backend, clock, code):
    await issue_pass(backend, clock())
    resp = await public_client.post(f"/api/passes/{code}/use", headers=AUTH)
    assert resp.status == 404


# -- dead letters ----------------------------------------------------------------------------------


async def test_a_notification_nobody_can_deliver_goes_dead_shows_up_and_can_be_retried(public_client, backend):
    supervisor = await add_staff(backend, "wang", "supervisor", "王主管")
    await backend.bus.handle(commands.HandOff("nochannel:x", "owner_asked"))
    resp = await public_client.post("/api/conversations/nochannel:x/messages", json={"text": "您好"}, headers=AUTH)
    assert resp.status == 202
    assert await (await staff_get(public_client, "/api/notifications/dead")).json() == []  # not tried yet

    await deliver(backend)

    resp = await public_client.get("/api/notifications/dead", headers=supervisor)
    assert resp.status == 200
    [dead] = await resp.json()
    assert (dead["recipient"], dead["channel"], dead["kind"], dead["text"]) == (
        "nochannel:x",
        "nochannel",
        "staff",
        "您好",
    )
    assert (dead["status"], dead["attempts"]) == ("dead", 1)
    assert "nochannel" in dead["last_error"]

    resp = await public_client.post(f"/api/notifications/{dead['id']}/retry", headers=supervisor)
    assert resp.status == 200
    assert await resp.json() == {"id": dead["id"], "status": "pending"}
    assert await (await staff_get(public_client, "/api/notifications/dead")).json() == []
    async with backend.new_uow() as uow:
        pending = await uow.notifications.get(dead["id"])
        assert (pending.status.value, pending.attempts) == ("pending", 0)

    resp = await public_client.post(f"/api/notifications/{dead['id']}/retry", headers=supervisor)
    assert resp.status == 409  # only a dead letter can be retried
    for unknown in ("424242", "abc", "-1"):
        assert (await public_client.post(f"/api/notifications/{unknown}/retry", headers=supervisor)).status == 404

    await deliver(backend)  # still nobody delivers there: dead again, and listed again
    assert [d["id"] for d in await (await staff_get(public_client, "/api/notifications/dead")).json()] == [dead["id"]]


async def test_a_technician_never_sees_an_owners_chat_id(public_client, backend):
    """The web chat id reaches the owner's conversation; technicians get the address, not the id."""
    technician = await add_staff(backend, "lichen", "technician", "李师傅")
    agent = await add_staff(backend, "xiaoli", "agent", "小李")
    mine = await open_ticket(backend)
    theirs = await open_ticket(backend, OTHER)
    await add_staff(backend, "zhang", "technician", "张师傅")
    await assign(backend, mine, "lichen")
    await assign(backend, theirs, "zhang")
    resp = await public_client.get(f"/api/tickets/{mine}", headers=technician)
    assert resp.status == 200
    body = await resp.json()
    assert body["sender"] is None and body["location"] == "3号楼2单元501" and OWNER_ID not in await resp.text()
    listed = await (await public_client.get("/api/tickets", headers=technician)).json()
    assert [t["sender"] for t in listed] == [None]
    resp = await public_client.get(f"/api/tickets/{theirs}", headers=technician)
    assert resp.status == 403 and OTHER_ID not in await resp.text()
    resp = await public_client.get(f"/api/tickets/{mine}", headers=agent)
    assert (await resp.json())["sender"] == OWNER


async def test_staff_bind_an_owner_locked_out_by_other_peoples_guesses(public_client, backend):
    """Ten wrong guesses at 3-2-501 from throwaway ids lock the flat for the assistant's identity
    check, the real owner's right answer included; the desk, having called the owner back, binds
    them (the phone must still be on file for the flat, in the desk's communities)."""
    for i in range(10):
        await backend.bus.handle(commands.BindSender(f"webchat:guess{i}", "3", "2", "501", f"1390000{i:04d}"))
    await backend.bus.handle(commands.RecordInbound(OWNER, "我是示例花园的"))
    locked = await backend.bus.handle(commands.BindSender(sender=OWNER, **ZHANG))
    assert locked.status == "locked"

    desk = await add_staff(backend, "xiaowang", "agent")
    path = f"/api/conversations/{OWNER}/binding"
    wrong = await public_client.post(path, json={**ZHANG, "phone": "13900000000"}, headers=desk)
    assert wrong.status == 404
    tech = await add_staff(backend, "lichen", "technician")
    assert (await public_client.post(path, json=ZHANG, headers=tech)).status == 403
    other = await backend.bus.handle(commands.AddStaff("yg", "阳光客服", "agent", "admin", communities=("yangguang",)))
    assert (await public_client.post(path, json=ZHANG, headers=bearer(other.token))).status == 404  # not theirs

    resp = await public_client.post(path, json=ZHANG, headers=desk)
    assert resp.status == 200 and await resp.json() == {"status": "bound"}
    binding = await views.binding_for_sender(backend.new_uow(), OWNER)
    assert (binding["building"], binding["unit"], binding["room"]) == ("3", "2", "501")
