"""Our handoff mapped onto WeCom's service_state (the decision is in connectors/wechat_kf/channel.py,
``_follow_handoff``, and the README): without a WeCom servicer configured the session stays the
assistant's (1) and our console's staff reach the customer through kf/send_msg; with one, handing
off gives the session to that servicer (3) and handing back ends it (4), at once, through the
handoff notice, with no customer message needed; inside a turn, only after that turn's answers.
"""

from __future__ import annotations

import asyncio
import dataclasses

from backend_bridge.domain import commands, model
from backend_bridge.service_layer.delivery import Dispatcher
from connectors.channel import deliveries

KFID = "wkKFtest0003"
USER = "wmUser-0003abcdef"
SENDER = f"wechat_kf:{USER}"


async def notices(kf) -> list[model.Notification]:
    from sqlalchemy import select

    async with kf.backend.new_uow() as uow:
        found = await uow.session.scalars(
            select(model.Notification).where(model.Notification.recipient == SENDER).order_by(model.Notification.id)
        )
        return list(found.all())


def with_servicer(kf, servicer: str = "zhangsan") -> None:
    kf.channel.settings = dataclasses.replace(kf.channel.settings, servicer=servicer)
    kf.fake.kf.servicers.add(servicer)


def state(kf) -> int:
    return kf.fake.service_state[(KFID, USER)]


async def test_without_a_servicer_the_session_stays_the_assistants_and_console_staff_reach_the_customer(kf):
    await kf.write(KFID, USER, "你好")
    await kf.deliver()
    assert state(kf) == 1
    await kf.backend.bus.handle(commands.HandOff(SENDER, "owner_asked"))
    await kf.backend.bus.handle(commands.SendStaffMessage(SENDER, "您好，我是客服小王，请问哪里漏水？", actor="admin"))
    await kf.deliver()
    assert state(kf) == 1
    assert kf.texts_sent(USER)[-1] == "您好，我是客服小王，请问哪里漏水？"
    await kf.write(KFID, USER, "厨房水管")  # with staff: the assistant stays silent
    await kf.backend.bus.handle(commands.SendStaffMessage(SENDER, "好的，马上派师傅", actor="admin"))
    await kf.deliver()
    assert kf.texts_sent(USER)[-1] == "好的，马上派师傅" and "收到：厨房水管" not in kf.texts_sent(USER)
    await kf.backend.bus.handle(commands.HandBack(SENDER, actor="admin"))
    await kf.write(KFID, USER, "谢谢")
    await kf.deliver()
    assert kf.texts_sent(USER)[-1] == "收到：谢谢" and state(kf) == 1
    assert not [n for n in await notices(kf) if n.status is not model.NotificationStatus.DELIVERED]


async def test_with_a_servicer_handing_off_and_back_moves_service_state_at_once(kf):
    with_servicer(kf)
    await kf.write(KFID, USER, "你好")
    await kf.deliver()
    calls_before = len(kf.fake.sync_calls)
    await kf.backend.bus.handle(commands.HandOff(SENDER, "staff_took_over"))
    await kf.deliver()  # no customer message in between
    assert state(kf) == 3 and kf.fake.kf.servicer[(KFID, USER)] == "zhangsan"
    assert len(kf.fake.sync_calls) == calls_before
    moved = [n for n in await notices(kf) if n.kind == "conversation_state"]
    assert [(n.status, n.delivered_via) for n in moved] == [(model.NotificationStatus.DELIVERED, "service_state")]

    await kf.backend.bus.handle(commands.SendStaffMessage(SENDER, "控制台的消息", actor="admin"))
    await kf.deliver()  # the servicer answers in WeCom; WeCom refuses ours, and staff are told why
    refused = (await notices(kf))[-1]
    assert refused.status is model.NotificationStatus.DEAD and "95018" in refused.last_error
    assert "answer the customer in WeCom" in refused.last_error

    await kf.backend.bus.handle(commands.HandBack(SENDER, actor="admin"))
    await kf.deliver()
    assert state(kf) == 4
    await kf.write(KFID, USER, "还有个问题")  # a new session, the assistant's
    await kf.deliver()
    assert kf.texts_sent(USER)[-1] == "收到：还有个问题" and state(kf) == 1


async def test_a_handoff_inside_a_turn_moves_the_session_only_after_that_turns_answer(kf, rasa):
    with_servicer(kf)
    await kf.write(KFID, USER, "你好")
    await kf.deliver()
    rasa.delay = 0.5  # the turn is in flight while its action hands the conversation off
    await kf.write(KFID, USER, "我要找人工")
    for _ in range(100):  # the message is recorded and with the assistant
        if (SENDER, "我要找人工") in rasa.seen:
            break
        await asyncio.sleep(0.02)
    await kf.backend.bus.handle(commands.HandOff(SENDER, "owner_asked"))
    channels = deliveries(kf.backend, kf.channels)
    await Dispatcher(kf.backend.new_uow, channels, kf.backend.clock).poll_once()  # the handoff notice, first
    assert state(kf) == 1  # not yet: the answer is still coming
    await kf.deliver()
    assert kf.texts_sent(USER)[-1] == "收到：我要找人工"  # reached the customer
    assert state(kf) == 3  # and then the servicer has the session
