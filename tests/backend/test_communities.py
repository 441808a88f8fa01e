"""Many communities in one store, over real HTTP on both databases.

Protects: a staff member scoped to one community never sees or changes another's tickets,
passes, conversations, notifications, colleagues or statistics — every staff route and role is
tried against the other community and refused exactly as if the thing did not exist (404; 403
where the role may not use the route at all); owners routed to their community by the entry
point, by their own words and by their flat, and a landlord with flats in two asked which one;
each community's content (fees, hotlines) and service levels applied; statistics per community.
The demo (content/demo_community.yml) has two: 示例花园小区 (shifan) and 阳光小区 (yangguang).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import yaml
from sqlalchemy import select

from backend_bridge.adapters.spreadsheets import read_table
from backend_bridge.demo import add_demo_staff
from backend_bridge.domain import commands, model
from tests.conftest import ADMIN_TOKEN, DEMO, INTERNAL_TOKEN, bearer

ADMIN = bearer(ADMIN_TOKEN)
CHEN = "webchat:chen-yg-7f3a"  # 陈芳, an owner in 阳光小区 (2-1-302)
CHEN_FLAT = {"building": "2", "unit": "1", "room": "302", "phone": "13800001302"}
ZHANG = "webchat:zhang-both-91c2"  # 张伟, a landlord: 3-2-501 in 示例花园, 7-1-1102 in 阳光小区
ZHANG_SF = {"building": "3", "unit": "2", "room": "501", "phone": "13800000501"}
ZHANG_YG = {"building": "7", "unit": "1", "room": "1102", "phone": "13800000501"}
ROLES = ("agent", "technician", "supervisor", "admin")


async def outbox(uow) -> list[model.Notification]:
    return list((await uow.session.scalars(select(model.Notification).order_by(model.Notification.id))).all())


async def bind(backend, sender: str, flat: dict) -> str:
    return (await backend.bus.handle(commands.BindSender(sender=sender, **flat))).status


async def say(backend, sender: str, text: str, community: str | None = None):
    return await backend.bus.handle(commands.RecordInbound(sender, text, community=community))


@pytest.fixture(autouse=True)
async def demo_staff(backend) -> None:
    """The demo's staff: kefu_/shifu_ of each community and zhuguan, a company-wide supervisor."""
    await add_demo_staff(backend, yaml.safe_load(DEMO.read_text(encoding="utf-8")))


async def the_other_community(backend) -> dict:
    """阳光小区's things: a ticket (assigned to its technician), a pass, a conversation, a dead
    notification, a colleague."""
    assert await bind(backend, CHEN, CHEN_FLAT) == "bound"
    ticket = (await backend.bus.handle(commands.OpenTicket(CHEN, "repair", "客厅灯不亮", "2", "1", "302"))).number
    await backend.bus.handle(commands.AssignTicket(ticket, "shifu_yangguang", actor="kefu_yangguang"))
    start = backend.clock() + timedelta(hours=2)
    code = (await backend.bus.handle(commands.IssuePass(CHEN, "小王", start=start, end=None, time_kind="point"))).code
    async with backend.new_uow() as uow:
        notification = (await outbox(uow))[0]
        notification.status = model.NotificationStatus.DEAD
        await uow.commit()
        dead = notification.id
    canned = await backend.bus.handle(
        commands.SaveCannedReply("kefu_yangguang", title="停水", text="明早停水", community="yangguang")
    )
    return {
        "ticket": ticket,
        "pass": code,
        "sender": CHEN,
        "notification": dead,
        "colleague": "kefu_yangguang",
        "canned": canned.id,
    }


async def shifan_member(client, role: str) -> dict[str, str]:
    resp = await client.post(
        "/api/staff",
        json={"username": f"sf_{role}", "name": role, "role": role, "communities": ["shifan"]},
        headers=ADMIN,
    )
    assert resp.status == 201, await resp.text()
    return bearer((await resp.json())["token"])


def requests_against(other: dict, own_ticket: str) -> list[tuple[str, str, dict | None, str]]:
    """(method, path, body, permission) for every staff route, aimed at the other community."""
    t, s = other["ticket"], other["sender"]
    return [
        ("GET", f"/api/tickets/{t}", None, "tickets.read"),
        ("POST", f"/api/tickets/{t}/assign", {"assignee": "sf_agent"}, "tickets.assign"),
        ("POST", f"/api/tickets/{t}/status", {"status": "in_progress"}, "tickets.work"),
        ("POST", f"/api/tickets/{t}/comments", {"note": "看一下"}, "tickets.work"),
        ("POST", f"/api/tickets/{t}/merge", {"into": own_ticket}, "tickets.merge"),
        ("POST", f"/api/tickets/{own_ticket}/merge", {"into": t}, "tickets.merge"),
        ("GET", "/api/tickets?community=yangguang", None, "tickets.read"),
        ("GET", "/api/tickets.csv?community=yangguang", None, "tickets.read"),
        (
            "POST",
            "/api/tickets",
            {"kind": "repair", "description": "代报修", "community": "yangguang"},
            "tickets.create",
        ),
        ("GET", f"/api/passes/{other['pass']}", None, "passes"),
        ("POST", f"/api/passes/{other['pass']}/use", {}, "passes"),
        ("GET", f"/api/conversations/{s}/messages", None, "conversations"),
        ("POST", f"/api/conversations/{s}/handback", {}, "conversations"),
        ("POST", f"/api/conversations/{s}/messages", {"text": "您好"}, "conversations"),
        ("GET", f"/api/conversations/{s}", None, "conversations"),
        ("GET", "/api/conversations?community=yangguang", None, "conversations"),
        ("POST", f"/api/conversations/{s}/claim", {"force": True}, "conversations"),
        ("POST", f"/api/conversations/{s}/notes", {"text": "看一下"}, "conversations"),
        ("GET", "/api/canned-replies?community=yangguang", None, "conversations"),
        ("POST", "/api/canned-replies", {"title": "x", "text": "y", "community": "yangguang"}, "conversations"),
        ("PATCH", f"/api/canned-replies/{other['canned']}", {"text": "改"}, "conversations"),
        ("DELETE", f"/api/canned-replies/{other['canned']}", None, "conversations"),
        ("POST", f"/api/notifications/{other['notification']}/retry", {}, "notifications"),
        ("POST", f"/api/staff/{other['colleague']}/token", {}, "staff"),
        ("POST", f"/api/staff/{other['colleague']}/deactivate", {}, "staff"),
        ("PATCH", f"/api/staff/{other['colleague']}", {"wecom_userid": "Intruder"}, "staff"),
        ("POST", f"/api/staff/{other['colleague']}/invite", {}, "staff"),
        ("POST", f"/api/staff/{other['colleague']}/password", {"password": "intruder-password"}, "staff"),
        ("POST", "/api/staff", {"username": "x1", "name": "x", "role": "agent", "communities": ["yangguang"]}, "staff"),
        ("GET", "/api/stats?community=yangguang", None, "stats"),
        ("GET", "/api/stats.csv?community=yangguang", None, "stats"),
        ("POST", "/api/imports/roster?community=yangguang", None, "imports"),
    ]


async def test_every_staff_route_and_role_refuses_the_other_community(public_client, backend):
    other = await the_other_community(backend)
    own = (await backend.bus.handle(commands.OpenTicket("webchat:sf-1", "repair", "门禁坏了", "3", "2", "501"))).number
    members = {role: await shifan_member(public_client, role) for role in ROLES}
    for role, auth in members.items():
        member_role = model.Role(role)
        for method, path, body, permission in requests_against(other, own):
            if path.startswith("/api/imports"):
                resp = await public_client.post(path, data="房号,姓名,手机\n".encode(), headers=auth)
            else:
                resp = await public_client.request(method, path, json=body, headers=auth)
            expected = 404 if member_role in model.PERMISSIONS[permission] else 403
            assert resp.status == expected, (role, method, path, resp.status, await resp.text())
    async with backend.new_uow() as uow:  # and nothing changed there
        ticket = await uow.tickets.by_number(other["ticket"])
        colleague = await uow.staff.by_username("kefu_yangguang")
        conversation = await uow.conversations.get(CHEN)
        dead = await uow.notifications.get(other["notification"])
        assert [e.type for e in ticket.history] == [model.EventType.OPENED, model.EventType.ASSIGNED]
        assert colleague.active and conversation.state is model.ConversationState.BOT
        assert conversation.assignee is None
        assert (await uow.canned_replies.get(other["canned"])).text == "明早停水"
        assert colleague.wecom_userid is None
        assert colleague.password_hash is None and colleague.invite_hash is None
        assert dead.status is model.NotificationStatus.DEAD
        assert await uow.staff.by_username("x1") is None
    resp = await public_client.get(f"/api/passes/{other['pass']}", headers=ADMIN)
    assert (await resp.json())["used_at"] is None


async def test_the_same_routes_work_for_staff_of_that_community(public_client, backend):
    """The control: what the table refuses to 示例花园's staff, 阳光小区's own staff may do."""
    other = await the_other_community(backend)
    resp = await public_client.post(
        "/api/staff",
        json={"username": "yg_lead", "name": "组长", "role": "supervisor", "communities": ["yangguang"]},
        headers=ADMIN,
    )
    auth = bearer((await resp.json())["token"])
    for path in (
        f"/api/tickets/{other['ticket']}",
        f"/api/passes/{other['pass']}",
        f"/api/conversations/{CHEN}/messages",
        "/api/stats?community=yangguang",
    ):
        resp = await public_client.get(path, headers=auth)
        assert resp.status == 200, (path, await resp.text())
    resp = await public_client.post(f"/api/tickets/{other['ticket']}/comments", json={"note": "已联系"}, headers=auth)
    assert resp.status == 201
    resp = await public_client.post(f"/api/notifications/{other['notification']}/retry", headers=auth)
    assert resp.status == 200


async def test_lists_show_only_the_callers_communities(public_client, backend):
    other = await the_other_community(backend)
    own = (await backend.bus.handle(commands.OpenTicket("webchat:sf-1", "repair", "门禁坏了", "3", "2", "501"))).number
    auth = await shifan_member(public_client, "supervisor")

    async def listed(path: str, headers=auth):
        resp = await public_client.get(path, headers=headers)
        assert resp.status == 200, await resp.text()
        return await resp.json()

    assert [t["id"] for t in await listed("/api/tickets")] == [own]
    assert [t["id"] for t in await listed(f"/api/tickets?q={other['ticket']}")] == []  # searched for by number
    exported = await (await public_client.get("/api/tickets.csv", headers=auth)).read()
    assert [cells[0] for _, cells in read_table(exported)[1:]] == [own]
    assert {t["id"] for t in await listed("/api/tickets", ADMIN)} == {own, other["ticket"]}
    assert {t["community"] for t in await listed("/api/tickets?community=yangguang", ADMIN)} == {"yangguang"}
    assert CHEN not in [c["sender"] for c in await listed("/api/conversations")]
    assert CHEN in [c["sender"] for c in await listed("/api/conversations", ADMIN)]
    assert other["notification"] not in [n["id"] for n in await listed("/api/notifications/dead")]
    assert other["notification"] in [n["id"] for n in await listed("/api/notifications/dead", ADMIN)]
    assert [c["code"] for c in await listed("/api/communities")] == ["shifan"]
    assert [c["code"] for c in await listed("/api/communities", ADMIN)] == ["shifan", "yangguang"]
    admin = await shifan_member(public_client, "admin")
    staff = {m["username"]: m["communities"] for m in await listed("/api/staff", admin)}
    assert "kefu_yangguang" not in staff and "zhuguan" not in staff and staff["kefu_shifan"] == ["shifan"]


async def test_statistics_per_community_and_for_the_company(public_client, backend):
    await the_other_community(backend)
    for _ in range(2):
        await backend.bus.handle(commands.OpenTicket("webchat:sf-1", "repair", "门禁坏了", "3", "2", "501"))

    async def opened(path: str, headers=ADMIN) -> int:
        resp = await public_client.get(path, headers=headers)
        assert resp.status == 200, await resp.text()
        return (await resp.json())["tickets"]

    assert await opened("/api/stats?community=yangguang") == 1
    assert await opened("/api/stats?community=shifan") == 2
    assert await opened("/api/stats") == 3
    resp = await public_client.get("/api/stats", headers=ADMIN)
    assert (await resp.json())["by_community"] == [
        {"community": "shifan", "count": 2},
        {"community": "yangguang", "count": 1},
    ]
    assert await opened("/api/stats", await shifan_member(public_client, "supervisor")) == 2


# -- routing owners -----------------------------------------------------------------------------


async def test_the_entry_point_routes_a_new_owner_and_the_owner_s_words_win(backend):
    await say(backend, "webchat:new-1", "你好", community="yangguang")
    await say(backend, "webchat:new-1", "你好", community="shifan")  # a link does not undo the first routing
    async with backend.new_uow() as uow:
        assert (await uow.conversations.get("webchat:new-1")).community == "yangguang"
    routed = await say(backend, "webchat:new-1", "我是示例花园的业主，电梯坏了")
    assert (routed.routed_to, routed.names_only) == ("示例花园小区", False)
    async with backend.new_uow() as uow:
        assert (await uow.conversations.get("webchat:new-1")).community == "shifan"


async def test_an_unknown_entry_point_code_routes_nowhere(backend):
    await say(backend, "webchat:new-2", "你好", community="nowhere")
    async with backend.new_uow() as uow:
        assert (await uow.conversations.get("webchat:new-2")).community is None


async def test_naming_only_the_community_is_confirmed_by_the_gateway_without_the_assistant(public_client):
    resp = await public_client.post("/api/chat", json={"sender": "new-3", "text": "我是阳光小区的"})
    replies = [r["text"] for r in (await resp.json())["replies"]]
    assert replies == ["好的，接下来为您办理阳光小区的事。请问有什么可以帮您？"]


async def test_the_web_chat_link_carries_its_community(public_client, backend):
    await public_client.post("/api/chat", json={"sender": "new-4", "text": "你好", "community": "yangguang"})
    async with backend.new_uow() as uow:
        assert (await uow.conversations.get("webchat:new-4")).community == "yangguang"
    resp = await public_client.post("/api/chat", json={"sender": "new-4", "text": "x", "community": "../etc"})
    assert resp.status == 400


async def test_an_owner_s_flat_routes_them_and_answers_come_from_their_community(internal_client, backend):
    assert await bind(backend, CHEN, CHEN_FLAT) == "bound"
    headers = bearer(INTERNAL_TOKEN)
    resp = await internal_client.get("/bot/v1/content/fees/standard", params={"sender": CHEN}, headers=headers)
    assert "1.80元" in (await resp.json())["text"]
    resp = await internal_client.get("/bot/v1/content", params={"sender": CHEN}, headers=headers)
    assert (await resp.json())["duty_hotline"] == "0571-8666 2222"
    resp = await internal_client.get("/bot/v1/content", params={"sender": "webchat:unrouted"}, headers=headers)
    assert (await resp.json())["name"] == "示例物业"  # nobody knows the community yet: the company answers
    resp = await internal_client.get(
        "/bot/v1/rooms", params={"sender": CHEN, "building": "3", "unit": "2", "room": "501"}, headers=headers
    )
    assert (await resp.json())["exists"] is False  # 3-2-501 is 示例花园's, not 阳光小区's


async def test_a_landlord_with_flats_in_two_communities_is_asked_which_one(internal_client, backend):
    headers = bearer(INTERNAL_TOKEN)
    assert await bind(backend, ZHANG, ZHANG_SF) == "bound"
    await say(backend, ZHANG, "阳光小区我也有一套")
    assert await bind(backend, ZHANG, ZHANG_YG) == "bound"
    async with backend.new_uow() as uow:
        assert set(await uow.bindings.for_sender(ZHANG)) == {"shifan", "yangguang"}
        (await uow.conversations.get(ZHANG)).community = None  # a new day: nothing said yet
        await uow.commit()
    resp = await internal_client.get("/bot/v1/ledger", params={"sender": ZHANG}, headers=headers)
    assert resp.status == 409
    body = await resp.json()
    assert (body["error"], body["choices"]) == ("which_community", ["示例花园小区", "阳光小区"])
    await say(backend, ZHANG, "阳光小区")
    resp = await internal_client.get("/bot/v1/ledger", params={"sender": ZHANG}, headers=headers)
    assert (await resp.json())["location"].startswith("7号楼")


async def test_each_community_s_service_levels_set_the_deadlines(backend):
    assert await bind(backend, CHEN, CHEN_FLAT) == "bound"
    yg = await backend.bus.handle(commands.OpenTicket(CHEN, "repair", "水龙头滴水", "2", "1", "302"))
    sf = await backend.bus.handle(commands.OpenTicket("webchat:sf-2", "repair", "水龙头滴水", "3", "2", "501"))
    async with backend.new_uow() as uow:
        yg_ticket, sf_ticket = await uow.tickets.by_number(yg.number), await uow.tickets.by_number(sf.number)
    assert (yg_ticket.community, sf_ticket.community) == ("yangguang", "shifan")
    assert yg_ticket.respond_by - yg_ticket.created_at == timedelta(minutes=20)  # content/communities/yangguang.yml
    assert sf_ticket.respond_by - sf_ticket.created_at == timedelta(minutes=30)  # the company's, which shifan keeps
    assert "20分钟" in yg.promise and "30分钟" in sf.promise


async def test_an_emergency_from_an_unrouted_owner_is_the_company_desk_s(public_client, backend):
    number = (
        await backend.bus.handle(
            commands.ReportEmergency("webchat:nobody", "gas_leak", "楼道煤气味", public_area="楼道")
        )
    ).number
    sf = await shifan_member(public_client, "agent")
    assert (await public_client.get(f"/api/tickets/{number}", headers=sf)).status == 404
    resp = await public_client.get(f"/api/tickets/{number}", headers=ADMIN)
    assert (await resp.json())["community"] is None


async def test_alerts_go_to_the_supervisors_of_the_ticket_s_community(backend):
    await backend.bus.handle(commands.AddStaff("yg_sup", "阳光主管", "supervisor", "admin", ("yangguang",)))
    await backend.bus.handle(commands.AddStaff("sf_sup", "示例主管", "supervisor", "admin", ("shifan",)))
    assert await bind(backend, CHEN, CHEN_FLAT) == "bound"
    await backend.bus.handle(commands.ReportEmergency(CHEN, "flooding", "楼上漏水很大", "2", "1", "302"))
    async with backend.new_uow() as uow:
        recipients = {n.recipient for n in await outbox(uow)}
    assert {"staff:yg_sup", "staff:zhuguan"} <= recipients  # zhuguan is company-wide
    assert "staff:sf_sup" not in recipients


async def test_staff_of_one_community_cannot_be_assigned_another_s_ticket(backend):
    assert await bind(backend, CHEN, CHEN_FLAT) == "bound"
    number = (await backend.bus.handle(commands.OpenTicket(CHEN, "repair", "客厅灯不亮", "2", "1", "302"))).number
    with pytest.raises(model.DomainError, match="does not work in this ticket's community"):
        await backend.bus.handle(commands.AssignTicket(number, "shifu_shifan", actor="admin"))


async def test_a_roster_import_can_replace_a_community_s_roster(public_client, backend):
    assert await bind(backend, CHEN, CHEN_FLAT) == "bound"
    roster = "楼栋,单元,房号,姓名,手机\n2,1,301,新业主,13911112222\n".encode()
    resp = await public_client.post("/api/imports/roster?community=yangguang&replace=1", data=roster, headers=ADMIN)
    assert resp.status == 200, await resp.text()
    counts = (await resp.json())["imported"]
    assert counts["community"] == "yangguang" and counts["owners"]["added"] == 1
    assert counts["owners"]["removed"] == 66  # every owner of 阳光小区's 66 flats (2-1-301's by another phone)
    async with backend.new_uow() as uow:
        assert await uow.bindings.for_sender(CHEN) == {}  # 陈芳 left the roster: her binding went with her
        shifan = await uow.rooms.find("3", "2", "501", "shifan")
        assert [o.name for o in shifan.owners] == ["张伟"]  # the other community is untouched
    resp = await public_client.post("/api/imports/roster?replace=1", data=roster, headers=ADMIN)
    assert resp.status == 409  # two communities: the file must say which


def test_mentioned_takes_the_longest_alias_and_refuses_two():
    aliases = {"yangguang": ["阳光小区", "阳光"], "ygh": ["阳光花园"], "shifan": ["示例花园", "示例"]}
    assert model.mentioned("我住阳光花园3栋", aliases) == "ygh"
    assert model.mentioned("阳光小区停电了", aliases) == "yangguang"
    assert model.mentioned("阳光小区和示例花园都有房", aliases) is None
    assert model.mentioned("今天天气好", aliases) is None
    assert model.names_only("我是阳光的。", ["阳光小区", "阳光"])
    assert not model.names_only("阳光小区电梯坏了", ["阳光小区", "阳光"])


async def test_a_community_added_to_the_content_is_served_without_a_restart(tmp_path, dialogue):
    import shutil

    from backend_bridge.bootstrap import bootstrap
    from backend_bridge.service_layer.ports import NullNotifier
    from tests.conftest import CONTENT

    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    backend = await bootstrap(f"sqlite:///{tmp_path / 'new.db'}", content, dialogue, NullNotifier())
    try:
        (content / "communities" / "xinyuan.yml").write_text("community:\n  name: 新苑小区\n", encoding="utf-8")
        backend.content.refresh()
        routed = await say(backend, "webchat:xy-1", "你好", community="xinyuan")
        assert routed.routed_to == "新苑小区"
        async with backend.new_uow() as uow:
            assert [c.code for c in await uow.communities.all()] == ["shifan", "xinyuan", "yangguang"]
    finally:
        await backend.close()
