"""What one owner message costs our side of the store, on SQLite and PostgreSQL (issue 14).

Protects: a message answered in the request takes a fixed number of SQL statements and two
commits, however long the conversation already is; only the first commit (the owner's message)
waits for the disk, the second (the replies, which the backlog would give again) does not, and
the connection commits durably again afterwards; a pushed answer commits durably; the sender's
handoff history is not read on every message; SQLite connections are not pinged before each use.
Counted, never timed.
"""

from __future__ import annotations

import contextlib

from sqlalchemy import event

from backend_bridge.domain import commands
from connectors.channel import Inbound

RELAXING = ("PRAGMA synchronous=NORMAL", "SET LOCAL synchronous_commit TO OFF")


@contextlib.contextmanager
def counted(engine):
    """Every statement the engine runs inside the block (commits included, as "COMMIT")."""
    seen: list[str] = []

    def statement(_conn, _cursor, sql, *_args):
        seen.append(" ".join(sql.split()))

    def commit(_conn):
        seen.append("COMMIT")

    sync = engine.sync_engine
    event.listen(sync, "before_cursor_execute", statement)
    event.listen(sync, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(sync, "before_cursor_execute", statement)
        event.remove(sync, "commit", commit)


def work(seen: list[str]) -> list[str]:
    """The statements that read or write rows (not commits nor durability settings)."""
    return [s for s in seen if s != "COMMIT" and s not in RELAXING]


async def one_message(gateway, backend, text: str, message_id: str) -> list[str]:
    with counted(backend.engine) as seen:
        replies = await gateway.handle(Inbound("webchat", "owner-a", text, message_id))
    assert replies == [f"收到：{text}"]
    return seen


async def test_a_message_costs_the_same_statements_and_two_commits_however_long_the_conversation(gateway, backend):
    await gateway.handle(Inbound("webchat", "owner-a", "厨房漏水", "m0"))  # the first also creates the conversation
    second = await one_message(gateway, backend, "第1条", "m1")
    for i in range(2, 25):
        await gateway.handle(Inbound("webchat", "owner-a", f"第{i}条", f"m{i}"))
    later = await one_message(gateway, backend, "第25条", "m25")

    assert second.count("COMMIT") == later.count("COMMIT") == 2
    # one read (the conversation, a retry's first attempt, the backlog's size) and the insert to
    # write the message down; one read (the message with its conversation) and the update for its
    # replies (the conversation's own update is not here: the test's clock stands still)
    assert len(work(later)) == len(work(second)) == 4
    assert not [s for s in later if "FROM handoffs" in s]  # the handoff history is not the message's business


async def test_only_the_owners_message_waits_for_the_disk_and_the_next_commit_waits_again(gateway, backend):
    seen = await one_message(gateway, backend, "厨房漏水", "m0")
    relaxed = [i for i, s in enumerate(seen) if s in RELAXING]
    commits = [i for i, s in enumerate(seen) if s == "COMMIT"]
    assert len(relaxed) == 1 and commits[0] < relaxed[0] < commits[1]  # the replies' transaction, not the message's

    async with backend.new_uow() as uow:  # whichever pooled connection this is: durable again
        connection = await uow.session.connection()
        if connection.dialect.name == "sqlite":
            assert (await connection.exec_driver_sql("PRAGMA synchronous")).scalar() == 2  # FULL
        else:
            assert (await connection.exec_driver_sql("SHOW synchronous_commit")).scalar() == "on"


async def test_a_pushed_answer_commits_durably(gateway, backend):
    await gateway.handle(Inbound("webchat", "owner-a", "厨房漏水", "m0"))
    record = await backend.bus.handle(commands.RecordInbound("webchat:owner-a", "还在漏", "m1", None, None))
    with counted(backend.engine) as seen:
        await backend.bus.handle(commands.RecordReplies(record.id, ("好的",), answered=True, push=True))
    assert "COMMIT" in seen and not [s for s in seen if s in RELAXING]


async def test_sqlite_connections_are_not_pinged_before_each_use(gateway, backend, monkeypatch):
    pings = []
    dialect = backend.engine.dialect
    ping = dialect.do_ping
    monkeypatch.setattr(dialect, "do_ping", lambda conn: pings.append(1) or ping(conn))
    await one_message(gateway, backend, "厨房漏水", "m0")
    if dialect.name == "sqlite":
        assert pings == []  # a file cannot drop a connection
    else:
        assert pings  # a server can: still checked
