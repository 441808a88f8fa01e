"""Our own cost of one owner message, without Rasa: ``Gateway.handle`` against an instant stand-in.

Rasa's share of a turn is tens of milliseconds and swings with the machine's load; what the
gateway adds (writing the message down, the sender's lock, writing the replies down, the bus)
is a few milliseconds and is lost in that noise in bench/load.py. Here Rasa's REST channel is an
aiohttp server on loopback that answers at once, the store is a SQLite file as in the embedded
mode, and one sender's messages are handled one after the other: the time per message is ours.
Run it on two commits at the same time of day to compare them (bench/NOTES.md, issue 14).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

from backend_bridge.bootstrap import bootstrap
from backend_bridge.service_layer.ports import NullNotifier
from connectors.channel import Inbound
from connectors.gateway import Gateway
from connectors.rasa import RasaClient

ROOT = Path(__file__).resolve().parent.parent


class _NoDialogue:
    """The backend's dialogue port (handoffs): unused by owner messages."""

    async def resume(self, sender: str) -> None: ...

    async def log_staff_message(self, sender: str, text: str, actor: str) -> None: ...


async def _instant_rasa() -> tuple[web.AppRunner, str]:
    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response([{"recipient_id": body["sender"], "text": "好的"}])

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


async def measure(messages: int, profile: str | None = None) -> dict:
    runner, url = await _instant_rasa()
    with tempfile.TemporaryDirectory() as var:
        backend = await bootstrap(f"sqlite:///{var}/wuye.db", ROOT / "content", _NoDialogue(), NullNotifier())
        try:
            async with aiohttp.ClientSession() as http:
                gateway = Gateway(backend, RasaClient(url, "token", http))
                for i in range(20):  # warm-up: the conversation exists, caches are filled
                    await gateway.handle(Inbound("webchat", "warm", f"第{i}条"))
                took = []
                profiler = cProfile.Profile() if profile else None
                cpu = time.process_time()
                if profiler:
                    profiler.enable()
                for i in range(messages):
                    started = time.perf_counter()
                    await gateway.handle(Inbound("webchat", "owner", f"第{i}条", f"m{i}"))
                    took.append((time.perf_counter() - started) * 1000)
                if profiler:
                    profiler.disable()
                    profiler.dump_stats(profile)
                cpu = time.process_time() - cpu  # the whole process: the loop and the driver's commit thread
        finally:
            await backend.close()
            await runner.cleanup()
    return {
        "messages": messages,
        "mean_ms": round(statistics.mean(took), 2),
        "p50_ms": round(statistics.median(took), 2),
        "p90_ms": round(statistics.quantiles(took, n=10)[-1], 2),
        "cpu_ms": round(cpu * 1000 / messages, 2),  # CPU per message
        "load_average": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--messages", type=int, default=300)
    ap.add_argument("--profile", metavar="FILE", help="cProfile the measured messages into FILE (pstats); slows them")
    args = ap.parse_args()
    print(json.dumps(asyncio.run(measure(args.messages, args.profile))))


if __name__ == "__main__":
    main()
