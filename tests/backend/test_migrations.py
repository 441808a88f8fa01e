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
