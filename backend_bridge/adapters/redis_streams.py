"""Redis Streams between the processes that write notifications and the dispatchers.

Writers XADD the recipient after their transaction commits (``RedisStreamNotifier``);
dispatchers read through one consumer group (entrypoints/stream_consumer.py), so each wake-up goes to one of them and
several can run side by side. An entry is acknowledged only after its recipient's queue
was drained; a dispatcher that dies leaves its entries pending, and the others claim them
once they have been idle for ``claim_idle_ms`` (XAUTOCLAIM). The stream only carries
wake-ups: the database stays the record of what must be sent, so a lost XADD costs at most
one sweep interval, never a notification.
"""

from __future__ import annotations

import redis.asyncio as aioredis

STREAM = "wuye:notifications"
GROUP = "dispatchers"
MAX_STREAM_LENGTH = 100_000  # wake-ups only; old entries are worthless once drained


class RedisStreamNotifier:
    def __init__(self, client: aioredis.Redis, stream: str = STREAM) -> None:
        self.client = client
        self.stream = stream

    async def queued(self, recipient: str) -> None:
        await self.client.xadd(self.stream, {"recipient": recipient}, maxlen=MAX_STREAM_LENGTH, approximate=True)
