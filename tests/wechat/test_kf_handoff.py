"""Our handoff mapped onto WeCom's service_state, seen at the customer's next message (or after a
delivery to them): handed to staff → the queue (2), or the configured servicer (3); handed back
from a servicer → the session ended (4), so the customer's next message is the assistant's again.
"""

from __future__ import annotations

import dataclasses

from backend_bridge.domain import commands

KFID = "wkKFtest0003"
USER = "wmUser-0003abcdef"
SENDER = f"wechat_kf:{USER}"


async def test_a_handoff_moves_the_session_to_the_queue(kf):
    await kf.write(KFID, USER, "你好")
    await kf.deliver()
    assert kf.fake.service_state[(KFID, USER)] == 1  # answered by the assistant
    await kf.backend.bus.handle(commands.HandOff(SENDER, "owner_asked"))
    await kf.write(KFID, USER, "我要找人工")
    await kf.deliver()
    assert kf.fake.service_state[(KFID, USER)] == 2


async def test_with_a_servicer_configured_the_handoff_goes_to_them_and_handing_back_ends_it(kf):
    kf.channel.settings = dataclasses.replace(kf.channel.settings, servicer="zhangsan")
    await kf.write(KFID, USER, "你好")
    await kf.deliver()
    await kf.backend.bus.handle(commands.HandOff(SENDER, "owner_asked"))
    await kf.write(KFID, USER, "我要找人工")
    await kf.deliver()
    assert kf.fake.service_state[(KFID, USER)] == 3
    assert kf.fake.kf.servicer[(KFID, USER)] == "zhangsan"
    await kf.backend.bus.handle(commands.HandBack(SENDER, actor="admin"))
    await kf.write(KFID, USER, "谢谢")
    await kf.settle()
    assert kf.fake.service_state[(KFID, USER)] == 4
    await kf.write(KFID, USER, "还有个问题")  # a new session, the assistant's
    await kf.deliver()
    assert kf.texts_sent(USER)[-1] == "收到：还有个问题"
    assert kf.fake.service_state[(KFID, USER)] == 1
