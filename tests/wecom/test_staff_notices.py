"""Staff notices reaching WeCom through the dispatcher, and the duty group's robot.

Protects: a technician with a WeCom UserID getting new work as an app message (the app's
AgentId, a good token), one without getting the log line as before; 31 notices to one member in
a minute all arriving, the 31st after the minute, none dropped by WeCom (the fake drops silently
what the real one drops); new emergency and urgent tickets posted to the duty group (normal ones
not), within the robot's 20 a minute; a token expiring mid-run losing nothing; a WeCom failure
retried, and dead-lettered after the last attempt like any notification; a member outside the
app's visible range dead-lettered at once with a reason staff can act on.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from backend_bridge.domain import commands, model

OWNER = "webchat:wecom-owner-1"
WANG = "WangShiFu"  # a member the fake WeCom knows
SEND = "/cgi-bin/message/send"


async def open_and_assign(backend, assignee: str = "wang") -> str:
    opened = await backend.bus.handle(commands.OpenTicket(OWNER, "repair", "厨房水管漏水", "3", "2", "501"))
    await backend.bus.handle(commands.AssignTicket(opened.number, assignee, actor="admin"))
    return opened.number


async def add_wang(backend, wecom: str | None = WANG) -> None:
    await backend.bus.handle(commands.AddStaff("wang", "王师傅", "technician", actor="admin", wecom_userid=wecom))


async def queue(backend, recipient: str, count: int, kind: str = "chase") -> None:
    async with backend.new_uow() as uow:
        for i in range(count):
            await uow.notifications.add(model.Notification(recipient, f"提醒 {i + 1}", kind, backend.clock()))
        await uow.commit()


async def test_a_technician_with_a_wecom_id_gets_the_assignment_as_an_app_message(staffroom):
    await add_wang(staffroom.backend)
    number = await open_and_assign(staffroom.backend)
    assert await staffroom.deliver() == 2  # the owner's (web chat mailbox) and 王师傅's
    assert staffroom.fake.texts_to(WANG) == [f"新派工单 {number}（3号楼2单元501）：厨房水管漏水"]
    assert staffroom.fake.refused == [] and staffroom.fake.dropped == []
    [notice] = await staffroom.notifications("staff:wang")
    assert (notice.status, notice.delivered_via) == (model.NotificationStatus.DELIVERED, "wecom")
    [owner] = await staffroom.notifications(OWNER)
    assert owner.delivered_via == "mailbox"


async def test_a_member_without_a_wecom_id_gets_the_log_line(staffroom, caplog):
    await add_wang(staffroom.backend, wecom=None)
    caplog.set_level(logging.INFO, logger="wuye.notifications")
    number = await open_and_assign(staffroom.backend)
    assert await staffroom.deliver() == 2
    assert staffroom.fake.sent == [] and staffroom.fake.calls == []  # WeCom was not even asked for a token
    [notice] = await staffroom.notifications("staff:wang")
    assert notice.delivered_via == "log"
    assert any("staff:wang [assignment]" in r.getMessage() and number in r.getMessage() for r in caplog.records)


async def test_linking_a_wecom_id_later_moves_the_next_notices_to_wecom(staffroom):
    await add_wang(staffroom.backend, wecom=None)
    await queue(staffroom.backend, "staff:wang", 1)
    await staffroom.deliver()
    await staffroom.backend.bus.handle(commands.LinkStaffWeCom("wang", WANG, actor="admin"))
    await queue(staffroom.backend, "staff:wang", 1)
    await staffroom.deliver()
    assert [n.delivered_via for n in await staffroom.notifications("staff:wang")] == ["log", "wecom"]


async def test_31_notices_in_a_minute_all_arrive_the_31st_after_the_minute(staffroom, clock):
    await add_wang(staffroom.backend)
    await queue(staffroom.backend, "staff:wang", 31)
    assert await staffroom.deliver() == 30
    notices = await staffroom.notifications("staff:wang")
    last = notices[-1]
    assert last.status is model.NotificationStatus.PENDING and last.attempts == 0  # waiting, not failing
    assert last.next_attempt_at >= clock() + timedelta(seconds=59)
    clock.advance(seconds=30)
    assert await staffroom.deliver() == 0  # still inside the minute
    clock.advance(seconds=31)
    assert await staffroom.deliver() == 1
    fake = staffroom.fake
    assert fake.texts_to(WANG) == [f"提醒 {i}" for i in range(1, 32)]  # all of them, in order
    assert fake.dropped == [] and fake.refused == []
    assert fake.sent[-1]["at"] - fake.sent[0]["at"] >= timedelta(minutes=1)
    assert {n.status for n in await staffroom.notifications("staff:wang")} == {model.NotificationStatus.DELIVERED}


async def test_the_minute_is_per_member_so_a_busy_colleague_delays_nobody(staffroom):
    await add_wang(staffroom.backend)
    await staffroom.backend.bus.handle(
        commands.AddStaff("li", "李主管", "supervisor", actor="admin", wecom_userid="LiZhuGuan")
    )
    await queue(staffroom.backend, "staff:wang", 31)
    await queue(staffroom.backend, "staff:li", 3)
    assert await staffroom.deliver() == 33
    assert len(staffroom.fake.texts_to("LiZhuGuan")) == 3


async def test_an_emergency_reaches_the_duty_group_and_an_urgent_ticket_too(staffroom):
    backend = staffroom.backend
    await backend.bus.handle(commands.ReportEmergency("webchat:wecom-owner-2", "gas", "厨房有煤气味", "3", "2", "501"))
    urgent = await backend.bus.handle(
        commands.OpenTicketForOwner(
            "admin", "repair", "5号楼电梯停了", "phone", priority="urgent", public_area="5号楼电梯"
        )
    )
    await backend.bus.handle(commands.OpenTicket(OWNER, "repair", "楼道灯不亮", "3", "2", None))  # normal: not posted
    await staffroom.deliver()
    # Two duty recipients (the flat's community, and the ticket opened by the desk) drain side by
    # side, so the group may see them in either order.
    posted = sorted((s for s in staffroom.fake.sent if s["api"] == "robot"), key=lambda p: "加急" in p["content"])
    assert [p["content"].split("新工单")[0] for p in posted] == ["【急修】", "【加急】"]
    assert "厨房有煤气味" in posted[0]["content"] and posted[0]["mentioned"] == ["@all"]
    assert urgent.number in posted[1]["content"] and posted[1]["mentioned"] == []
    async with backend.new_uow() as uow:
        dead = await uow.notifications.dead()
    assert dead == []


async def test_a_flood_of_unverified_emergencies_reaches_the_group_as_one_alert_to_all(staffroom):
    """Throwaway ids flooding 急修 (issue 13 #7): the group gets the first few and then one @all alert,
    not a post per report (the robot allows 20 a minute; real emergencies must still get through)."""
    backend = staffroom.backend
    for i in range(model.UNVERIFIED_EMERGENCY_PAGES + 5):
        await backend.bus.handle(commands.ReportEmergency(f"webchat:flood-{i}", "fire", f"楼道着火了{i}", "1"))
    await staffroom.deliver()
    posted = [s for s in staffroom.fake.sent if s["api"] == "robot"]
    assert len(posted) == model.UNVERIFIED_EMERGENCY_PAGES + 1
    alert = [p for p in posted if "急修异常" in p["content"]]
    assert len(alert) == 1 and alert[0]["mentioned"] == ["@all"]


async def test_the_duty_group_gets_21_alerts_20_in_the_minute_none_refused(staffroom, clock):
    await queue(staffroom.backend, "duty:yangguang", 21, kind="duty_urgent")
    assert await staffroom.deliver() == 20
    assert staffroom.fake.refused == []  # never met WeCom's 45009
    clock.advance(seconds=61)
    assert await staffroom.deliver() == 1
    assert staffroom.fake.group_texts() == [f"提醒 {i}" for i in range(1, 22)]


async def test_a_robot_45009_from_another_sender_postpones_without_an_attempt(staffroom, clock):
    staffroom.fake.fail_next("/cgi-bin/webhook/send", 45009)
    await queue(staffroom.backend, "duty:yangguang", 1, kind="duty_urgent")
    assert await staffroom.deliver() == 0
    [notice] = await staffroom.notifications("duty:yangguang")
    assert notice.attempts == 0 and notice.next_attempt_at >= clock() + timedelta(seconds=59)
    clock.advance(seconds=61)
    assert await staffroom.deliver() == 1


async def test_a_token_expiring_mid_run_loses_nothing(staffroom):
    await add_wang(staffroom.backend)
    await queue(staffroom.backend, "staff:wang", 2)
    assert await staffroom.deliver() == 2
    staffroom.fake.expire_tokens()
    await queue(staffroom.backend, "staff:wang", 2)
    assert await staffroom.deliver() == 2
    assert staffroom.fake.texts_to(WANG) == ["提醒 1", "提醒 2", "提醒 1", "提醒 2"]
    assert [r["errcode"] for r in staffroom.fake.refused] == [42001]  # refused once, then a new token
    assert staffroom.fake.token_requests == 2


async def test_a_wecom_failure_is_retried_then_dead_lettered(staffroom, clock):
    await add_wang(staffroom.backend)
    staffroom.fake.fail_next(SEND, -1)  # 系统繁忙 once
    await queue(staffroom.backend, "staff:wang", 1)
    assert await staffroom.deliver() == 0
    [notice] = await staffroom.notifications("staff:wang")
    assert (notice.status, notice.attempts) == (model.NotificationStatus.PENDING, 1)
    clock.advance(seconds=3)
    assert await staffroom.deliver() == 1
    assert staffroom.fake.texts_to(WANG) == ["提醒 1"]  # once

    staffroom.fake.fail_next(SEND, 0, times=model.MAX_DELIVERY_ATTEMPTS, http_status=503)
    await queue(staffroom.backend, "staff:wang", 1)
    for attempt in range(model.MAX_DELIVERY_ATTEMPTS):
        assert await staffroom.deliver() == 0
        clock.advance(seconds=model.retry_delay(attempt + 1).total_seconds() + 1)
    notice = (await staffroom.notifications("staff:wang"))[-1]
    assert notice.status is model.NotificationStatus.DEAD and "503" in notice.last_error
    async with staffroom.backend.new_uow() as uow:
        assert [n.id for n in await uow.notifications.dead()] == [notice.id]
    assert staffroom.fake.texts_to(WANG) == ["提醒 1"]


async def test_a_member_outside_the_apps_range_is_dead_lettered_at_once_saying_why(staffroom):
    await add_wang(staffroom.backend, wecom="SomeoneElse")  # not a member the app can reach
    await queue(staffroom.backend, "staff:wang", 1)
    assert await staffroom.deliver() == 0
    [notice] = await staffroom.notifications("staff:wang")
    assert notice.status is model.NotificationStatus.DEAD
    assert "visible range" in notice.last_error and "wecom_userid" in notice.last_error


async def test_without_a_robot_key_duty_alerts_go_to_the_log(backend, fake_wecom):
    import aiohttp

    from connectors.channel import close_channels, installed_channels
    from tests.wecom.conftest import Staffroom, wecom_settings

    async with aiohttp.ClientSession() as http:
        channels = installed_channels({"wecom": wecom_settings(fake_wecom, robot_key="")}, http)
        room = Staffroom(backend, fake_wecom, channels)
        await queue(backend, "duty:yangguang", 1, kind="duty_emergency")
        assert await room.deliver() == 1
        [notice] = await room.notifications("duty:yangguang")
        assert notice.delivered_via == "log" and fake_wecom.calls == []
        await close_channels(channels)


@pytest.mark.parametrize("store", ["database", "redis"])
async def test_processes_starting_together_ask_wecom_for_the_token_once(backend, clock, store, request):
    """Four dispatcher processes' worth of the channel (own instances, one store), four members at once."""
    import asyncio

    import aiohttp

    from connectors.channel import installed_channels
    from connectors.wecom.channel import WeComChannel
    from tests.fakes.wecom import FakeWeCom
    from tests.wecom.conftest import wecom_settings

    redis_url = request.getfixturevalue("redis_url") if store == "redis" else None
    if redis_url:  # another database's run of this test left its token there
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(redis_url)
        await client.delete("wuye:wechat:ww-redis:1000002:token", "wuye:wechat:ww-redis:1000002:refresh")
        await client.aclose()
    members = [f"Member{i}" for i in range(4)]
    for i, userid in enumerate(members):
        await backend.bus.handle(
            commands.AddStaff(f"m{i}", f"师傅{i}", "technician", actor="admin", wecom_userid=userid)
        )
    async with FakeWeCom(clock=clock, members=tuple(members), corpid=f"ww-{store}") as fake:
        fake.delay("/cgi-bin/gettoken", 0.3)  # a slow platform widens the race
        async with aiohttp.ClientSession() as http:
            settings = wecom_settings(fake, redis_url=redis_url)
            channels = [
                next(c for c in installed_channels({"wecom": settings}, http) if c.name == "wecom") for _ in range(4)
            ]
            try:
                sends = [
                    channel.delivery(backend)(model.Notification(f"staff:m{i}", "您好", "assignment", clock()))
                    for i, channel in enumerate(channels)
                ]
                assert await asyncio.gather(*sends) == ["wecom"] * 4
            finally:
                for channel in channels:
                    await channel.close()
        assert fake.token_requests == 1 and sorted(s["touser"] for s in fake.sent) == members
        assert isinstance(channels[0], WeComChannel)
