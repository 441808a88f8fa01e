"""Answers and notifications reaching a 微信客服 customer through kf/send_msg.

Protects: an expired WeCom token replaced once (gettoken asked once more), nothing lost; a long
message failing part-way sends only the parts WeCom did not take yet; outside
the 48 hours (95002) or past the 5 messages (95001) a notification dead-lettered saying why, since
微信客服 has no templates.
"""

from __future__ import annotations

from backend_bridge.domain import commands, model

KFID = "wkKFtest0002"
USER = "wmUser-0002abcdef"
SENDER = f"wechat_kf:{USER}"


async def staff_take_over(kf) -> None:
    """A member takes the conversation, as writing to the owner does (the console's rule); WeCom is
    told the session's new state, delivered here, so the tests count only their own messages."""
    await kf.backend.bus.handle(commands.ClaimConversation(SENDER, actor="admin"))
    await kf.deliver()


async def notices(kf) -> list[model.Notification]:
    from sqlalchemy import select

    async with kf.backend.new_uow() as uow:
        found = await uow.session.scalars(
            select(model.Notification).where(model.Notification.recipient == SENDER).order_by(model.Notification.id)
        )
        return list(found.all())


async def test_an_expired_token_mid_run_is_refreshed_once_and_nothing_is_lost(kf):
    await kf.write(KFID, USER, "你好")
    await kf.deliver()
    assert kf.fake.token_requests == 1
    await staff_take_over(kf)
    kf.fake.expire_tokens()
    await kf.backend.bus.handle(commands.SendStaffMessage(SENDER, "第一条", actor="admin"))
    await kf.backend.bus.handle(commands.SendStaffMessage(SENDER, "第二条", actor="admin"))
    assert await kf.deliver() == 2
    assert kf.fake.token_requests == 2
    assert kf.texts_sent(USER)[1:] == ["第一条", "第二条"]
    assert [r["errcode"] for r in kf.fake.refused] == [42001]


async def test_outside_48_hours_a_notification_is_dead_lettered_with_the_reason(kf, clock):
    await kf.write(KFID, USER, "你好")
    await kf.deliver()
    clock.advance(hours=49)
    await kf.backend.bus.handle(commands.SendStaffMessage(SENDER, "您的工单已处理", actor="admin"))
    await kf.deliver()
    late = (await notices(kf))[-1]
    assert late.status is model.NotificationStatus.DEAD
    assert "95002" in late.last_error and "48 hours" in late.last_error
    assert kf.texts_sent(USER) == ["收到：你好"]


async def test_past_five_messages_a_notification_is_dead_lettered_with_the_reason(kf):
    await kf.write(KFID, USER, "你好")
    await kf.settle()
    for i in range(5):
        await kf.backend.bus.handle(commands.SendStaffMessage(SENDER, f"第{i}条", actor="admin"))
    await kf.deliver()
    assert kf.texts_sent(USER) == ["收到：你好", "第0条", "第1条", "第2条", "第3条"]
    last = (await notices(kf))[-1]
    assert last.status is model.NotificationStatus.DEAD and "95001" in last.last_error


async def test_a_long_message_failing_part_way_sends_only_the_rest_later(kf, clock):
    await kf.write(KFID, USER, "你好")
    await kf.deliver()
    await staff_take_over(kf)
    text = "\n".join(f"第{i}行：楼道灯不亮，电梯也坏了，请尽快处理。" for i in range(80))  # ~4 KB: 3 parts
    await kf.backend.bus.handle(commands.SendStaffMessage(SENDER, text, actor="admin"))
    original = kf.fake.record_sent

    def fail_after_first(*args, **kw):  # WeCom takes the first part, then has a bad moment
        original(*args, **kw)
        kf.fake.record_sent = original
        kf.fake.fail_next("/cgi-bin/kf/send_msg", -1)

    kf.fake.record_sent = fail_after_first
    assert await kf.deliver() == 0
    clock.advance(seconds=5)
    assert await kf.deliver() == 1
    parts = kf.texts_sent(USER)[1:]
    assert len(parts) == 3 and "\n".join(parts) == text  # every part once, in order
