"""Sending a notification cut into parts, remembering each part once the platform took it.

WeChat's customer-service API (and 微信客服's send_msg) takes no idempotency key, so a part the
platform accepted cannot be recognised when it is sent again. What can be done: write down each
part as soon as the platform answers ok, so a retry (after a failure part-way, or after the
dispatcher was killed and its lease ran out) sends only the parts not yet taken. What remains is
one part's window: killed after the platform accepted a part and before its mark is committed,
that one part goes again (at least once; never lost, never skipped).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from backend_bridge.bootstrap import Backend
from backend_bridge.domain import model

SENT_MARK_DAYS = 3  # longer than a notification can stay pending (8 attempts back off to 10 min)


async def send_parts(
    backend: Backend,
    channel: str,
    notification: model.Notification,
    parts: list[str],
    send: Callable[[str], Awaitable[None]],
) -> int:
    """Send the parts not yet marked sent, in order; returns how many went out now."""
    went = 0
    for i, part in enumerate(parts):
        mark = f"{channel}:sent:{notification.key}:{i}"
        async with backend.new_uow() as uow:
            if await uow.channel_state.get(mark, backend.clock()) is not None:
                continue
        await send(part)
        went += 1
        async with backend.new_uow() as uow:
            await uow.channel_state.put(mark, "sent", backend.clock() + timedelta(days=SENT_MARK_DAYS))
            await uow.commit()
    return went
