"""WeCom for staff benchmark: how fast a change reaches staff in WeCom.

The backend (SQLite in a temporary file) with the wecom channel on against the fake WeCom of
tests/fakes/wecom.py on 127.0.0.1, one dispatcher (delivery.Dispatcher polled in a loop every
--poll seconds, in this process), real clocks.

1. Assignment: from AssignTicket's commit (the ticket moves to assigned) to the app message at the
   fake WeCom (its ``at``), technicians spread so none passes WeCom's 30 a minute (that wait is
   by design, not latency). Baseline in the same run: the owner's notice of the same change
   reaching their web chat mailbox.
2. Duty group: from an emergency report's commit to the robot's post (at most 20: one robot's minute).
Assignments come at --rate a second (10: two notices each, the delivery load of bench/wechat.py).
Writes bench/results/wecom.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import aiohttp

from backend_bridge.bootstrap import bootstrap
from backend_bridge.domain import commands
from backend_bridge.service_layer.delivery import Dispatcher
from backend_bridge.service_layer.ports import NullNotifier
from bench.pushes import dispatching, ratio, stats, timed_deliveries, wait_for
from connectors.channel import close_channels, installed_channels
from connectors.dispatcher import NoDialogue
from connectors.settings import WeComSettings
from tests.fakes.wecom import FakeWeCom

HERE = Path(__file__).parent
CONTENT = HERE.parent / "content"
ROBOT = "bench-robot-key"
PER_MEMBER = 10  # assignments per technician: well inside WeCom's 30 a minute


async def measure(backend, fake: FakeWeCom, channels, args) -> dict:
    found, arrived = timed_deliveries(backend, channels)
    dispatcher = Dispatcher(backend.new_uow, found, backend.clock)
    members = [f"Tech{i:03d}" for i in range(-(-args.changes // PER_MEMBER))]
    for i, userid in enumerate(members):
        await backend.bus.handle(commands.AddStaff(f"tech{i}", f"师傅{i}", "technician", "bench", wecom_userid=userid))
    tickets = []
    for i in range(args.changes):
        sender = f"webchat:bench-wecom-{i}"
        opened = await backend.bus.handle(commands.OpenTicket(sender, "repair", "客厅灯不亮", "3", "2", "501"))
        tickets.append((sender, opened.number, i % len(members)))
    async with dispatching(dispatcher, args.poll):
        results: dict = {"dispatchers": 1, "poll_s": args.poll, "rate_per_s": args.rate, "technicians": len(members)}
        committed: dict[str, datetime] = {}
        for _sender, number, member in tickets:
            tick = time.perf_counter()
            await backend.bus.handle(commands.AssignTicket(number, f"tech{member}", "bench"))
            committed[number] = datetime.now(timezone.utc)
            await asyncio.sleep(max(0.0, 1 / args.rate - (time.perf_counter() - tick)))
        senders = {number: sender for sender, number, _ in tickets}

        def at_wecom() -> dict:
            got = {}
            for s in fake.sent:
                if s["api"] == "app":
                    number = s["content"].split(" ")[1].split("（")[0]
                    got.setdefault(number, s["at"])
            return got

        wecom = await wait_for(at_wecom, len(committed), "assignments at WeCom")
        web = await wait_for(
            lambda: {n: arrived[senders[n]] for n in committed if senders[n] in arrived}, len(committed), "mailbox"
        )
        results["webchat"] = stats([(web[n] - committed[n]).total_seconds() for n in committed])
        results["wecom"] = stats([(wecom[n] - committed[n]).total_seconds() for n in committed])
        results["ratio_p50"] = ratio(results["wecom"], results["webchat"], "p50_ms")
        results["ratio_p99"] = ratio(results["wecom"], results["webchat"], "p99_ms")
        results["dropped_by_wecom"] = len(fake.dropped)

        emergencies: dict[str, datetime] = {}
        for i in range(args.emergencies):
            report = commands.ReportEmergency(f"webchat:bench-gas-{i}", "gas", f"燃气味 {i}号", "3", "2", "501")
            opened = await backend.bus.handle(report)
            emergencies[opened.number] = datetime.now(timezone.utc)
            await asyncio.sleep(1 / args.rate)

        def at_robot() -> dict:
            return {s["content"].split(" ")[1].split("（")[0]: s["at"] for s in fake.sent if s["api"] == "robot"}

        robot = await wait_for(at_robot, len(emergencies), "duty group posts")
        results["duty_group"] = stats([(robot[n] - emergencies[n]).total_seconds() for n in emergencies])
    return results


async def main(args: argparse.Namespace) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="wuye-bench-wecom-"))
    backend = await bootstrap(f"sqlite:///{workdir / 'bench.db'}", CONTENT, NoDialogue(), NullNotifier())
    members = tuple(f"Tech{i:03d}" for i in range(-(-args.changes // PER_MEMBER)))
    results: dict = {
        "measured_at": datetime.now().strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "store": "sqlite",
    }
    async with FakeWeCom(members=members, robot_keys=(ROBOT,)) as fake, aiohttp.ClientSession() as http:
        settings = WeComSettings(fake.corpid, fake.secret, fake.agent_id, ROBOT, fake.url)
        channels = installed_channels({"wecom": settings}, http)
        try:
            results.update(await measure(backend, fake, channels, args))
        finally:
            await close_channels(channels)
    await backend.close()
    shutil.rmtree(workdir, ignore_errors=True)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--changes", type=int, default=200, help="assignments measured")
    parser.add_argument("--emergencies", type=int, default=20, help="emergency reports (one robot takes 20 a minute)")
    # Each assignment makes two notices (the owner's and the technician's): 10 a second is the
    # 20 deliveries a second of bench/wechat.py. At 20 (40 deliveries a second) one dispatcher on
    # SQLite falls behind on a loaded 2-core machine, the web chat baseline as much as WeCom.
    parser.add_argument("--rate", type=float, default=10.0, help="assignments per second")
    parser.add_argument("--poll", type=float, default=0.1, help="the dispatcher's sleep when it found nothing")
    report = asyncio.run(main(parser.parse_args()))
    out = HERE / "results" / "wecom.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2))
    print(json.dumps(report, ensure_ascii=False, indent=2))
