"""An index for the per-message read of a sender's unanswered messages.

RecordInbound and the gateway's backlog ask, on every owner message, for that sender's
messages still received or failed. ``ix_inbound_messages_sender`` alone makes the database walk
all of the sender's messages, and a WeChat conversation keeps growing for months;
``(sender, status, id)`` reads only the few still waiting, in order.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_inbound_sender_status", "inbound_messages", ["sender", "status", "id"])


def downgrade() -> None:
    op.drop_index("ix_inbound_sender_status", table_name="inbound_messages")
