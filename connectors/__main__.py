"""Run the gateway process: ``python -m connectors`` (make run starts it for you)."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from bot.text.pii import install_log_masking
from connectors.app import build
from connectors.settings import Settings


async def serve(settings: Settings) -> None:
    public, internal = await build(settings)
    runners = [web.AppRunner(public, access_log=None), web.AppRunner(internal, access_log=None)]
    for runner in runners:
        await runner.setup()
    await web.TCPSite(runners[0], settings.host, settings.port).start()
    await web.TCPSite(runners[1], settings.internal_host, settings.internal_port).start()
    logging.getLogger("connectors").info(
        "gateway listening on http://%s:%d (internal API on %s:%d)",
        settings.host,
        settings.port,
        settings.internal_host,
        settings.internal_port,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for runner in reversed(runners):
        await runner.cleanup()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_masking()
    asyncio.run(serve(Settings.from_env()))


if __name__ == "__main__":
    main()
