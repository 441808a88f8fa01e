"""Schema migrations (Alembic): the migrated schema is exactly the mapped one, on both databases.

Protects: a column added to adapters/orm.py without a migration (the comparison finds it);
several processes starting together on an empty database (gateway and dispatchers)
migrating once without tripping over each other; and a database made before migrations
being refused with a message that says what to do, rather than half-upgraded.
"""

from __future__ import annotations

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from backend_bridge.adapters.orm import metadata
from backend_bridge.bootstrap import MIGRATIONS, _alembic_config, bootstrap
from backend_bridge.service_layer.ports import NullNotifier
from tests.conftest import CONTENT, RecordingDialogue, new_postgres_database


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request, tmp_path):
    """An empty database of each kind, just for this test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    with new_postgres_database("wuye_migrate") as url:
        yield url


def _sync_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


async def _start(url: str):
    return await bootstrap(url, CONTENT, RecordingDialogue(), NullNotifier())


async def test_the_migrated_schema_is_the_mapped_schema(empty_database):
    backend = await _start(empty_database)
    await backend.close()
    engine = create_engine(_sync_url(empty_database))
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
        head = ScriptDirectory.from_config(_alembic_config(conn)).get_current_head()
        assert context.get_current_revision() == head
    engine.dispose()
    assert MIGRATIONS.is_dir()


async def test_processes_starting_together_migrate_once(empty_database):
    backends = await asyncio.gather(*(_start(empty_database) for _ in range(3)))
    for backend in backends:
        await backend.close()
    engine = create_engine(_sync_url(empty_database))
    with engine.connect() as conn:
        assert set(metadata.tables) <= set(inspect(conn).get_table_names())
    engine.dispose()


async def test_a_database_from_before_migrations_is_refused_with_advice(empty_database):
    engine = create_engine(_sync_url(empty_database))
    metadata.create_all(engine)
    engine.dispose()
    with pytest.raises(SystemExit, match="without migrations"):
        await _start(empty_database)


# -- 0006: from the one-community store main made to many communities ---------------------------


def _store_as_main_made_it(url: str) -> None:
    """A store at revision 0005 (the last before communities) with a flat, its owner and bill, a
    bound chat, a ticket with history, a pass, a conversation, a staff account and a notification."""
    from alembic import command

    engine = create_engine(_sync_url(url))
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0005")
        rows = [
            "INSERT INTO rooms (id, building, unit, room, area_m2) VALUES (1, '3', '2', '501', 89.5)",
            "INSERT INTO owners (id, room_id, name, phone, role) VALUES (1, 1, '张伟', '13800000501', 'owner')",
            "INSERT INTO bills (id, room_id, period, item, amount_cents, due_date) "
            "VALUES (1, 1, '2026-10', '物业费', 19690, '2026-10-20 04:00:00')",
            "INSERT INTO bindings (id, sender, room_id, owner_id, bound_at) "
            "VALUES (7, 'webchat:zw', 1, 1, '2026-11-01 00:00:00')",
            "INSERT INTO conversations (sender, channel, state) VALUES ('webchat:zw', 'webchat', 'bot')",
            "INSERT INTO tickets (id, kind, priority, status, category, building, unit, room, description, "
            "sender, anonymous, intake, channel, created_at, respond_by, resolve_by, version) VALUES "
            "(12, 'repair', 'normal', 'new', 'plumbing', '3', '2', '501', '厨房漏水', 'webchat:zw', false, "
            "'assistant', 'webchat', '2026-11-01 00:00:00', '2026-11-01 00:30:00', '2026-11-02 00:00:00', 1)",
            "INSERT INTO ticket_events (ticket_id, at, type, actor, status, note, data) "
            "VALUES (12, '2026-11-01 00:00:00', 'opened', 'owner', 'new', '', '{}')",
            "INSERT INTO visitor_passes (code, room_id, visitor_name, valid_from, valid_until, issued_to, "
            "issued_at, version) VALUES ('123456', 1, '李四', '2026-11-01 00:00:00', '2026-11-01 08:00:00', "
            "'webchat:zw', '2026-11-01 00:00:00', 1)",
            "INSERT INTO staff (username, name, role, token_hash, active, created_at) "
            "VALUES ('wang', '王', 'agent', 'h1', true, '2026-11-01 00:00:00')",
            "INSERT INTO notifications (recipient, key, kind, text, ticket_id, status, attempts, created_at) "
            "VALUES ('webchat:zw', 'k1', 'ticket_new', '已受理', 12, 'pending', 0, '2026-11-01 00:00:00')",
        ]
        for row in rows:
            conn.exec_driver_sql(row)
        if conn.dialect.name == "postgresql":  # the rows above chose their ids; bindings' is the migration's job
            for table in ("rooms", "owners", "bills", "tickets"):
                conn.exec_driver_sql(f"SELECT setval('{table}_id_seq', (SELECT MAX(id) FROM {table}))")
    engine.dispose()


async def test_a_store_made_by_main_becomes_one_community_losing_nothing(empty_database):
    from backend_bridge.domain import commands, model

    _store_as_main_made_it(empty_database)
    backend = await _start(empty_database)  # migrates to head, then adds the content's communities
    try:
        async with backend.new_uow() as uow:
            codes = [c.code for c in await uow.communities.all()]
            room = await uow.rooms.get(1)
            ticket = await uow.tickets.get(12)
            conversation = await uow.conversations.get("webchat:zw")
            bound = await uow.bindings.for_sender("webchat:zw")
            member = await uow.staff.by_username("wang")
            notification = await uow.notifications.get(1)
        assert codes == ["default", "shifan", "yangguang"]
        assert (room.community, [o.phone for o in room.owners], len(room.bills)) == ("default", ["13800000501"], 1)
        assert (ticket.community, ticket.description, len(ticket.history)) == ("default", "厨房漏水", 1)
        assert conversation.community == "default"
        assert list(bound) == ["default"] and bound["default"].id == 7
        assert member.communities == [] and member.company_wide
        assert notification.ticket_id == 12

        # The same address may now exist in another community, and new bindings get fresh ids.
        async with backend.new_uow() as uow:
            await uow.rooms.add(
                model.Room("3", "2", "501", community="yangguang", owners=[model.Owner("张伟", "13800000501")])
            )
            await uow.commit()
        routed = await backend.bus.handle(commands.RecordInbound("webchat:zw", "我在阳光小区也有房"))
        assert routed.routed_to == "阳光小区"
        checked = await backend.bus.handle(
            commands.BindSender("webchat:zw", building="3", unit="2", room="501", phone="13800000501")
        )
        assert checked.status == "bound"
        async with backend.new_uow() as uow:
            bound = await uow.bindings.for_sender("webchat:zw")
        assert set(bound) == {"default", "yangguang"} and bound["yangguang"].id > 7
    finally:
        await backend.close()
    engine = create_engine(_sync_url(empty_database))
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
    engine.dispose()


# -- 0009: SMS notifications keep the provider's message id, billed parts and receipt ----------------


async def test_notifications_from_before_0009_keep_everything_and_can_take_a_receipt(empty_database):
    from alembic import command

    from backend_bridge.domain import commands

    engine = create_engine(_sync_url(empty_database))
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0007")
        conn.exec_driver_sql(
            "INSERT INTO notifications (recipient, key, kind, text, status, attempts, created_at, delivered_at, "
            "delivered_via) VALUES ('sms:13800000501', 'k1', 'staff', '您好', 'delivered', 0, "
            "'2026-11-01 00:00:00', '2026-11-01 00:00:05', 'template')"
        )
    engine.dispose()
    backend = await _start(empty_database)  # migrates to head
    try:
        async with backend.new_uow() as uow:
            old = await uow.notifications.get(1)
            assert (old.text, old.delivered_via) == ("您好", "template")
            assert (old.provider_message_id, old.billed_parts, old.confirmed_at) == (None, None, None)
            old.provider_message_id = "900001^0"
            await uow.commit()
        recorded = await backend.bus.handle(commands.RecordDeliveryReceipt("sms", "900001^0", False, "IC_BUSY: 忙"))
        assert recorded.status == "pending"
    finally:
        await backend.close()
    engine = create_engine(_sync_url(empty_database))
    with engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "0008")
        assert "provider_message_id" not in {c["name"] for c in inspect(conn).get_columns("notifications")}
        assert conn.exec_driver_sql("SELECT text FROM notifications").scalar() == "您好"
    engine.dispose()


# -- 0008: staff may name their WeCom UserID ----------------------------------------------------


async def test_0008_gives_existing_staff_no_wecom_userid_and_goes_back_cleanly(empty_database):
    from alembic import command

    engine = create_engine(_sync_url(empty_database))
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0007")
        conn.exec_driver_sql(
            "INSERT INTO staff (username, name, role, token_hash, active, created_at, communities) "
            "VALUES ('wang', '王', 'technician', 'h1', true, '2026-11-01 00:00:00', '[]')"
        )
        command.upgrade(_alembic_config(conn), "0008")
        assert conn.exec_driver_sql("SELECT username, wecom_userid FROM staff").all() == [("wang", None)]
        conn.exec_driver_sql("UPDATE staff SET wecom_userid = 'WangShiFu'")
        command.downgrade(_alembic_config(conn), "0007")
        assert "wecom_userid" not in {c["name"] for c in inspect(conn).get_columns("staff")}
        assert conn.exec_driver_sql("SELECT username FROM staff").all() == [("wang",)]
        command.upgrade(_alembic_config(conn), "head")
    engine.dispose()
    backend = await _start(empty_database)
    try:
        async with backend.new_uow() as uow:
            member = await uow.staff.by_username("wang")
        assert member.wecom_userid is None and member.name == "王"
    finally:
        await backend.close()


# -- 0010: the staff console's passwords, invites and sessions -------------------------------------


async def test_0010_keeps_existing_staff_without_a_password_and_goes_back_cleanly(empty_database):
    from alembic import command

    engine = create_engine(_sync_url(empty_database))
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0009")
        conn.exec_driver_sql(
            "INSERT INTO staff (username, name, role, token_hash, active, created_at, communities) "
            "VALUES ('wang', '王', 'agent', 'h1', true, '2026-11-01 00:00:00', '[]')"
        )
        command.upgrade(_alembic_config(conn), "0010")
        assert conn.exec_driver_sql("SELECT username, password_hash, invite_hash FROM staff").all() == [
            ("wang", None, None)
        ]
        conn.exec_driver_sql(
            "INSERT INTO staff_sessions (token_hash, username, csrf, created_at, last_seen_at, expires_at) "
            "VALUES ('s1', 'wang', 'c1', '2026-11-01 00:00:00', '2026-11-01 00:00:00', '2026-11-08 00:00:00')"
        )
        command.downgrade(_alembic_config(conn), "0009")
        assert "staff_sessions" not in inspect(conn).get_table_names()
        assert "password_hash" not in {c["name"] for c in inspect(conn).get_columns("staff")}
        assert conn.exec_driver_sql("SELECT username FROM staff").all() == [("wang",)]
        command.upgrade(_alembic_config(conn), "head")
    engine.dispose()


# -- 0014: the SLA scheduler's next look (tickets.sweep_at) -----------------------------------------


async def test_0014_makes_the_open_tickets_of_before_due_at_once_and_the_finished_never(empty_database):
    """Tickets stored before 0014 carry no planned look: the open and the resolved are due at once
    (the first sweep alerts or plans them), the closed never again."""
    from alembic import command

    from backend_bridge.domain import commands

    engine = create_engine(_sync_url(empty_database))
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0013")
        for number, status in ((12, "new"), (13, "closed")):
            conn.exec_driver_sql(
                "INSERT INTO tickets (id, kind, priority, status, category, description, sender, anonymous, "
                "intake, channel, created_at, respond_by, resolve_by, version) VALUES "
                f"({number}, 'repair', 'normal', '{status}', 'plumbing', '厨房漏水', 'webchat:zw', false, "
                "'assistant', 'webchat', '2026-11-01 00:00:00', '2026-11-01 00:30:00', '2026-11-02 00:00:00', 1)"
            )
    engine.dispose()
    backend = await _start(empty_database)  # migrates to head
    try:
        async with backend.new_uow() as uow:
            looks = {t: (await uow.tickets.get(t)).sweep_at for t in (12, 13)}
        assert looks[12] is not None and looks[12].isoformat() == "2026-11-01T00:00:00+00:00"
        assert looks[13] is None
        swept = await backend.bus.handle(commands.CheckDeadlines())  # its deadlines are long past
        assert (swept.warnings, swept.escalations) == (0, 2)
    finally:
        await backend.close()
    engine = create_engine(_sync_url(empty_database))
    with engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "0013")
        assert "sweep_at" not in {c["name"] for c in inspect(conn).get_columns("tickets")}
    engine.dispose()


# -- 0015: cancellations owed to the external system (tickets.external_cancel_owed_at) ---------------


async def test_0015_makes_tickets_their_owners_withdrew_there_owed_and_no_others(empty_database):
    """Withdrawals made before 0015 were never sent: a ticket its own sender cancelled after it
    was created there owes the cancellation from when it was closed; one staff cancelled, or one
    never created there, owes nothing."""
    from alembic import command

    engine = create_engine(_sync_url(empty_database))
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0014")
        tickets = {  # id: (external id, who cancelled it)
            12: ("HC-1", "webchat:zw"),
            13: ("HC-2", "staff:前台"),
            14: (None, "webchat:zw"),
        }
        for number, (external_id, actor) in tickets.items():
            their = f"'{external_id}'" if external_id else "NULL"
            conn.exec_driver_sql(
                "INSERT INTO tickets (id, kind, priority, status, category, description, sender, anonymous, "
                "intake, channel, created_at, respond_by, resolve_by, closed_at, external_id, version) VALUES "
                f"({number}, 'repair', 'normal', 'cancelled', 'plumbing', '厨房漏水', 'webchat:zw', false, "
                "'assistant', 'webchat', '2026-11-01 00:00:00', '2026-11-01 00:30:00', '2026-11-02 00:00:00', "
                f"'2026-11-01 01:00:00', {their}, 1)"
            )
            conn.exec_driver_sql(
                "INSERT INTO ticket_events (ticket_id, at, type, actor, status, note, data) "
                f"VALUES ({number}, '2026-11-01 01:00:00', 'status', '{actor}', 'cancelled', '', '{{}}')"
            )
    engine.dispose()
    backend = await _start(empty_database)  # migrates to head
    try:
        async with backend.new_uow() as uow:
            owed = {t: (await uow.tickets.get(t)).external_cancel_owed_at for t in tickets}
            assert [t.id for t in await uow.tickets.cancellations_owed()] == [12]
        assert owed[12] is not None and owed[12].isoformat() == "2026-11-01T01:00:00+00:00"
        assert owed[13] is None and owed[14] is None
    finally:
        await backend.close()
    engine = create_engine(_sync_url(empty_database))
    with engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "0014")
        assert "external_cancel_owed_at" not in {c["name"] for c in inspect(conn).get_columns("tickets")}
    engine.dispose()
