"""Build the backend: engine, schema, unit of work factory and message bus, wired together."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from backend_bridge.adapters.content import ContentStore
from backend_bridge.adapters.orm import metadata, start_mappers
from backend_bridge.service_layer import handlers
from backend_bridge.service_layer.messagebus import MessageBus
from backend_bridge.service_layer.ports import Clock, DialogueEngine, Notifier, utc_now
from backend_bridge.service_layer.unit_of_work import UnitOfWork


@dataclass
class Backend:
    engine: AsyncEngine
    bus: MessageBus
    content: ContentStore
    clock: Clock

    def new_uow(self) -> UnitOfWork:
        return self.bus.uow_factory()

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
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


async def bootstrap(
    database_url: str,
    content_path: Path,
    dialogue: DialogueEngine,
    notifier: Notifier,
    clock: Clock = utc_now,
) -> Backend:
    url = async_url(database_url)
    if url.startswith("sqlite") and ":///" in url:
        db_file = url.split(":///", 1)[1]
        if db_file and db_file != ":memory:":
            Path(db_file).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    start_mappers()
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    session_factory = async_sessionmaker(engine, expire_on_commit=False)
    content = ContentStore(content_path)
    deps = handlers.Deps(clock=clock, content=content, dialogue=dialogue, notifier=notifier)
    bus = MessageBus(
        uow_factory=lambda: UnitOfWork(session_factory),
        deps=deps,
        command_handlers=handlers.COMMAND_HANDLERS,
        event_handlers=handlers.EVENT_HANDLERS,
    )
    return Backend(engine=engine, bus=bus, content=content, clock=clock)
