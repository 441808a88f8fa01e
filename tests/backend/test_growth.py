"""Cost that grows with the work, as behaviour: an owner's message costs the same SQL statements
after 3 or 150 earlier messages and with 0 or thousands of other owners' tickets, and the
per-message reads use an index that reaches only the rows they need (no timings here: those are
bench/growth.py's).
"""

from __future__ import annotations

from sqlalchemy import event

from backend_bridge.domain import commands
from backend_bridge.service_layer import views
from bench.growth_store import PROBE, StatementCounter, probe_owner, reads, seed


async def _one_message(backend, sender: str, n: int) -> int:
    """Statements of one owner message as the gateway records it: in, then the replies."""
    with StatementCounter(backend.engine) as counter:
        record = await backend.bus.handle(commands.RecordInbound(sender, f"第{n}句", client_message_id=f"m{n}"))
        await views.unanswered(backend.new_uow(), sender, now=backend.clock())
        await backend.bus.handle(commands.RecordReplies(record.id, (f"答{n}",), answered=True))
    return counter.count


async def test_a_message_costs_the_same_statements_after_150_earlier_ones(backend, clock):
    sender = "webchat:long-conversation"
    counts = []
    for n in range(153):
        clock.advance(minutes=1)
        counts.append(await _one_message(backend, sender, n))
    assert counts[150:153] == counts[1:4]  # the first message also creates the conversation


async def test_the_owners_reads_cost_the_same_statements_with_thousands_of_tickets_and_owners(backend):
    await probe_owner(backend)
    community = next(iter(c.code for c in backend.content.communities()))

    async def statements() -> dict[str, int]:
        counts = {}
        for name, read in reads(backend).items():
            await read()
            with StatementCounter(backend.engine) as counter:
                await read()
            counts[name] = counter.count
        return counts

    before = await statements()
    await seed(backend.engine, 3000, community)
    assert await statements() == before


async def test_a_senders_waiting_messages_are_read_through_the_sender_status_index(backend):
    """The read every owner message makes (RecordInbound's unanswered) goes through the index on
    (sender, status): never a walk over the sender's history or the whole table (SQLite's plan
    of the very statement the repository sends, over many senders' answered messages)."""
    if backend.engine.dialect.name != "sqlite":
        return  # PostgreSQL picks by statistics; the index is created there too (test_migrations)
    for n in range(300):
        sender = PROBE if n % 3 == 0 else f"webchat:other-{n % 7}"
        record = await backend.bus.handle(commands.RecordInbound(sender, f"第{n}句"))
        await backend.bus.handle(commands.RecordReplies(record.id, ("好",), answered=True))
    sent: list[tuple[str, tuple]] = []

    def keep(_conn, _cursor, statement, parameters, _context, _many) -> None:
        if "FROM inbound_messages" in statement:
            sent.append((statement, parameters))

    event.listen(backend.engine.sync_engine, "before_cursor_execute", keep)
    try:
        await backend.bus.handle(commands.RecordInbound(PROBE, "还在吗"))
    finally:
        event.remove(backend.engine.sync_engine, "before_cursor_execute", keep)
    waiting = [(st, p) for st, p in sent if "status" in st and "client_message_id" not in st.split("WHERE")[-1]]
    assert waiting, sent
    async with backend.engine.connect() as conn:
        await conn.exec_driver_sql("ANALYZE")
        for statement, parameters in waiting:
            plan = (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)).all()
            assert any("ix_inbound_sender_status" in str(row) for row in plan), (statement, plan)
