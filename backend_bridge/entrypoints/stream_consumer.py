"""A dispatcher driven by the Redis stream of wake-ups (adapters/redis_streams.py writes them).

An entrypoint: it reads the consumer group and calls the service layer's Dispatcher, as the
HTTP routes call the message bus.
"""

from __future__ import annotations

import logging
import time

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from backend_bridge.adapters.redis_streams import GROUP, STREAM
from backend_bridge.service_layer.delivery import Dispatcher

log = logging.getLogger(__name__)


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
        if self.dispatcher.stopping:  # some may not have been drained: left pending, another consumer claims them
            return sent
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
