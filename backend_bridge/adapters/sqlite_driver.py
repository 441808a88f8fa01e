"""The SQLite store's driver: aiosqlite's connection, with statements run on the event loop.

aiosqlite runs every call — each statement, each fetch, each cursor — on a thread of its own
and hands the result back through the event loop: about four context switches per call, and a
message written down takes some fifteen calls. Profiled (bench/NOTES.md, issue 14), those hops
were most of the gateway's own time per message, while SQLite itself needs microseconds for a
statement that touches a few rows through an index (the ORM's work around it already runs on
the loop). So statements run inline here, and only what may wait for something outside the
process leaves the loop:

- a commit waits for the disk (fsync) and may checkpoint the WAL: it runs on the connection's
  thread, as aiosqlite would;
- another process may hold the write lock: SQLite's own busy handler would sleep *inside* the
  statement and so stall the loop, so connections are opened with no busy timeout and a
  statement told SQLITE_BUSY waits here with ``asyncio.sleep`` and runs again, for as long as
  the busy timeout SQLite had before (BUSY_WAIT). A statement that returned SQLITE_BUSY did
  nothing, so running it again is what SQLite's busy handler does. SQLITE_BUSY_SNAPSHOT (a
  transaction whose snapshot is stale) is not retried: it can only succeed in a new transaction,
  and is raised at once, as before.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from functools import partial
from pathlib import Path
from typing import Any

import aiosqlite

BUSY_WAIT = 5.0  # seconds a statement waits for another writer (SQLite's busy_timeout before)
_SQLITE_BUSY = 5  # the primary code; its extended forms say why
_RETRYABLE = {_SQLITE_BUSY, 261}  # 261: SQLITE_BUSY_RECOVERY, another process recovering the WAL
_BACKOFF = (0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.025, 0.025, 0.025, 0.05, 0.05, 0.1)  # SQLite's own


def busy(error: BaseException) -> bool:
    """Whether running the same statement again, a moment later, can succeed."""
    return isinstance(error, sqlite3.OperationalError) and getattr(error, "sqlite_errorcode", None) in _RETRYABLE


async def retry_while_busy(call, *, wait: float | None = None):
    """``await call()`` until it is not told SQLITE_BUSY, sleeping as SQLite's busy handler would,
    for ``wait`` seconds at most (BUSY_WAIT unless given)."""
    deadline = time.monotonic() + (BUSY_WAIT if wait is None else wait)
    for attempt in range(1_000_000):
        try:
            return await call()
        except sqlite3.OperationalError as error:
            pause = _BACKOFF[min(attempt, len(_BACKOFF) - 1)]
            if not busy(error) or time.monotonic() + pause > deadline:
                raise
            await asyncio.sleep(pause)
    raise AssertionError("unreachable")  # pragma: no cover


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose statements run on the caller's loop (see the module's docstring)."""

    async def _execute(self, fn, *args, **kwargs):
        if not self._running or not self._connection:
            raise ValueError("Connection closed")  # aiosqlite's words: SQLAlchemy reads them as a disconnect
        if fn == self._connection.commit:
            return await retry_while_busy(lambda: super(InlineConnection, self)._execute(fn))
        call = partial(fn, *args, **kwargs)

        async def run() -> Any:
            return call()

        return await retry_while_busy(run)


def connector(path: str | Path):
    """An ``async_creator`` for SQLAlchemy's aiosqlite dialect: a new inline connection to ``path``.

    The connection is used by one task at a time (the pool's checkout), but from two threads —
    the loop's and, for commits, its own — hence ``check_same_thread=False``; SQLite's default
    threading mode (serialized) allows it.
    """

    async def connect() -> InlineConnection:
        connection = InlineConnection(partial(sqlite3.connect, str(path), check_same_thread=False), 64)
        connection._thread.daemon = True  # as SQLAlchemy does for aiosqlite's: never holds up an exit
        return await connection

    return connect
