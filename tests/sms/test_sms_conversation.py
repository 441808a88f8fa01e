"""An owner texting the community's number, through the real public app, the gateway, the
dispatcher and a fake provider (Aliyun and Tencent).

Protects: a repair told in several SMS opening the ticket, every answer and status update
reaching the phone as an approved template with the operator's variables, the provider's
message id and billed parts kept; a long answer's each further piece one commit (its sent-mark
written with the day's count); the number on file binding the conversation to the flat;
the provider's repeated push answered once; unknown tokens, malformed and oversized pushes
refused with nothing processed.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from backend_bridge.domain import commands, model
from tests.sms.conftest import CODES, MOBILE, SENDER
from tests.test_turn_cost import counted


async def test_an_sms_repair_in_several_messages_opens_a_ticket_and_updates_reach_the_phone(sms, provider):
    status, answer = await sms.writes("报修")
    assert status == 200
    assert answer == ({"code": 0, "msg": "接收成功"} if provider == "aliyun" else {"result": 0, "errmsg": "OK"})
    await sms.deliver()
    await sms.writes("厨房水管漏水")
    await sms.deliver()
    await sms.writes("3栋2单元501")
    await sms.deliver()
    status_code, reply_code = CODES[provider]
    assert [s["template"] for s in sms.fake.texts_to(MOBILE)] == [reply_code] * 3
    number = sms.received()[-1].removeprefix("已登记报修，工单号").removesuffix("。")
    assert sms.received()[:2] == ["好的，请问哪里坏了？", "请告诉我地址，比如3栋2单元501。"]

    async with sms.backend.new_uow() as uow:
        ticket = await uow.tickets.by_number(number)
        assert (ticket.sender, ticket.description) == (SENDER, "厨房水管漏水")
        bound = await uow.bindings.for_sender(SENDER)
        flats = {(r.building, r.unit, r.room) for b in bound.values() if (r := await uow.rooms.get(b.room_id))}
    # 13800000501 is on file for 3-2-501 (and a flat in the other demo community): bound without questions
    assert ("3", "2", "501") in flats and len(bound) == 2

    await sms.backend.bus.handle(commands.AddStaff("wang", "王师傅", "technician", actor="admin"))
    expected = sms.backend.clock() + timedelta(hours=2)
    await sms.backend.bus.handle(commands.AssignTicket(number, "wang", actor="admin", expected_at=expected))
    await sms.backend.bus.handle(commands.ChangeTicketStatus(number, "in_progress", actor="wang"))
    await sms.backend.bus.handle(commands.ChangeTicketStatus(number, "resolved", actor="wang"))
    await sms.deliver()
    updates = [s for s in sms.fake.texts_to(MOBILE) if s["template"] == status_code]
    assert [u["values"] for u in updates] == [
        {"number": number, "status": "已派单，王师傅12:30前上门"},
        {"number": number, "status": "处理中"},
        {"number": number, "status": "已处理完，回复满意/一般/不满意评价"},
    ]
    *_, assigned, started, resolved = await sms.notices()
    assert {n.delivered_via for n in (assigned, started, resolved)} == {"template"}
    assert [n.provider_message_id for n in (assigned, started, resolved)] == [u["id"] for u in updates]
    assert all(n.billed_parts == 1 for n in (assigned, started, resolved))
    assert [u["out_id"] for u in updates] == [n.key for n in (assigned, started, resolved)]


async def test_the_number_is_normalised_into_one_conversation(sms, provider):
    for written in ("+8613800000501", "0086 138 0000 0501", "13800000501"):
        await sms.writes(f"你好{len(written)}", mobile=written)
    assert await sms.inbound() == ["你好14", "你好18", "你好11"]


async def test_the_same_push_twice_is_answered_once(sms, provider):
    body = sms.fake.reply_push(MOBILE, "楼道灯不亮")
    assert (await sms.push(body))[0] == 200
    assert (await sms.push(body))[0] == 200  # the provider did not get our answer in time and retried
    await sms.deliver()
    assert sms.rasa.seen == [(SENDER, "楼道灯不亮")]
    assert sms.received() == ["收到：楼道灯不亮"]
    assert await sms.inbound() == ["楼道灯不亮"]


async def test_a_long_answer_goes_in_short_parts_once_each(sms, provider):
    await sms.writes("你好")
    await sms.deliver()
    await sms.backend.bus.handle(
        commands.SendStaffMessage(SENDER, "您好，" + "维修师傅明天上午到，请家里留人。" * 4, actor="admin")
    )
    await sms.deliver()
    parts = sms.received()[1:]
    assert len(parts) == 2 and all(len(p) <= 35 for p in parts)  # 67 characters: 35 + 32
    assert "".join(parts) == "您好，" + "维修师傅明天上午到，请家里留人。" * 4
    _, notice = await sms.notices()
    assert notice.delivered_via == "reply" and notice.billed_parts == 2


@pytest.mark.parametrize(
    ("token", "provider_in_path", "body", "status"),
    [
        ("wrong-token-0123456789", None, None, 404),
        (None, "other", None, 404),
        (None, None, b"not json", 400),
        (None, None, b"[]", 400),
        (None, None, json.dumps([{"content": "x"}]).encode(), 400),
        (None, None, json.dumps([{"phone_number": "12345", "content": "x", "send_time": "t"}]).encode(), 400),
        (None, None, b"[" + b" " * (70 * 1024) + b"]", 413),
    ],
)
async def test_bad_tokens_malformed_and_oversized_pushes_are_refused_with_nothing_processed(
    sms, provider, token, provider_in_path, body, status
):
    from tests.sms.conftest import PUSH_TOKEN

    good = sms.fake.reply_push(MOBILE, "电梯坏了")
    if provider == "tencent" and body is not None and body.startswith(b"[{"):
        body = body.replace(b"phone_number", b"mobile").replace(b"content", b"text")
    path_provider = provider_in_path or provider
    resp = await sms.client.post(f"/sms/{path_provider}/{token or PUSH_TOKEN}", data=body or good)
    assert resp.status == status
    resp = await sms.client.post(f"/sms/{path_provider}/{token or PUSH_TOKEN}/report", data=body or b"[]")
    assert resp.status == (status if body is not None or status == 404 else 400)
    await sms.deliver()
    assert await sms.inbound() == [] and sms.rasa.seen == [] and sms.fake.sent == []


async def test_a_number_not_on_file_is_answered_but_not_bound(sms, provider):
    await sms.writes("你好", mobile="13912345678")
    await sms.deliver()
    assert sms.received("13912345678") == ["收到：你好"]
    async with sms.backend.new_uow() as uow:
        assert await uow.bindings.for_sender("sms:13912345678") == {}


async def test_an_update_with_neither_its_template_nor_the_generic_one_is_dead_lettered(sms, provider, content_dir):
    text = (content_dir / "company.yml").read_text(encoding="utf-8")
    (content_dir / "company.yml").write_text(text[: text.index("  late_reply:")], encoding="utf-8")
    sms.backend.content.refresh()
    await sms.backend.bus.handle(commands.RecordInbound(SENDER, "你好"))
    await sms.backend.bus.handle(commands.SendStaffMessage(SENDER, "您好", actor="admin"))
    await sms.deliver()
    (notice,) = await sms.notices()
    assert notice.status is model.NotificationStatus.DEAD and "late_reply" in notice.last_error


async def test_a_long_answer_reaches_the_phone_whole_in_pieces_of_the_generic_template(sms, provider):
    said = "我家厨房的水管从昨天晚上开始一直在漏水，地板都泡了，楼下邻居也说天花板在滴水，麻烦尽快派人来看看"
    await sms.writes(said)
    await sms.deliver()
    answer = f"收到：{said}"  # the stand-in's echo: 53 characters, over one variable's 35
    pieces = sms.received()
    assert len(pieces) == 2 and all(len(p) <= 35 for p in pieces) and "".join(pieces) == answer
    (notice,) = [n for n in await sms.notices() if n.kind == "late_reply"]
    assert notice.delivered_via == "reply" and notice.billed_parts == 2
    assert {s["out_id"] for s in sms.fake.texts_to(MOBILE)} == {notice.key}  # one answer: its key on each piece


async def test_each_further_piece_of_an_answer_costs_one_commit_its_mark_and_the_days_count_together(sms, provider):
    async def commits_to_deliver(said: str) -> tuple[int, int]:
        await sms.writes(said)
        before = len(sms.received())
        with counted(sms.backend.engine) as seen:
            await sms.deliver()
        return len(sms.received()) - before, seen.count("COMMIT")

    one_piece, short = await commits_to_deliver("你好")
    said = "我家厨房的水管从昨天晚上开始一直在漏水，地板都泡了，楼下邻居说天花板在滴水"
    two_pieces, long = await commits_to_deliver(said)
    assert (one_piece, two_pieces) == (1, 2)
    assert long - short == 1  # the second piece: one commit with its sent-mark and the day's count
