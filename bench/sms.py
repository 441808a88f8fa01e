"""SMS benchmark: how fast a ticket's status update reaches an owner's phone by SMS.

The backend (SQLite in a temporary file) with the sms channel on (installed_channels with an
SmsSettings) against the fake provider of tests/fakes/sms.py on 127.0.0.1, Aliyun then Tencent,
each in its own run (a fresh store, content with that provider's sms_templates as
tests/sms/conftest.py writes them), one dispatcher (delivery.Dispatcher polled in a loop every
--poll seconds, in this process), real clocks.

Owners on sms:<mobile> conversations, one mobile per ticket so no number nears the daily cap of
10 (a cap's wait until tomorrow is by design, not latency), and as many web chat owners. Every
ticket is assigned first (those notices are delivered before timing starts); then ChangeTicketStatus
to in_progress, SMS and web chat tickets alternating at --rate a second, is timed from its commit
to the message at the fake provider (its ``at``) or in the web chat mailbox (the baseline, the
same change measured in the same run as bench/wecom.py does). Writes bench/results/sms.json.
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
from tests.fakes.sms import FakeAliyunSms, FakeTencentSms
from tests.sms.conftest import settings_for, templates_yaml

HERE = Path(__file__).parent
CONTENT = HERE.parent / "content"
FAKES = {"aliyun": FakeAliyunSms, "tencent": FakeTencentSms}
FIRST_MOBILE = 13900000000  # owner i writes from 139xxxxxxxx + i: a number of their own


async def measure(backend, fake, channels, args) -> dict:
    found, arrived = timed_deliveries(backend, channels)
    dispatcher = Dispatcher(backend.new_uow, found, backend.clock)
    await backend.bus.handle(commands.AddStaff("wang", "王师傅", "technician", "bench"))
    tickets: list[tuple[str, str]] = []  # (owner's conversation, ticket number), SMS and web chat alternating
    for i in range(args.changes):
        for sender in (f"sms:{FIRST_MOBILE + i}", f"webchat:bench-sms-{i}"):
            opened = await backend.bus.handle(
                commands.OpenTicket(sender, "repair", "客厅灯不亮", "3", "2", str(501 + i % 20))
            )
            await backend.bus.handle(commands.AssignTicket(opened.number, "wang", "bench"))
            tickets.append((sender, opened.number))
    sms = [(sender, number) for sender, number in tickets if sender.startswith("sms:")]
    web = [(sender, number) for sender, number in tickets if sender.startswith("webchat:")]
    results: dict = {"dispatchers": 1, "poll_s": args.poll, "rate_per_s": args.rate}
    async with dispatching(dispatcher, args.poll):
        # The assignments' notices out first: what is timed is the status change alone.
        await wait_for(lambda: {s["id"]: s for s in fake.sent}, len(sms), "assignment SMS")
        await wait_for(lambda: {s: arrived[s] for s, _ in web if s in arrived}, len(web), "assignment mailbox")
        mark = len(fake.sent)
        committed: dict[str, datetime] = {}
        for _sender, number in tickets:
            tick = time.perf_counter()
            await backend.bus.handle(commands.ChangeTicketStatus(number, "in_progress", "wang"))
            committed[number] = datetime.now(timezone.utc)
            await asyncio.sleep(max(0.0, 1 / args.rate - (time.perf_counter() - tick)))

        def at_provider() -> dict:
            got: dict[str, datetime] = {}
            for s in fake.sent[mark:]:
                got.setdefault(s["values"]["number"], s["at"])
            return got

        def in_mailbox() -> dict:
            return {n: arrived[s] for s, n in web if s in arrived and arrived[s] >= committed[n]}

        phone = await wait_for(at_provider, len(sms), "status updates at the SMS provider")
        mailbox = await wait_for(in_mailbox, len(web), "status updates in the mailbox")
    results["webchat"] = stats([(mailbox[n] - committed[n]).total_seconds() for _, n in web])
    results["sms"] = stats([(phone[n] - committed[n]).total_seconds() for _, n in sms])
    results["ratio_p50"] = ratio(results["sms"], results["webchat"], "p50_ms")
    results["ratio_p99"] = ratio(results["sms"], results["webchat"], "p99_ms")
    results["sent_by_provider"] = len(fake.sent)
    results["refused_by_provider"] = len(fake.refused)
    return results


async def run(provider: str, args: argparse.Namespace) -> dict:
    """One provider's run: its own store, content with its templates, its fake."""
    workdir = Path(tempfile.mkdtemp(prefix=f"wuye-bench-sms-{provider}-"))
    content = workdir / "content"
    shutil.copytree(CONTENT, content)
    with (content / "company.yml").open("a", encoding="utf-8") as f:
        f.write(templates_yaml(provider))
    backend = await bootstrap(f"sqlite:///{workdir / 'bench.db'}", content, NoDialogue(), NullNotifier())
    results: dict = {"provider": provider}
    try:
        async with FAKES[provider]() as fake, aiohttp.ClientSession() as http:
            channels = installed_channels({"sms": settings_for(fake)}, http)
            try:
                results.update(await measure(backend, fake, channels, args))
            finally:
                await close_channels(channels)
    finally:
        await backend.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return results


async def main(args: argparse.Namespace) -> dict:
    results: dict = {
        "measured_at": datetime.now().strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "store": "sqlite",
        "runs": [],
    }
    for provider in args.providers:
        results["runs"].append(await run(provider, args))
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--changes", type=int, default=100, help="status changes measured per channel and provider")
    # One notice per change: 10 a second is the delivery load of bench/wecom.py's 10 assignments
    # a second (two notices each) halved; the SMS and web chat changes share it.
    parser.add_argument("--rate", type=float, default=10.0, help="status changes per second (both channels)")
    parser.add_argument("--poll", type=float, default=0.1, help="the dispatcher's sleep when it found nothing")
    parser.add_argument("--providers", nargs="+", choices=sorted(FAKES), default=["aliyun", "tencent"])
    report = asyncio.run(main(parser.parse_args()))
    out = HERE / "results" / "sms.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2))
    print(json.dumps(report, ensure_ascii=False, indent=2))
