"""Two communities through the running stack (`make run`'s demo): each community's link routes its
owners, and the assistant answers with that community's content and service levels.

Protects: the web chat's ?c=<code> reaching the conversation through the real Rasa and action
server; fee answers and promised times coming from the owner's community, the company's while
the owner's community is unknown; `make run` listing both demo communities with their links.
"""

from __future__ import annotations

import uuid

from tests.conftest import ADMIN_TOKEN
from tests.e2e.conftest import http
from tests.e2e.test_conversations import ticket_number


def chat(stack, user: str, text: str, community: str | None = None) -> str:
    body = {"sender": user, "text": text} | ({"community": community} if community else {})
    status, reply = http("POST", f"{stack.url}/api/chat", body)
    assert status == 200, reply
    return "\n".join(r["text"] for r in reply["replies"])


def test_make_run_lists_both_demo_communities_with_their_links(stack):
    lines = "\n".join(stack.community_lines())
    assert f"示例花园小区 (shifan): {stack.url}/?c=shifan" in lines
    assert f"阳光小区 (yangguang): {stack.url}/?c=yangguang" in lines


def test_each_community_s_link_gets_its_own_fee_answer(stack):
    yangguang = chat(stack, uuid.uuid4().hex, "物业费怎么交", community="yangguang")
    shifan = chat(stack, uuid.uuid4().hex, "物业费怎么交", community="shifan")
    assert "南门东侧" in yangguang and "示例花园" not in yangguang
    assert "1号楼一楼" in shifan and "南门东侧" not in shifan


def test_a_repair_through_a_community_s_link_gets_its_service_level(stack):
    user = uuid.uuid4().hex
    summary = chat(stack, user, "2号楼1单元302 客厅的灯不亮了", community="yangguang")
    assert "2号楼1单元302" in summary
    done = chat(stack, user, "是的", community="yangguang")
    assert "20分钟" in done  # 阳光小区 answers ordinary repairs within 20 minutes (示例花园: 30)
    status, ticket = http(
        "GET",
        f"{stack.url}/api/tickets/{ticket_number(done)}",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert status == 200 and ticket["community"] == "yangguang"
