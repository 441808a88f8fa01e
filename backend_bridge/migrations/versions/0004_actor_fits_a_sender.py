"""A ticket history's actor is as wide as a sender: an owner's long chat id is kept, not refused.

The owner who rates or chases a ticket is recorded by their conversation id, which the APIs
accept up to 160 characters (the width of tickets.sender, notifications.recipient and every
other column holding one); ticket_events.actor was 64, so on PostgreSQL the rating or 催单 of an
owner with a longer id failed, and the unrecorded poor rating let the ticket close itself.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ticket_events") as batch_op:
        batch_op.alter_column("actor", existing_type=sa.String(length=64), type_=sa.String(length=160))


def downgrade() -> None:
    with op.batch_alter_table("ticket_events") as batch_op:
        batch_op.alter_column("actor", existing_type=sa.String(length=160), type_=sa.String(length=64))
