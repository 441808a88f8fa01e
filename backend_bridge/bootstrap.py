"""Build the backend: engine, schema, unit of work factory and message bus, wired together."""

from __future__ import annotations

import asyncio
import fcntl
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from alembic import command
from alembic.config import Config
from sqlalchemy import event, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from backend_bridge.adapters import sqlite_driver
from backend_bridge.adapters.content import ContentStore
from backend_bridge.adapters.orm import start_mappers
from backend_bridge.domain import commands
from backend_bridge.service_layer import external_sync, handlers, imports, staff_access
from backend_bridge.service_layer.messagebus import MessageBus
from backend_bridge.service_layer.notices import NoticeWriter
from backend_bridge.service_layer.ports import Clock, Deps, DialogueEngine, Notifier, TicketSystem, utc_now
from backend_bridge.service_layer.unit_of_work import RELAXED, UnitOfWork


@dataclass
class Backend:
    engine: AsyncEngine
    bus: MessageBus
    content: ContentStore
    clock: Clock
    notices: NoticeWriter | None = None

    @property
    def timezone(self) -> ZoneInfo:
        """The community's local time zone (months in statistics, times in messages)."""
        return self.bus.deps.timezone

    def new_uow(self) -> UnitOfWork:
        return self.bus.uow_factory()

    def follow_handoffs(self, channels: Iterable[str]) -> None:
        """Conversations on these channels get a conversation_state notice when handed to staff
        or back (their platform keeps its own session state: 微信客服); the process that hands
        conversations off (the gateway) says which, from the channels it runs."""
        if self.notices is not None:
            self.notices.handoff_channels = frozenset(channels)

    async def close(self) -> None:
        await self.engine.dispose()


def async_url(url: str) -> str:
    """Accept the URLs operators write (postgresql://, sqlite:///) and pick async drivers."""
    for plain, driver in (
        ("postgres://", "postgresql+psycopg://"),
        ("postgresql://", "postgresql+psycopg://"),
        ("sqlite:///", "sqlite+aiosqlite:///"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers don't block the writer
    # 0: a statement never sleeps on the loop waiting for another writer; the driver waits
    # with asyncio instead (adapters/sqlite_driver.py, BUSY_WAIT)
    cursor.execute("PRAGMA busy_timeout=0")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=FULL")  # every commit on disk, unless asked (UnitOfWork.commit)
    cursor.close()


def _sqlite_durable_again(dbapi_connection, record) -> None:
    """A connection back in the pool commits durably again after one commit that did not wait."""
    if record.info.pop(RELAXED, False):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()


DEFAULT_TIMEZONE = ZoneInfo("Asia/Shanghai")
MIGRATIONS = Path(__file__).parent / "migrations"


def _alembic_config(connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection) -> None:
    tables = set(inspect(connection).get_table_names())
    if tables and "alembic_version" not in tables:
        raise SystemExit(
            "the database was made by a version without migrations; "
            "move it away (var/wuye.db for the default SQLite store) and start again"
        )
    command.upgrade(_alembic_config(connection), "head")


async def migrate(engine: AsyncEngine, url: str) -> None:
    """Bring the schema to the newest migration, once even when several processes start together."""
    if engine.dialect.name == "postgresql":
        async with engine.begin() as conn:
            await conn.execute(text("SELECT pg_advisory_xact_lock(724100)"))  # released at commit
            await conn.run_sync(_upgrade)
        return
    lock_path = url.split(":///", 1)[1] + ".migrate.lock" if ":///" in url else None
    if not lock_path or lock_path.startswith(":memory:"):
        await _upgrade_sqlite(engine)
        return
    with open(lock_path, "w") as lock:
        await asyncio.to_thread(fcntl.flock, lock, fcntl.LOCK_EX)
        try:
            await _upgrade_sqlite(engine)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


async def _upgrade_sqlite(engine: AsyncEngine) -> None:
    """SQLite changes a constraint by copying the table: with foreign keys enforced, dropping the
    old copy of a table others refer to would fail, so they are off while migrating (the pragma
    only works outside a transaction) and checked afterwards, as SQLite's documentation advises."""
    async with engine.connect() as conn:
        await conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        await conn.commit()  # ends SQLAlchemy's autobegun transaction; the pragma itself ran outside one
        try:
            async with conn.begin():
                await conn.run_sync(_upgrade)
                broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
                if broken:
                    raise RuntimeError(f"migration left rows pointing nowhere: {broken[:5]}")
        finally:
            await conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            await conn.commit()


async def bootstrap(
    database_url: str,
    content_path: Path,
    dialogue: DialogueEngine,
    notifier: Notifier,
    clock: Clock = utc_now,
    *,
    timezone: ZoneInfo = DEFAULT_TIMEZONE,
    external: TicketSystem | None = None,
) -> Backend:
    url = async_url(database_url)
    options: dict = {}
    if url.startswith("sqlite"):
        db_file = url.split(":///", 1)[1] if ":///" in url else ""
        if db_file and db_file != ":memory:":
            Path(db_file).parent.mkdir(parents=True, exist_ok=True)
        options["async_creator"] = sqlite_driver.connector(db_file or ":memory:")
    # A server's connections can drop (a restart, a proxy's idle timeout): checked on each use.
    # A SQLite file's cannot, and the check cost a round trip to the driver per unit of work.
    engine = create_async_engine(url, pool_pre_ping=not url.startswith("sqlite"), **options)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "checkin", _sqlite_durable_again)
    start_mappers()
    await migrate(engine, url)
    session_factory = async_sessionmaker(engine, expire_on_commit=False)
    content = ContentStore(content_path)
    deps = Deps(
        clock=clock, content=content, dialogue=dialogue, notifier=notifier, timezone=timezone, external=external
    )
    notices = NoticeWriter(clock, timezone)
    event_handlers: dict = {}
    for module in (handlers, imports, external_sync, staff_access):
        for event_type, handler_list in module.EVENT_HANDLERS.items():
            event_handlers.setdefault(event_type, []).extend(handler_list)
    bus = MessageBus(
        uow_factory=lambda: UnitOfWork(session_factory, notices),
        deps=deps,
        command_handlers={
            **handlers.COMMAND_HANDLERS,
            **imports.COMMAND_HANDLERS,
            **external_sync.COMMAND_HANDLERS,
            **staff_access.COMMAND_HANDLERS,
        },
        event_handlers=event_handlers,
    )
    await bus.handle(commands.SyncCommunities())  # the content names the communities
    return Backend(engine=engine, bus=bus, content=content, clock=clock, notices=notices)
