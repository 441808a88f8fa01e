"""The dispatcher process: ``python -m connectors.dispatcher`` (make run starts one).

Delivers the outbox through the channels (connectors/*/ with ``delivery``), runs the SLA
scheduler and, with an external property system, re-sends the tickets it missed. With
WUYE_REDIS_URL it reads wake-ups from a Redis Streams consumer group, so several
dispatchers share the work; without it, it polls the database. Either way it sweeps the
database every few seconds for retries that came due. Run as many as you like:
a per-recipient lease keeps each owner's messages in order and on one dispatcher at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from datetime import timedelta
from pathlib import Path

import aiohttp
import redis.asyncio as aioredis

from backend_bridge.adapters.rasa_trackers import RasaTrackerPurge, tracker_store_url
from backend_bridge.bootstrap import Backend, async_url, bootstrap
from backend_bridge.domain import commands
from backend_bridge.domain.retention import RetentionPolicy
from backend_bridge.entrypoints.stream_consumer import StreamConsumer
from backend_bridge.service_layer.delivery import Dispatcher
from backend_bridge.service_layer.external_sync import SyncTickets
from backend_bridge.service_layer.handlers import PURGE_BATCH
from backend_bridge.service_layer.ports import NullNotifier
from bot.text.pii import install_log_masking
from connectors.app import external_system
from connectors.channel import close_channels, deliveries, installed_channels
from connectors.settings import Settings

log = logging.getLogger("connectors.dispatcher")


class NoDialogue:
    """For processes that never talk to Rasa (the dispatcher, benchmarks): handing
    conversations back happens in the gateway."""

    async def resume(self, sender: str) -> None:
        raise RuntimeError("the dispatcher does not resume conversations")

    async def log_staff_message(self, sender: str, text: str, actor: str) -> None:
        return None


async def run(
    backend: Backend,
    dispatcher: Dispatcher,
    stop: asyncio.Event,
    *,
    redis_url: str | None,
    poll_interval: float = 0.5,
    sweep_interval: float = 5.0,
    deadline_interval: float = 30.0,
    retention: RetentionPolicy | None = None,
    purge_interval: float = 3600.0,
    trackers: RasaTrackerPurge | None = None,
    alive_file: Path | None = None,
) -> None:
    """Deliver until ``stop`` is set, renewing the heartbeat on every sweep (it lasts three).
    ``trackers``: Rasa's SQL tracker store, purged with the retention job (None: Redis expires them).
    ``alive_file``: touched on every sweep, database or not: a container's liveness probe reads its
    age (a loop that stopped turning is restarted; a database away is not the dispatcher's fault)."""
    consumer = None
    if redis_url:
        consumer = StreamConsumer(aioredis.Redis.from_url(redis_url), dispatcher, block_ms=int(poll_interval * 1000))
        await consumer.join()
    last_sweep = last_job = last_beat = float("-inf")
    check = lambda: backend.bus.handle(commands.CheckDeadlines())  # noqa: E731
    sync = lambda: backend.bus.handle(SyncTickets())  # noqa: E731
    policy = retention or RetentionPolicy()

    async def purge() -> None:
        await backend.bus.handle(commands.PurgeExpired(policy))
        if trackers is not None:  # Rasa's SQL trackers age out with the messages they hold
            cutoff, removed = policy.before(backend.clock(), policy.messages_days), 0
            while (batch := await trackers.purge_before(cutoff, PURGE_BATCH)) > 0:
                removed += batch
            if removed:
                log.info("retention: %d idle Rasa conversations removed", removed)

    last_purge = float("-inf")  # at start: not "monotonic() - 0", which is small on a machine just booted
    while not stop.is_set():
        try:
            if time.monotonic() - last_beat >= sweep_interval:
                if alive_file is not None:
                    alive_file.touch()
                await dispatcher.beat(timedelta(seconds=3 * sweep_interval))
                last_beat = time.monotonic()
            sent = await consumer.once() if consumer else 0
            if consumer is None or time.monotonic() - last_sweep >= sweep_interval:
                sent += await dispatcher.poll_once()
                if backend.bus.deps.external is not None:  # tickets the external system missed
                    await dispatcher.run_job("external-sync", timedelta(seconds=sweep_interval), sync)
                last_sweep = time.monotonic()
            if time.monotonic() - last_job >= deadline_interval / 2:  # whoever holds the job's lease runs it
                await dispatcher.run_job("deadlines", timedelta(seconds=deadline_interval), check)
                last_job = time.monotonic()
            if time.monotonic() - last_purge >= purge_interval / 2:  # personal data past its time
                await dispatcher.run_job("retention", timedelta(seconds=purge_interval), purge)
                last_purge = time.monotonic()
        except Exception:  # keep delivering; the database keeps what is owed
            log.exception("dispatcher loop failed; retrying")
            sent = 0
            await asyncio.sleep(poll_interval)
        if consumer is None and sent == 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), poll_interval)


async def serve(settings: Settings) -> None:
    session = aiohttp.ClientSession()
    backend = await bootstrap(
        settings.database_url,
        settings.content_path,
        NoDialogue(),
        NullNotifier(),
        timezone=settings.timezone,
        external=external_system(settings, session),
    )
    channels = installed_channels(settings.channels, session)
    dispatcher = Dispatcher(
        backend.new_uow,
        deliveries(backend, channels),
        backend.clock,
        lease_ttl=timedelta(seconds=float(os.environ.get("WUYE_DELIVERY_LEASE", "15"))),
    )
    tracker_url = tracker_store_url(settings.var_dir / "endpoints.yml")  # what ops/stack.py told Rasa
    trackers = RasaTrackerPurge(async_url(tracker_url)) if tracker_url else None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def graceful() -> None:  # the push in flight is finished and recorded, then nothing more is sent
        dispatcher.request_stop()
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, graceful)
    log.info("dispatcher %s delivering (%s)", dispatcher.name, "redis streams" if settings.redis_url else "polling")
    try:
        await run(
            backend,
            dispatcher,
            stop,
            redis_url=settings.redis_url,
            poll_interval=float(os.environ.get("WUYE_POLL_INTERVAL", "0.5")),
            retention=settings.retention,
            trackers=trackers,
            alive_file=Path(alive) if (alive := os.environ.get("WUYE_DISPATCHER_ALIVE_FILE")) else None,
        )
    finally:
        if trackers is not None:
            await trackers.close()
        with contextlib.suppress(Exception):  # the database may be what stopped us; the beat then runs out
            await dispatcher.stop()
        await close_channels(channels)
        await backend.close()
        await session.close()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_masking()
    asyncio.run(serve(Settings.from_env(dispatcher=True)))


if __name__ == "__main__":
    main()
