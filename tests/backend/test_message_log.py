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
