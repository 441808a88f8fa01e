"""The dispatcher's memory while the store keeps gaining open tickets (issue 14's soak question).

Runs the dispatcher's own loop (connectors.dispatcher.run: delivery, the SLA scheduler every
``--deadline-interval`` / 2 s) in process on a fresh SQLite store, while owners keep writing
and opening tickets that stay open (each with its outbox rows). Every 30 s it prints one JSON
line: open tickets so far, resident MB, and with ``--trace`` tracemalloc's live and peak MB (a
live heap that climbs is a leak; a flat live heap under a climbing peak is a high-water mark),
plus one timed CheckDeadlines. With ``--trace`` it ends with the allocation sites that grew most
between the first sample and the last.

    .venv/bin/python -m bench.dispatcher_memory --seconds 540 --rate 2 [--trace]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import tempfile
import time
import tracemalloc
from pathlib import Path

from backend_bridge.bootstrap import bootstrap
from backend_bridge.domain import commands
from backend_bridge.service_layer.delivery import Dispatcher
from backend_bridge.service_layer.ports import NullNotifier
from connectors.channel import deliveries
from connectors.dispatcher import NoDialogue, run
from tests.conftest import CONTENT, demo_store

SAMPLE_EVERY = 30.0


def resident_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS"))


async def measure(seconds: float, rate: float, trace: bool, deadline_interval: float) -> None:
    if trace:
        tracemalloc.start(8)
    with tempfile.TemporaryDirectory() as var:
        backend = await bootstrap(f"sqlite:///{Path(var) / 'wuye.db'}", CONTENT, NoDialogue(), NullNotifier())
        await demo_store(backend, with_staff=False, mark=False)
        dispatcher = Dispatcher(backend.new_uow, deliveries(backend), backend.clock)
        stop, opened = asyncio.Event(), 0
        loop = asyncio.create_task(run(backend, dispatcher, stop, redis_url=None, deadline_interval=deadline_interval))

        async def owners() -> None:  # a message, a ticket that stays open, the answer
            nonlocal opened
            while not stop.is_set():
                sender = f"webchat:memory-{opened}"
                record = await backend.bus.handle(commands.RecordInbound(sender, "厨房漏水"))
                report = commands.OpenTicket(sender, "repair", f"厨房水管漏水{opened}", "3", "2", "501")
                await backend.bus.handle(report)
                await backend.bus.handle(commands.RecordReplies(record.id, ("已受理",), answered=True))
                opened += 1
                await asyncio.sleep(1 / rate)

        feeding, started, snapshots = asyncio.create_task(owners()), time.monotonic(), []
        while time.monotonic() - started + SAMPLE_EVERY <= seconds:
            await asyncio.sleep(SAMPLE_EVERY)
            began = time.perf_counter()
            await backend.bus.handle(commands.CheckDeadlines())
            sweep_ms = (time.perf_counter() - began) * 1000
            live, peak = tracemalloc.get_traced_memory() if trace else (0, 0)
            line = {"s": round(time.monotonic() - started), "open_tickets": opened, "rss_mb": round(resident_mb(), 1)}
            if trace:
                line |= {"live_mb": round(live / 2**20, 2), "peak_mb": round(peak / 2**20, 2)}
                gc.collect()
                snapshots = [*snapshots[:1], tracemalloc.take_snapshot()]
            print(json.dumps(line | {"sweep_ms": round(sweep_ms, 1)}), flush=True)
        stop.set()
        await feeding
        await loop
        await backend.close()
    if len(snapshots) == 2:
        for grew in snapshots[1].compare_to(snapshots[0], "traceback")[:8]:
            where = grew.traceback.format()[-4:]
            print(f"{grew.size_diff / 1024:+.1f} KiB {grew.count_diff:+d} blocks", *where, sep="\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=540)
    ap.add_argument("--rate", type=float, default=2.0, help="tickets opened per second")
    ap.add_argument("--trace", action="store_true", help="tracemalloc (slows the process down)")
    ap.add_argument("--deadline-interval", type=float, default=4.0, help="the scheduler runs every half of it")
    args = ap.parse_args()
    asyncio.run(measure(args.seconds, args.rate, args.trace, args.deadline_interval))


if __name__ == "__main__":
    main()
