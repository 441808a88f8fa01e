"""The staff console's sign-in: passwords and invites on staff accounts, and server-side sessions.

``password_hash`` is argon2id (None until a first password is set: existing accounts keep
working with their bearer tokens and get an invite or a password from an administrator).
``invite_hash`` is the sha256 of a one-time link's token, unique so the link finds its account.
``staff_sessions`` holds one row per signed-in browser, found by the cookie's sha256.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import backend_bridge.adapters.orm

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch_op:
        batch_op.add_column(sa.Column("password_hash", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("invite_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("invite_expires_at", backend_bridge.adapters.orm.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_unique_constraint("uq_staff_invite_hash", ["invite_hash"])
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", backend_bridge.adapters.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", backend_bridge.adapters.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", backend_bridge.adapters.orm.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", backend_bridge.adapters.orm.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_staff_sessions_username", "staff_sessions", ["username"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_staff_sessions_username", table_name="staff_sessions")
    op.drop_table("staff_sessions")
    with op.batch_alter_table("staff") as batch_op:
        batch_op.drop_constraint("uq_staff_invite_hash", type_="unique")
        batch_op.drop_column("invite_expires_at")
        batch_op.drop_column("invite_hash")
        batch_op.drop_column("password_hash")
