"""Redis Streams between the processes that write notifications and the dispatchers.

Writers XADD the recipient after their transaction commits (``RedisStreamNotifier``);
dispatchers read through one consumer group, so each wake-up goes to one of them and
several can run side by side. An entry is acknowledged only after its recipient's queue
was drained; a dispatcher that dies leaves its entries pending, and the others claim them
once they have been idle for ``claim_idle_ms`` (XAUTOCLAIM). The stream only carries
wake-ups: the database stays the record of what must be sent, so a lost XADD costs at most
one sweep interval, never a notification.
"""

from __future__ import annotations

import logging
import time

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from backend_bridge.service_layer.delivery import Dispatcher

log = logging.getLogger(__name__)

STREAM = "wuye:notifications"
GROUP = "dispatchers"
MAX_STREAM_LENGTH = 100_000  # wake-ups only; old entries are worthless once drained


class RedisStreamNotifier:
    def __init__(self, client: aioredis.Redis, stream: str = STREAM) -> None:
        self.client = client
        self.stream = stream

    async def queued(self, recipient: str) -> None:
        await self.client.xadd(self.stream, {"recipient": recipient}, maxlen=MAX_STREAM_LENGTH, approximate=True)


class StreamConsumer:
    """One dispatcher's membership of the consumer group."""

    def __init__(
        self,
        client: aioredis.Redis,
        dispatcher: Dispatcher,
        *,
        stream: str = STREAM,
        group: str = GROUP,
        block_ms: int = 1000,
        claim_idle_ms: int = 30_000,
    ) -> None:
        self.client = client
        self.dispatcher = dispatcher
        self.stream, self.group = stream, group
        self.consumer = dispatcher.name
        self.block_ms, self.claim_idle_ms = block_ms, claim_idle_ms
        self._last_claim = 0.0

    async def join(self) -> None:
        try:
            await self.client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _handle(self, entries: list) -> int:
        """Drain every recipient woken in this batch, then acknowledge the batch."""
        if not entries:
            return 0
        recipients = []
        for _entry_id, fields in entries:
            recipient = fields.get(b"recipient") or fields.get("recipient")
            if recipient is not None:
                recipients.append(recipient.decode() if isinstance(recipient, bytes) else recipient)
        sent = await self.dispatcher.drain_all(recipients)
        await self.client.xack(self.stream, self.group, *(entry_id for entry_id, _ in entries))
        return sent

    async def once(self) -> int:
        """Claim what dead consumers left (now and then), then read new wake-ups (blocking up to block_ms)."""
        sent = 0
        if time.monotonic() - self._last_claim >= self.claim_idle_ms / 2000:
            claimed = await self.client.xautoclaim(
                self.stream, self.group, self.consumer, min_idle_time=self.claim_idle_ms, start_id="0-0", count=50
            )
            self._last_claim = time.monotonic()
            sent += await self._handle(claimed[1])
        read = await self.client.xreadgroup(
            self.group, self.consumer, {self.stream: ">"}, count=50, block=self.block_ms
        )
        for _stream, entries in read or []:
            sent += await self._handle(entries)
        return sent
