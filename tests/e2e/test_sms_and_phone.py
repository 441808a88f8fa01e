"""SMS and hotline calls through the whole stack with the real Rasa: the provider's pushes and the
ASR provider's callbacks in, answers and status updates out by SMS at the fake Aliyun (the shared
channel stack, tests/e2e/phone_world.py).

Protects: an elderly owner's repair told in several terse SMS opening the ticket, every answer
and every status update reaching the phone as an approved template; a long, unpunctuated call
whose request comes late opening the right ticket (the flat said early, the fault said later, the
agent's words never read as the owner's), with intake phone, and one SMS to the caller saying so;
an emergency in a call opening an emergency ticket and putting the conversation with staff at once."""

from __future__ import annotations

import random
import re

import pytest

from tests.e2e.conftest import Staff
from tests.e2e.phone_world import notices, post_call, sms_from, wait_for_sms
from tests.e2e.test_conversations import ticket_number

AGENT, CALLER = 1, 0


def new_mobile() -> str:
    """A number on file nowhere, so the call itself must say the flat."""
    return "1390" + "".join(random.choices("0123456789", k=7))


def test_an_elderly_owners_sms_repair_in_several_messages_opens_a_ticket_and_every_update_reaches_the_phone(
    wechat_world,
):
    fake, mobile = wechat_world.sms, new_mobile()
    assert sms_from(wechat_world.stack.url, fake, mobile, "报修") == (200, {"code": 0, "msg": "接收成功"})
    assert "哪里" in wait_for_sms(fake, mobile, 1)[-1]
    sms_from(wechat_world.stack.url, fake, mobile, "三号楼二单元五零一")
    sms_from(wechat_world.stack.url, fake, mobile, "厨房水龙头一直滴水")
    confirm = wait_for_sms(fake, mobile, 3)[-1]
    assert "3号楼2单元501" in confirm and "水龙头" in confirm
    sms_from(wechat_world.stack.url, fake, mobile, "是")
    number = ticket_number(wait_for_sms(fake, mobile, 4)[-1])

    staff = Staff(wechat_world.stack)
    ticket = staff.ticket(number)
    assert (ticket["sender"], ticket["room"], ticket["intake"]) == (f"sms:{mobile}", "501", "assistant")
    staff.assign(number)
    assert staff.post(f"/api/tickets/{number}/status", {"status": "in_progress"})[0] == 200
    assert staff.post(f"/api/tickets/{number}/status", {"status": "resolved"})[0] == 200
    updates = wait_for_sms(fake, mobile, 7)[4:]
    assert updates[0].startswith(f"{number}|已派单，王师傅")
    assert updates[1:] == [f"{number}|处理中", f"{number}|已处理完，回复满意/一般/不满意评价"]
    templates = fake.call(lambda f: [template for template, _ in notices(f.texts_to(mobile))])
    assert templates == ["SMS_REPLY"] * 4 + ["SMS_STATUS"] * 3


@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
def test_a_long_call_whose_request_comes_late_opens_the_right_ticket_and_the_caller_gets_an_sms(wechat_world, provider):
    mobile = new_mobile()
    lines = [
        (AGENT, "您好这里是阳光物业服务中心请问有什么可以帮您"),
        (CALLER, "喂你好"),
        (AGENT, "您好您请讲"),
        (CALLER, "我是三号楼二单元五零一的业主"),
        (AGENT, "好的您说什么事情"),
        (CALLER, "就是我家卫生间的水管漏水了一直在往下滴"),
        (AGENT, "好的三号楼二单元五零一卫生间水管漏水我给您登记一下对吧"),
        (CALLER, "是的"),
        (AGENT, "好的师傅会尽快联系您"),
        (CALLER, "好的谢谢再见"),
    ]
    status, answer = post_call(wechat_world.stack.url, wechat_world.sms, provider, mobile, lines)
    assert (status, answer) == (200, {"code": 0, "message": "success"})

    staff = Staff(wechat_world.stack)
    status, logged = staff.get(f"/api/conversations/phone:{mobile}/messages")
    assert status == 200, logged
    replies = "\n".join(r for entry in logged for r in entry.get("replies", []))
    found = re.search(r"[A-Z]{2}\d{6}", replies)
    assert found, logged
    ticket = staff.ticket(found.group(0))
    assert (ticket["kind"], ticket["sender"], ticket["intake"]) == ("repair", f"phone:{mobile}", "phone")
    assert (ticket["building"], ticket["unit"], ticket["room"]) == ("3", "2", "501")
    assert "漏水" in ticket["description"] and "登记" not in ticket["description"]  # the agent's words stay out

    sms = wait_for_sms(wechat_world.sms, mobile, 1)
    assert len(sms) == 1 and found.group(0) in sms[0]


def test_an_emergency_in_a_call_opens_an_emergency_ticket_and_goes_to_staff_at_once(wechat_world):
    mobile = new_mobile()
    lines = [
        (AGENT, "物业您好"),
        (CALLER, "快来人啊五号楼一单元电梯困人了里面有个老人"),
        (AGENT, "好的马上派人"),
    ]
    status, _ = post_call(wechat_world.stack.url, wechat_world.sms, "aliyun", mobile, lines)
    assert status == 200
    staff = Staff(wechat_world.stack)
    status, waiting = staff.get("/api/conversations?state=handed_off")
    assert status == 200 and f"phone:{mobile}" in [c["sender"] for c in waiting], waiting
    status, tickets = staff.get("/api/tickets?priority=emergency&limit=200")
    assert status == 200
    mine = [t for t in tickets if t.get("sender") == f"phone:{mobile}"]
    assert mine and mine[0]["intake"] == "phone", tickets
