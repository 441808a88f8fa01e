"""A token bucket per key (a sender, a client address, a console username), in this process.

Each gateway process keeps its own buckets: with N gateways behind a balancer a client gets up
to N times the rate, which still bounds a flood. Memory is bounded too: the least recently
seen keys are dropped beyond ``max_keys`` (a dropped key simply starts with a full bucket).
"""

from __future__ import annotations

from collections import OrderedDict


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
