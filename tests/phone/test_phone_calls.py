"""Hotline calls transcribed by a fake ASR provider (Aliyun and Tencent shapes), posted over real
HTTP to the real public app, answered by a stand-in dialogue, heard back by SMS at a fake provider.

Protects: the caller's turns reaching the assistant in order and the agent's never (a request at
the end of a long call still opening the right ticket, with intake phone); one SMS after the call
with what came of it; the provider's repeat answered once; a call that could not be transcribed
handed to staff; the owner's SMS answer continuing the call's conversation; bad tokens, missing
callers, malformed and oversized callbacks refused with nothing processed.
"""

from __future__ import annotations

import json

from backend_bridge.domain import model
from backend_bridge.service_layer import views
from tests.phone.conftest import CALLER

SENDER = f"phone:{CALLER}"
AGENT, OWNER = 1, 0

LONG_CALL = [
    (AGENT, "您好物业服务中心请讲"),
    (OWNER, "喂你好"),
    (AGENT, "您好请问有什么可以帮您"),
    (OWNER, "我是住这边的老业主"),
    (OWNER, "那个我想问一下"),
    (AGENT, "嗯您说"),
    (OWNER, "报修"),
    (AGENT, "什么坏了"),
    (OWNER, "卫生间水管漏水"),
    (AGENT, "您家地址是"),
    (OWNER, "3栋2单元501"),
    (AGENT, "好的给您登记了"),
    (OWNER, "好的谢谢"),
]


async def test_a_long_call_with_the_request_late_opens_the_ticket_and_the_caller_gets_one_sms(sms, call, asr):
    status, answer = await call(LONG_CALL)
    assert (status, answer) == (200, {"code": 0, "message": "success"})
    assert len(asr.attempts) == 1

    # only the caller's turns reached the assistant, in order; two breaths of one side are one turn
    assert sms.rasa.seen == [
        (SENDER, "喂你好"),
        (SENDER, "我是住这边的老业主，那个我想问一下"),
        (SENDER, "报修"),
        (SENDER, "卫生间水管漏水"),
        (SENDER, "3栋2单元501"),
        (SENDER, "好的谢谢"),
    ]
    [ticket] = await views.tickets_for_sender(sms.backend.new_uow(), SENDER)
    async with sms.backend.new_uow() as uow:
        stored = await uow.tickets.by_number(ticket["id"])
        assert stored.intake is model.Intake.PHONE and stored.channel == "phone"
        assert (stored.location.building, stored.location.unit, stored.location.room) == ("3", "2", "501")
        assert stored.description == "卫生间水管漏水"

    # staff read the whole call, the agent's lines marked, the assistant's answers kept
    logged = await views.message_log(sms.backend.new_uow(), SENDER)
    texts = [entry["text"] for entry in logged if entry["direction"] == "in"]
    assert texts[0] == "【坐席】您好物业服务中心请讲" and "【坐席】您家地址是" in texts
    assert texts[-1] == "【通话结束】"

    await sms.deliver()
    assert sms.received() == [f"已登记报修，工单号{ticket['id']}。"]  # one SMS: what came of the call


async def test_the_providers_repeat_of_a_call_is_answered_once(sms, call, asr):
    task = "4000048858"
    assert (await call(LONG_CALL, task_id=task))[0] == 200
    seen = list(sms.rasa.seen)
    await sms.deliver()
    assert (await call(LONG_CALL, task_id=task))[0] == 200
    await sms.deliver()
    assert sms.rasa.seen == seen
    assert len(await views.tickets_for_sender(sms.backend.new_uow(), SENDER)) == 1
    assert len(sms.received()) == 1


async def test_a_call_without_a_ticket_ends_with_what_the_assistant_still_needs_and_the_sms_answer_continues_it(
    sms, call
):
    status, _ = await call([(AGENT, "物业您好"), (OWNER, "报修"), (AGENT, "什么坏了"), (OWNER, "厨房灯不亮")])
    assert status == 200
    await sms.deliver()
    # no ticket yet: everything the assistant said, its last words what it needs
    assert sms.received() == ["好的，请问哪里坏了？ 请告诉我地址，比如3栋2单元501。"]

    await sms.writes("3栋2单元501")  # the owner answers the SMS: the call's conversation goes on
    await sms.deliver()
    assert sms.rasa.seen[-1] == (SENDER, "3栋2单元501")
    [ticket] = await views.tickets_for_sender(sms.backend.new_uow(), SENDER)
    assert ticket["description"] == "厨房灯不亮"
    assert sms.received()[-1] == f"已登记报修，工单号{ticket['id']}。"


async def test_an_sms_long_after_a_call_is_its_own_conversation(sms, call):
    assert (await call([(OWNER, "报修"), (AGENT, "好的")]))[0] == 200
    sms.backend.clock.advance(hours=25)
    await sms.writes("你好")
    await sms.deliver()
    assert sms.rasa.seen[-1] == (f"sms:{CALLER}", "你好")


async def test_a_call_the_provider_could_not_transcribe_goes_to_staff(sms, call, asr):
    failure = 41050002 if asr.provider == "aliyun" else 10001  # the file could not be read / 识别失败
    status, answer = await call([], status=failure)
    assert (status, answer) == (200, {"code": 0, "message": "success"})
    assert sms.rasa.seen == []
    [waiting] = await views.conversations(sms.backend.new_uow(), state="handed_off")
    assert (waiting["sender"], waiting["handoff_reason"]) == (SENDER, "call_not_transcribed")
    logged = await views.message_log(sms.backend.new_uow(), SENDER)
    assert logged[0]["text"].startswith(f"【来电录音未能转写：{failure}")


async def test_bad_callbacks_are_refused_and_nothing_is_processed(sms, call, asr):
    assert (await call(LONG_CALL, token="not-the-token-0123456789"))[0] == 404
    assert (await call(LONG_CALL, caller=None))[0] == 400
    assert (await call(LONG_CALL, caller="010-12345678"))[0] == 400
    url = str(sms.client.make_url(f"/phone/{asr.provider}/phone-token-for-tests-0123?caller={CALLER}"))
    kind = "application/json" if asr.provider == "aliyun" else "application/x-www-form-urlencoded"
    assert (await asr.post(url, b"\xff\xfe not text", kind))[0] == 400
    assert (await asr.post(url, json.dumps({"TaskId": "1"}).encode(), kind))[0] == 400
    assert (await asr.post(url, b"x" * (600 * 1024), kind))[0] == 413
    other = "tencent" if asr.provider == "aliyun" else "aliyun"
    assert (await asr.post(url.replace(f"/{asr.provider}/", f"/{other}/"), *asr.result(LONG_CALL)[:1], kind))[0] == 400
    assert (await asr.post(url.replace(f"/{asr.provider}/", "/baidu/"), *asr.result(LONG_CALL)))[0] == 404
    assert sms.rasa.seen == []
    assert await views.message_log(sms.backend.new_uow(), SENDER) is None


async def test_a_community_the_agent_names_does_not_route_the_conversation_but_the_callers_does(sms, call):
    stranger = "13912345678"  # on file nowhere
    assert (await call([(AGENT, "阳光小区物业您好"), (OWNER, "报修")], caller=stranger))[0] == 200
    [conversation] = [c for c in await views.conversations(sms.backend.new_uow()) if c["sender"].endswith(stranger)]
    assert conversation["community"] is None
    assert (await call([(AGENT, "请讲"), (OWNER, "我是示例花园的")], caller=stranger))[0] == 200
    [conversation] = [c for c in await views.conversations(sms.backend.new_uow()) if c["sender"].endswith(stranger)]
    assert conversation["community"] == "shifan"


async def test_a_repeat_that_arrives_while_the_call_is_being_taken_waits_and_is_answered_once(sms, asr):
    import asyncio

    body, content_type = asr.result(LONG_CALL, task_id="4000099999")
    url = str(sms.client.make_url(f"/phone/{asr.provider}/phone-token-for-tests-0123?caller={CALLER}"))
    answers = await asyncio.gather(asr.post(url, body, content_type), asr.post(url, body, content_type))
    assert [status for status, _ in answers] == [200, 200]
    assert len(sms.rasa.seen) == 6  # each caller turn once
    await sms.deliver()
    [sent] = sms.received()
    assert sent.startswith("已登记报修，工单号")  # what came of the call, whichever request ended it
