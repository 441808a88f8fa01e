"""Composition root of the gateway process: backend, Rasa client, channels, APIs.

Two applications: the public one (web chat, channel callbacks, staff API, /healthz, /livez, /readyz)
and the internal one, bound to loopback, that the chat actions call and Prometheus scrapes
(/metrics: never on the public port).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web
from sqlalchemy import text

from backend_bridge.adapters.external import HttpTicketSystem
from backend_bridge.adapters.redis_streams import RedisStreamNotifier
from backend_bridge.bootstrap import Backend, bootstrap
from backend_bridge.demo import load_demo
from backend_bridge.entrypoints import bot_api, console_api, external_api, import_api, live_api, staff_api, stats_api
from backend_bridge.entrypoints.errors import domain_errors
from backend_bridge.entrypoints.http import errors_as_json
from backend_bridge.entrypoints.keys import ADMIN_TOKEN, BACKEND, INTERNAL_TOKEN, TIMEZONE
from backend_bridge.service_layer import views
from backend_bridge.service_layer.ports import NullNotifier
from connectors.channel import Channel, close_channels, installed_channels
from connectors.gateway import Gateway
from connectors.keys import GATEWAY, RASA
from connectors.metrics import METRICS, Metrics
from connectors.metrics import routes as metrics_routes
from connectors.rasa import RasaClient
from connectors.ratelimit import LocalFailureWindow, SharedFailureWindow
from connectors.settings import ROOT, ConsoleSettings, Settings, channels_line

log = logging.getLogger(__name__)

LOGIN_WINDOW = 15 * 60  # seconds: the console allows so many sign-in failures in this window
MAX_BODY = 64 * 1024  # a chat message is at most a few KB; anything bigger is refused with 413
ACTIONS_URL = web.AppKey("actions_url", str)
HTTP = web.AppKey("http", aiohttp.ClientSession)


async def _database_ok(backend: Backend) -> bool:
    try:
        async with backend.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        return False


async def _actions_ok(session: aiohttp.ClientSession, url: str) -> bool:
    try:
        async with session.get(f"{url}/health", timeout=aiohttp.ClientTimeout(total=3)) as resp:
            return resp.status == 200
    except (aiohttp.ClientError, TimeoutError):
        return False


async def _dispatcher_ok(backend: Backend) -> bool:
    try:
        return bool(await views.running_dispatchers(backend.new_uow(), backend.clock()))
    except Exception:  # noqa: BLE001 - the database check reports why
        return False


def _numbered(instances: dict[str, bool]) -> dict[str, bool]:
    """Each Rasa instance by its place in WUYE_RASA_URLS (1, 2, …): the probes are on the public
    port, and the instances' internal addresses are nobody's business there."""
    return {str(n): up for n, up in enumerate(instances.values(), start=1)}


async def healthz(request: web.Request) -> web.Response:
    """200 once every process is ready: the database, the action server, every Rasa instance (with
    its model) answer, and a dispatcher (which delivers status updates) has a live heartbeat.
    What an operator (and ``make run``) waits for; ``rasa_instances`` says which one is missing."""
    app = request.app
    database, actions, instances, dispatcher = await asyncio.gather(
        _database_ok(app[BACKEND]),
        _actions_ok(app[HTTP], app[ACTIONS_URL]),
        app[RASA].instances_ready(),
        _dispatcher_ok(app[BACKEND]),
    )
    checks = {"database": database, "actions": actions, "rasa": all(instances.values()), "dispatcher": dispatcher}
    ready = all(checks.values())
    body = {"status": "ok" if ready else "starting", "checks": checks, "rasa_instances": _numbered(instances)}
    return web.json_response(body, status=200 if ready else 503)


async def livez(request: web.Request) -> web.Response:
    """200 while the process serves HTTP at all: a liveness probe restarts the gateway only when it
    is stuck, never because Rasa or the database is away (a restart would not bring them back)."""
    return web.json_response({"status": "alive"})


async def readyz(request: web.Request) -> web.Response:
    """200 while this gateway can answer owners: its database and at least one of its Rasa instances
    answer (senders of an instance that is down fail over to another). A readiness probe takes a
    gateway out of the load balancer while it cannot; the action server and the dispatchers are
    /healthz's business (the gateway does not call them for an owner's answer)."""
    app = request.app
    database, instances = await asyncio.gather(_database_ok(app[BACKEND]), app[RASA].instances_ready())
    ready = database and any(instances.values())
    body = {"status": "ready" if ready else "not ready", "database": database, "rasa_instances": _numbered(instances)}
    return web.json_response(body, status=200 if ready else 503)


def _application() -> web.Application:
    """errors_as_json outermost: what domain_errors does not answer (a bug) is a logged 500."""
    return web.Application(client_max_size=MAX_BODY, middlewares=[errors_as_json, domain_errors])


def internal_app(
    backend: Backend, *, token: str, timezone: ZoneInfo, metrics: Metrics | None = None
) -> web.Application:
    """The bot API the actions call, and /metrics (the gateway's ``metrics``, given to its Gateway
    and RasaClient too); bind it to loopback only."""
    app = _application()
    app[BACKEND] = backend
    app[INTERNAL_TOKEN] = token
    app[TIMEZONE] = timezone
    app[METRICS] = metrics or Metrics()
    app.add_routes(bot_api.routes)
    app.add_routes(metrics_routes)
    return app


def public_app(
    backend: Backend,
    gateway: Gateway,
    *,
    admin_token: str,
    rasa: RasaClient,
    http: aiohttp.ClientSession,
    actions_url: str,
    channels: list[Channel] | None = None,
    console: ConsoleSettings | None = None,
    console_dir: Path = ROOT / "console",
    redis: aioredis.Redis | None = None,
) -> web.Application:
    """Channels, the staff API, the staff console and /healthz. ``channels``: those that are on
    (Settings.channels); by default the ones that need no settings."""
    app = _application()
    app[BACKEND] = backend
    app[ADMIN_TOKEN] = admin_token
    app[GATEWAY] = gateway
    app[RASA] = rasa
    app[HTTP] = http
    app[ACTIONS_URL] = actions_url
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/livez", livez)
    app.router.add_get("/readyz", readyz)
    running = installed_channels(http=http) if channels is None else channels
    for channel in running:
        app.add_routes(channel.routes())
    backend.follow_handoffs(c.name for c in running if getattr(c, "follows_handoff", False))
    for module in (staff_api, import_api, stats_api, external_api):
        app.add_routes(module.routes)
    console = console or ConsoleSettings()
    throttle = console_api.LoginThrottle(*login_failure_windows(console, redis))
    console_api.setup(
        app,
        console_dir=console_dir,
        secure_cookie=console.secure_cookie,
        throttle=throttle,
        trusted=console.trusted_proxies,
    )
    live_api.install(app, backend)  # the console's live feed: one shared poller for this app
    return app


def login_failure_windows(console: ConsoleSettings, redis: aioredis.Redis | None) -> tuple:
    """The console's sign-in failure limits, per username and per client address: shared by
    every gateway through Redis when it is configured (N gateways must not give N times the
    guesses), else in this process."""
    if redis is None:
        return (
            LocalFailureWindow(console.user_failures, LOGIN_WINDOW),
            LocalFailureWindow(console.client_failures, LOGIN_WINDOW),
        )
    return (
        SharedFailureWindow(redis, console.user_failures, LOGIN_WINDOW, prefix="wuye:signin:user:"),
        SharedFailureWindow(redis, console.client_failures, LOGIN_WINDOW, prefix="wuye:signin:client:"),
    )


def external_system(settings: Settings, session: aiohttp.ClientSession) -> HttpTicketSystem | None:
    """The external property system, when configured. A short timeout: tickets are created
    there while the owner waits for the chat's answer; what times out is retried by the
    dispatcher's sync job."""
    if settings.external is None:
        return None
    cfg = settings.external
    return HttpTicketSystem(cfg.name, cfg.url, cfg.api_key, cfg.secret, session, timeout=2.0)


async def build(settings: Settings) -> tuple[web.Application, web.Application]:
    session = aiohttp.ClientSession()
    metrics = Metrics()
    rasa = RasaClient(settings.rasa_instances, settings.rasa_token, session, metrics=metrics)
    notifier = NullNotifier()  # without Redis the dispatchers poll the database
    redis = aioredis.Redis.from_url(settings.redis_url) if settings.redis_url else None
    if redis is not None:
        notifier = RedisStreamNotifier(redis)
    external = external_system(settings, session)
    backend = await bootstrap(
        settings.database_url, settings.content_path, rasa, notifier, timezone=settings.timezone, external=external
    )
    if settings.demo_data:
        added = await load_demo(backend, settings.demo_data, settings.timezone)
        if added:
            log.info("loaded the demo communities (%d flats)", added)
    gateway = Gateway(backend, rasa, metrics=metrics)
    channels = installed_channels(settings.channels, session)
    log.info("channels: %s", ", ".join(c.name for c in channels))
    if settings.channels:
        log.info("%s", channels_line(settings.channels))
    public = public_app(
        backend,
        gateway,
        admin_token=settings.admin_token,
        rasa=rasa,
        http=session,
        actions_url=settings.actions_url,
        channels=channels,
        console=settings.console,
        redis=redis,
    )
    internal = internal_app(backend, token=settings.internal_token, timezone=settings.timezone, metrics=metrics)

    async def background(app: web.Application):
        task = asyncio.create_task(gateway.retry_forever(settings.retry_interval))
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await gateway.close()  # accepted messages get a moment to be answered
        await close_channels(channels)
        await session.close()
        await backend.close()
        if redis is not None:
            await redis.aclose()

    public.cleanup_ctx.append(background)
    return public, internal
