"""The store at 0, 10k and 100k tickets and owners: what one owner's turn and one staff page read.

Rows are bulk-inserted (one executemany per table, milliseconds per 10k) beside the demo
community, then each read runs as the bot API and the staff views run it, timed (median of
repeats) and its SQL statements counted. tests/backend/test_growth.py uses ``seed`` and
``StatementCounter`` to check the counts stay flat; only this benchmark times anything.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import event, insert, select

from backend_bridge.adapters import orm
from backend_bridge.bootstrap import bootstrap
from backend_bridge.domain import commands, model
from backend_bridge.service_layer import views
from backend_bridge.service_layer.ports import NullNotifier
from tests.conftest import CONTENT, RecordingDialogue, demo_store

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
PROBE = "webchat:growth-probe"  # the owner whose turn is measured


class StatementCounter:
    """Counts the SQL statements an engine runs while it is attached (SQLAlchemy event)."""

    def __init__(self, engine) -> None:
        self.engine = engine.sync_engine if hasattr(engine, "sync_engine") else engine
        self.count = 0

    def _seen(self, *_args) -> None:
        self.count += 1

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


async def seed(engine, n: int, community: str, batch: int = 5000, open_share: float | None = None) -> None:
    """``n`` flats, each with an owner bound to a chat and a ticket, in ``community``.

    ``open_share``: the share of those tickets still open (None: two in three, the other reads'
    figures since issue 14). Their deadlines are long past and their alerts given, so the SLA
    scheduler has nothing to do for them (``sweep_at`` empty, as its sweep leaves such a ticket);
    a scheduler that reads every open ticket still loads them on every sweep."""
    first = int(time.time() * 1000) % 1_000_000  # flats unique across calls
    async with engine.begin() as conn:
        last = (await conn.execute(select(orm.rooms.c.id).order_by(orm.rooms.c.id.desc()).limit(1))).scalar() or 0
        for start in range(0, n, batch):
            size = min(batch, n - start)
            ids = range(last + start + 1, last + start + size + 1)
            rooms = [
                {"id": i, "community": community, "building": f"G{first}", "unit": str(i % 7), "room": str(i)}
                for i in ids
            ]
            await conn.execute(insert(orm.rooms), rooms)
            owners = [{"id": i, "room_id": i, "name": "业主", "phone": f"139{i:08d}", "role": "owner"} for i in ids]
            await conn.execute(insert(orm.owners), owners)
            await conn.execute(
                insert(orm.bindings),
                [{"sender": f"webchat:g{first}-{i}", "room_id": i, "owner_id": i, "bound_at": T0} for i in ids],
            )
            await conn.execute(insert(orm.tickets), [_ticket(i, first, community, open_share) for i in ids])


def _ticket(i: int, first: int, community: str, open_share: float | None = None) -> dict:
    at = T0 + timedelta(minutes=i % 100_000)
    status = [model.TicketStatus.NEW, model.TicketStatus.IN_PROGRESS, model.TicketStatus.CLOSED][i % 3]
    if open_share is not None:
        is_open = i % 1000 < round(open_share * 1000)
        status = (
            [model.TicketStatus.NEW, model.TicketStatus.IN_PROGRESS][i % 2] if is_open else model.TicketStatus.CLOSED
        )
    return {
        "kind": model.TicketKind.REPAIR,
        "priority": model.Priority.NORMAL,
        "status": status,
        "category": "plumbing",
        "building": f"G{first}",
        "unit": str(i % 7),
        "room": str(i),
        "description": "厨房水管漏水",
        "sender": f"webchat:g{first}-{i}",
        "intake": model.Intake.ASSISTANT,
        "channel": "webchat",
        "created_at": at,
        "respond_by": at + timedelta(hours=2),
        "resolve_by": at + timedelta(days=2),
        "community": community,
    }


async def probe_owner(backend) -> None:
    """The measured owner: bound to a flat of the demo (as if verified), a ticket, a message."""
    await backend.bus.handle(commands.RecordInbound(PROBE, "你好"))
    await backend.bus.handle(commands.OpenTicket(PROBE, "repair", "厨房水管漏水", "3", "2", "501"))
    async with backend.engine.begin() as conn:
        owner = (await conn.execute(select(orm.owners.c.id, orm.owners.c.room_id).limit(1))).one()
        values = {"sender": PROBE, "room_id": owner.room_id, "owner_id": owner.id, "bound_at": T0}
        await conn.execute(insert(orm.bindings), [values])


def reads(backend) -> dict:
    """The reads of one owner turn (bot API) and of a staff page, each a coroutine factory."""
    uow = backend.new_uow

    async def owner_turn() -> None:
        record = await backend.bus.handle(commands.RecordInbound(PROBE, "查进度"))
        await views.tickets_for_sender(uow(), PROBE)
        await views.binding_for_sender(uow(), PROBE)
        await backend.bus.handle(commands.RecordReplies(record.id, ("您的工单正在处理中",), answered=True))

    return {
        "owner_turn (record, tickets, binding, replies)": owner_turn,
        "bot: tickets_for_sender": lambda: views.tickets_for_sender(uow(), PROBE),
        "bot: binding_for_sender": lambda: views.binding_for_sender(uow(), PROBE),
        "staff: ticket list, first page": lambda: views.tickets_for_staff(uow(), now=backend.clock(), limit=50),
        "staff: conversations, first page": lambda: views.conversations(uow()),
        # the dispatcher's SLA scheduler, every 15 s: it used to load every open ticket (up to 5000)
        "scheduler: deadline sweep": lambda: backend.bus.handle(commands.CheckDeadlines()),
    }


async def measure_store(sizes: list[int], repeats: int = 40, open_share: float | None = None) -> dict:
    """Per size and read: median and best milliseconds, statements, and the best's ratio to the
    smallest store's (the best of many is what the read costs; the median carries the machine's
    other work, which on a shared 2-core machine swings more than the reads do)."""
    out: dict = {}
    with tempfile.TemporaryDirectory() as var:
        backend = await bootstrap(f"sqlite:///{Path(var) / 'wuye.db'}", CONTENT, RecordingDialogue(), NullNotifier())
        try:
            await demo_store(backend, with_staff=False, mark=False)
            await probe_owner(backend)
            community = next(iter(c.code for c in backend.content.communities()))
            seeded = 0
            for size in sorted(sizes):
                await seed(backend.engine, size - seeded, community, open_share=open_share)
                seeded = size
                row = {}
                for name, read in reads(backend).items():
                    await read()  # warm
                    took = []
                    for _ in range(repeats):
                        with StatementCounter(backend.engine) as counter:
                            started = time.perf_counter()
                            await read()
                            took.append((time.perf_counter() - started) * 1000)
                    row[name] = {
                        "median_ms": round(statistics.median(took), 2),
                        "best_ms": round(min(took), 2),
                        "statements": counter.count,
                    }
                out[str(size)] = row
        finally:
            await backend.close()
    base = out[str(min(sizes))]
    for row in out.values():
        for name, figures in row.items():
            figures["ratio_to_empty"] = round(figures["best_ms"] / base[name]["best_ms"], 2)
    return out
