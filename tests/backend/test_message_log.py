"""The message log staff read for one conversation: every message in and out, in order.

Protects: owner messages with what the assistant answered, and what was pushed later
(staff replies) with its delivery state; unknown conversations are 404, and only roles
that handle conversations may read it.
"""

from __future__ import annotations

from backend_bridge.domain import commands
from tests.conftest import ADMIN_TOKEN, bearer

OWNER = "webchat:owner-log-1"


async def test_staff_read_a_conversation_in_order(backend, public_client, clock):
    record = await backend.bus.handle(commands.RecordInbound(OWNER, "厨房水管漏水"))
    await backend.bus.handle(commands.RecordReplies(record.id, ("请问是哪里需要维修？",), answered=True))
    clock.advance(minutes=1)
    await backend.bus.handle(commands.SendStaffMessage(OWNER, "您好，我是管家小李", actor="li"))
    resp = await public_client.get(f"/api/conversations/{OWNER}/messages", headers=bearer(ADMIN_TOKEN))
    assert resp.status == 200
    log = await resp.json()
    assert [(e["direction"], e["text"]) for e in log] == [("in", "厨房水管漏水"), ("out", "您好，我是管家小李")]
    assert log[0]["replies"] == ["请问是哪里需要维修？"]
    assert log[1]["status"] == "pending" and log[1]["delivered_at"] is None


async def test_unknown_conversations_and_other_roles(backend, public_client):
    resp = await public_client.get("/api/conversations/webchat:nobody/messages", headers=bearer(ADMIN_TOKEN))
    assert resp.status == 404
    await backend.bus.handle(commands.RecordInbound(OWNER, "你好"))
    token = (await backend.bus.handle(commands.AddStaff("wang", "王师傅", "technician", "admin"))).token
    resp = await public_client.get(f"/api/conversations/{OWNER}/messages", headers=bearer(token))
    assert resp.status == 403
    resp = await public_client.get(f"/api/conversations/{OWNER}/messages")
    assert resp.status == 401 and "厨房" not in await resp.text()


async def test_an_anonymous_complaints_number_never_shows_beside_the_chat_id(backend, public_client, clock):
    """Staff reading the conversation must not learn which complaint it made anonymously (the
    number in the assistant's answer and in later updates is hidden); its other tickets show."""
    record = await backend.bus.handle(commands.RecordInbound(OWNER, "匿名投诉楼上半夜装修"))
    secret = await backend.bus.handle(
        commands.OpenTicket(OWNER, "complaint", "楼上半夜装修", "3", "2", "501", anonymous=True)
    )
    open_one = await backend.bus.handle(commands.OpenTicket(OWNER, "repair", "厨房水管漏水", "3", "2", "501"))
    answer = f"已匿名登记投诉，工单号 {secret.number}。另有报修 {open_one.number}。"
    await backend.bus.handle(commands.RecordReplies(record.id, (answer,), answered=True))
    clock.advance(minutes=1)
    await backend.bus.handle(commands.AddStaff("wang", "王师傅", "technician", "admin"))
    await backend.bus.handle(commands.AssignTicket(secret.number, "wang", actor="admin"))
    await backend.bus.handle(commands.ChangeTicketStatus(secret.number, "in_progress", actor="wang"))
    resp = await public_client.get(f"/api/conversations/{OWNER}/messages", headers=bearer(ADMIN_TOKEN))
    text = await resp.text()
    assert secret.number not in text and open_one.number in text
    log = await resp.json()
    assert log[0]["replies"] == [f"已匿名登记投诉，工单号 [匿名投诉]。另有报修 {open_one.number}。"]
    assert log[-1]["text"] == "您的工单 [匿名投诉] 正在处理中。"
