"""Rasa's conversations, aged out with the owners' messages (domain/retention.py).

Rasa keeps every turn of a conversation (the owner's words, slots with phones and flats) in its
tracker store. With Redis each conversation expires by itself (``record_exp``); in SQL — the
embedded SQLite file, or PostgreSQL without Redis — nothing ever removes a row. This adapter
removes whole conversations whose last turn is older than the cut-off: Rasa reads only a
conversation's current session, so a conversation that old would start afresh anyway, and
removing it whole never leaves a tracker cut in the middle of a form.

The store is the one Rasa was told to use: ``tracker_store_url`` reads the same endpoints.yml
(written by ops/stack.py) that Rasa reads.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import yaml
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, delete, func, inspect, select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine

SQL_STORE = "bot.tracker_stores.SessionSQLTrackerStore"  # ops/stack.py's, over Rasa's SQL store

# The columns of Rasa 3.6's SQLTrackerStore table that the purge reads (rasa/core/tracker_store.py SQLEvent).
_metadata = MetaData()
EVENTS = Table(
    "events",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False),
    Column("timestamp", Float),
)


def tracker_store_url(endpoints: Path) -> str | None:
    """The SQLAlchemy URL (plain drivers, as operators write it) of Rasa's SQL tracker store as
    ``endpoints`` (endpoints.yml) configures it; None when there is no such file or the store is
    not SQL (Redis expires its own)."""
    try:
        doc = yaml.safe_load(endpoints.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        return None
    store = doc.get("tracker_store") or {}
    if str(store.get("type", "")).upper() not in ("SQL", SQL_STORE.upper()):
        return None
    dialect = store.get("dialect", "sqlite")
    if dialect == "sqlite":
        return f"sqlite:///{store['db']}"
    if dialect == "postgresql":
        url = URL.create(
            "postgresql",
            username=store.get("username") or None,
            password=store.get("password") or None,
            host=store.get("url") or None,
            port=store.get("port"),
            database=str(store.get("db", "")),
        )
        return url.render_as_string(hide_password=False)
    return None


class RasaTrackerPurge:
    """Deletes Rasa conversations idle since before a cut-off, a batch of senders at a time."""

    def __init__(self, url: str) -> None:
        """``url``: with an async driver (bootstrap.async_url)."""
        self.engine = create_async_engine(url)

    async def purge_before(self, cutoff: datetime, limit: int) -> int:
        """Remove up to ``limit`` conversations whose last event is before ``cutoff``; the number
        of conversations removed (0 also when Rasa has not created its table yet)."""
        async with self.engine.begin() as conn:
            if not await conn.run_sync(lambda sync: inspect(sync).has_table("events")):
                return 0
            idle = (
                select(EVENTS.c.sender_id)
                .group_by(EVENTS.c.sender_id)
                .having(func.max(EVENTS.c.timestamp) < cutoff.timestamp())
                .limit(limit)
            )
            senders = list((await conn.execute(idle)).scalars())
            if senders:
                await conn.execute(delete(EVENTS).where(EVENTS.c.sender_id.in_(senders)))
            return len(senders)

    async def close(self) -> None:
        await self.engine.dispose()
