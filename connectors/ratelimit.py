"""Limits per key: a token bucket in this process, and a failure window shared through Redis.

``RateLimiter`` (the web chat's limits): each gateway process keeps its own buckets, so with N
gateways behind a balancer a client gets up to N times the rate, which still bounds a flood.
Memory is bounded too: the least recently seen keys are dropped beyond ``max_keys`` (a dropped
key simply starts with a full bucket).

``SharedFailureWindow`` (the console's sign-in failures): guessing passwords must not get N times
the tries from N gateways, so where Redis is configured (every production layout, deploy/) the
failures are counted there, for every gateway at once.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections import OrderedDict

log = logging.getLogger(__name__)


class RateLimiter:
    def __init__(self, per_minute: float, *, burst: int | None = None, max_keys: int = 100_000) -> None:
        """``per_minute`` tokens refill per minute, up to ``burst`` (default: per_minute) at once;
        0 turns the limit off."""
        self.rate = per_minute / 60.0
        self.burst = float(burst if burst is not None else per_minute)
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key → (tokens, at)

    @classmethod
    def per_window(cls, count: int, seconds: float, *, max_keys: int = 100_000) -> RateLimiter:
        """``count`` at once, refilling ``count`` per ``seconds`` (5 sign-in failures per 15 minutes)."""
        return cls(count * 60.0 / seconds, burst=count, max_keys=max_keys)

    @property
    def on(self) -> bool:
        return self.rate > 0

    def wait(self, key: str, now: float) -> float:
        """Take a token for ``key`` at monotonic time ``now``: 0.0 if there was one, else the
        seconds until there will be (nothing is taken then)."""
        if not self.on:
            return 0.0
        tokens, at = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            wait = 0.0
        else:
            self._buckets[key] = (tokens, now)
            wait = (1.0 - tokens) / self.rate
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait

    def peek(self, key: str, now: float) -> float:
        """The seconds until ``key`` has a token (0.0: it has one now), taking nothing: a limit on
        failures is asked before the attempt and charged only when it fails."""
        if not self.on or key not in self._buckets:
            return 0.0
        tokens, at = self._buckets[key]
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate


class LocalFailureWindow:
    """So many failures per window for a key, in this process (a ``RateLimiter`` that only
    failures drain): the console's throttle without Redis."""

    def __init__(self, count: int, seconds: float) -> None:
        self.limiter = RateLimiter.per_window(count, seconds)

    async def seconds_left(self, key: str) -> float:
        return self.limiter.peek(key, time.monotonic())

    async def failed(self, key: str) -> None:
        self.limiter.wait(key, time.monotonic())


class SharedFailureWindow:
    """At most ``count`` failures per key in any ``seconds``, counted in Redis for every process.

    A sorted set per key holds the failures' times (a sliding window: the limit lifts when the
    oldest failure that counts leaves it). Keys are hashed: Redis never holds usernames or client
    addresses. If Redis cannot be reached, the limit falls back to this process's window (logged)
    rather than refusing every sign-in.
    """

    def __init__(self, redis, count: int, seconds: float, *, prefix: str = "wuye:failures:") -> None:
        self.redis, self.count, self.seconds, self.prefix = redis, count, seconds, prefix
        self.fallback = LocalFailureWindow(count, seconds)

    def _key(self, key: str) -> str:
        return self.prefix + hashlib.sha256(key.encode()).hexdigest()[:32]

    async def seconds_left(self, key: str) -> float:
        if self.count <= 0:
            return 0.0
        name, now = self._key(key), time.time()
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.zremrangebyscore(name, "-inf", now - self.seconds)
                pipe.zrange(name, -self.count, -self.count, withscores=True)
                pipe.zcard(name)
                _, nth, total = await pipe.execute()
        except Exception:
            log.warning("sign-in failures: Redis unreachable, counting in this process", exc_info=True)
            return await self.fallback.seconds_left(key)
        if total < self.count or not nth:
            return await self.fallback.seconds_left(key)  # failures counted here while Redis was away
        return max(0.0, nth[0][1] + self.seconds - now)

    async def failed(self, key: str) -> None:
        if self.count <= 0:
            return
        name, now = self._key(key), time.time()
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.zadd(name, {f"{now:.6f}:{uuid.uuid4().hex[:8]}": now})
                pipe.expire(name, int(self.seconds) + 1)
                await pipe.execute()
        except Exception:
            log.warning("sign-in failures: Redis unreachable, counting in this process", exc_info=True)
            await self.fallback.failed(key)
