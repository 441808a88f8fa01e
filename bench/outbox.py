"""Backend benchmark: tickets created per second, and status-update delivery latency.

1. Tickets per second through the bot API (what the chat actions call), over real HTTP on
   loopback, on SQLite and on PostgreSQL, one caller at a time and 16 at once.
2. Delivery latency: from the status change's commit to the message being in the owner's
   web chat mailbox (what GET /api/chat/{sender}/updates shows), with 1, 2 and 4 real
   dispatcher processes reading a Redis stream, and 1 polling the database. A burst of
   status changes from 8 writers, then a steady rate, on PostgreSQL.
Needs PostgreSQL and Redis (as CI has). Writes bench/results/outbox.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

import aiohttp
import psycopg
import redis.asyncio as aioredis
from aiohttp import web
from sqlalchemy import func, select

from backend_bridge.adapters import orm
from backend_bridge.adapters.redis_streams import STREAM, RedisStreamNotifier
from backend_bridge.bootstrap import bootstrap
from backend_bridge.domain import commands, model
from backend_bridge.service_layer.ports import NullNotifier
from connectors.app import internal_app
from connectors.dispatcher import NoDialogue

HERE = Path(__file__).parent
ROOT = HERE.parent
CONTENT = ROOT / "content"
TOKEN = "bench-token"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


class Databases:
    """Fresh PostgreSQL databases for each run, dropped at the end."""

    def __init__(self, admin: str) -> None:
        self.admin = admin
        self.made: list[str] = []

    def new(self) -> str:
        name = f"wuye_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.made.append(name)
        return self.admin.rsplit("/", 1)[0] + f"/{name}"

    def drop_all(self) -> None:
        with psycopg.connect(self.admin, autocommit=True) as conn:
            for name in self.made:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def tickets_per_second(database_url: str, callers: int, total: int) -> dict:
    backend = await bootstrap(database_url, CONTENT, NoDialogue(), NullNotifier())
    runner = web.AppRunner(internal_app(backend, token=TOKEN, timezone=backend.timezone))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}/bot/v1/tickets"
    remaining = iter(range(total))

    async def caller(http: aiohttp.ClientSession) -> None:
        for i in remaining:
            body = {
                "sender": f"webchat:bench-{i % 50}",
                "kind": "repair",
                "description": "厨房水管漏水",
                "building": "3",
                "unit": "2",
                "room": str(500 + i % 20),
            }
            async with http.post(url, json=body) as resp:
                if resp.status != 201:
                    raise RuntimeError(f"{resp.status}: {await resp.text()}")

    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        started = time.perf_counter()
        await asyncio.gather(*(caller(http) for _ in range(callers)))
        elapsed = time.perf_counter() - started
    await runner.cleanup()
    await backend.close()
    return {"callers": callers, "tickets": total, "seconds": round(elapsed, 2), "per_second": round(total / elapsed)}


def start_dispatcher(database_url: str, redis_url: str | None, log: Path) -> subprocess.Popen:
    env = {**os.environ, "WUYE_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT), "WUYE_POLL_INTERVAL": "0.2"}
    env.pop("WUYE_REDIS_URL", None)
    if redis_url:
        env["WUYE_REDIS_URL"] = redis_url
    return subprocess.Popen(
        [sys.executable, "-m", "connectors.dispatcher"],
        cwd=ROOT,
        env=env,
        stdout=open(log, "ab"),
        stderr=subprocess.STDOUT,
    )


async def delivery_latency(
    database_url: str, redis_url: str | None, dispatchers: int, owners: int, rate: float, seconds: float, log: Path
) -> dict:
    """Latency of status-change notifications: a burst, then a steady ``rate`` per second."""
    redis = aioredis.Redis.from_url(redis_url) if redis_url else None
    if redis:
        await redis.delete(STREAM)
    notifier = RedisStreamNotifier(redis) if redis else NullNotifier()
    backend = await bootstrap(database_url, CONTENT, NoDialogue(), notifier)
    await backend.bus.handle(commands.AddStaff("wang", "王师傅", "technician", "bench"))
    numbers = []
    for i in range(owners):
        opened = await backend.bus.handle(
            commands.OpenTicket(f"webchat:bench-owner-{i}", "repair", "客厅灯不亮", "3", "2", str(501 + i % 20))
        )
        numbers.append(opened.number)
    processes = [start_dispatcher(database_url, redis_url, log) for _ in range(dispatchers)]
    await asyncio.sleep(3)  # let them start (imports, migrations check, consumer group)

    async def change(number: str, step: str) -> None:
        if step == "assign":
            await backend.bus.handle(commands.AssignTicket(number, "wang", "bench"))
        else:
            await backend.bus.handle(commands.ChangeTicketStatus(number, step, "wang"))

    # Burst: every ticket assigned and started, from 8 writers at once.
    work = [(n, step) for step in ("assign", "in_progress") for n in numbers]
    queue = iter(work)

    async def writer() -> None:
        for number, step in queue:
            await change(number, step)

    burst_started = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(8)))
    burst_written = time.perf_counter() - burst_started
    burst_total = await _wait_all_delivered(backend)
    burst_drained = time.perf_counter() - burst_started
    burst = await _latencies(backend)

    # Steady: resolve tickets at a fixed rate.
    steady_started_at = datetime.now(tz=backend.clock().tzinfo)
    interval = 1 / rate
    for number in numbers[: int(rate * seconds)]:
        tick = time.perf_counter()
        await change(number, "resolved")
        await asyncio.sleep(max(0.0, interval - (time.perf_counter() - tick)))
    await _wait_all_delivered(backend)
    steady = await _latencies(backend, since=steady_started_at)

    for proc in processes:
        proc.send_signal(signal.SIGTERM)
    for proc in processes:
        proc.wait(timeout=20)
    await backend.close()
    if redis:
        await redis.aclose()
    return {
        "dispatchers": dispatchers,
        "mode": "redis streams" if redis_url else "database polling",
        "burst": {
            "notifications": burst_total,
            "written_s": round(burst_written, 2),
            "drained_s": round(burst_drained, 2),
            **burst,
        },
        "steady": {"rate_per_s": rate, **steady},
    }


async def _wait_all_delivered(backend, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with backend.new_uow() as uow:
            pending = await uow.session.scalar(
                select(func.count())
                .select_from(model.Notification)
                .where(model.Notification.status == model.NotificationStatus.PENDING)
            )
            total = await uow.session.scalar(select(func.count()).select_from(model.Notification))
        if pending == 0:
            return int(total)
        await asyncio.sleep(0.02)
    raise TimeoutError("notifications were not delivered in time")


async def _latencies(backend, since: datetime | None = None) -> dict:
    """Milliseconds from a notification's commit to its row in the owner's mailbox."""
    async with backend.new_uow() as uow:
        stmt = select(model.Notification.created_at, orm.mailbox.c.created_at).join(
            orm.mailbox, orm.mailbox.c.key == model.Notification.key
        )
        if since is not None:
            stmt = stmt.where(model.Notification.created_at >= since)
        rows = (await uow.session.execute(stmt)).all()
    values = [(shown - written).total_seconds() * 1000 for written, shown in rows]
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 50), 1),
        "p99_ms": round(percentile(values, 99), 1),
        "max_ms": round(max(values), 1),
    }


async def main(args: argparse.Namespace) -> dict:
    dbs = Databases(args.postgres)
    log = HERE / "results" / "outbox-dispatchers.log"
    log.parent.mkdir(exist_ok=True)
    log.write_text("")
    results: dict = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "python": platform.python_version()}
    try:
        created = []
        for label, make_url in (
            ("sqlite", lambda: f"sqlite:///{HERE / 'results' / f'bench-{uuid.uuid4().hex}.db'}"),
            ("postgresql", dbs.new),
        ):
            for callers in (1, 16):
                url = make_url()
                created.append({"database": label, **await tickets_per_second(url, callers, args.tickets)})
                if url.startswith("sqlite"):
                    Path(url.split(":///", 1)[1]).unlink(missing_ok=True)
        results["tickets"] = created
        delivery = []
        for dispatchers, redis_url in ((1, None), (1, args.redis), (2, args.redis), (4, args.redis)):
            delivery.append(
                await delivery_latency(dbs.new(), redis_url, dispatchers, args.owners, args.rate, args.seconds, log)
            )
        results["delivery"] = delivery
    finally:
        dbs.drop_all()
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--postgres", default=os.environ.get("WUYE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--tickets", type=int, default=600)
    parser.add_argument("--owners", type=int, default=200, help="tickets whose status changes are delivered")
    parser.add_argument("--rate", type=float, default=20.0, help="steady status changes per second")
    parser.add_argument("--seconds", type=float, default=8.0)
    report = asyncio.run(main(parser.parse_args()))
    out = HERE / "results" / "outbox.json"
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2))
    print(json.dumps(report, ensure_ascii=False, indent=2))
