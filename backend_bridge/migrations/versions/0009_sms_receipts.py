"""Notifications sent through a paid platform (SMS) keep what it said about them.

``provider_message_id`` is the platform's id for the message (Aliyun's BizId, Tencent's
SerialNo): delivery receipts name it, so it is indexed. ``billed_parts`` is how many SMS parts
it cost (70 characters in one, 67 per part beyond). ``confirmed_at`` is when the receipt said it
reached the handset. All empty for existing rows and for other channels. Touches only these
columns, so it applies on top of any other change to the notifications table.

Revision ID: 0009
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import backend_bridge.adapters.orm

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.add_column(sa.Column("provider_message_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("billed_parts", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("confirmed_at", backend_bridge.adapters.orm.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_notifications_provider_message_id", ["provider_message_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.drop_index("ix_notifications_provider_message_id")
        batch_op.drop_column("confirmed_at")
        batch_op.drop_column("billed_parts")
        batch_op.drop_column("provider_message_id")
