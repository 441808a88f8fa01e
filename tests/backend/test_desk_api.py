"""The console's conversation desk over real HTTP: the list's tabs and search, one conversation's
detail, claims, notes and 常用语 (canned replies).

Protects: "waiting" is handed off and held by nobody, longest wait first; a claim takes a
conversation from the assistant (staff_took_over) and a colleague's only by a lead's force
(else 409 with who holds it); the handback ends the claim; the owner's flat shows with the phone
masked; notes reach the message log and never the outbox; a staff message names its author;
canned replies are scoped like every staff answer (another community's are a 404).
"""

from __future__ import annotations

import yaml
from sqlalchemy import func, select

from backend_bridge.demo import add_demo_staff
from backend_bridge.domain import commands, model
from tests.conftest import ADMIN_TOKEN, DEMO, bearer

ADMIN = bearer(ADMIN_TOKEN)
ZHANG = "webchat:desk-zhang"  # bound to 示例花园 3-2-501 (13800000501)
WANG = "webchat:desk-wang"
LI = "webchat:desk-li"
CHEN = "webchat:desk-chen"  # 阳光小区


async def _token(backend, username: str) -> dict[str, str]:
    result = await backend.bus.handle(commands.RotateStaffToken(username, "admin"))
    return bearer(result.token)


async def _setup(backend, clock) -> dict[str, dict[str, str]]:
    """The demo's staff (its 常用语 come with the demo store) and four owners: three handed off."""
    spec = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    await add_demo_staff(backend, spec)
    bus = backend.bus
    await bus.handle(commands.BindSender(ZHANG, "3", "2", "501", "13800000501"))
    await bus.handle(commands.RecordInbound(ZHANG, "厨房水管爆了，" + "水一直在流" * 20, community="shifan"))
    await bus.handle(commands.RecordInbound(WANG, "物业费怎么交", community="shifan"))
    await bus.handle(commands.RecordInbound(LI, "人工", community="shifan"))
    await bus.handle(commands.RecordInbound(CHEN, "人工", community="yangguang"))
    await bus.handle(commands.HandOff(ZHANG, "requested"))
    clock.advance(minutes=3)
    await bus.handle(commands.HandOff(LI, "not_understood"))
    await bus.handle(commands.HandOff(CHEN, "requested"))
    clock.advance(minutes=2)
    members = {name: await _token(backend, name) for name in ("kefu_shifan", "kefu_yangguang", "zhuguan")}
    await bus.handle(commands.AddStaff("kefu2", "小周", "agent", "admin", ("shifan",)))
    members["kefu2"] = await _token(backend, "kefu2")
    return members


async def _get(client, url: str, auth: dict, status: int = 200):
    resp = await client.get(url, headers=auth)
    assert resp.status == status, await resp.text()
    return await resp.json()


async def test_tabs_search_and_items(backend, public_client, clock):
    staff = await _setup(backend, clock)
    kefu = staff["kefu_shifan"]
    waiting = await _get(public_client, "/api/conversations?tab=waiting", kefu)
    assert [c["sender"] for c in waiting] == [ZHANG, LI]  # longest wait first; 阳光小区's not shown
    first = waiting[0]
    assert first["reason_label"] == "业主要求人工" and waiting[1]["reason_label"] == "两次未能理解"
    assert first["waiting_seconds"] == 300 and first["assignee"] is None
    assert first["flat"] == "3号楼2单元501" and waiting[1]["flat"] is None
    assert first["last_text"].startswith("厨房水管爆了") and len(first["last_text"]) == 60
    assert {"channel", "community", "state", "handed_off_at", "last_inbound_at"} <= set(first)
    bot = await _get(public_client, "/api/conversations?tab=bot", kefu)
    assert [c["sender"] for c in bot] == [WANG] and bot[0]["waiting_seconds"] is None
    assert len(await _get(public_client, "/api/conversations?tab=all", kefu)) == 3
    assert [c["sender"] for c in await _get(public_client, "/api/conversations?state=bot", kefu)] == [WANG]
    await _get(public_client, "/api/conversations?tab=later", kefu, 400)

    for q in ("3-2-501", "3号楼2单元501", "138-0000-0501"):
        found = await _get(public_client, f"/api/conversations?q={q}", kefu)
        assert [c["sender"] for c in found] == [ZHANG], q
    assert await _get(public_client, "/api/conversations?q=9-9-909", kefu) == []
    assert await _get(public_client, "/api/conversations?q=张伟", kefu) == []

    resp = await public_client.post(f"/api/conversations/{LI}/claim", headers=kefu)
    assert resp.status == 200, await resp.text()
    mine = await _get(public_client, "/api/conversations?tab=mine", kefu)
    assert [c["sender"] for c in mine] == [LI] and mine[0]["assignee"] == "kefu_shifan"
    assert [c["sender"] for c in await _get(public_client, "/api/conversations?tab=waiting", kefu)] == [ZHANG]
    assert await _get(public_client, "/api/conversations?tab=mine", staff["kefu2"]) == []


async def test_detail_with_the_owner_masked_and_open_tickets(backend, public_client, clock):
    staff = await _setup(backend, clock)
    number = (await backend.bus.handle(commands.OpenTicket(ZHANG, "repair", "厨房漏水", "3", "2", "501"))).number
    detail = await _get(public_client, f"/api/conversations/{ZHANG}", staff["kefu_shifan"])
    assert detail["binding"] == {
        "community": "shifan",
        "building": "3",
        "unit": "2",
        "room": "501",
        "flat": "3号楼2单元501",
        "owner_name": "张伟",
        "phone": "138****0501",
    }
    assert "13800000501" not in str(detail)
    assert [t["id"] for t in detail["open_tickets"]] == [number]
    assert (detail["state"], detail["reason_label"], detail["assignee"]) == ("handed_off", "业主要求人工", None)
    assert (await _get(public_client, f"/api/conversations/{LI}", staff["kefu_shifan"]))["binding"] is None
    await _get(public_client, f"/api/conversations/{CHEN}", staff["kefu_shifan"], 404)  # another community's
    await _get(public_client, "/api/conversations/webchat:nobody", staff["kefu_shifan"], 404)


async def test_claims_force_and_handback(backend, public_client, clock, dialogue):
    staff = await _setup(backend, clock)
    kefu, kefu2, lead = staff["kefu_shifan"], staff["kefu2"], staff["zhuguan"]
    # taken from the assistant: handed off at once, the desk is not told someone waits
    resp = await public_client.post(f"/api/conversations/{WANG}/claim", json={}, headers=kefu)
    assert resp.status == 200, await resp.text()
    claimed = await resp.json()
    assert (claimed["state"], claimed["assignee"]) == ("handed_off", "kefu_shifan")
    detail = await _get(public_client, f"/api/conversations/{WANG}", kefu)
    assert (detail["handoff_reason"], detail["reason_label"]) == ("staff_took_over", "客服主动接管")
    async with backend.new_uow() as uow:
        waiting_notices = await uow.session.scalar(
            select(func.count()).select_from(model.Notification).where(model.Notification.kind == "handoff_waiting")
        )
    assert waiting_notices == 3  # the three owners who asked, not the one staff took

    resp = await public_client.post(f"/api/conversations/{WANG}/claim", json={"force": True}, headers=kefu2)
    assert resp.status == 409
    assert (await resp.json())["error"] == "claimed" and (await resp.json())["assignee"] == "kefu_shifan"
    resp = await public_client.post(f"/api/conversations/{WANG}/claim", headers=kefu)  # again: still mine
    assert resp.status == 200
    resp = await public_client.post(f"/api/conversations/{WANG}/claim", json={"force": True}, headers=lead)
    assert resp.status == 200 and (await resp.json())["assignee"] == "zhuguan"
    resp = await public_client.post(f"/api/conversations/{WANG}/claim", json={"force": "yes"}, headers=lead)
    assert resp.status == 400

    resp = await public_client.post(f"/api/conversations/{WANG}/handback", headers=lead)
    assert resp.status == 200 and dialogue.resumed == [WANG]
    detail = await _get(public_client, f"/api/conversations/{WANG}", kefu)
    assert (detail["state"], detail["assignee"], detail["handoff_reason"]) == ("bot", None, None)
    assert [c["sender"] for c in await _get(public_client, "/api/conversations?tab=bot", kefu)] == [WANG]
    resp = await public_client.post(f"/api/conversations/{CHEN}/claim", headers=kefu)
    assert resp.status == 404


async def test_notes_stay_with_staff_and_staff_messages_name_their_author(backend, public_client, clock):
    staff = await _setup(backend, clock)
    kefu = staff["kefu_shifan"]
    async with backend.new_uow() as uow:
        before = await uow.session.scalar(select(func.count()).select_from(model.Notification))
    note = {"text": "已电话联系，下午上门"}
    resp = await public_client.post(f"/api/conversations/{ZHANG}/notes", json=note, headers=kefu)
    assert resp.status == 201, await resp.text()
    assert (await resp.json())["author"] == "kefu_shifan"
    resp = await public_client.post(f"/api/conversations/{ZHANG}/notes", json={"text": "  "}, headers=kefu)
    assert resp.status == 400
    async with backend.new_uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(model.Notification)) == before
    clock.advance(minutes=1)
    resp = await public_client.post(f"/api/conversations/{ZHANG}/messages", json={"text": "您好，马上到"}, headers=kefu)
    assert resp.status == 202
    log = await _get(public_client, f"/api/conversations/{ZHANG}/messages", kefu)
    assert [(e["direction"], e.get("author")) for e in log] == [
        ("in", None),
        ("note", "kefu_shifan"),
        ("out", "kefu_shifan"),
    ]
    assert log[1]["text"] == "已电话联系，下午上门"
    names = {e["author_name"] for e in log if e.get("author")}  # the console names a colleague, not a login
    assert names == {(await _get(public_client, "/console/api/me", kefu))["name"]} and None not in names
    resp = await public_client.post(f"/api/conversations/{CHEN}/notes", json={"text": "x"}, headers=kefu)
    assert resp.status == 404


async def test_canned_replies_scoped_like_everything_else(backend, public_client, clock):
    staff = await _setup(backend, clock)
    kefu, yg, lead = staff["kefu_shifan"], staff["kefu_yangguang"], staff["zhuguan"]
    mine = await _get(public_client, "/api/canned-replies", kefu)
    assert {r["community"] for r in mine} == {None, "shifan"} and len(mine) == 5
    assert {"id", "title", "text", "community", "updated_by", "updated_at"} == set(mine[0])
    assert {r["community"] for r in await _get(public_client, "/api/canned-replies", lead)} == {
        None,
        "shifan",
        "yangguang",
    }
    await _get(public_client, "/api/canned-replies?community=yangguang", kefu, 404)

    resp = await public_client.post("/api/canned-replies", json={"title": "停水", "text": "明早9点停水"}, headers=kefu)
    assert resp.status == 201, await resp.text()
    added = await resp.json()
    assert (added["community"], added["updated_by"]) == ("shifan", "kefu_shifan")  # their one community
    resp = await public_client.patch(f"/api/canned-replies/{added['id']}", json={"text": "明早10点停水"}, headers=kefu)
    assert resp.status == 200 and (await resp.json())["text"] == "明早10点停水"
    resp = await public_client.patch(f"/api/canned-replies/{added['id']}", json={"community": None}, headers=kefu)
    assert resp.status == 400
    resp = await public_client.patch(f"/api/canned-replies/{added['id']}", json={"text": "改"}, headers=yg)
    assert resp.status == 404  # another community's
    resp = await public_client.delete(f"/api/canned-replies/{added['id']}", headers=yg)
    assert resp.status == 404
    company = next(r for r in mine if r["community"] is None)
    resp = await public_client.patch(f"/api/canned-replies/{company['id']}", json={"text": "改"}, headers=kefu)
    assert resp.status == 404  # the company's: company-wide staff change those
    resp = await public_client.post(
        "/api/canned-replies", json={"title": "x", "text": "y", "community": "yangguang"}, headers=kefu
    )
    assert resp.status == 404
    resp = await public_client.post("/api/canned-replies", json={"title": "", "text": "y"}, headers=kefu)
    assert resp.status == 400
    resp = await public_client.delete(f"/api/canned-replies/{added['id']}", headers=kefu)
    assert resp.status == 204
    assert added["id"] not in [r["id"] for r in await _get(public_client, "/api/canned-replies", kefu)]
    resp = await public_client.post("/api/canned-replies", json={"title": "全公司", "text": "您好"}, headers=lead)
    assert resp.status == 201 and (await resp.json())["community"] is None
    technician = bearer((await backend.bus.handle(commands.AddStaff("t1", "师傅", "technician", "admin"))).token)
    await _get(public_client, "/api/canned-replies", technician, 403)


async def test_writing_to_an_owner_nobody_holds_claims_the_conversation(backend, public_client, clock, dialogue):
    """The assistant must not answer beside a person: a staff message to a conversation nobody
    holds claims it for its writer; one held by a colleague stays the colleague's."""
    staff = await _setup(backend, clock)
    kefu, kefu2 = staff["kefu_shifan"], staff["kefu2"]
    resp = await public_client.post(f"/api/conversations/{WANG}/messages", json={"text": "您好"}, headers=kefu)
    assert resp.status == 202
    detail = await _get(public_client, f"/api/conversations/{WANG}", kefu)
    assert (detail["state"], detail["assignee"], detail["handoff_reason"]) == (
        "handed_off",
        "kefu_shifan",
        "staff_took_over",
    )
    resp = await public_client.post(f"/api/conversations/{WANG}/messages", json={"text": "我补充一下"}, headers=kefu2)
    assert resp.status == 202
    assert (await _get(public_client, f"/api/conversations/{WANG}", kefu))["assignee"] == "kefu_shifan"


async def test_a_deactivated_members_conversations_wait_for_a_colleague_again(backend, public_client, clock):
    """Deactivating a member releases what they held: back in 待人工, and the desk is told."""
    staff = await _setup(backend, clock)
    kefu, lead = staff["kefu_shifan"], staff["zhuguan"]
    resp = await public_client.post(f"/api/conversations/{WANG}/claim", json={}, headers=kefu)
    assert resp.status == 200

    async def waiting_notices() -> int:
        async with backend.new_uow() as uow:
            return await uow.session.scalar(
                select(func.count()).select_from(model.Notification).where(model.Notification.kind == "handoff_waiting")
            )

    before = await waiting_notices()
    await backend.bus.handle(commands.DeactivateStaff("kefu_shifan", actor="admin"))
    detail = await _get(public_client, f"/api/conversations/{WANG}", lead)
    assert (detail["state"], detail["assignee"]) == ("handed_off", None)
    assert WANG in [c["sender"] for c in await _get(public_client, "/api/conversations?tab=waiting", lead)]
    assert await waiting_notices() > before
