"""Many communities in one store: flats, tickets, conversations and staff name their community.

A store made before this had exactly one community. If it holds anything, that community is
created as ``default`` and everything existing joins it, so nothing is lost and every answer
stays the same; its staff become company-wide, which in a one-community store is what they
were. A new, empty store gets its communities from the content (bootstrap syncs them).

Bindings become one per flat (a landlord may bind flats in two communities): the table is
rebuilt, because the old unique constraint on ``sender`` has no name on SQLite.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import backend_bridge.adapters.orm

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

DEFAULT = "default"  # domain.communities.DEFAULT_CODE, frozen here as migrations must be
CODE = sa.String(length=32)


def _has_data(bind) -> bool:
    return any(
        bind.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first() is not None
        for table in ("rooms", "tickets", "conversations")
    )


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        "communities",
        sa.Column("code", CODE, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    existing = _has_data(bind)
    if existing:
        bind.execute(
            sa.text("INSERT INTO communities (code, name, address) VALUES (:code, :name, '')"),
            {"code": DEFAULT, "name": "本小区"},
        )

    with op.batch_alter_table("rooms") as batch_op:
        batch_op.add_column(sa.Column("community", CODE, nullable=True))
    bind.execute(sa.text("UPDATE rooms SET community = :code"), {"code": DEFAULT})
    with op.batch_alter_table("rooms") as batch_op:
        batch_op.alter_column("community", existing_type=CODE, nullable=False)
        batch_op.drop_constraint("uq_room_address", type_="unique")
        batch_op.create_unique_constraint("uq_room_address", ["community", "building", "unit", "room"])
        batch_op.create_index(batch_op.f("ix_rooms_community"), ["community"], unique=False)
        batch_op.create_foreign_key("fk_rooms_community", "communities", ["community"], ["code"])

    for table in ("tickets", "conversations"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("community", CODE, nullable=True))
            batch_op.create_index(batch_op.f(f"ix_{table}_community"), ["community"], unique=False)
            batch_op.create_foreign_key(f"fk_{table}_community", "communities", ["community"], ["code"])
        if existing:
            bind.execute(sa.text(f"UPDATE {table} SET community = :code"), {"code": DEFAULT})

    with op.batch_alter_table("staff") as batch_op:
        batch_op.add_column(sa.Column("communities", sa.JSON(), nullable=True))
    bind.execute(sa.text("UPDATE staff SET communities = '[]'"))
    with op.batch_alter_table("staff") as batch_op:
        batch_op.alter_column("communities", existing_type=sa.JSON(), nullable=False)

    op.create_table(
        "bindings_new",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=160), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("bound_at", backend_bridge.adapters.orm.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["owners.id"]),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sender", "room_id", name="uq_binding"),
    )
    bind.execute(
        sa.text(
            "INSERT INTO bindings_new (id, sender, room_id, owner_id, bound_at) "
            "SELECT id, sender, room_id, owner_id, bound_at FROM bindings"
        )
    )
    op.drop_table("bindings")
    op.rename_table("bindings_new", "bindings")
    if bind.dialect.name == "postgresql":  # the copied ids must not be handed out again
        op.execute("ALTER SEQUENCE bindings_new_id_seq RENAME TO bindings_id_seq")
        op.execute("SELECT setval('bindings_id_seq', COALESCE((SELECT MAX(id) FROM bindings), 0) + 1, false)")
        op.execute("ALTER INDEX bindings_new_pkey RENAME TO bindings_pkey")
    with op.batch_alter_table("bindings") as batch_op:
        batch_op.create_index(batch_op.f("ix_bindings_sender"), ["sender"], unique=False)


def downgrade() -> None:
    raise NotImplementedError("a store with many communities cannot be folded back into one")
