"""A real dispatcher process (``python -m connectors.dispatcher``) pushing a long notification to the
fake WeChat, stopped in the middle of it: by SIGKILL while WeChat holds a part's request open, and
by SIGTERM.

WeChat's customer-service API has no idempotency key, so what makes "never twice" hold is each part
marked sent as soon as WeChat took it (connectors/wechat/parts.py): the dispatcher that takes over
sends only the parts not yet taken. A part whose request was cut off before WeChat read it was never
accepted (the fake abandons it, as the platform does), so it goes once, from the new dispatcher.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from backend_bridge.domain import model
from connectors.wechat.messages import split_text
from tests.fakes.wechat import FakeWeChat

ROOT = Path(__file__).resolve().parent.parent.parent
CUSTOM = "/cgi-bin/message/custom/send"
OPENID = "oKillMidPush00000000000000001"
LONG = "\n".join(f"第{i}条：3号楼2单元501 卫生间水管漏水，维修师傅已出发，预计三十分钟内到达。" for i in range(45))


def _start(fake: FakeWeChat, database_url: str, tmp_path: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WUYE_")}
    env |= {
        "WUYE_DATABASE_URL": database_url,
        "WUYE_DELIVERY_LEASE": "1",  # a killed holder's lease runs out quickly
        "WUYE_POLL_INTERVAL": "0.05",
        "WUYE_WECHAT_APPID": fake.appid,
        "WUYE_WECHAT_SECRET": fake.secret,
        "WUYE_WECHAT_TOKEN": "dispatcher-stop-token",
        "WUYE_WECHAT_API_BASE": fake.url,
        "PYTHONPATH": str(ROOT),
    }
    log = open(tmp_path / "dispatcher.log", "ab")  # noqa: SIM115 - the child owns it
    return subprocess.Popen(
        [sys.executable, "-m", "connectors.dispatcher"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )


async def _exit_code(proc: subprocess.Popen, timeout: float = 20) -> int:
    """Wait without blocking the loop: the fake WeChat the process talks to runs on it."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None:
        assert time.monotonic() < deadline, "the dispatcher did not exit"
        await asyncio.sleep(0.05)
    return proc.returncode


async def _queue(backend, text: str) -> model.Notification:
    async with backend.new_uow() as uow:
        notification = model.Notification(f"wechat:{OPENID}", text, "staff_message", backend.clock())
        await uow.notifications.add(notification)
        await uow.commit()
        uow.session.expunge(notification)
    return notification


async def _status(backend, notification: model.Notification) -> model.Notification:
    async with backend.new_uow() as uow:
        current = await uow.notifications.get(notification.id)
        uow.session.expunge(current)
        return current


def _texts(fake: FakeWeChat) -> list[str]:
    return [s["content"] for s in fake.sent if s["api"] == "custom" and s["touser"] == OPENID]


async def test_a_dispatcher_killed_mid_push_leaves_each_part_at_wechat_exactly_once(backend, database_url, tmp_path):
    parts = split_text(LONG)
    assert len(parts) == 3
    async with FakeWeChat() as fake:
        fake.user_wrote(OPENID)
        notification = await _queue(backend, LONG)
        held = fake.hold_next(CUSTOM, skip=1)  # WeChat keeps the second part's request open
        proc = _start(fake, database_url, tmp_path)
        try:
            await asyncio.wait_for(held.arrived.wait(), 30)
        finally:
            proc.send_signal(signal.SIGKILL)
            await _exit_code(proc)
        await asyncio.sleep(0.2)  # the fake sees the connection gone
        held.release.set()
        await asyncio.sleep(0.1)
        assert held.abandoned and _texts(fake) == parts[:1]
        assert (await _status(backend, notification)).status is model.NotificationStatus.PENDING

        proc = _start(fake, database_url, tmp_path)  # the next dispatcher, once the lease ran out
        try:
            deadline = time.monotonic() + 30
            while (await _status(backend, notification)).status is model.NotificationStatus.PENDING:
                assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "dispatcher.log").read_text()
                await asyncio.sleep(0.05)
        finally:
            proc.send_signal(signal.SIGTERM)
            assert await _exit_code(proc) == 0
        assert _texts(fake) == parts  # each part once, in order
        assert [a["body"]["text"]["content"] for a in fake.abandoned] == [parts[1]]
    done = await _status(backend, notification)
    assert (done.status, done.delivered_via) == (model.NotificationStatus.DELIVERED, "custom")


async def test_sigterm_mid_push_finishes_and_records_that_push_then_sends_nothing_more(backend, database_url, tmp_path):
    parts = split_text(LONG)
    async with FakeWeChat() as fake:
        fake.user_wrote(OPENID)
        first = await _queue(backend, LONG)
        second = await _queue(backend, "工单BX000123已完成，请评价。")
        held = fake.hold_next(CUSTOM, skip=1)
        proc = _start(fake, database_url, tmp_path)
        try:
            await asyncio.wait_for(held.arrived.wait(), 30)
            proc.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.5)
            assert proc.poll() is None  # still finishing the push in flight
            held.release.set()
            assert await _exit_code(proc) == 0, (tmp_path / "dispatcher.log").read_text()
        finally:
            if proc.poll() is None:
                proc.kill()
        assert _texts(fake) == parts and not fake.abandoned  # the whole notification, once
    done = await _status(backend, first)
    assert (done.status, done.delivered_via) == (model.NotificationStatus.DELIVERED, "custom")
    assert (await _status(backend, second)).status is model.NotificationStatus.PENDING  # left for the next one
