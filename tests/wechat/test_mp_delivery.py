"""Status updates, staff replies and late answers reaching a 公众号 owner, through the dispatcher's
delivery and the fake platform.

Protects: a ticket's updates arriving in order by customer-service message while WeChat allows
them, and as the operator's template message outside the 48 hours or past the 5 messages (with
the path recorded), dead-lettered for staff when no template fits; the owner's rating answered in
WeChat; the owner's script kept; an expired or refused token replaced once without losing the
message; the token shared, so processes starting together ask WeChat for it once (database and
Redis); a transient platform failure retried without a duplicate, a long message's parts never
sent twice.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from backend_bridge.domain import commands, model
from connectors.channel import installed_channels
from connectors.wechat.tokens import DatabaseTokens, RedisTokens
from tests.wechat.conftest import settings_for

OPENID = "oXyZ-_0987654321zyxwvutsrqpo"
SENDER = f"wechat:{OPENID}"
CUSTOM = "/cgi-bin/message/custom/send"


async def notices(mp, sender: str = SENDER) -> list[model.Notification]:
    from sqlalchemy import select

    async with mp.backend.new_uow() as uow:
        found = await uow.session.scalars(
            select(model.Notification).where(model.Notification.recipient == sender).order_by(model.Notification.id)
        )
        return list(found.all())


async def open_and_assign(mp) -> str:
    opened = await mp.backend.bus.handle(commands.OpenTicket(SENDER, "repair", "厨房水管漏水", "3", "2", "501"))
    await mp.backend.bus.handle(commands.AddStaff("wang", "王师傅", "technician", actor="admin"))
    expected = mp.backend.clock() + timedelta(hours=2)
    await mp.backend.bus.handle(commands.AssignTicket(opened.number, "wang", actor="admin", expected_at=expected))
    return opened.number


async def test_a_tickets_updates_and_the_rating_reach_the_owner_in_order(mp, clock):
    await mp.driver().send_text(OPENID, "厨房水管漏水")  # the owner wrote: 48 hours of customer-service messages
    number = await open_and_assign(mp)
    clock.advance(hours=1)
    await mp.backend.bus.handle(commands.ChangeTicketStatus(number, "in_progress", actor="wang"))
    await mp.backend.bus.handle(commands.ChangeTicketStatus(number, "resolved", actor="wang"))
    assert await mp.deliver() == 4  # three to the owner, the assignment to 王师傅 (the log, for staff)
    sent = mp.texts_sent(OPENID)
    assert [s.split("，")[0] for s in sent] == [
        f"您的工单 {number} 已派单",
        f"您的工单 {number} 正在处理中。",
        f"您的工单 {number} 已处理完。请您评价：回复“满意”“一般”或“不满意”",
    ]
    assert "王师傅" in sent[0]
    assert {n.delivered_via for n in await notices(mp)} == {"custom"}

    rating = await mp.driver().send_text(OPENID, "5")
    assert rating.reply["Content"] == f"感谢您的评价！工单 {number} 已办结。还有什么需要，随时找我。"
    await mp.settle_and_deliver()
    assert len(mp.texts_sent(OPENID)) == 3  # the owner who rated was answered in the reply, not pushed again


async def test_outside_48_hours_an_update_goes_as_the_operators_template(mp, clock):
    await mp.driver().send_text(OPENID, "厨房水管漏水")
    number = await open_and_assign(mp)
    await mp.deliver()
    clock.advance(hours=49)
    await mp.backend.bus.handle(commands.ChangeTicketStatus(number, "resolved", actor="wang"))
    assert await mp.deliver() == 1
    template = [s for s in mp.fake.sent if s["api"] == "template"]
    assert [(t["template_id"], t["url"]) for t in template] == [("TPL_RESOLVED", "https://wuye.example/rate")]
    assert template[0]["data"] == {
        "character_string1": {"value": number},
        "thing2": {"value": "厨房水管漏水"},
        "time3": {"value": "2026-11-23 11:30"},
    }
    assigned, resolved = await notices(mp)
    assert (assigned.delivered_via, resolved.delivered_via) == ("custom", "template")


async def test_past_five_messages_an_update_goes_as_a_template_too(mp):
    await mp.driver().send_text(OPENID, "你好")
    for i in range(5):
        await mp.backend.bus.handle(commands.SendStaffMessage(SENDER, f"第{i}条", actor="admin"))
    await open_and_assign(mp)
    assert await mp.deliver() == 7  # and the assignment to 王师傅
    assert [s["api"] for s in mp.fake.sent] == ["custom"] * 5 + ["template"]
    assert (await notices(mp))[-1].delivered_via == "template"


async def test_an_update_with_no_template_outside_the_window_is_dead_lettered_saying_why(mp, clock):
    await open_and_assign(mp)  # the owner never wrote: no customer-service window
    number = (await notices(mp))[0].fields["number"]
    await mp.backend.bus.handle(commands.ChangeTicketStatus(number, "in_progress", actor="wang"))
    await mp.deliver()
    assigned, started = await notices(mp)
    assert assigned.delivered_via == "template"
    assert started.status is model.NotificationStatus.DEAD
    assert "45015" in started.last_error and "ticket_in_progress" in started.last_error
    assert [s["api"] for s in mp.fake.sent] == ["template"]


async def test_updates_come_in_the_script_the_owner_writes(mp):
    await mp.driver().send_text(OPENID, "廚房水管漏水了")
    await open_and_assign(mp)
    await mp.deliver()
    assert mp.texts_sent(OPENID)[-1].startswith("您的工單")


async def test_an_expired_token_mid_run_is_replaced_once_and_nothing_is_lost(mp):
    await mp.driver().send_text(OPENID, "你好")
    await mp.backend.bus.handle(commands.SendStaffMessage(SENDER, "第一条", actor="admin"))
    await mp.deliver()
    assert mp.fake.token_requests == 1
    mp.fake.expire_tokens()
    await mp.backend.bus.handle(commands.SendStaffMessage(SENDER, "第二条", actor="admin"))
    await mp.backend.bus.handle(commands.SendStaffMessage(SENDER, "第三条", actor="admin"))
    assert await mp.deliver() == 2
    assert mp.texts_sent(OPENID) == ["第一条", "第二条", "第三条"]
    assert mp.fake.token_requests == 2
    assert [r["errcode"] for r in mp.fake.refused] == [42001]


@pytest.mark.parametrize("errcode", [40001, 40014])
async def test_a_token_the_platform_refuses_is_replaced_once(mp, errcode):
    await mp.driver().send_text(OPENID, "你好")
    await mp.backend.bus.handle(commands.SendStaffMessage(SENDER, "您好", actor="admin"))
    mp.fake.fail_next(CUSTOM, errcode)
    assert await mp.deliver() == 1
    assert mp.texts_sent(OPENID) == ["您好"]
    # asked again; the platform still handed out the refused token, so a forced refresh replaced it
    assert mp.fake.token_requests == 3 and sum(mp.fake.forced_refreshes.values()) == 1


async def test_a_platform_failure_is_retried_later_without_a_duplicate(mp, clock):
    await mp.driver().send_text(OPENID, "你好")
    await mp.backend.bus.handle(commands.SendStaffMessage(SENDER, "您好", actor="admin"))
    mp.fake.fail_next(CUSTOM, -1)
    assert await mp.deliver() == 0
    (notice,) = await notices(mp)
    assert notice.status is model.NotificationStatus.PENDING and "-1" in notice.last_error
    clock.advance(seconds=5)
    assert await mp.deliver() == 1
    assert mp.texts_sent(OPENID) == ["您好"]


async def test_a_long_message_failing_part_way_sends_only_the_rest_later(mp, clock):
    await mp.driver().send_text(OPENID, "你好")
    text = "\n".join(f"第{i}行：楼道灯不亮，电梯也坏了，请尽快处理。" for i in range(80))  # ~4 KB
    await mp.backend.bus.handle(commands.SendStaffMessage(SENDER, text, actor="admin"))
    original = mp.fake.record_sent
    sent_parts = []

    def fail_after_first(*args, **kw):  # the platform takes the first part, then has a bad moment
        original(*args, **kw)
        sent_parts.append(args)
        if len(sent_parts) == 1:
            mp.fake.fail_next(CUSTOM, -1)

    mp.fake.record_sent = fail_after_first
    assert await mp.deliver() == 0
    clock.advance(seconds=5)
    assert await mp.deliver() == 1
    parts = mp.texts_sent(OPENID)
    assert len(parts) == 3 and "\n".join(parts) == text  # every part once, in order


# -- one token for every process --------------------------------------------------------------------


async def _processes(mp, count: int, redis_url: str | None = None):
    """``count`` dispatcher processes' worth of the channel: their own instances, the same store."""
    import aiohttp

    http = aiohttp.ClientSession()
    settings = settings_for(mp.fake, redis_url=redis_url)
    channels = [installed_channels({"wechat": settings}, http) for _ in range(count)]
    return http, [next(c for c in found if c.name == "wechat") for found in channels]


@pytest.mark.parametrize("store", ["database", "redis"])
async def test_processes_starting_together_ask_wechat_for_the_token_once(mp, store, request):
    redis_url = request.getfixturevalue("redis_url") if store == "redis" else None
    if redis_url:
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(redis_url)
        await client.delete(f"wuye:wechat:{mp.fake.appid}:token", f"wuye:wechat:{mp.fake.appid}:refresh")
        await client.aclose()
    mp.fake.delay("/cgi-bin/stable_token", 0.3)  # a slow platform widens the race
    http, channels = await _processes(mp, 4, redis_url)
    try:
        owners = [f"oOwner-_{i:02d}abcdefghijklmnopqrst" for i in range(8)]
        for openid in owners:
            mp.fake.user_wrote(openid)
        sends = [
            channel.delivery(mp.backend)(model.Notification(f"wechat:{openid}", "您好", "staff", mp.backend.clock()))
            for channel, openid in zip(channels * 2, owners, strict=True)
        ]
        assert await asyncio.gather(*sends) == ["custom"] * 8
        assert mp.fake.token_requests == 1
        store_cls = RedisTokens if redis_url else DatabaseTokens
        assert isinstance(channels[0].api.token.store, store_cls)
    finally:
        for channel in channels:
            await channel.close()
        await http.close()
