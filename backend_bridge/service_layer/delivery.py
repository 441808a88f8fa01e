"""Delivering the outbox: each recipient's notifications in order, retried with back-off.

A dispatcher takes a recipient's lease (so no other dispatcher talks to that owner at the
same time), sends the oldest pending notification through the recipient's channel, marks
it delivered, and goes on. A failure schedules a retry (``Notification.failed``) and holds
the newer ones back, so an owner never hears "resolved" before "assigned"; after
MAX_DELIVERY_ATTEMPTS the notification is dead-lettered for staff and the queue moves on.
A channel that must wait (a per-recipient rate limit or cap) raises ``DeliveryDeferred``: the
notification waits until the time given, no attempt counted, and the newer ones wait behind it.

A dispatcher killed between sending and marking sends again after its lease runs out,
with the same idempotency key: channels drop the repeat (the web chat's mailbox has the
key as a unique column), so the owner sees every notification exactly once. A channel
whose platform takes no idempotency key (WeChat's customer-service API) cannot drop it:
there a kill in the window between the platform accepting a message and the delivery
being recorded repeats that one message (at least once, never lost); see the channel.

A dispatcher asked to stop (``request_stop``: SIGTERM, Ctrl+C) finishes the push in
flight, records it and releases the lease before it returns, and starts no other, so a
clean stop never leaves that window open.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from backend_bridge.domain import model
from backend_bridge.service_layer.ports import Clock, DeliveryDeferred, DeliveryFailed
from backend_bridge.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

JOB_TIMEOUT = timedelta(minutes=5)  # a periodic job that runs longer may be started again elsewhere
HEARTBEAT = "alive:"  # each running dispatcher holds the lease alive:<its name> while it runs


@dataclass(frozen=True)
class Sent:
    """How a paid platform took a notification: the path, its message id (receipts name it) and
    the parts it billed; kept on the notification."""

    via: str
    message_id: str | None = None
    parts: int | None = None


# One channel's delivery: raise DeliveryFailed (or anything) when the message did not get through,
# DeliveryDeferred when it must wait; it may answer how it went ("mailbox", "custom", "template", or
# a Sent with the platform's message id), which is kept on the notification.
Deliver = Callable[[model.Notification], Awaitable["str | Sent | None"]]


def _lease(recipient: str) -> str:
    """The lease that makes one dispatcher at a time deliver to ``recipient``."""
    return f"deliver:{recipient}"


@dataclass
class Dispatcher:
    uow_factory: Callable[[], UnitOfWork]
    channels: dict[str, Deliver]
    clock: Clock
    lease_ttl: timedelta = timedelta(seconds=15)  # longer than any channel's send timeout
    concurrency: int = 8  # recipients drained side by side
    name: str = field(default_factory=lambda: f"dispatcher-{uuid.uuid4().hex[:8]}")
    stopping: bool = field(default=False, init=False)

    def request_stop(self) -> None:
        """Finish (and record) the notification each drain is sending, then send nothing more."""
        self.stopping = True

    async def _due(self, uow: UnitOfWork, recipient: str) -> model.Notification | None:
        head = await uow.notifications.head(recipient)
        if head is None or head.next_attempt_at > self.clock():
            return None
        uow.session.expunge(head)  # a plain object for the channel, used outside the transaction
        return head

    async def _claim(self, recipient: str, holder: str) -> tuple[bool, model.Notification | None]:
        """Take the recipient's lease and read the first notification due (one transaction)."""
        async with self.uow_factory() as uow:
            held = await uow.leases.take_lease(_lease(recipient), holder, self.clock(), self.lease_ttl)
            head = await self._due(uow, recipient) if held else None
            await uow.commit()
            return held, head

    async def _send(self, notification: model.Notification) -> tuple[str | None, bool, Sent | DeliveryDeferred | None]:
        """(error, permanent, None) from the recipient's channel; (None, False, how) when it got through;
        (reason, False, the deferral) when it must wait."""
        deliver = self.channels.get(notification.channel)
        if deliver is None:
            return f"no channel delivers to {notification.channel!r}", True, None
        try:
            via = await deliver(notification)
        except DeliveryDeferred as exc:
            return str(exc) or "deferred", False, exc
        except DeliveryFailed as exc:
            return str(exc) or type(exc).__name__, exc.permanent, None
        except Exception as exc:  # a channel bug must not stop every delivery
            log.exception("channel %s failed on notification %s", notification.channel, notification.id)
            return f"{type(exc).__name__}: {exc}", False, None
        if isinstance(via, str):
            via = Sent(via)
        return None, False, via if isinstance(via, Sent) else None

    async def _settle(
        self,
        sent: model.Notification,
        error: str | None,
        permanent: bool,
        holder: str,
        via: Sent | DeliveryDeferred | None = None,
    ) -> model.Notification | None:
        """Record the attempt, renew the lease and read the next notification due (one transaction).

        Returns None after a failure or a deferral: newer notifications wait for it.
        """
        async with self.uow_factory() as uow:
            current = await uow.notifications.get(sent.id)
            if current.status is model.NotificationStatus.PENDING:  # else staff or a sweep settled it
                if isinstance(via, DeliveryDeferred):
                    current.deferred(error or "deferred", via.until)
                    log.info("notification %s on %s deferred until %s: %s", sent.id, sent.channel, via.until, error)
                elif error is None:
                    how = via or Sent("")
                    current.delivered(self.clock(), how.via or None, message_id=how.message_id, parts=how.parts)
                else:
                    current.failed(error, self.clock(), permanent=permanent)
                    level = logging.ERROR if current.status is model.NotificationStatus.DEAD else logging.WARNING
                    log.log(level, "notification %s on %s: %s (%s)", sent.id, sent.channel, error, current.status.value)
            # Still ours? A send slower than the lease let another dispatcher take over: stop here.
            held = await uow.leases.take_lease(_lease(sent.recipient), holder, self.clock(), self.lease_ttl)
            following = await self._due(uow, sent.recipient) if held and error is None else None
            await uow.commit()
            return following

    async def _release(self, recipient: str, holder: str) -> bool:
        """Give the lease back; True when something became due meanwhile.

        A notification committed while we held the lease may have had its wake-up swallowed
        by another dispatcher that found the lease taken, so look once more after releasing.
        """
        async with self.uow_factory() as uow:
            await uow.leases.release_lease(_lease(recipient), holder)
            due = await self._due(uow, recipient) is not None
            await uow.commit()
            return due

    async def drain(self, recipient: str) -> int:
        """Deliver what is due for ``recipient``, in order; returns how many went out."""
        sent = 0
        holder = f"{self.name}:{uuid.uuid4().hex[:8]}"  # per drain: concurrent drains here exclude each other too
        while True:
            held, head = await self._claim(recipient, holder)
            if not held:
                return sent
            try:
                while head is not None and not self.stopping:
                    error, permanent, via = await self._send(head)
                    sent += error is None
                    head = await self._settle(head, error, permanent, holder, via)
                    if isinstance(via, DeliveryDeferred):
                        head = None
            finally:
                more = await self._release(recipient, holder)
            if not more or self.stopping:
                return sent

    async def drain_all(self, recipients: list[str]) -> int:
        """Drain several recipients side by side (each one's own messages stay in order)."""
        limit = asyncio.Semaphore(self.concurrency)

        async def one(recipient: str) -> int:
            async with limit:
                return 0 if self.stopping else await self.drain(recipient)

        return sum(await asyncio.gather(*(one(r) for r in dict.fromkeys(recipients))))

    async def poll_once(self, limit: int = 100) -> int:
        """One sweep over every recipient with something due (the no-Redis mode, and retries)."""
        async with self.uow_factory() as uow:
            recipients = await uow.notifications.due_recipients(self.clock(), limit)
        return await self.drain_all(recipients)

    @property
    def _heartbeat(self) -> str:
        return f"{HEARTBEAT}{self.name}"

    async def beat(self, ttl: timedelta) -> None:
        """Say "this dispatcher is running" until now + ttl (what /healthz reads)."""
        async with self.uow_factory() as uow:
            now = self.clock()
            await uow.leases.take_lease(self._heartbeat, self.name, now, ttl)
            await uow.leases.drop_leases(HEARTBEAT, now - timedelta(days=1))
            await uow.commit()

    async def stop(self) -> None:
        """A clean stop withdraws the heartbeat at once instead of letting it run out."""
        async with self.uow_factory() as uow:
            await uow.leases.release_lease(self._heartbeat, self.name)
            await uow.commit()

    async def run_job(
        self, name: str, every: timedelta, job: Callable[[], Awaitable[object]], timeout: timedelta = JOB_TIMEOUT
    ) -> bool:
        """Run a periodic job (the SLA scheduler) on one dispatcher at a time, at most once per
        ``every``; False when another dispatcher has it or ran it recently.

        The lease covers the run itself (up to ``timeout``), then is set to expire ``every``
        after the run, which is what spaces the runs out.
        """
        lease = f"job:{name}"
        async with self.uow_factory() as uow:
            held = await uow.leases.take_lease(lease, self.name, self.clock(), timeout)
            await uow.commit()
        if not held:
            return False
        try:
            await job()
        finally:
            async with self.uow_factory() as uow:
                await uow.leases.take_lease(lease, self.name, self.clock(), every)
                await uow.commit()
        return True
