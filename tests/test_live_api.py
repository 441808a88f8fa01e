"""The console's live feed (GET /console/api/events) on a real aiohttp server on 127.0.0.1.

Protects: a handoff reaches a subscribed page as ``event: changed`` within about two seconds,
with the waiting count of the caller's own communities and nothing else (another community's
staff learn no count, no chat id); one poller per app, started by the first stream and
stopped when the last goes away or the app cleans up; pings on a quiet stream; a cap on one
member's concurrent streams; no stream without a token.
"""

from __future__ import annotations

import asyncio
import json
import time

import yaml

from backend_bridge.demo import add_demo_staff
from backend_bridge.domain import commands
from backend_bridge.entrypoints.live_api import FEED
from tests.conftest import DEMO, bearer

EVENTS = "/console/api/events"


async def member(backend, username: str) -> dict[str, str]:
    return bearer((await backend.bus.handle(commands.RotateStaffToken(username, "admin"))).token)


async def staff(backend) -> dict[str, dict[str, str]]:
    await add_demo_staff(backend, yaml.safe_load(DEMO.read_text(encoding="utf-8")))
    return {name: await member(backend, name) for name in ("kefu_shifan", "kefu_yangguang", "zhuguan")}


async def next_event(resp, timeout: float = 10.0) -> tuple[str, dict | None]:
    """The next event of the stream: ("changed", data), ("ping", None) or ("eof", None)."""

    async def read() -> tuple[str, dict | None]:
        event, data = None, None
        while True:
            raw = await resp.content.readline()
            if not raw:
                return "eof", None
            line = raw.decode().rstrip("\n")
            if line.startswith(":"):
                return "ping", None
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data = json.loads(line.removeprefix("data: "))
            elif not line and event:
                return event, data

    return await asyncio.wait_for(read(), timeout)


async def events_within(resp, seconds: float) -> list[tuple[str, dict | None]]:
    seen, end = [], time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        try:
            seen.append(await next_event(resp, left))
        except TimeoutError:
            break
    return seen


async def until(condition, seconds: float = 3.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        await asyncio.sleep(0.05)
    return condition()


async def test_a_handoff_reaches_the_desk_within_two_seconds_scoped(backend, public_client):
    members = await staff(backend)
    feed = public_client.server.app[FEED]
    assert not feed.running  # nobody listens: no poller, no query
    shifan = await public_client.get(EVENTS, headers=members["kefu_shifan"])
    assert shifan.status == 200 and shifan.headers["Content-Type"].startswith("text/event-stream")
    yangguang = await public_client.get(EVENTS, headers=members["kefu_yangguang"])
    lead = await public_client.get(EVENTS, headers=members["zhuguan"])
    for stream in (shifan, yangguang, lead):
        assert await next_event(stream) == ("changed", {"waiting": 0, "mark": feed._mark})  # the badge at once
    assert feed.running and len(feed.subscribers) == 3

    sender = "webchat:live-owner"
    await backend.bus.handle(commands.RecordInbound(sender, "我要找人工", community="shifan"))
    await backend.bus.handle(commands.HandOff(sender, "requested"))
    while True:  # the inbound message alone may already have been noticed: wait for the handoff
        event, data = await next_event(shifan)  # pushed without a reload (next_event times out otherwise)
        if event == "changed" and data["waiting"] == 1:
            break
    assert set(data) == {"waiting", "mark"}
    seen = await events_within(yangguang, 1.5)
    assert all(data == {"waiting": 0, "mark": data["mark"]} for _, data in seen if data)  # nothing of shifan's
    assert "live-owner" not in json.dumps(seen)
    while (await next_event(lead))[1]["waiting"] != 1:  # company-wide: every community's
        pass

    await backend.bus.handle(commands.ClaimConversation(sender, actor="kefu_shifan"))
    while (await next_event(shifan))[1]["waiting"] != 0:  # claimed: nobody waits any more
        pass

    for stream in (shifan, yangguang, lead):
        stream.close()  # the pages went away
    assert await until(lambda: not feed.subscribers and not feed.running)


async def test_pings_a_cap_per_member_and_no_stream_without_a_token(backend, public_client):
    members = await staff(backend)
    feed = public_client.server.app[FEED]
    feed.ping = 0.3
    resp = await public_client.get(EVENTS)
    assert resp.status == 401 and "waiting" not in await resp.text()
    streams = [await public_client.get(EVENTS, headers=members["kefu_shifan"]) for _ in range(feed.per_member)]
    assert all(s.status == 200 for s in streams)
    refused = await public_client.get(EVENTS, headers=members["kefu_shifan"])
    assert refused.status == 429 and (await refused.json())["error"] == "too_many_streams"
    other = await public_client.get(EVENTS, headers=members["kefu_yangguang"])  # a colleague is not capped
    assert other.status == 200
    assert (await next_event(streams[0]))[0] == "changed"
    assert await next_event(streams[0], 2.0) == ("ping", None)
    streams[0].close()
    assert await until(lambda: len(feed.subscribers) == feed.per_member)  # a place is free again
    again = await public_client.get(EVENTS, headers=members["kefu_shifan"])
    assert again.status == 200

    await feed.close()  # what the app's shutdown and cleanup call: every stream ends, the poller stops
    assert not feed.running
    for stream in (*streams[1:], other, again):
        while (await next_event(stream))[0] != "eof":
            pass
    assert await until(lambda: not feed.subscribers)
