"""Nothing is lost when Rasa goes away, and with PostgreSQL + Redis a conversation
survives a Rasa restart in the middle of a form."""

from __future__ import annotations

import re
import uuid

import psycopg
import redis

from tests.e2e.conftest import Owner, start_stack


def test_messages_sent_while_rasa_is_down_are_answered_when_it_is_back_and_forms_survive(stack):
    """Embedded mode (SQLite, no Redis) too keeps Rasa's conversations on disk (var/rasa_trackers.db)."""
    owner = Owner(stack, uuid.uuid4().hex)
    halfway = Owner(stack, uuid.uuid4().hex)
    assert "几号楼" in halfway.said("报修")
    assert "问题" in halfway.said("3号楼2单元501")
    stack.stop_process("rasa")
    try:
        busy = owner.said("3号楼2单元501 厨房水管漏水了")
        assert "记下" in busy  # told politely, and kept
    finally:
        stack.restart("rasa")
        stack.wait_ready()
    late = owner.wait_for_update("请确认报修信息")  # the retry loop answered it through the outbox
    assert "3号楼2单元501" in late
    assert re.search(r"BX\d{6}", owner.said("是"))  # and the conversation carries on where it was
    summary = halfway.said("客厅空调漏水")  # the form still has the address after the restart
    assert "3号楼2单元501" in summary and "客厅空调漏水" in summary


def test_postgres_and_redis_keep_a_conversation_across_a_rasa_restart(tmp_path, postgres_url, redis_url):
    running = start_stack(tmp_path, WUYE_DATABASE_URL=postgres_url, WUYE_REDIS_URL=redis_url)
    try:
        owner = Owner(running, uuid.uuid4().hex)
        assert "几号楼" in owner.said("报修")
        assert "问题" in owner.said("3号楼2单元501")
        tracker_keys = redis.Redis.from_url(redis_url).keys("wuye*")
        assert any(owner.sender.encode() in key for key in tracker_keys)  # Rasa's tracker lives in Redis
        running.restart("rasa")
        running.wait_ready()
        summary = owner.said("客厅空调漏水")  # the form remembers the address after the restart
        assert "3号楼2单元501" in summary and "客厅空调漏水" in summary
        number = re.search(r"BX\d{6}", owner.said("是")).group()
        with psycopg.connect(postgres_url) as conn:
            row = conn.execute(
                "SELECT building, unit, room, description FROM tickets WHERE id = %s", (int(number[2:]),)
            ).fetchone()
        assert row == ("3", "2", "501", "客厅空调漏水")
    finally:
        running.stop()
