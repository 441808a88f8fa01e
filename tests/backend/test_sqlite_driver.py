"""The SQLite driver (adapters/sqlite_driver.py): statements on the loop, commits and waits off it.

Each test would fail if the driver went back to a statement per thread hop (the statement
threads), slept inside SQLite while another process writes (the ticker), gave up at once on a
busy database (the write that waits), or retried what cannot succeed (the stale snapshot).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

import pytest
from sqlalchemy import text

from backend_bridge.adapters import sqlite_driver
from backend_bridge.bootstrap import bootstrap
from backend_bridge.domain import commands
from backend_bridge.service_layer.ports import NullNotifier
from tests.conftest import ROOT, RecordingDialogue


@pytest.fixture
async def store(tmp_path, clock):
    path = tmp_path / "wuye.db"
    backend = await bootstrap(f"sqlite:///{path}", ROOT / "content", RecordingDialogue(), NullNotifier(), clock)
    yield backend, path
    await backend.close()


async def _traced(backend) -> list[tuple[str, int]]:
    """Every statement SQLite runs on the next connection out of the pool, with its thread."""
    seen: list[tuple[str, int]] = []
    async with backend.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        raw.driver_connection._conn.set_trace_callback(lambda sql: seen.append((sql, threading.get_ident())))
    return seen


async def test_statements_run_on_the_loop_and_commits_on_the_connections_thread(store):
    backend, _ = store
    seen = await _traced(backend)
    await backend.bus.handle(commands.RecordInbound("webchat:owner", "厨房水管漏水"))
    loop_thread = threading.get_ident()
    statements = [(sql.split()[0].upper(), thread) for sql, thread in seen]
    assert {"SELECT", "INSERT", "COMMIT"} <= {verb for verb, _ in statements}
    assert all(thread == loop_thread for verb, thread in statements if verb != "COMMIT")
    assert all(thread != loop_thread for verb, thread in statements if verb == "COMMIT")


async def test_a_write_waits_for_another_writer_without_stalling_the_loop(store):
    backend, path = store
    other = sqlite3.connect(path, isolation_level=None)  # another process's connection, as it were
    other.execute("BEGIN IMMEDIATE")  # holds the write lock
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    beat = asyncio.create_task(ticker())
    asyncio.get_running_loop().call_later(0.4, other.execute, "COMMIT")
    started = time.monotonic()
    recorded = await backend.bus.handle(commands.RecordInbound("webchat:owner", "电梯不动了"))
    waited = time.monotonic() - started
    beat.cancel()
    other.close()
    assert recorded.id and not recorded.duplicate
    assert waited >= 0.35  # it did wait for the lock...
    assert ticks >= 15  # ...and the loop went on meanwhile (a busy handler inside SQLite freezes it)
    async with backend.engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM inbound_messages"))).scalar() == 1


async def test_a_writer_that_never_lets_go_is_an_error_after_the_busy_wait(store, monkeypatch):
    backend, path = store
    monkeypatch.setattr(sqlite_driver, "BUSY_WAIT", 0.2)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        with pytest.raises(Exception, match="database is locked"):
            await backend.bus.handle(commands.RecordInbound("webchat:owner", "门锁坏了"))
        assert 0.15 <= time.monotonic() - started < 2
    finally:
        other.execute("ROLLBACK")
        other.close()
    # nothing half-written, and the store works again
    await backend.bus.handle(commands.RecordInbound("webchat:owner", "门锁坏了"))


async def test_a_stale_snapshot_is_raised_at_once_not_waited_on(tmp_path):
    path = tmp_path / "plain.db"
    setup = sqlite3.connect(path)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE t (i INTEGER)")
    setup.commit()
    conn = await sqlite_driver.connector(path)()
    try:
        await conn.execute("PRAGMA busy_timeout=0")
        await conn.execute("BEGIN")
        await (await conn.execute("SELECT count(*) FROM t")).fetchall()  # the snapshot
        setup.execute("INSERT INTO t VALUES (1)")
        setup.commit()  # another writer moves on
        started = time.monotonic()
        with pytest.raises(sqlite3.OperationalError) as caught:
            await conn.execute("INSERT INTO t VALUES (2)")
        assert caught.value.sqlite_errorcode == 517  # SQLITE_BUSY_SNAPSHOT: only a new transaction helps
        assert time.monotonic() - started < 0.5
    finally:
        await conn.close()
        setup.close()
