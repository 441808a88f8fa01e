"""The console's live feed: ``GET /console/api/events``, a text/event-stream telling staff pages
that something they show may have changed, so they refetch it through the scoped API.

One poller per application (``DeskFeed``), whoever listens: every ``POLL`` seconds while at
least one stream is open it reads one cheap watermark (views.desk_watermark: the newest owner
message, notification, ticket history row, handoff, note, claim and handback, the waiting
count). It starts with the first stream and stops with the last (and at the app's cleanup), so
an idle gateway runs no query for it. On a change each stream gets ``event: changed`` with
``{"waiting": <handed-off conversations nobody holds, in the caller's communities>, "mark"}``:
a count and an opaque mark, never an owner's data. ``: ping`` every ``PING`` seconds keeps
proxies from closing a quiet stream. A member may hold ``MAX_STREAMS_PER_MEMBER`` streams at
once (a few tabs); beyond that 429, so one account cannot tie up the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections import Counter
from dataclasses import dataclass, field

from aiohttp import web

from backend_bridge.bootstrap import Backend
from backend_bridge.domain import model
from backend_bridge.entrypoints.http import json_error
from backend_bridge.entrypoints.staff_auth import STAFF, scope, staff_only
from backend_bridge.service_layer import views

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

POLL = 0.5  # seconds between watermark reads while anyone listens
PING = 15.0  # seconds of quiet before a comment line keeps the stream open
MAX_STREAMS_PER_MEMBER = 5
TICK = 1.0  # how often a quiet stream checks that its client is still there


@dataclass(eq=False)
class Subscriber:
    """One open stream: its member, scope and the newest event not yet written."""

    username: str
    scope: views.Scope
    counts_waiting: bool  # may read conversations; other roles get 0 (they have no such list)
    pending: dict | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False

    def tell(self, event: dict) -> None:
        self.pending = event  # a slow reader gets the latest state, never a backlog
        self.wake.set()

    def close(self) -> None:
        self.closed = True
        self.wake.set()

    async def next(self, timeout: float) -> dict | None:
        """The next event, or None after ``timeout`` seconds of quiet."""
        if self.pending is None and not self.closed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout)
        self.wake.clear()
        event, self.pending = self.pending, None
        return event


class TooManyStreams(Exception):
    pass


class DeskFeed:
    """The shared poller and its subscribers (one per application)."""

    def __init__(
        self, backend: Backend, *, poll: float = POLL, ping: float = PING, per_member: int = MAX_STREAMS_PER_MEMBER
    ) -> None:
        self.backend = backend
        self.poll = poll
        self.ping = ping
        self.per_member = per_member
        self.subscribers: set[Subscriber] = set()
        self._streams: Counter[str] = Counter()
        self._task: asyncio.Task | None = None
        self._mark: str | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def subscribe(self, member: model.StaffMember, member_scope: views.Scope) -> Subscriber:
        """A new stream; it is told the current state at once (the page's badge), then changes."""
        if self._streams[member.username] >= self.per_member:
            raise TooManyStreams(member.username)
        subscriber = Subscriber(member.username, member_scope, member.may("conversations"))
        self._streams[member.username] += 1
        self.subscribers.add(subscriber)
        try:
            if not self.running:  # the poller starts now: from the store's state as it is
                self._mark = _mark(await views.desk_watermark(self.backend.new_uow()))
            subscriber.tell(await self._event_for(subscriber.scope, subscriber.counts_waiting, {}))
        except BaseException:
            self.unsubscribe(subscriber)
            raise
        if not self.running:
            self._task = asyncio.create_task(self._run())
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        if subscriber not in self.subscribers:
            return
        self.subscribers.discard(subscriber)
        self._streams[subscriber.username] -= 1
        if self._streams[subscriber.username] <= 0:
            del self._streams[subscriber.username]
        if not self.subscribers and self._task is not None:
            self._task.cancel()  # nobody listens: no more queries
            self._task = None

    async def close(self, _app: web.Application | None = None) -> None:
        """End every stream and the poller (the app's shutdown and cleanup)."""
        for subscriber in list(self.subscribers):
            subscriber.close()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while self.subscribers:
            await asyncio.sleep(self.poll)
            try:
                await self._check()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be restarting: try again at the next tick
                log.warning("live feed: could not read the watermark", exc_info=True)

    async def _check(self) -> None:
        mark = _mark(await views.desk_watermark(self.backend.new_uow()))
        if mark == self._mark:
            return
        self._mark = mark
        counts: dict = {}  # one waiting count per distinct scope
        for subscriber in list(self.subscribers):
            subscriber.tell(await self._event_for(subscriber.scope, subscriber.counts_waiting, counts))

    async def _event_for(self, member_scope: views.Scope, counts_waiting: bool, counts: dict) -> dict:
        if not counts_waiting:
            return {"waiting": 0, "mark": self._mark}
        key = None if member_scope is None else tuple(sorted(member_scope))
        if key not in counts:
            counts[key] = await views.waiting_count(self.backend.new_uow(), member_scope)
        return {"waiting": counts[key], "mark": self._mark}


def _mark(watermark: tuple) -> str:
    """Opaque to the page: changes whenever the watermark does, says nothing of what it counts."""
    return hashlib.blake2b(repr(watermark).encode(), digest_size=8).hexdigest()


FEED = web.AppKey("desk_feed", DeskFeed)


def install(app: web.Application, backend: Backend) -> None:
    """The route and one feed for ``app``; streams end at shutdown, the poller at cleanup."""
    app[FEED] = DeskFeed(backend)
    app.add_routes(routes)
    app.on_shutdown.append(app[FEED].close)
    app.on_cleanup.append(app[FEED].close)


def _gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


@routes.get("/console/api/events")
@staff_only("tickets.read")  # every staff role; what the stream says is scoped to the caller
async def events(request: web.Request) -> web.StreamResponse:
    feed = request.app[FEED]
    try:
        subscriber = await feed.subscribe(request[STAFF], scope(request))
    except TooManyStreams:
        return json_error(429, "too_many_streams", f"at most {feed.per_member} live streams per member")
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",  # a proxy in front (nginx) must not hold the events back
        }
    )
    try:
        await response.prepare(request)
        await response.write(b"retry: 3000\n\n")
        quiet = 0.0
        while not subscriber.closed and not _gone(request):
            event = await subscriber.next(TICK)
            if event is not None:
                payload = json.dumps(event, separators=(",", ":"))
                await response.write(f"event: changed\ndata: {payload}\n\n".encode())
                quiet = 0.0
                continue
            quiet += TICK
            if quiet >= feed.ping:
                await response.write(b": ping\n\n")
                quiet = 0.0
    except ConnectionResetError:
        pass  # the page went away mid-write: nothing to finish
    finally:
        feed.unsubscribe(subscriber)
    return response
