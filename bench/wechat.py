"""WeChat (公众号) benchmark: how fast WeChat gets its answer, and how fast status updates reach it.

Runs the real public app (the wechat and web chat channels, plaintext mode) on 127.0.0.1 against
the fake platform of tests/fakes/wechat.py, with WeChatDriver playing WeChat. Rasa is a stand-in
that answers every message after a fixed --rasa-delay (default 20 ms), so the figures are of OUR
code (gateway, channel, store), not of the NLU model. SQLite store in a temporary file.

1. Acknowledgement: time for WeChat to get the callback's HTTP answer (a fresh connection each, as
   WeChat does), one owner at a time and --concurrency owners at once. Baseline in the same run:
   the web chat's POST /api/chat with the same stand-in.
2. Delivery: from a staff status change's commit (ChangeTicketStatus returned) to the message at
   the fake platform (its ``at``), with one dispatcher (delivery.Dispatcher polled in a loop every
   --poll seconds, in this process). Baseline: the same for web chat owners (their mailbox).
Speed is reported as ratios to the baselines: the machine is shared and noisy.
Writes bench/results/wechat.json.
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
from aiohttp import web

from backend_bridge.bootstrap import bootstrap
from backend_bridge.domain import commands
from backend_bridge.service_layer.delivery import Dispatcher
from backend_bridge.service_layer.ports import NullNotifier
from bench.pushes import dispatching, ratio, stats, timed_deliveries, wait_for
from connectors.app import public_app
from connectors.channel import close_channels, installed_channels
from connectors.dispatcher import NoDialogue
from connectors.gateway import Gateway
from connectors.rasa import RasaClient
from connectors.settings import WebChatSettings, WeChatSettings
from tests.conftest import RasaStandIn
from tests.fakes.wechat import FakeWeChat, WeChatDriver

HERE = Path(__file__).parent
CONTENT = HERE.parent / "content"
TOKEN = "bench-callback-token"


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


async def acknowledgements(url: str, driver: WeChatDriver, messages: int, concurrency: int, tag: str) -> dict:
    """p50/p99 of the callback's answer (wechat) and of POST /api/chat (web chat), ``concurrency`` owners."""
    results: dict = {}
    for channel in ("webchat", "wechat"):
        times: list[float] = []
        passive = [0]
        work = iter(range(messages))

        async def owner(k: int, channel: str = channel, times: list[float] = times, work=work, passive=passive) -> None:
            for i in work:
                text = f"你好 {i}"
                started = time.perf_counter()
                if channel == "wechat":
                    delivery = await driver.send_text(f"o-bench-{tag}-{k}", text)
                    if delivery.status != 200 or delivery.attempts != 1:
                        raise RuntimeError(f"callback answered {delivery.status} after {delivery.attempts} tries")
                    passive[0] += delivery.reply is not None
                else:
                    async with (
                        aiohttp.ClientSession() as http,
                        http.post(f"{url}/api/chat", json={"sender": f"bench-{tag}-{k}", "text": text}) as resp,
                    ):
                        if resp.status != 200:
                            raise RuntimeError(f"/api/chat answered {resp.status}: {await resp.text()}")
                        await resp.read()
                times.append(time.perf_counter() - started)

        await asyncio.gather(*(owner(k) for k in range(concurrency)))
        results[channel] = stats(times)
        if channel == "wechat":
            results[channel]["answered_in_the_reply"] = passive[0]
    results["ratio_p50"] = ratio(results["wechat"], results["webchat"], "p50_ms")
    results["ratio_p99"] = ratio(results["wechat"], results["webchat"], "p99_ms")
    return {"concurrent_owners": concurrency, "messages": messages, **results}


async def delivery_latency(backend, fake: FakeWeChat, driver: WeChatDriver, channels, args) -> dict:
    """Status change committed → message at the fake platform (wechat) or in the mailbox (web chat)."""
    found, arrived = timed_deliveries(backend, channels)  # arrived: web chat owner → last mailbox delivery
    dispatcher = Dispatcher(backend.new_uow, found, backend.clock)
    await backend.bus.handle(commands.AddStaff("wang", "王师傅", "technician", "bench"))
    owners: dict[str, list[tuple[str, str]]] = {"wechat": [], "webchat": []}
    for i in range(args.owners):
        openid = f"o-bench-delivery-{i}"
        await driver.send_text(openid, "你好")  # opens WeChat's 48-hour window for this owner
        for channel, sender in (("wechat", f"wechat:{openid}"), ("webchat", f"webchat:bench-delivery-{i}")):
            opened = await backend.bus.handle(
                commands.OpenTicket(sender, "repair", "客厅灯不亮", "3", "2", str(501 + i % 20))
            )
            await backend.bus.handle(commands.AssignTicket(opened.number, "wang", "bench"))
            owners[channel].append((sender, opened.number))
    async with dispatching(dispatcher, args.poll):
        await _until_quiet(dispatcher, args.poll)
        results: dict = {"dispatchers": 1, "poll_s": args.poll, "rate_per_s": args.rate}
        for channel in ("webchat", "wechat"):
            mark = len(fake.sent)
            committed: dict[str, datetime] = {}
            interval = 1 / args.rate
            for sender, number in owners[channel]:
                tick = time.perf_counter()
                await backend.bus.handle(commands.ChangeTicketStatus(number, "in_progress", "wang"))
                committed[sender] = datetime.now(timezone.utc)
                await asyncio.sleep(max(0.0, interval - (time.perf_counter() - tick)))

            def landed(channel: str = channel, mark: int = mark, committed: dict = committed) -> dict:
                if channel == "wechat":
                    return {
                        f"wechat:{s['touser']}": s["at"] for s in fake.sent[mark:] if "处理中" in (s["content"] or "")
                    }
                return {s: arrived[s] for s in committed if s in arrived and arrived[s] >= committed[s]}

            got = await wait_for(landed, len(committed), f"{channel} updates")
            results[channel] = stats([(got[s] - committed[s]).total_seconds() for s in committed])
    results["ratio_p50"] = ratio(results["wechat"], results["webchat"], "p50_ms")
    results["ratio_p99"] = ratio(results["wechat"], results["webchat"], "p99_ms")
    return results


async def _until_quiet(dispatcher: Dispatcher, poll: float) -> None:
    """Wait until the assignments' notifications are out (the loop is delivering them)."""
    for _ in range(600):
        await asyncio.sleep(poll)
        if not await dispatcher.poll_once():
            return


async def main(args: argparse.Namespace) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="wuye-bench-wechat-"))
    backend = await bootstrap(f"sqlite:///{workdir / 'bench.db'}", CONTENT, NoDialogue(), NullNotifier())
    stand_in = RasaStandIn()
    stand_in.delay = args.rasa_delay
    rasa_app = web.Application()
    rasa_app.router.add_post("/webhooks/rest/webhook", stand_in.webhook)
    rasa_app.router.add_get("/status", stand_in.status)
    rasa_runner, rasa_url = await serve(rasa_app)
    results: dict = {
        "measured_at": datetime.now().strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "rasa_stand_in_delay_ms": round(args.rasa_delay * 1000),
        "store": "sqlite",
        "mode": "plaintext",
    }
    async with FakeWeChat() as fake, aiohttp.ClientSession() as http:
        settings = WeChatSettings(appid=fake.appid, secret=fake.secret, token=TOKEN, api_base=fake.url)
        unlimited = WebChatSettings(sender_per_minute=0, client_per_minute=0)  # the baseline, not the limits
        channels = installed_channels({"wechat": settings, "webchat": unlimited}, http)
        rasa = RasaClient(rasa_url, "token", http, timeout=5)
        gateway = Gateway(backend, rasa)
        app = public_app(
            backend,
            gateway,
            admin_token="bench",
            rasa=rasa,
            http=http,
            actions_url="http://127.0.0.1:9",
            channels=channels,
        )
        runner, url = await serve(app)
        driver = WeChatDriver(f"{url}/wechat/mp", token=TOKEN, appid=fake.appid, fake=fake)
        try:
            results["acknowledgement"] = [
                await acknowledgements(url, driver, args.messages, 1, "seq"),
                await acknowledgements(url, driver, args.messages, args.concurrency, "conc"),
            ]
            await gateway.settled()
            results["delivery"] = await delivery_latency(backend, fake, driver, channels, args)
        finally:
            await gateway.close()
            await runner.cleanup()
            await close_channels(channels)
    await rasa_runner.cleanup()
    await backend.close()
    shutil.rmtree(workdir, ignore_errors=True)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=300, help="messages per acknowledgement run and channel")
    parser.add_argument("--concurrency", type=int, default=10, help="owners writing at once in the second run")
    parser.add_argument("--owners", type=int, default=200, help="status changes measured per channel")
    parser.add_argument("--rate", type=float, default=20.0, help="status changes per second")
    parser.add_argument("--poll", type=float, default=0.1, help="the dispatcher's sleep when it found nothing")
    parser.add_argument("--rasa-delay", type=float, default=0.02, help="the Rasa stand-in's fixed answer time, s")
    report = asyncio.run(main(parser.parse_args()))
    out = HERE / "results" / "wechat.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2))
    print(json.dumps(report, ensure_ascii=False, indent=2))
