"""Personal data ages out (domain/retention.py); what is still owed, and the service record, stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from backend_bridge.adapters import orm
from backend_bridge.domain import commands, model
from backend_bridge.domain.retention import RetentionPolicy
from backend_bridge.service_layer import handlers
from connectors.settings import retention_policy

OWNER = "webchat:retention-owner"


async def message(backend, text: str, *, answered: bool) -> int:
    recorded = await backend.bus.handle(commands.RecordInbound(OWNER, text))
    if answered:
        await backend.bus.handle(commands.RecordReplies(recorded.id, ("好的",), answered=True))
    return recorded.id


async def notification(backend, clock, status: model.NotificationStatus) -> None:
    async with backend.new_uow() as uow:
        await uow.notifications.add(
            model.Notification(OWNER, "您的工单已派单", "ticket_assigned", clock(), status=status)
        )
        await uow.commit()


async def attempt(backend, clock) -> None:
    async with backend.new_uow() as uow:
        await uow.bindings.record_attempt(model.BindingAttempt(OWNER, clock(), False, "3-2-501"))
        await uow.commit()


async def count(backend, table, *where) -> int:
    async with backend.new_uow() as uow:
        return await uow.session.scalar(select(func.count()).select_from(table).where(*where))


async def test_what_the_policy_no_longer_allows_is_removed_and_nothing_owed(backend, clock):
    old_answered = await message(backend, "3号楼2单元501 我的电话13800000501", answered=True)
    old_unanswered = await message(backend, "还没人回我", answered=False)  # Rasa never answered: still owed
    await notification(backend, clock, model.NotificationStatus.DELIVERED)
    await notification(backend, clock, model.NotificationStatus.DEAD)
    await notification(backend, clock, model.NotificationStatus.PENDING)  # still to deliver
    await attempt(backend, clock)
    number = (await backend.bus.handle(commands.OpenTicket(OWNER, "repair", "厨房漏水", "3", "2", "501"))).number

    clock.advance(days=181)
    await attempt(backend, clock)  # a recent guess: the lockout still counts it
    recent = await message(backend, "谢谢", answered=True)

    purged = await backend.bus.handle(commands.PurgeExpired(RetentionPolicy()))

    assert purged.removed["messages"] == 1
    assert purged.removed["notifications"] == 2  # delivered and dead; the pending one is still owed
    assert purged.removed["binding_attempts"] == 1
    async with backend.new_uow() as uow:
        assert await uow.messages.inbound(old_answered) is None
        assert await uow.messages.inbound(old_unanswered) is not None
        assert await uow.messages.inbound(recent) is not None
        assert await uow.tickets.by_number(number) is not None  # the service record stays
    mine = orm.notifications.c.recipient == OWNER
    pending = orm.notifications.c.status == model.NotificationStatus.PENDING
    assert await count(backend, orm.notifications, mine, pending) >= 1
    assert await count(backend, orm.notifications, mine, ~pending) == 0
    assert await count(backend, orm.binding_attempts) == 1  # the recent guess


async def test_a_long_backlog_goes_in_batches_and_all_of_it(backend, clock, monkeypatch):
    monkeypatch.setattr(handlers, "PURGE_BATCH", 3)
    for i in range(7):
        await message(backend, f"第{i}条", answered=True)
    clock.advance(days=200)
    purged = await backend.bus.handle(commands.PurgeExpired(RetentionPolicy()))
    assert purged.removed["messages"] == 7
    assert await count(backend, orm.inbound_messages) == 0


async def test_a_shorter_policy_removes_sooner(backend, clock):
    await message(backend, "3号楼2单元501", answered=True)
    clock.advance(days=8)
    assert (await backend.bus.handle(commands.PurgeExpired(RetentionPolicy()))).removed["messages"] == 0
    assert (await backend.bus.handle(commands.PurgeExpired(RetentionPolicy(messages_days=7)))).removed["messages"] == 1


def test_retention_settings_are_read_and_checked():
    assert retention_policy({}) == RetentionPolicy()
    assert retention_policy({"WUYE_RETAIN_MESSAGES_DAYS": "90"}).messages_days == 90
    for bad in ("0", "-3", "ninety", "1.5"):
        with pytest.raises(SystemExit, match="WUYE_RETAIN_MESSAGES_DAYS"):
            retention_policy({"WUYE_RETAIN_MESSAGES_DAYS": bad})
    with pytest.raises(ValueError):
        RetentionPolicy(attempts_days=0)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert RetentionPolicy().before(now, 30) == now - timedelta(days=30)


async def test_messages_staff_answered_are_removed_like_the_assistants(backend, clock):
    """A message written to staff (for_staff) is settled: kept no longer than an answered one."""
    await backend.bus.handle(commands.HandOff(OWNER, "requested"))
    to_staff = await message(backend, "人工客服在吗，我家3号楼2单元501", answered=False)
    clock.advance(days=181)
    purged = await backend.bus.handle(commands.PurgeExpired(RetentionPolicy()))
    assert purged.removed["messages"] == 1
    async with backend.new_uow() as uow:
        assert await uow.messages.inbound(to_staff) is None
