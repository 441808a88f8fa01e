"""The bot API the chat actions call (internal port, bearer $WUYE_INTERNAL_TOKEN), over real HTTP.

Protects: nothing is answered without the internal token; every route validates its
input and answers 4xx JSON for bad bodies; tickets, emergencies, bindings, the ledger,
fee texts, visitor passes and handoffs behave as the actions expect; and an owner's
tickets, binding and ledger are never shown to another sender.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from backend_bridge.domain import commands
from backend_bridge.domain.model import MAX_PASS_DAYS
from backend_bridge.service_layer import views
from tests.conftest import ADMIN_TOKEN, INTERNAL_TOKEN, bearer

AUTH = bearer(INTERNAL_TOKEN)
OWNER = "webchat:owner-zhang-wei"  # will bind to 3-2-501 (张伟)
OTHER = "webchat:owner-li-ming"  # will bind to 5-1-302 (李明)
STRANGER = "webchat:not-bound-anywhere"
ZHANG = {"building": "3", "unit": "2", "room": "501", "phone": "13800000501"}
LI = {"building": "5", "unit": "1", "room": "302", "phone": "13800000302"}
SECRET = "厨房水管漏水-私密描述-7f3a"
TICKET_NUMBER = re.compile(r"^(BX|TS)\d{6}$")


async def post(client, path: str, body: object, headers: dict[str, str] | None = None):
    return await client.post(path, json=body, headers=AUTH if headers is None else headers)


async def get(client, path: str, headers: dict[str, str] | None = None, **params: str):
    return await client.get(path, params=params, headers=AUTH if headers is None else headers)


async def bind(backend, sender: str, flat: dict[str, str]) -> None:
    result = await backend.bus.handle(commands.BindSender(sender=sender, **flat))
    assert result.as_json() == {"status": "bound"}


async def open_ticket(backend, sender: str, description: str = SECRET, kind: str = "repair") -> str:
    result = await backend.bus.handle(
        commands.OpenTicket(sender=sender, kind=kind, description=description, building="3", unit="2", room="501")
    )
    return result.number


async def staff_tickets(backend) -> list[dict]:
    found, _ = await views.tickets_for_staff(backend.new_uow(), limit=200)
    return found


async def assert_bad_request(resp) -> dict:
    assert resp.status == 400, await resp.text()
    body = await resp.json()
    assert body["error"] == "bad_request"
    assert isinstance(body["message"], str) and body["message"]
    return body


# -- authentication ----------------------------------------------------------------------------

ROUTES = [
    ("POST", "/bot/v1/tickets", {"sender": OWNER, "kind": "repair", "description": "灯坏了"}),
    ("POST", "/bot/v1/emergencies", {"sender": OWNER, "hazard": "gas_leak", "description": "煤气味"}),
    ("GET", f"/bot/v1/tickets?sender={OWNER}&open=0", None),
    ("GET", "/bot/v1/tickets/{number}?sender=" + OWNER, None),
    ("POST", "/bot/v1/tickets/{number}/chase", {"sender": OWNER}),
    ("GET", "/bot/v1/rooms?building=3&unit=2&room=501", None),
    ("POST", "/bot/v1/bindings", {"sender": STRANGER, **ZHANG}),
    ("GET", f"/bot/v1/bindings?sender={OWNER}", None),
    ("GET", f"/bot/v1/ledger?sender={OWNER}", None),
    ("GET", "/bot/v1/content", None),
    ("GET", "/bot/v1/content/fees/overview", None),
    (
        "POST",
        "/bot/v1/passes",
        {"sender": OWNER, "visitor_name": "小李", "start": "2026-11-21T15:00:00+08:00", "time_kind": "point"},
    ),
    ("POST", "/bot/v1/handoffs", {"sender": OWNER, "reason": "owner_asked"}),
    ("POST", "/bot/v1/tickets/{number}/withdraw", {"sender": OWNER}),
    ("GET", f"/bot/v1/passes?sender={OWNER}", None),
    ("POST", "/bot/v1/passes/123456/revoke", {"sender": OWNER}),
]
BAD_HEADERS = [
    {},
    bearer("wrong-token"),
    bearer(ADMIN_TOKEN),  # the staff token is not the bot token
    bearer(INTERNAL_TOKEN + "x"),
    bearer(INTERNAL_TOKEN[:-1]),
    {"Authorization": "Bearer "},
    {"Authorization": INTERNAL_TOKEN},
    {"Authorization": f"Basic {INTERNAL_TOKEN}"},
    {"Authorization": f"Token {INTERNAL_TOKEN}"},
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[f"{m} {p.split('?')[0]}" for m, p, _ in ROUTES])
async def test_every_route_answers_401_and_no_data_without_the_internal_token(
    internal_client, backend, method, path, body
):
    await bind(backend, OWNER, ZHANG)
    number = await open_ticket(backend, OWNER)
    path = path.replace("{number}", number)
    for headers in BAD_HEADERS:
        resp = await internal_client.request(method, path, json=body, headers=headers)
        assert resp.status == 401, (headers, await resp.text())
        assert resp.headers["WWW-Authenticate"] == 'Bearer realm="bot"'
        payload = await resp.json()
        assert set(payload) == {"error", "message"}
        assert payload["error"] == "unauthorized"
        text = await resp.text()
        for leak in (SECRET, number, "501", "13800000501", "示例花园", "物业费", "owed_cents"):
            assert leak not in text
    # Nothing the refused requests asked for happened.
    [ticket] = await staff_tickets(backend)
    assert (ticket["id"], [h["type"] for h in ticket["history"]]) == (number, ["opened"])  # no chase recorded
    assert await views.conversation_state(backend.new_uow(), OWNER) == ("bot", None)
    assert await views.binding_for_sender(backend.new_uow(), STRANGER) is None


async def test_the_right_token_is_accepted_with_any_case_of_the_scheme(internal_client):
    resp = await get(internal_client, "/bot/v1/content", headers={"Authorization": f"bearer {INTERNAL_TOKEN}"})
    assert resp.status == 200
    assert (await resp.json())["name"] == "示例物业"  # no community asked for: the company's


# -- tickets -----------------------------------------------------------------------------------


async def test_opening_a_repair_ticket_answers_201_with_its_number_and_the_published_promise(internal_client, backend):
    resp = await post(
        internal_client,
        "/bot/v1/tickets",
        {
            "sender": OWNER,
            "kind": "repair",
            "description": "卫生间水管漏水",
            "building": "3",
            "unit": "2",
            "room": "501",
        },
    )
    assert resp.status == 201
    body = await resp.json()
    assert set(body) == {"id", "promise"}
    assert re.match(r"^BX\d{6}$", body["id"])
    assert body["promise"] == "维修人员会在30分钟内联系您，24小时内处理好。"

    stored = await views.ticket_for_staff(backend.new_uow(), body["id"])
    assert stored["kind"] == "repair"
    assert stored["status"] == "new"
    assert stored["priority"] == "normal"
    assert (stored["building"], stored["unit"], stored["room"]) == ("3", "2", "501")
    assert stored["description"] == "卫生间水管漏水"
    assert stored["sender"] == OWNER


async def test_opening_a_complaint_gives_a_ts_number_and_the_complaint_promise(internal_client, backend):
    resp = await post(
        internal_client,
        "/bot/v1/tickets",
        {
            "sender": OWNER,
            "kind": "complaint",
            "description": "楼上装修噪音",
            "public_area": "3号楼楼道",
            "anonymous": True,
        },
    )
    assert resp.status == 201
    body = await resp.json()
    assert re.match(r"^TS\d{6}$", body["id"])
    assert body["promise"] == "我们会在24小时内回复您处理结果。"
    stored = await views.ticket_for_staff(backend.new_uow(), body["id"])
    assert stored["kind"] == "complaint"
    assert stored["public_area"] == "3号楼楼道"
    assert stored["anonymous"] is True
    assert stored["sender"] is None


BAD_TICKETS = {
    "unknown kind": {"sender": OWNER, "kind": "fire", "description": "x"},
    "kind missing": {"sender": OWNER, "description": "灯坏了"},
    "kind not a string": {"sender": OWNER, "kind": ["repair"], "description": "灯坏了"},
    "sender missing": {"kind": "repair", "description": "灯坏了"},
    "sender with a space": {"sender": "webchat:a b", "kind": "repair", "description": "灯坏了"},
    "sender with a slash": {"sender": "webchat:a/b", "kind": "repair", "description": "灯坏了"},
    "sender too short": {"sender": "ab", "kind": "repair", "description": "灯坏了"},
    "sender too long": {"sender": "w" * 161, "kind": "repair", "description": "灯坏了"},
    "sender a number": {"sender": 12345678, "kind": "repair", "description": "灯坏了"},
    "sender an object": {"sender": {"id": "webchat:abc"}, "kind": "repair", "description": "灯坏了"},
    "sender with a trailing newline": {"sender": "webchat:abc\n", "kind": "repair", "description": "灯坏了"},
    "building with a trailing newline": {"sender": OWNER, "kind": "repair", "description": "灯坏了", "building": "3\n"},
    "building with chinese": {"sender": OWNER, "kind": "repair", "description": "灯坏了", "building": "3号"},
    "room with a dash": {"sender": OWNER, "kind": "repair", "description": "灯坏了", "room": "5-01"},
    "unit with sql": {"sender": OWNER, "kind": "repair", "description": "灯坏了", "unit": "1' OR 1"},
    "building too long": {"sender": OWNER, "kind": "repair", "description": "灯坏了", "building": "123456789"},
    "building a list": {"sender": OWNER, "kind": "repair", "description": "灯坏了", "building": ["3"]},
    "description missing": {"sender": OWNER, "kind": "repair"},
    "description empty": {"sender": OWNER, "kind": "repair", "description": ""},
    "description only spaces": {"sender": OWNER, "kind": "repair", "description": "   "},
    "description too long": {"sender": OWNER, "kind": "repair", "description": "漏" * 2001},
    "description an object": {"sender": OWNER, "kind": "repair", "description": {"text": "漏水"}},
}


@pytest.mark.parametrize("body", BAD_TICKETS.values(), ids=BAD_TICKETS.keys())
async def test_a_bad_ticket_is_refused_with_400_and_nothing_is_stored(internal_client, backend, body):
    resp = await post(internal_client, "/bot/v1/tickets", body)
    await assert_bad_request(resp)
    assert await staff_tickets(backend) == []


RAW_BODIES = {
    "not json": b"kind=repair&description=leak",
    "binary junk": bytes(range(256)) * 4,
    "invalid utf-8": b'{"sender": "\xff\xfe", "kind": "repair"}',
    "json array": b'[{"sender": "webchat:owner", "kind": "repair", "description": "x"}]',
    "json string": b'"repair"',
    "json null": b"null",
    "empty": b"",
}


@pytest.mark.parametrize("raw", RAW_BODIES.values(), ids=RAW_BODIES.keys())
@pytest.mark.parametrize(
    "path", ["/bot/v1/tickets", "/bot/v1/emergencies", "/bot/v1/bindings", "/bot/v1/passes", "/bot/v1/handoffs"]
)
async def test_post_routes_answer_400_json_for_bodies_that_are_not_a_json_object(internal_client, backend, path, raw):
    resp = await internal_client.post(path, data=raw, headers={**AUTH, "Content-Type": "application/json"})
    await assert_bad_request(resp)
    assert await staff_tickets(backend) == []


async def test_a_ticket_with_the_longest_accepted_sender_and_description_is_kept(internal_client, backend):
    sender = "wechat:" + "o" * 153  # 160 characters, the longest sender the API accepts
    resp = await post(
        internal_client, "/bot/v1/tickets", {"sender": sender, "kind": "repair", "description": "漏" * 2000}
    )
    assert resp.status == 201
    number = (await resp.json())["id"]
    resp = await get(internal_client, f"/bot/v1/tickets/{number}", sender=sender)
    assert resp.status == 200
    assert (await resp.json())["description"] == "漏" * 2000


# -- emergencies -------------------------------------------------------------------------------


async def test_an_emergency_opens_an_emergency_ticket_with_advice_and_hands_the_conversation_to_staff(
    internal_client, backend
):
    resp = await post(
        internal_client,
        "/bot/v1/emergencies",
        {
            "sender": OWNER,
            "hazard": "gas_leak",
            "description": "厨房有很重的煤气味",
            "building": "3",
            "unit": "2",
            "room": "501",
        },
    )
    assert resp.status == 201
    body = await resp.json()
    assert re.match(r"^BX\d{6}$", body["id"])
    assert body["promise"] == "值班人员会在15分钟内赶到现场。"
    assert body["advice"].startswith("闻到煤气味请马上：关闭燃气总阀")
    assert body["duty_hotline"] == "0571-8888 7777"

    stored = await views.ticket_for_staff(backend.new_uow(), body["id"])
    assert stored["priority"] == "emergency"
    assert stored["hazard"] == "gas_leak"
    assert stored["kind"] == "repair"
    assert (await views.conversation_state(backend.new_uow(), OWNER))[0] == "handed_off"
    [conversation] = await views.conversations(backend.new_uow(), "handed_off")
    assert conversation["sender"] == OWNER
    assert conversation["handoff_reason"] == "emergency:gas_leak"


async def test_an_unknown_hazard_gets_the_default_safety_advice(internal_client):
    resp = await post(
        internal_client, "/bot/v1/emergencies", {"sender": OWNER, "hazard": "alien", "description": "楼道里冒烟"}
    )
    assert resp.status == 201
    assert (await resp.json())["advice"] == "请注意安全，先远离危险区域。"


@pytest.mark.parametrize(
    "body",
    [
        {"sender": OWNER, "description": "煤气味"},
        {"sender": OWNER, "hazard": "gas_leak"},
        {"sender": OWNER, "hazard": "g" * 33, "description": "煤气味"},
        {"sender": "bad sender", "hazard": "gas_leak", "description": "煤气味"},
        {"sender": OWNER, "hazard": "gas_leak", "description": "煤气味", "building": "三"},
    ],
    ids=["hazard missing", "description missing", "hazard too long", "bad sender", "bad building"],
)
async def test_a_bad_emergency_is_refused_with_400_and_nobody_is_handed_off(internal_client, backend, body):
    resp = await post(internal_client, "/bot/v1/emergencies", body)
    await assert_bad_request(resp)
    assert await staff_tickets(backend) == []
    assert await views.conversations(backend.new_uow(), "handed_off") == []


# -- an owner's tickets ------------------------------------------------------------------------


async def test_listing_tickets_shows_only_the_senders_own(internal_client, backend):
    mine = [await open_ticket(backend, OWNER, "我家灯坏了"), await open_ticket(backend, OWNER, "门禁坏了")]
    theirs = await open_ticket(backend, OTHER, SECRET)

    resp = await get(internal_client, "/bot/v1/tickets", sender=OWNER)
    assert resp.status == 200
    found = await resp.json()
    assert [t["id"] for t in found] == list(reversed(mine))  # newest first
    assert {t["description"] for t in found} == {"我家灯坏了", "门禁坏了"}
    text = await resp.text()
    assert theirs not in text and SECRET not in text
    assert all("sender" not in t for t in found)  # the owner's own view carries no sender ids

    resp = await get(internal_client, "/bot/v1/tickets", sender=STRANGER)
    assert resp.status == 200
    assert await resp.json() == []


async def test_listing_tickets_leaves_out_finished_ones_unless_open_is_0(internal_client, backend):
    kept = await open_ticket(backend, OWNER, "灯坏了")
    cancelled = await open_ticket(backend, OWNER, "不用修了")
    await backend.bus.handle(commands.ChangeTicketStatus(cancelled, "cancelled", actor="staff"))

    resp = await get(internal_client, "/bot/v1/tickets", sender=OWNER)
    assert [t["id"] for t in await resp.json()] == [kept]
    resp = await get(internal_client, "/bot/v1/tickets", sender=OWNER, open="0")
    found = {t["id"]: t["status"] for t in await resp.json()}
    assert found == {kept: "new", cancelled: "cancelled"}


@pytest.mark.parametrize("params", [{}, {"sender": ""}, {"sender": "a b c"}, {"sender": "x" * 161}])
async def test_listing_tickets_needs_a_well_formed_sender(internal_client, backend, params):
    await open_ticket(backend, OWNER)
    resp = await get(internal_client, "/bot/v1/tickets", **params)
    await assert_bad_request(resp)
    assert SECRET not in await resp.text()


async def test_a_ticket_is_shown_to_its_owner_with_status_and_location(internal_client, backend):
    number = await open_ticket(backend, OWNER, "卫生间漏水")
    resp = await get(internal_client, f"/bot/v1/tickets/{number}", sender=OWNER)
    assert resp.status == 200
    ticket = await resp.json()
    assert ticket["id"] == number
    assert ticket["status"] == "new"
    assert ticket["status_label"] == "已受理，等待派单"
    assert ticket["location"] == "3号楼2单元501"
    assert ticket["description"] == "卫生间漏水"


async def test_another_senders_ticket_is_404_with_no_data(internal_client, backend):
    number = await open_ticket(backend, OWNER, SECRET)
    resp = await get(internal_client, f"/bot/v1/tickets/{number}", sender=OTHER)
    assert resp.status == 404
    body = await resp.json()
    assert body["error"] == "not_found"
    assert SECRET not in await resp.text()
    # Same answer as for a ticket that does not exist, so numbers cannot be probed.
    resp = await get(internal_client, "/bot/v1/tickets/BX999999", sender=OTHER)
    assert resp.status == 404
    assert await resp.json() == body


async def test_an_owner_may_name_a_ticket_by_the_property_systems_number(internal_client, backend, clock):
    """The hotline and the paper slips quote the number the property system gave the ticket when it
    was synced (20261030-0017); owners ask with that one, for status and to chase."""
    number = await open_ticket(backend, OWNER, "卫生间漏水")
    async with backend.new_uow() as uow:
        (await uow.tickets.by_number(number)).synced("erp", "20261030-0017", now=clock.now)
        await uow.commit()
    resp = await get(internal_client, "/bot/v1/tickets/20261030-0017", sender=OWNER)
    assert resp.status == 200 and (await resp.json())["id"] == number
    resp = await post(internal_client, "/bot/v1/tickets/20261030-0017/chase", {"sender": OWNER})
    assert resp.status == 200 and (await resp.json())["id"] == number
    for path in ("/bot/v1/tickets/20261030-0017", "/bot/v1/tickets/20261030-0018"):  # not theirs, or none
        assert (await get(internal_client, path, sender=OTHER if path.endswith("7") else OWNER)).status == 404
    assert (await post(internal_client, "/bot/v1/tickets/20261030-0017/chase", {"sender": OTHER})).status == 404


@pytest.mark.parametrize("number", ["BX999999", "garbage", "TS{n}", "0"])
async def test_an_unknown_ticket_number_is_404(internal_client, backend, number):
    repair = await open_ticket(backend, OWNER, SECRET)
    number = number.replace("{n}", repair[2:])  # right id, wrong prefix
    resp = await get(internal_client, f"/bot/v1/tickets/{number}", sender=OWNER)
    assert resp.status == 404
    assert SECRET not in await resp.text()


# -- rooms and bindings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flat", "exists"),
    [
        (("3", "2", "501"), True),
        (("6", "1", "602"), True),
        (("4", "1", "101"), False),
        (("3", "3", "501"), False),
        (("3", "2", "701"), False),
    ],
)
async def test_room_existence_follows_the_demo_community(internal_client, flat, exists):
    building, unit, room = flat
    resp = await get(internal_client, "/bot/v1/rooms", building=building, unit=unit, room=room)
    assert resp.status == 200
    assert await resp.json() == {"exists": exists}


@pytest.mark.parametrize(
    "params",
    [
        {"building": "3", "unit": "2"},
        {"building": "3号", "unit": "2", "room": "501"},
        {"building": "3", "unit": "2", "room": "5 01"},
        {"building": "3", "unit": "2", "room": "123456789"},
    ],
)
async def test_room_lookup_with_missing_or_malformed_parts_is_400(internal_client, params):
    await assert_bad_request(await get(internal_client, "/bot/v1/rooms", **params))


async def test_binding_with_the_phone_on_file_binds_the_sender_to_that_flat(internal_client):
    resp = await post(internal_client, "/bot/v1/bindings", {"sender": OWNER, **ZHANG})
    assert resp.status == 200
    assert await resp.json() == {"status": "bound"}
    resp = await get(internal_client, "/bot/v1/bindings", sender=OWNER)
    assert await resp.json() == {"bound": True, "building": "3", "unit": "2", "room": "501", "community": "shifan"}


async def test_binding_accepts_a_phone_written_with_separators(internal_client):
    resp = await post(internal_client, "/bot/v1/bindings", {"sender": OWNER, **ZHANG, "phone": "138-0000-0501"})
    assert await resp.json() == {"status": "bound"}


async def test_an_unknown_flat_and_a_wrong_phone_get_the_same_answer(internal_client):
    wrong_phone = await post(internal_client, "/bot/v1/bindings", {"sender": OWNER, **ZHANG, "phone": "13800000502"})
    unknown_flat = await post(
        internal_client,
        "/bot/v1/bindings",
        {"sender": OTHER, "building": "4", "unit": "1", "room": "101", "phone": "13800000501"},
    )
    another_owners_phone = await post(
        internal_client, "/bot/v1/bindings", {"sender": STRANGER, **ZHANG, "phone": LI["phone"]}
    )
    answers = [(r.status, await r.text()) for r in (wrong_phone, unknown_flat, another_owners_phone)]
    assert answers[0] == answers[1] == answers[2]
    assert await wrong_phone.json() == {"status": "mismatch"}
    for sender in (OWNER, OTHER, STRANGER):
        resp = await get(internal_client, "/bot/v1/bindings", sender=sender)
        assert await resp.json() == {"bound": False}


async def test_binding_locks_after_five_failures_even_for_the_right_phone(internal_client, clock):
    for _ in range(5):
        resp = await post(internal_client, "/bot/v1/bindings", {"sender": OWNER, **ZHANG, "phone": "13800000000"})
        assert await resp.json() == {"status": "mismatch"}
    resp = await post(internal_client, "/bot/v1/bindings", {"sender": OWNER, **ZHANG})
    assert await resp.json() == {"status": "locked"}
    assert await (await get(internal_client, "/bot/v1/bindings", sender=OWNER)).json() == {"bound": False}

    # The lock is per sender ...
    resp = await post(internal_client, "/bot/v1/bindings", {"sender": OTHER, **LI})
    assert await resp.json() == {"status": "bound"}
    # ... and lapses after a day.
    clock.advance(hours=23)
    resp = await post(internal_client, "/bot/v1/bindings", {"sender": OWNER, **ZHANG})
    assert await resp.json() == {"status": "locked"}
    clock.advance(hours=1, seconds=1)
    resp = await post(internal_client, "/bot/v1/bindings", {"sender": OWNER, **ZHANG})
    assert await resp.json() == {"status": "bound"}


@pytest.mark.parametrize(
    "body",
    [
        {"sender": OWNER, **ZHANG, "phone": None},
        {"sender": OWNER, **ZHANG, "phone": "1" * 21},
        {"sender": OWNER, **ZHANG, "room": "五零一"},
        {**ZHANG},
        {"sender": "x", **ZHANG},
    ],
    ids=["phone missing", "phone too long", "room not letters or digits", "sender missing", "sender too short"],
)
async def test_a_malformed_binding_is_400_and_binds_nobody(internal_client, body):
    await assert_bad_request(await post(internal_client, "/bot/v1/bindings", body))
    resp = await get(internal_client, "/bot/v1/bindings", sender=OWNER)
    assert await resp.json() == {"bound": False}


async def test_reading_a_binding_needs_a_well_formed_sender(internal_client):
    await assert_bad_request(await get(internal_client, "/bot/v1/bindings"))
    await assert_bad_request(await get(internal_client, "/bot/v1/bindings", sender="a/b/c"))


# -- ledger ------------------------------------------------------------------------------------


async def test_the_ledger_is_403_for_an_unbound_sender(internal_client, backend):
    await bind(backend, OWNER, ZHANG)
    resp = await get(internal_client, "/bot/v1/ledger", sender=STRANGER)
    assert resp.status == 403
    assert await resp.json() == {"error": "not_bound", "message": "the sender is not bound to a flat"}
    # Naming someone else's flat in the query changes nothing.
    resp = await get(internal_client, "/bot/v1/ledger", sender=STRANGER, building="3", unit="2", room="501")
    assert resp.status == 403
    assert "owed_cents" not in await resp.text()


async def test_the_ledger_of_a_bound_owner_shows_what_is_owed_and_paid_until(internal_client, backend):
    await bind(backend, OWNER, ZHANG)
    resp = await get(internal_client, "/bot/v1/ledger", sender=OWNER)
    assert resp.status == 200
    ledger = await resp.json()
    monthly = round(89.5 * 220)  # 501 is an 89.5 m² flat at 2.20 元/m²/month
    assert (ledger["building"], ledger["unit"], ledger["room"]) == ("3", "2", "501")
    assert ledger["location"] == "3号楼2单元501"
    assert ledger["owed_cents"] == 2 * monthly
    assert ledger["paid_until"] == "2026-09"
    assert [(b["period"], b["item"], b["amount_cents"]) for b in ledger["unpaid"]] == [
        ("2026-10", "物业费", monthly),
        ("2026-11", "物业费", monthly),
    ]
    assert ledger["unpaid"][0]["due_date"] == "2026-10-20"


async def test_the_ledger_never_shows_another_flat(internal_client, backend):
    await bind(backend, OWNER, ZHANG)
    await bind(backend, OTHER, LI)
    await bind(backend, STRANGER, {"building": "1", "unit": "1", "room": "101", "phone": "13800000101"})

    zhang = await (await get(internal_client, "/bot/v1/ledger", sender=OWNER)).json()
    li = await (await get(internal_client, "/bot/v1/ledger", sender=OTHER)).json()
    wang = await (await get(internal_client, "/bot/v1/ledger", sender=STRANGER)).json()

    assert (zhang["room"], zhang["owed_cents"]) == ("501", 2 * round(89.5 * 220))
    assert (li["building"], li["unit"], li["room"]) == ("5", "1", "302")
    assert li["owed_cents"] == 5 * round(126.3 * 220)
    assert li["paid_until"] == "2026-06"
    assert (wang["room"], wang["owed_cents"], wang["unpaid"], wang["paid_until"]) == ("101", 0, [], "2026-11")

    # Rebinding to another flat moves the sender's view to that flat only.
    await bind(backend, OWNER, {"building": "2", "unit": "1", "room": "101", "phone": "13900201101"})
    moved = await (await get(internal_client, "/bot/v1/ledger", sender=OWNER)).json()
    assert (moved["building"], moved["unit"], moved["room"]) == ("2", "1", "101")
    assert "501" not in await (await get(internal_client, "/bot/v1/ledger", sender=OWNER)).text()


async def test_a_failed_rebinding_keeps_the_earlier_flat(internal_client, backend):
    await bind(backend, OWNER, ZHANG)
    resp = await post(internal_client, "/bot/v1/bindings", {"sender": OWNER, **LI, "phone": "13800000000"})
    assert await resp.json() == {"status": "mismatch"}
    ledger = await (await get(internal_client, "/bot/v1/ledger", sender=OWNER)).json()
    assert (ledger["building"], ledger["room"]) == ("3", "501")


# -- content -----------------------------------------------------------------------------------


async def test_content_gives_the_community_name_and_hotlines(internal_client):
    resp = await get(internal_client, "/bot/v1/content")
    assert resp.status == 200
    assert await resp.json() == {  # no community asked for: the company's (content/company.yml)
        "code": "",
        "name": "示例物业",
        "service_hotline": "0571-8888 6666",
        "duty_hotline": "0571-8888 7777",
        "office_hours": "每天 8:30-17:30（各小区物业服务中心）",
    }


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("overview", "物业费按季度收取"),
        ("how_to_pay", "支付宝“生活缴费”"),
        ("invoice", "开电子发票"),
        ("late_fee", "万分之三"),
        ("standard", "每月每平方米2.20元"),
        ("public_income", "公共收益"),
    ],
)
async def test_each_fee_topic_has_its_own_text(internal_client, topic, expected):
    resp = await get(internal_client, f"/bot/v1/content/fees/{topic}")
    assert resp.status == 200
    assert expected in (await resp.json())["text"]


@pytest.mark.parametrize("topic", ["bogus", "OVERVIEW", "overview%00", "__class__", "fees"])
async def test_an_unknown_fee_topic_is_400(internal_client, topic):
    await assert_bad_request(await get(internal_client, f"/bot/v1/content/fees/{topic}"))


# -- visitor passes ----------------------------------------------------------------------------


def pass_body(start: str, time_kind: str = "point", **extra: object) -> dict:
    return {"sender": OWNER, "visitor_name": "小李", "start": start, "time_kind": time_kind, **extra}


async def test_a_pass_is_403_for_an_unbound_sender(internal_client):
    resp = await post(internal_client, "/bot/v1/passes", pass_body("2026-11-21T15:00:00+08:00"))
    assert resp.status == 403
    body = await resp.json()
    assert body["error"] == "not_bound"
    assert "code" not in body


async def test_a_pass_for_a_clock_time_gives_a_six_digit_code_and_a_readable_window(internal_client, backend, clock):
    await bind(backend, OWNER, ZHANG)
    resp = await post(internal_client, "/bot/v1/passes", pass_body("2026-11-22T15:00:00+08:00", plate="浙A12345"))
    assert resp.status == 201
    body = await resp.json()
    assert re.fullmatch(r"\d{6}", body["code"])
    assert body["window"] == "11月22日 14:00 - 19:00"
    assert datetime.fromisoformat(body["valid_from"]) == datetime(2026, 11, 22, 6, tzinfo=timezone.utc)
    assert datetime.fromisoformat(body["valid_until"]) == datetime(2026, 11, 22, 11, tzinfo=timezone.utc)

    # The pass belongs to the owner's flat, as the gate will see it.
    clock.advance(days=1, hours=4)  # 14:30 on the 22nd in Shanghai
    checked = await views.check_pass(backend.new_uow(), body["code"], clock())
    assert checked["valid"] is True
    assert (checked["building"], checked["unit"], checked["room"]) == ("3", "2", "501")
    assert (checked["visitor_name"], checked["plate"]) == ("小李", "浙A12345")


@pytest.mark.parametrize(
    ("start", "end", "kind", "window"),
    [
        ("2026-11-22T14:00:00+08:00", "2026-11-22T17:00:00+08:00", "period", "11月22日 13:30 - 17:30"),
        ("2026-11-22T00:00:00+08:00", "2026-11-22T23:59:00+08:00", "day", "11月22日 00:00 - 23:59"),
        ("2026-11-22T20:00:00+08:00", "2026-11-23T08:00:00+08:00", "span", "11月22日 19:30 - 11月23日 08:30"),
        ("2026-11-22T06:00:00+00:00", None, "point", "11月22日 13:00 - 18:00"),  # UTC offsets are honoured
    ],
    ids=["period", "day", "span across midnight", "point given in UTC"],
)
async def test_pass_windows_are_shown_in_local_time(internal_client, backend, start, end, kind, window):
    await bind(backend, OWNER, ZHANG)
    resp = await post(internal_client, "/bot/v1/passes", pass_body(start, kind, end=end))
    assert resp.status == 201, await resp.text()
    assert (await resp.json())["window"] == window


async def test_a_pass_for_right_now_starts_at_most_five_minutes_ago(internal_client, backend):
    await bind(backend, OWNER, ZHANG)
    resp = await post(internal_client, "/bot/v1/passes", pass_body("2026-11-21T10:30:00+08:00"))
    assert resp.status == 201
    assert (await resp.json())["window"] == "11月21日 10:25 - 14:30"


async def test_a_pass_asked_for_until_next_year_lasts_max_pass_days(internal_client, backend):
    """今天到明年年底: the pass begins as asked and ends MAX_PASS_DAYS later, and says so."""
    await bind(backend, OWNER, ZHANG)
    body = pass_body("2026-11-21T11:00:00+08:00", "span", end="2027-12-31T23:59:00+08:00")
    resp = await post(internal_client, "/bot/v1/passes", body)
    assert resp.status == 201, await resp.text()
    issued = await resp.json()
    assert issued["window"] == "11月21日 10:30 - 11月28日 10:30"
    valid_from, valid_until = (datetime.fromisoformat(issued[k]) for k in ("valid_from", "valid_until"))
    assert valid_until - valid_from == timedelta(days=MAX_PASS_DAYS)
    checked = await views.check_pass(backend.new_uow(), issued["code"], valid_until + timedelta(seconds=1))
    assert checked["state"] == "expired"


@pytest.mark.parametrize(
    ("start", "reason"),
    [
        ("2026-11-21T05:00:00+08:00", "past"),
        ("2026-11-20T15:00:00+08:00", "past"),
        ("2026-12-01T10:00:00+08:00", "too_far"),
        ("2027-11-22T10:00:00+08:00", "too_far"),
    ],
)
async def test_a_pass_in_the_past_or_too_far_ahead_is_422_with_the_reason(internal_client, backend, start, reason):
    await bind(backend, OWNER, ZHANG)
    resp = await post(internal_client, "/bot/v1/passes", pass_body(start))
    assert resp.status == 422
    body = await resp.json()
    assert body["error"] == reason
    assert "code" not in body


@pytest.mark.parametrize(
    "body",
    [
        pass_body("2026-11-22T15:00:00"),
        pass_body("2026-11-22T15:00:00+08:00", end="2026-11-22T17:00:00", time_kind="period"),
        pass_body("明天下午三点"),
        pass_body("2026-11-22T15:00:00+08:00", time_kind="week"),
        pass_body("2026-11-22T15:00:00+08:00", time_kind=None),
        pass_body(None),
        {**pass_body("2026-11-22T15:00:00+08:00"), "visitor_name": None},
        {**pass_body("2026-11-22T15:00:00+08:00"), "visitor_name": "名" * 65},
        {**pass_body("2026-11-22T15:00:00+08:00"), "plate": "A" * 17},
        {**pass_body("2026-11-22T15:00:00+08:00"), "sender": "bad sender"},
    ],
    ids=[
        "start without offset",
        "end without offset",
        "start not iso",
        "unknown time_kind",
        "time_kind missing",
        "start missing",
        "visitor missing",
        "visitor name too long",
        "plate too long",
        "bad sender",
    ],
)
async def test_a_malformed_pass_request_is_400(internal_client, backend, body):
    await bind(backend, OWNER, ZHANG)
    await assert_bad_request(await post(internal_client, "/bot/v1/passes", body))


# -- handoffs ----------------------------------------------------------------------------------


async def test_a_handoff_answers_201_and_the_conversation_is_then_with_staff(internal_client, backend):
    assert (await views.conversation_state(backend.new_uow(), OWNER))[0] == "bot"
    resp = await post(internal_client, "/bot/v1/handoffs", {"sender": OWNER, "reason": "owner_asked"})
    assert resp.status == 201
    assert await resp.json() == {"state": "handed_off"}
    assert (await views.conversation_state(backend.new_uow(), OWNER))[0] == "handed_off"
    [conversation] = await views.conversations(backend.new_uow(), "handed_off")
    assert (conversation["sender"], conversation["handoff_reason"]) == (OWNER, "owner_asked")
    assert conversation["channel"] == "webchat"
    # Only that conversation moved.
    assert (await views.conversation_state(backend.new_uow(), OTHER))[0] == "bot"


async def test_a_second_handoff_keeps_the_first_reason(internal_client, backend):
    await post(internal_client, "/bot/v1/handoffs", {"sender": OWNER, "reason": "owner_asked"})
    resp = await post(internal_client, "/bot/v1/handoffs", {"sender": OWNER, "reason": "angry"})
    assert resp.status == 201
    assert await resp.json() == {"state": "handed_off"}
    [conversation] = await views.conversations(backend.new_uow(), "handed_off")
    assert conversation["handoff_reason"] == "owner_asked"


@pytest.mark.parametrize(
    "body",
    [
        {"sender": OWNER},
        {"sender": OWNER, "reason": "r" * 65},
        {"reason": "owner_asked"},
        {"sender": "bad sender", "reason": "owner_asked"},
    ],
    ids=["reason missing", "reason too long", "sender missing", "bad sender"],
)
async def test_a_malformed_handoff_is_400_and_hands_nothing_off(internal_client, backend, body):
    await assert_bad_request(await post(internal_client, "/bot/v1/handoffs", body))
    assert await views.conversations(backend.new_uow(), "handed_off") == []


async def test_a_sender_without_a_channel_prefix_is_refused_or_handled_never_a_crash(internal_client, backend):
    """The sender check accepts "x" * 40; the conversation it creates must then be storable (or refused)."""
    sender = "x" * 40
    resp = await post(internal_client, "/bot/v1/handoffs", {"sender": sender, "reason": "owner_asked"})
    assert resp.status in (201, 400), await resp.text()
    resp = await post(
        internal_client, "/bot/v1/emergencies", {"sender": sender, "hazard": "fire", "description": "楼道着火"}
    )
    assert resp.status in (201, 400), await resp.text()


# -- calling off what was booked: an open request, a visitor pass ---------------------------------


async def test_an_owner_withdraws_their_open_ticket_once(internal_client, backend):
    number = await open_ticket(backend, OWNER)
    resp = await post(internal_client, f"/bot/v1/tickets/{number}/withdraw", {"sender": OWNER})
    assert resp.status == 200 and await resp.json() == {"id": number, "status": "cancelled"}
    [ticket] = await staff_tickets(backend)
    assert ticket["status"] == "cancelled" and ticket["history"][-1]["actor"] == "owner"
    again = await post(internal_client, f"/bot/v1/tickets/{number}/withdraw", {"sender": OWNER})
    assert again.status == 409 and (await again.json())["error"] == "not_open"


async def test_another_senders_ticket_cannot_be_withdrawn(internal_client, backend):
    number = await open_ticket(backend, OWNER)
    resp = await post(internal_client, f"/bot/v1/tickets/{number}/withdraw", {"sender": OTHER})
    assert resp.status == 404 and SECRET not in await resp.text()
    [ticket] = await staff_tickets(backend)
    assert ticket["status"] == "new"


async def test_an_emergency_is_not_the_owners_to_withdraw(internal_client, backend):
    resp = await post(
        internal_client, "/bot/v1/emergencies", {"sender": OWNER, "hazard": "gas_leak", "description": "煤气味"}
    )
    number = (await resp.json())["id"]
    refused = await post(internal_client, f"/bot/v1/tickets/{number}/withdraw", {"sender": OWNER})
    assert refused.status == 409 and (await refused.json())["error"] == "not_open"


async def test_an_owner_sees_and_revokes_only_their_own_passes(internal_client, backend, clock):
    await bind(backend, OWNER, ZHANG)
    await bind(backend, OTHER, LI)
    mine = await (await post(internal_client, "/bot/v1/passes", pass_body("2026-11-22T15:00:00+08:00"))).json()
    theirs = await post(internal_client, "/bot/v1/passes", pass_body("2026-11-22T16:00:00+08:00") | {"sender": OTHER})
    theirs = await theirs.json()

    listed = await (await get(internal_client, "/bot/v1/passes", sender=OWNER)).json()
    assert [(p["code"], p["visitor_name"], p["window"]) for p in listed] == [
        (mine["code"], "小李", "11月22日 14:00 - 19:00")
    ]
    refused = await post(internal_client, f"/bot/v1/passes/{theirs['code']}/revoke", {"sender": OWNER})
    assert refused.status == 404

    resp = await post(internal_client, f"/bot/v1/passes/{mine['code']}/revoke", {"sender": OWNER})
    assert resp.status == 200 and await resp.json() == {"code": mine["code"], "revoked": True}
    clock.advance(days=1, hours=5)  # during both visits: the gate now refuses it, the other still admits
    assert (await views.check_pass(backend.new_uow(), mine["code"], clock()))["valid"] is False
    assert (await views.check_pass(backend.new_uow(), theirs["code"], clock()))["valid"] is True
    assert await (await get(internal_client, "/bot/v1/passes", sender=OWNER)).json() == []
    again = await post(internal_client, f"/bot/v1/passes/{mine['code']}/revoke", {"sender": OWNER})
    assert again.status == 409 and (await again.json())["error"] == "not_live"
