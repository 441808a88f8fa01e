"""WeCom's send limits, kept on our side because WeCom does not always say when one is passed.

An app may send one member at most 30 messages a minute and 1000 an hour; past that WeCom
answers "ok" and drops the message. A group robot takes 20 a minute (then 45009). So before
each send the channel reserves a slot in a sliding window shared by every dispatcher process
(the database's channel_state, guarded by a lease so two processes cannot both take the last
slot); with none free it learns when the oldest send leaves the window, and the notification
waits until then (the outbox's DeliveryDeferred: it waits, never dropped, no attempt counted).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from backend_bridge.bootstrap import Backend

LEASE_TTL = timedelta(seconds=5)
BUSY_RETRY = timedelta(milliseconds=300)  # another process holds the window: look again shortly


@dataclass(frozen=True)
class Limit:
    count: int
    per: timedelta


MEMBER_LIMITS = (Limit(30, timedelta(minutes=1)), Limit(1000, timedelta(hours=1)))
ROBOT_LIMITS = (Limit(20, timedelta(minutes=1)),)


def _times(raw: str | None) -> list[float]:
    try:
        found = json.loads(raw) if raw else []
        return [float(t) for t in found] if isinstance(found, list) else []
    except (ValueError, TypeError):
        return []


class Windows:
    """Sliding windows of send times, one per name (a member's UserID, a robot)."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    async def reserve(self, name: str, limits: tuple[Limit, ...]) -> datetime | None:
        """Take a slot now (None), or the time the next slot frees (nothing taken)."""
        now = self.backend.clock()
        holder = uuid.uuid4().hex
        key = f"wecom:rate:{name}"
        async with self.backend.new_uow() as uow:
            if not await uow.leases.take_lease(f"wecom-rate:{name}", holder, now, LEASE_TTL):
                return now + BUSY_RETRY
            longest = max(limit.per for limit in limits)
            stamp = now.timestamp()
            times = [t for t in _times(await uow.channel_state.get(key, now)) if t > stamp - longest.total_seconds()]
            wait_until: float | None = None
            for limit in limits:
                recent = sorted(t for t in times if t > stamp - limit.per.total_seconds())
                if len(recent) >= limit.count:  # free when the oldest that fills the window leaves it
                    frees = recent[len(recent) - limit.count] + limit.per.total_seconds()
                    wait_until = max(wait_until or 0.0, frees)
            if wait_until is None:
                times.append(stamp)
                await uow.channel_state.put(key, json.dumps(times), now + longest)
            await uow.leases.release_lease(f"wecom-rate:{name}", holder)
            await uow.commit()
        if wait_until is None:
            return None
        return datetime.fromtimestamp(wait_until, now.tzinfo) + timedelta(milliseconds=1)
