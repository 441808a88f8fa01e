"""What the push benchmarks (bench/wechat.py, bench/wecom.py, bench/sms.py) share.

Each measures a status change's commit → its message at a fake platform, against the web chat
baseline of the same run, with one dispatcher polled in a loop in the benchmark's process. The
scaffolding is here once so the three measure the same way: the figures, the timed web chat
mailbox (the baseline), the dispatcher loop and the wait for what should have arrived.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import Any

from backend_bridge.service_layer.delivery import Deliver, Dispatcher
from bench.outbox import percentile
from connectors.channel import deliveries


def stats(values_s: list[float]) -> dict:
    """n, p50, p99 and max of durations in seconds, as milliseconds."""
    ms = [v * 1000 for v in values_s]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "max_ms": round(max(ms), 1),
    }


def ratio(run: dict, baseline: dict, key: str) -> float:
    """``run[key]`` over the baseline's: the machine is shared and noisy, ratios travel better."""
    return round(run[key] / baseline[key], 2) if baseline[key] else 0.0


def timed_deliveries(backend, channels) -> tuple[dict[str, Deliver], dict[str, datetime]]:
    """The channels' deliveries, the web chat's timed: (deliveries, web chat recipient → when its
    latest mailbox delivery returned). The mailbox is the baseline: no platform behind it."""
    arrived: dict[str, datetime] = {}
    found = deliveries(backend, channels)
    mailbox = found["webchat"]

    async def timed_mailbox(notification):
        via = await mailbox(notification)
        arrived[notification.recipient] = datetime.now(timezone.utc)
        return via

    found["webchat"] = timed_mailbox
    return found, arrived


@asynccontextmanager
async def dispatching(dispatcher: Dispatcher, poll: float) -> AsyncIterator[None]:
    """One dispatcher delivering in a loop while the block runs: again at once while it finds
    work, after ``poll`` seconds when it found nothing."""
    stop = asyncio.Event()

    async def loop() -> None:
        while not stop.is_set():
            if not await dispatcher.poll_once():
                await asyncio.sleep(poll)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        stop.set()
        await task


async def wait_for(found: Callable[[], dict[str, Any]], want: int, what: str, timeout: float = 60) -> dict[str, Any]:
    """``found()`` once it has ``want`` entries (polled every 20 ms); TimeoutError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = found()
        if len(got) >= want:
            return got
        await asyncio.sleep(0.02)
    raise TimeoutError(f"{what}: {len(found())} of {want} arrived")
