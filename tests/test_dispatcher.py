"""Status updates that always arrive: the outbox, its dispatchers, Redis and database modes.

Protects: each owner's notifications arrive in the order they were written; a failing
channel retries with back-off, holds newer messages back, and dead-letters after
MAX_DELIVERY_ATTEMPTS; two dispatchers never deliver to one owner at once; with Redis,
wake-ups go through a consumer group and a dead consumer's entries are claimed by
another; and a real dispatcher process killed (SIGKILL) again and again mid-delivery
loses nothing and shows the owner nothing twice. A running dispatcher keeps a heartbeat
(what /healthz reads) and withdraws it when stopped.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from sqlalchemy import func, select

from backend_bridge.adapters import orm
from backend_bridge.adapters.redis_streams import RedisStreamNotifier
from backend_bridge.domain import model
from backend_bridge.entrypoints.stream_consumer import StreamConsumer
from backend_bridge.service_layer import views
from backend_bridge.service_layer.delivery import Dispatcher
from backend_bridge.service_layer.ports import DeliveryFailed, utc_now
from connectors.channel import deliveries

ROOT = Path(__file__).resolve().parent.parent


class RecordingChannel:
    """A channel that records what reached it and fails on demand (the dispatcher's contract)."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str]] = []  # (recipient, key)
        self.failures = 0  # how many next attempts fail
        self.permanent = False
        self.active = 0
        self.overlap = False

    async def __call__(self, notification: model.Notification) -> None:
        self.active += 1
        self.overlap |= self.active > 1
        try:
            await asyncio.sleep(0.002)
            if self.failures:
                self.failures -= 1
                raise DeliveryFailed("provider answered 503", permanent=self.permanent)
            self.received.append((notification.recipient, notification.key))
        finally:
            self.active -= 1


async def queue(backend, recipient: str, count: int, kind: str = "test") -> list[str]:
    keys = []
    async with backend.new_uow() as uow:
        for i in range(count):
            n = model.Notification(recipient, f"消息 {i}", kind, backend.clock())
            await uow.notifications.add(n)
            keys.append(n.key)
        await uow.commit()
    return keys


async def statuses(backend) -> dict[str, model.Notification]:
    async with backend.new_uow() as uow:
        found = (await uow.session.scalars(select(model.Notification))).all()
        uow.session.expunge_all()
        return {n.key: n for n in found}


async def test_each_owners_notifications_arrive_in_order(backend):
    channel = RecordingChannel()
    dispatcher = Dispatcher(backend.new_uow, {"test": channel}, backend.clock)
    a = await queue(backend, "test:a", 5)
    b = await queue(backend, "test:b", 5)
    assert await dispatcher.poll_once() == 10
    assert [k for r, k in channel.received if r == "test:a"] == a
    assert [k for r, k in channel.received if r == "test:b"] == b
    assert all(n.status is model.NotificationStatus.DELIVERED for n in (await statuses(backend)).values())


async def test_a_failure_is_retried_with_back_off_and_holds_newer_messages_back(backend, clock):
    channel = RecordingChannel()
    dispatcher = Dispatcher(backend.new_uow, {"test": channel}, clock)
    keys = await queue(backend, "test:a", 3)
    channel.failures = 1
    assert await dispatcher.poll_once() == 0  # the first failed; the others wait behind it
    first = (await statuses(backend))[keys[0]]
    assert first.attempts == 1 and first.last_error == "provider answered 503"
    assert first.next_attempt_at == clock.now + model.retry_delay(1)
    assert await dispatcher.poll_once() == 0  # not due yet
    clock.advance(seconds=model.retry_delay(1).total_seconds())
    assert await dispatcher.poll_once() == 3
    assert [k for _, k in channel.received] == keys


async def test_after_max_attempts_a_notification_is_dead_and_the_queue_moves_on(backend, clock, public_client):
    channel = RecordingChannel()
    dispatcher = Dispatcher(backend.new_uow, {"test": channel}, clock)
    keys = await queue(backend, "test:a", 2)
    channel.failures = model.MAX_DELIVERY_ATTEMPTS
    for attempt in range(1, model.MAX_DELIVERY_ATTEMPTS + 1):
        await dispatcher.poll_once()
        clock.advance(seconds=model.retry_delay(attempt).total_seconds())
    found = await statuses(backend)
    assert found[keys[0]].status is model.NotificationStatus.DEAD
    assert found[keys[0]].attempts == model.MAX_DELIVERY_ATTEMPTS
    assert found[keys[1]].status is model.NotificationStatus.DELIVERED  # not stuck behind a dead letter
    assert [k for _, k in channel.received] == [keys[1]]


async def test_a_permanent_failure_is_dead_at_once(backend):
    channel = RecordingChannel()
    channel.failures, channel.permanent = 1, True
    (key,) = await queue(backend, "test:a", 1)
    await Dispatcher(backend.new_uow, {"test": channel}, backend.clock).poll_once()
    assert (await statuses(backend))[key].status is model.NotificationStatus.DEAD


async def test_two_dispatchers_never_deliver_to_one_owner_at_once(backend):
    channel = RecordingChannel()
    keys = await queue(backend, "test:a", 30)
    one = Dispatcher(backend.new_uow, {"test": channel}, backend.clock)
    two = Dispatcher(backend.new_uow, {"test": channel}, backend.clock)
    sent = await asyncio.gather(one.drain("test:a"), two.drain("test:a"), one.poll_once(), two.poll_once())
    assert sum(sent) == 30
    assert [k for _, k in channel.received] == keys
    assert not channel.overlap


async def test_the_web_chat_shows_a_notification_once_even_if_delivered_twice(backend, public_client):
    (key,) = await queue(backend, "webchat:owner-1", 1)
    deliver = deliveries(backend)["webchat"]
    notification = (await statuses(backend))[key]
    await deliver(notification)
    await deliver(notification)  # a dispatcher killed before marking it delivered sends it again
    resp = await public_client.get("/api/chat/owner-1/updates")
    assert [u["text"] for u in (await resp.json())["updates"]] == ["消息 0"]


async def test_the_path_each_delivery_took_is_recorded(backend):
    web, staff, plain = [await queue(backend, r, 1) for r in ("webchat:owner-1", "staff:li", "test:a")]
    channels = {**deliveries(backend), "test": RecordingChannel()}  # a channel that says nothing about it
    assert await Dispatcher(backend.new_uow, channels, backend.clock).poll_once() == 3
    found = await statuses(backend)
    assert [found[k].delivered_via for k in (*web, *staff, *plain)] == ["mailbox", "log", None]


async def test_with_redis_wake_ups_go_through_a_consumer_group(backend, redis_url):
    client = aioredis.Redis.from_url(redis_url)
    stream = f"test:notifications:{os.getpid()}:{time.monotonic_ns()}"
    channel = RecordingChannel()
    consumers = [
        StreamConsumer(
            client, Dispatcher(backend.new_uow, {"test": channel}, backend.clock), stream=stream, block_ms=50
        )
        for _ in range(2)
    ]
    for consumer in consumers:
        await consumer.join()
    notifier = RedisStreamNotifier(client, stream)
    keys = {}
    for owner in ("test:a", "test:b", "test:c"):
        keys[owner] = await queue(backend, owner, 4)
        await notifier.queued(owner)
    sent = await asyncio.gather(*(c.once() for c in consumers))
    assert sum(sent) == 12
    for owner, expected in keys.items():
        assert [k for r, k in channel.received if r == owner] == expected
    pending = await client.xpending(stream, "dispatchers")
    assert pending["pending"] == 0  # every wake-up acknowledged
    await client.delete(stream)
    await client.aclose()


async def test_a_dead_consumers_wake_ups_are_claimed_by_another(backend, redis_url):
    client = aioredis.Redis.from_url(redis_url)
    stream = f"test:notifications:{os.getpid()}:{time.monotonic_ns()}"
    channel = RecordingChannel()
    survivor = StreamConsumer(
        client,
        Dispatcher(backend.new_uow, {"test": channel}, backend.clock),
        stream=stream,
        block_ms=50,
        claim_idle_ms=100,
    )
    await survivor.join()
    keys = await queue(backend, "test:a", 3)
    await RedisStreamNotifier(client, stream).queued("test:a")
    # A consumer reads the wake-up and dies before acknowledging it.
    await client.xreadgroup("dispatchers", "doomed", {stream: ">"}, count=10)
    assert (await client.xpending(stream, "dispatchers"))["pending"] == 1
    await asyncio.sleep(0.15)
    await survivor.once()
    assert [k for _, k in channel.received] == keys
    assert (await client.xpending(stream, "dispatchers"))["pending"] == 0
    await client.delete(stream)
    await client.aclose()


# -- a real dispatcher process, killed mid-delivery ------------------------------------------------


def _start_dispatcher(database_url: str, redis_url: str | None, tmp_path: Path, **settings: str) -> subprocess.Popen:
    env = {
        **os.environ,
        **settings,
        "WUYE_DATABASE_URL": database_url,
        "WUYE_DELIVERY_LEASE": "1",  # a killed holder's lease runs out quickly
        "WUYE_POLL_INTERVAL": "0.05",
        "WUYE_VAR_DIR": str(tmp_path),  # its endpoints.yml (Rasa's tracker store), none unless a test writes one
        "PYTHONPATH": str(ROOT),
        **settings,
    }
    env.pop("WUYE_REDIS_URL", None)
    if redis_url:
        env["WUYE_REDIS_URL"] = redis_url
    log = open(tmp_path / "dispatcher.log", "ab")  # noqa: SIM115 - the child owns it
    return subprocess.Popen(
        [sys.executable, "-m", "connectors.dispatcher"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )


async def _counts(backend) -> tuple[int, int]:
    async with backend.new_uow() as uow:
        delivered = await uow.session.scalar(
            select(func.count())
            .select_from(model.Notification)
            .where(model.Notification.status == model.NotificationStatus.DELIVERED)
        )
        shown = await uow.session.scalar(select(func.count()).select_from(orm.mailbox))
        return int(delivered), int(shown)


@pytest.mark.parametrize("mode", ["database", "redis"])
async def test_killing_a_dispatcher_mid_delivery_loses_nothing_and_repeats_nothing(
    backend, database_url, mode, tmp_path, request
):
    redis_url = request.getfixturevalue("redis_url") if mode == "redis" else None
    owners = [f"webchat:owner-{i}" for i in range(8)]
    expected: dict[str, list[str]] = {}
    for owner in owners:
        expected[owner] = await queue(backend, owner, 40)
    total = sum(len(k) for k in expected.values())
    notifier = RedisStreamNotifier(aioredis.Redis.from_url(redis_url)) if redis_url else None
    if notifier:
        for owner in owners:
            await notifier.queued(owner)

    kills = 0
    caught_between = 0  # kills that left a message shown but not yet marked delivered
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        before = await _counts(backend)
        if before[0] == total:
            break
        proc = _start_dispatcher(database_url, redis_url, tmp_path)
        if kills < 5:  # kill it as soon as it makes progress, five times over
            while time.monotonic() < deadline and (await _counts(backend))[0] == before[0]:
                if proc.poll() is not None:
                    pytest.fail((tmp_path / "dispatcher.log").read_text())
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.02 * kills)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
            delivered, shown = await _counts(backend)
            caught_between += shown > delivered
        else:  # then let one run to the end
            while time.monotonic() < deadline and (await _counts(backend))[0] < total:
                await asyncio.sleep(0.05)
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)
    assert kills == 5
    assert (await _counts(backend))[0] == total, (tmp_path / "dispatcher.log").read_text()[-3000:]

    async with backend.new_uow() as uow:
        rows = (await uow.session.execute(select(orm.mailbox).order_by(orm.mailbox.c.id))).all()
    shown_keys = [r.key for r in rows]
    assert len(shown_keys) == len(set(shown_keys)) == total  # nothing twice, nothing missing
    for owner, keys in expected.items():
        assert [r.key for r in rows if r.recipient == owner] == keys  # in order per owner
    print(f"{kills} kills, {caught_between} caught between showing and marking")  # visible with -s


async def test_an_owner_waiting_for_a_retry_does_not_crowd_out_the_others(backend, clock):
    channel = RecordingChannel()
    dispatcher = Dispatcher(backend.new_uow, {"test": channel}, clock)
    await queue(backend, "test:a", 2)
    channel.failures = 1
    await dispatcher.poll_once()  # a's first notification failed: a waits, its second is held back
    (b,) = await queue(backend, "test:b", 1)
    async with backend.new_uow() as uow:
        assert await uow.notifications.due_recipients(clock(), limit=1) == ["test:b"]
    assert await dispatcher.poll_once(limit=1) == 1
    assert channel.received == [("test:b", b)]


async def test_a_periodic_job_runs_on_one_dispatcher_and_not_again_too_soon(backend, clock):
    runs = []

    async def job() -> None:
        runs.append(clock())

    one = Dispatcher(backend.new_uow, {}, clock)
    two = Dispatcher(backend.new_uow, {}, clock)
    every = timedelta(seconds=30)
    assert await one.run_job("deadlines", every, job) is True
    assert await two.run_job("deadlines", every, job) is False
    clock.advance(seconds=29)
    assert await one.run_job("deadlines", every, job) is True  # the holder may renew its own lease
    clock.advance(seconds=31)
    assert await two.run_job("deadlines", every, job) is True
    assert len(runs) == 3


# -- the heartbeat /healthz reads ----------------------------------------------------------------------


async def test_a_dispatcher_is_running_while_its_heartbeat_lasts(backend, clock):
    one = Dispatcher(backend.new_uow, {}, clock)
    two = Dispatcher(backend.new_uow, {}, clock)
    assert await views.running_dispatchers(backend.new_uow(), clock()) == []
    await one.beat(timedelta(seconds=15))
    await two.beat(timedelta(seconds=15))
    assert sorted(await views.running_dispatchers(backend.new_uow(), clock())) == sorted([one.name, two.name])
    await two.stop()  # a clean stop says so at once
    assert await views.running_dispatchers(backend.new_uow(), clock()) == [one.name]
    clock.advance(seconds=16)  # a killed one stops beating: its heartbeat runs out
    assert await views.running_dispatchers(backend.new_uow(), clock()) == []
    await one.beat(timedelta(seconds=15))
    assert await views.running_dispatchers(backend.new_uow(), clock()) == [one.name]


async def test_heartbeats_of_long_dead_dispatchers_are_cleared(backend, clock):
    dead = Dispatcher(backend.new_uow, {}, clock)
    await dead.beat(timedelta(seconds=15))
    clock.advance(days=2)
    await Dispatcher(backend.new_uow, {}, clock).beat(timedelta(seconds=15))
    async with backend.new_uow() as uow:
        names = (await uow.session.scalars(select(orm.leases.c.name))).all()
    assert names and not any(dead.name in name for name in names)


async def test_a_real_dispatcher_beats_while_it_runs_and_withdraws_when_stopped(backend, database_url, tmp_path):
    """Its loop also touches WUYE_DISPATCHER_ALIVE_FILE, what a container's liveness probe reads."""
    alive = tmp_path / "dispatcher.alive"
    proc = _start_dispatcher(database_url, None, tmp_path, WUYE_DISPATCHER_ALIVE_FILE=str(alive))
    try:
        deadline = time.monotonic() + 30
        while not await views.running_dispatchers(backend.new_uow(), utc_now()):
            assert proc.poll() is None, (tmp_path / "dispatcher.log").read_text()
            assert time.monotonic() < deadline, "no heartbeat within 30 s"
            await asyncio.sleep(0.05)
        assert alive.exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0, (tmp_path / "dispatcher.log").read_text()
    assert await views.running_dispatchers(backend.new_uow(), utc_now()) == []


async def test_a_real_dispatcher_removes_personal_data_past_the_retention_setting(backend, database_url, tmp_path):
    """The wiring: WUYE_RETAIN_MESSAGES_DAYS reaches the dispatcher's hourly job, which runs at start.
    (The backend's clock is days behind the real one the dispatcher uses.)"""
    from backend_bridge.domain import commands

    sender = "webchat:retention-wiring"
    answered = await backend.bus.handle(commands.RecordInbound(sender, "3号楼2单元501 13800000501"))
    await backend.bus.handle(commands.RecordReplies(answered.id, ("好的",), answered=True))
    owed = await backend.bus.handle(commands.RecordInbound(sender, "还没回我"))
    proc = _start_dispatcher(database_url, None, tmp_path, WUYE_RETAIN_MESSAGES_DAYS="1")
    try:
        deadline = time.monotonic() + 30
        while True:
            async with backend.new_uow() as uow:
                if await uow.messages.inbound(answered.id) is None:
                    assert await uow.messages.inbound(owed.id) is not None  # unanswered: still owed
                    break
            assert proc.poll() is None, (tmp_path / "dispatcher.log").read_text()
            assert time.monotonic() < deadline, "the message was not removed within 30 s"
            await asyncio.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0, (tmp_path / "dispatcher.log").read_text()


def _rasa_events(db: Path, rows: list[tuple[str, float]]) -> None:
    """A tracker store as Rasa 3.6's SQLTrackerStore makes it (table events), with ``rows`` of
    (sender_id, timestamp)."""
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255)"
            " NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"
        )
        conn.executemany("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, 'user', ?, '{}')", rows)


def _senders(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {row[0] for row in conn.execute("SELECT sender_id FROM events")}


async def test_a_real_dispatcher_ages_out_rasas_sql_trackers_with_the_messages(backend, database_url, tmp_path):
    """Rasa's SQL tracker store (the embedded mode's file) is purged by the retention job: whole
    conversations idle past WUYE_RETAIN_MESSAGES_DAYS go, a live one stays untouched. The store is
    found through the endpoints.yml ops/stack.py writes for Rasa. (``backend``: a fresh store, so no
    earlier test's dispatcher still holds the retention job's hour-long lease.)"""
    import yaml

    from ops.stack import rasa_endpoints

    trackers = tmp_path / "rasa_trackers.db"
    now = time.time()
    _rasa_events(
        trackers,
        [
            ("webchat:idle", now - 5 * 86400),
            ("webchat:idle", now - 3 * 86400),
            ("webchat:live", now - 5 * 86400),
            ("webchat:live", now - 60),
        ],
    )
    endpoints = rasa_endpoints("http://127.0.0.1:5055", None, None, tmp_path)
    (tmp_path / "endpoints.yml").write_text(yaml.safe_dump(endpoints))
    proc = _start_dispatcher(database_url, None, tmp_path, WUYE_RETAIN_MESSAGES_DAYS="1")
    try:
        deadline = time.monotonic() + 30
        while "webchat:idle" in _senders(trackers):
            assert proc.poll() is None, (tmp_path / "dispatcher.log").read_text()
            assert time.monotonic() < deadline, "the idle conversation was not removed within 30 s"
            await asyncio.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0, (tmp_path / "dispatcher.log").read_text()
    assert _senders(trackers) == {"webchat:live"}
    with sqlite3.connect(trackers) as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 2  # the live one whole


@pytest.mark.parametrize(
    ("redis_url", "database_url", "expected"),
    [
        ("redis://127.0.0.1:6379/3", None, None),  # Redis expires its own keys
        (None, "postgresql://wuye:s3cret@db.internal:5433/wuye", "postgresql://wuye:s3cret@db.internal:5433/wuye"),
        (None, None, "sqlite:///{var}/rasa_trackers.db"),
    ],
)
def test_the_purge_finds_the_tracker_store_rasa_was_given(tmp_path, redis_url, database_url, expected):
    import yaml

    from backend_bridge.adapters.rasa_trackers import tracker_store_url
    from ops.stack import rasa_endpoints

    endpoints = tmp_path / "endpoints.yml"
    assert tracker_store_url(endpoints) is None  # no file: nothing to purge
    endpoints.write_text(yaml.safe_dump(rasa_endpoints("http://127.0.0.1:5055", redis_url, database_url, tmp_path)))
    assert tracker_store_url(endpoints) == (expected.format(var=tmp_path) if expected else None)
